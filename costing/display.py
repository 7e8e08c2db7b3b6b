"""A figure as printed: its value with its completeness, the one way every page, PDF, chart and
export writes a cost (``figure_text``; in templates, the filter ``figure_text`` and the tag
``{% figure %}`` of ``evaluation.templatetags.reporting``).

The completeness rule of the cost method (``costing.services``): a missing input is never zero.
A figure that lacks an input is printed

- "inconnu" when no part of it is known (its value is ``None``);
- "au moins X" when a part X is known: every cost is non-negative, so the known part is a lower
  bound ("≥ X" in a narrow cell: ``short``);
- "X (incomplet)" when the known part is not a bound (a share of two incomplete sums);

and a complete figure as its number. A figure that does not apply is "sans objet". The words
follow the active language ("unknown", "at least X" in English).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from .services import (
    AssociationMonthCost,
    CoordinationMonthCost,
    CostReport,
    Figure,
    KitchenMonthCost,
    month_label,
)

PERCENT_UNITS = ("%",)


def decimal_of(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def decimals_for(unit: str, amount: Decimal) -> int:
    """Percentages to a tenth, euros and ratios to the cent, counts whole."""
    if unit in PERCENT_UNITS:
        return 1
    if "€" in unit or unit in ("\u00d7", "x"):  # euros and ratios
        return 2
    exponent = amount.as_tuple().exponent
    return min(max(-exponent, 0), 3) if isinstance(exponent, int) else 2


def number_text(amount: Decimal, decimals: int) -> str:
    return formats.number_format(amount, decimals, use_l10n=True, force_grouping=True)


def figure_text(
    value: Any,
    *,
    unit: str = "",
    complete: bool = True,
    applicable: bool = True,
    bound: bool = True,
    decimals: int | None = None,
    short: bool = False,
) -> str:
    """A figure's value with its unit and its completeness, in the active language."""
    if not applicable:
        return _("sans objet")
    amount = decimal_of(value)
    if amount is None:
        return _("inconnu")
    unit = str(unit or "")
    places = decimals if decimals is not None else decimals_for(unit, amount)
    text = f"{number_text(amount, places)}\u00a0{unit}".strip()
    if complete:
        return text
    if not bound:
        return _("%(value)s (incomplet)") % {"value": text}
    if short:
        return f"≥\u00a0{text}"
    return _("au moins %(value)s") % {"value": text}


def is_bound(key: str) -> bool:
    """Whether a figure's incomplete value is a lower bound: every sum of costs (and what divides
    one by a known count) is; a share of two incomplete sums is not, nor a net cost (a missing
    revenue would lower it: ``costing.net_cost``)."""
    return not str(key).startswith(("share_", "loss_rate", "net_"))


# --- What a cost report lacks, listed once --------------------------------------------------


@dataclass(frozen=True)
class MissingGroup:
    """The inputs one actor lacks for one month (``month`` None: data of the whole period)."""

    anchor: str
    actor: str
    month: datetime.date | None
    items: list[str]


def short_item(item: str, actor: str, month: str) -> str:
    """An input's label without the actor and month that its group's heading already says."""
    item = item.removeprefix(f"{actor}, {month} : ").removeprefix(f"{month} : ")
    return item.replace(f", {month} : ", " : ")


def missing_groups(report: CostReport) -> list[MissingGroup]:
    """Every input the report lacks, once, grouped by actor and month: the kitchens' months,
    the associations' months, the coordination's months, then what belongs to no actor
    (transport of pickups, reference values). Each group has the anchor its rows link to."""
    groups: list[MissingGroup] = []
    placed: set[str] = set()

    def add(anchor: str, actor: str, month: datetime.date, figures: list[Figure]) -> None:
        items = list(dict.fromkeys(item for figure in figures for item in figure.missing))
        if items:
            placed.update(items)
            label = month_label(month)
            groups.append(MissingGroup(anchor, actor, month, [short_item(i, actor, label) for i in items]))

    for kitchen in report.kitchens:
        figures = [kitchen.total, kitchen.marginal_dedicated, kitchen.marginal_surplus]
        add(missing_anchor(kitchen), kitchen.kitchen_name, kitchen.month, figures)
    for association in report.associations:
        figures = [association.cash, association.volunteers]
        add(missing_anchor(association), association.association_name, association.month, figures)
    for coordination in report.coordination:
        actor = _("Coordination de %(territory)s") % {"territory": coordination.territory_name}
        add(missing_anchor(coordination), actor, coordination.month, [coordination.total])
    rest = [item for item in report.missing if item not in placed]
    if rest:
        groups.append(MissingGroup(OTHER_ANCHOR, _("Autres données de la période"), None, rest))
    return groups


OTHER_ANCHOR = "manque-autres"


def missing_anchor(row: KitchenMonthCost | AssociationMonthCost | CoordinationMonthCost) -> str:
    """The id of a row's group in the list of missing inputs."""
    if isinstance(row, KitchenMonthCost):
        return f"manque-cuisine-{row.kitchen_id}-{row.month:%Y-%m}"
    if isinstance(row, AssociationMonthCost):
        return f"manque-association-{row.association_id}-{row.month:%Y-%m}"
    return f"manque-coordination-{row.territory_id}-{row.month:%Y-%m}"
