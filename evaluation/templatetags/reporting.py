"""Filters that print the figures of dashboards and reports (``evaluation.figures``) in French.

Values arrive as stored: integers, exact decimals as strings, dates in ISO format. They are
formatted in the active language (French for the PDFs, rendered under ``override("fr")``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

register = template.Library()

# Figures whose incomplete value is not a lower bound (shares and rates).
NOT_BOUNDS = ("share_", "loss_rate")


def decimal_of(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def number(value: Any, decimals: int | None = None) -> str:
    """A number in the reader's language (grouped thousands); "—" when unknown."""
    amount = decimal_of(value)
    if amount is None:
        return "—"
    if decimals is None:
        exponent = amount.as_tuple().exponent
        decimals = min(max(-exponent, 0), 2) if isinstance(exponent, int) else 2
    return formats.number_format(amount, decimals, use_l10n=True, force_grouping=True)


@register.filter
def as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def cell(row: dict[str, Any], column: dict[str, str]) -> str:
    """One cell of a figures table, by its column's kind."""
    value = row.get(column["key"])
    kind = column["kind"]
    if kind == "text":
        return "" if value is None else str(value)
    if kind == "bool":
        return _("oui") if value else _("non")
    if kind in ("date", "week", "month"):
        day = as_date(value)
        if day is None:
            return "—"
        return formats.date_format(day, "F Y" if kind == "month" else "SHORT_DATE_FORMAT")
    if value is None:
        return "—"
    if kind == "euro":
        return f"{number(value, 2)}\u00a0€"
    if kind == "percent":
        return f"{number(value, 1)}\u00a0%"
    if kind == "int":
        return number(value, 0)
    return number(value)


@register.filter
def figure_text(figure: dict[str, Any]) -> str:
    """A cost figure with its unit; "au moins" when incomplete (a missing cost is never zero)."""
    if not figure.get("applicable", True):
        return _("sans objet")
    if figure.get("value") is None:
        return _("inconnu")
    unit = figure.get("unit") or ""
    text = f"{number(figure['value'], 1 if unit == '%' else 2)}\u00a0{unit}".strip()
    if not figure.get("complete", True) and not str(figure.get("key", "")).startswith(NOT_BOUNDS):
        text = _("au moins %(value)s") % {"value": text}
    return text


@register.filter
def indicator_text(indicator: dict[str, Any]) -> str:
    """An indicator's value with its unit."""
    if not indicator.get("applicable", True):
        return _("sans objet")
    value = indicator.get("value")
    if value is None:
        return _("inconnu")
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if decimal_of(value) is None:
        return str(value)
    unit = indicator.get("unit") or ""
    return f"{number(value)}\u00a0{unit}".strip()


@register.filter
def rows_where(rows: list[dict[str, Any]], condition: str) -> list[dict[str, Any]]:
    """Rows whose ``key`` equals ``value`` (``"key=value"``)."""
    key, _sep, expected = condition.partition("=")
    return [row for row in rows if str(row.get(key)) == expected]


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def numeric(column: dict[str, str]) -> bool:
    return column.get("kind") in ("int", "decimal", "euro", "percent")


@register.filter
def printed(column: dict[str, Any], synthesis: bool) -> bool:
    """Whether a column is printed in a PDF: the territory only in a synthesis; long notes go to exports."""
    if column.get("key") == "territory" and not synthesis:
        return False
    return column.get("pdf", True) is not False


@register.filter
def long_date(value: Any) -> str:
    """ "1er janvier 2025", "15 mars 2025"."""
    day = as_date(value)
    if day is None:
        return "—"
    text = formats.date_format(day, "j F Y")
    return text.replace("1 ", "1er ", 1) if day.day == 1 else text
