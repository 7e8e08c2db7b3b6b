"""Filters that print the figures of dashboards and reports (``evaluation.figures``).

Values arrive as stored: integers, exact decimals as strings, dates in ISO format. They are
formatted in the active language (a report's PDF in the language it was asked in, rendered
under ``override(report.language)``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from costing import display

register = template.Library()


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
    if kind == "figure":
        return figure_cell(row, column)
    if value is None:
        return "—"
    if kind == "euro":
        return f"{number(value, 2)}\u00a0€"
    if kind == "percent":
        return f"{number(value, 1)}\u00a0%"
    if kind == "int":
        return number(value, 0)
    return number(value)


def figure_cell(row: dict[str, Any], column: dict[str, Any]) -> str:
    """A cell of kind "figure": the value with its completeness, read from the row's keys the
    column names (``complete``, ``applicable``, ``unit_key``), through ``costing.display``."""
    unit = row.get(column["unit_key"]) if column.get("unit_key") else column.get("unit")
    return display.figure_text(
        row.get(column["key"]),
        unit=str(unit or ""),
        complete=bool(row.get(column.get("complete", "complete"), True)),
        applicable=bool(row.get(column.get("applicable", "applicable"), True)),
        bound=display.is_bound(row.get("key", column["key"])),
        short=bool(column.get("short")),
    )


@register.filter
def figure_text(figure: dict[str, Any]) -> str:
    """A figure (a cost figure or an indicator, as stored) with its unit and completeness:
    "au moins" when incomplete, "inconnu" when unknown (a missing cost is never zero)."""
    value = figure.get("value")
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if value is not None and display.decimal_of(value) is None:
        return str(value)
    return display.figure_text(
        value,
        unit=str(figure.get("unit") or ""),
        complete=bool(figure.get("complete", True)),
        applicable=bool(figure.get("applicable", True)),
        bound=display.is_bound(figure.get("key", figure.get("code", ""))),
    )


# An indicator prints as any figure: its value with its completeness.
indicator_text = register.filter("indicator_text", figure_text)


@register.simple_tag
def figure(value: Any, unit: str = "", complete: bool = True, short: bool = False) -> str:
    """``{% figure value unit="€" complete=... %}``: one value with its completeness."""
    return display.figure_text(value, unit=unit, complete=complete, short=short)


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
def long_date(value: Any, parts: str = "") -> str:
    """A date written out in the active language: "1er septembre 2025", "15 mars 2025" in French
    (the first of the month is an ordinal, "1er"), "1 September 2025" in English.

    ``parts``, comma-separated: ``weekday`` ("samedi 1er septembre 2025"), ``noyear``
    ("1er septembre"), ``time`` (a date and time: "1er septembre 2025 14:05")."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    day = as_date(value)
    if day is None:
        return "—"
    options = set(parts.split(","))
    ordinal = day.day == 1 and (translation.get_language() or "").startswith("fr")
    words = [formats.date_format(day, "l")] if "weekday" in options else []
    words += [f"{day.day}er" if ordinal else str(day.day), formats.date_format(day, "F")]
    if "noyear" not in options:
        words.append(str(day.year))
    if "time" in options and isinstance(day, datetime.datetime):
        words.append(formats.time_format(day, "H:i"))
    return " ".join(words)


@register.filter
def short_day(value: Any) -> str:
    """A day of the week in a narrow cell: "sam. 6/12" in French, "Sat 6 Dec" in English."""
    day = as_date(value)
    if day is None:
        return "—"
    return formats.date_format(day, pgettext("date format of a day in a narrow cell", "D j/m"))
