# ruff: noqa: RUF002, RUF003 - the method is written with the signs × and − of French arithmetic
"""A funding's budget against the actual costs, by category, in the shape of the financial
report of a subsidy (Cerfa n° 15059*02, « compte rendu financier de subvention »: for each
category of charges, planned, actual, the gap and its explanation; the grant beside its
co-funders). Source: service-public.fr, fiche R46623 (« Association : compte rendu financier de
subvention », formulaire 15059*02).

The actual costs are those the platform records for the funding's territory over the whole
months of the period, mapped to the categories once (``actual_by_category``):

- food and production: the kitchens' marginal costs (``kitchen_cost`` of the cost method);
- transport: the pickups' transport cost;
- association staff: the associations' paid staff hours × hourly cost;
- coordination: the authorities' coordination costs;
- equipment: the associations' equipment, amortised;
- other: the associations' premises and other costs;
- and in every category, the programme's expenses entered in it (``Expense``: evaluation,
  equipment bought by the authority...).

A planned amount is the budget line's amount × the days of the funding within the period ÷ the
funding's days (prorata temporis; the whole line when the period covers the funding). A cost in
a category without a budget line is shown as **not allocated** ("non affecté") and counted in
the actual total, never dropped. A category with no input at all (no expense entered in
"évaluation") is unknown, not zero. Completeness follows the cost method: an actual built on a
missing input is a lower bound ("au moins").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext as _

from .models import BudgetCategory, Expense, Funding
from .services import (
    EURO,
    CostReport,
    Figure,
    Partial,
    as_json,
    figure_from,
    last_of_month,
    months_of,
    rounded,
    territory_cost,
)

CENT = Decimal("0.01")


def add_figure(partial: Partial, figure: Figure) -> None:
    """Adds a figure's exact value (when any part of it is known) and its missing inputs."""
    partial.add(figure.exact)
    partial.missing.extend(figure.missing)


def funding_share(funding: Funding, start: datetime.date, end: datetime.date) -> Decimal:
    """The part of a funding that falls within a period: days of the funding in the period ÷
    days of the funding (0 when they do not overlap)."""
    days = (funding.period_end - funding.period_start).days + 1
    overlap = (min(end, funding.period_end) - max(start, funding.period_start)).days + 1
    return Decimal(max(overlap, 0)) / Decimal(days)


def prorated(amount: Decimal, share: Decimal) -> Decimal:
    return (amount * share).quantize(CENT, rounding=ROUND_HALF_UP)


def expenses_by_category(
    *, territory_ids: list[int], start: datetime.date, end: datetime.date
) -> dict[str, Decimal]:
    """The programme's expenses entered for the whole months from start to end, by category."""
    months = months_of(start, end)
    rows = (
        Expense.objects.all_territories()
        .filter(territory_id__in=territory_ids, month__gte=months[0], month__lte=last_of_month(months[-1]))
        .values("category")
        .annotate(total=Sum("amount"))
    )
    return {row["category"]: row["total"] for row in rows}


@dataclass
class Actuals:
    """The actual cost of each category, and the categories something was recorded in (an
    input, known or missing, or an expense)."""

    figures: dict[str, Figure]
    recorded: set[str]


def actual_by_category(cost: CostReport, expenses: dict[str, Decimal]) -> Actuals:
    """The actual cost of each category over the cost report's months (the mapping above)."""
    parts = {category: Partial() for category in BudgetCategory.values}
    add_figure(parts[BudgetCategory.FOOD_PRODUCTION], cost.figure("kitchen_cost"))
    add_figure(parts[BudgetCategory.TRANSPORT], cost.figure("transport_cost"))
    add_figure(parts[BudgetCategory.COORDINATION], cost.figure("coordination_cost"))
    for row in cost.associations:
        parts[BudgetCategory.ASSOCIATION_STAFF].extend(row.staff)
        parts[BudgetCategory.EQUIPMENT].extend(row.equipment)
        parts[BudgetCategory.OTHER].extend(row.premises_other)
    for category, amount in expenses.items():
        parts[category].add(Decimal(amount))
    figures, recorded = {}, set()
    for category, partial in parts.items():
        label = str(BudgetCategory(category).label)
        if partial.value is not None or partial.missing:
            recorded.add(category)
        else:
            partial.lack(_("%(category)s : aucune dépense saisie sur la période") % {"category": label})
        figures[category] = figure_from(
            partial,
            key=f"actual_{category}",
            label=label,
            unit=EURO,
            method=_("Réalisé d'une catégorie : voir docs/reports.md, « Budget et réalisé »."),
        )
    return Actuals(figures, recorded)


@dataclass
class BudgetRow:
    """One category of a funding's budget: planned (None: not allocated), actual, gap."""

    category: str
    planned: Decimal | None
    actual: Figure
    explanation: str = ""

    @property
    def allocated(self) -> bool:
        return self.planned is not None

    @property
    def gap(self) -> Decimal | None:
        """Actual − planned; a category not allocated was planned at nothing."""
        if self.actual.exact is None:
            return None
        return self.actual.exact - (self.planned or Decimal(0))

    def as_dict(self) -> dict[str, Any]:
        label = str(BudgetCategory(self.category).label)
        return {
            "category_code": self.category,
            "category": label if self.allocated else _("%(category)s (non affecté)") % {"category": label},
            "allocated": self.allocated,
            "planned": as_json(self.planned),
            "actual": as_json(self.actual.value),
            "gap": as_json(rounded(self.gap)),
            "complete": self.actual.complete,
            "missing": list(self.actual.missing),
            "explanation": self.explanation,
        }


@dataclass
class FundingBudget:
    """A funding's budget against the actual costs over a period of whole months."""

    funding: Funding
    start: datetime.date
    end: datetime.date
    share: Decimal
    rows: list[BudgetRow] = field(default_factory=list)
    co_funders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def planned_total(self) -> Decimal:
        return sum((row.planned for row in self.rows if row.planned is not None), Decimal(0))

    @property
    def actual_total(self) -> Figure:
        partial = Partial()
        for row in self.rows:
            add_figure(partial, row.actual)
        return figure_from(
            partial,
            key="actual_total",
            label=_("Total"),
            unit=EURO,
            method=_("Réalisé total = Σ des catégories, non affecté compris."),
        )

    def as_dict(self) -> dict[str, Any]:
        total = self.actual_total
        gap = None if total.exact is None else rounded(total.exact - self.planned_total)
        return {
            "funding": self.funding.pk,
            "funder": self.funding.get_funder_display(),
            "funder_name": self.funding.funder_name,
            "amount": as_json(self.funding.amount),
            "start": as_json(self.start),
            "end": as_json(self.end),
            "share": as_json(self.share.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)),
            "rows": [row.as_dict() for row in self.rows],
            "total": {
                "planned": as_json(self.planned_total),
                "actual": as_json(total.value),
                "gap": as_json(gap),
                "complete": total.complete,
            },
            "co_funders": self.co_funders,
        }


def budget_of(
    funding: Funding, *, start: datetime.date, end: datetime.date, actual: Actuals
) -> FundingBudget:
    """The budget rows of a funding over a period, from the actual costs of its categories:
    every budget line (prorated), then each category with a cost and no line (not allocated)."""
    months = months_of(start, end)
    start, end = months[0], last_of_month(months[-1])
    share = funding_share(funding, start, end)
    lines = {line.category: line for line in funding.budget_lines.all()}
    rows = []
    for category in BudgetCategory.values:
        line = lines.get(category)
        figure = actual.figures[category]
        if line is not None:
            rows.append(BudgetRow(category, prorated(line.planned, share), figure, line.explanation))
        elif category in actual.recorded and (figure.value or not figure.complete):
            # A cost outside every budget line: not allocated, never dropped.
            rows.append(BudgetRow(category, None, figure))
    co_funders = [
        {
            "kind": co_funder.get_kind_display(),
            "organisation": co_funder.organisation,
            "amount": as_json(co_funder.amount),
            "in_period": as_json(prorated(co_funder.amount, share)),
            "status": co_funder.get_status_display(),
        }
        for co_funder in funding.co_funders.all()
    ]
    return FundingBudget(funding=funding, start=start, end=end, share=share, rows=rows, co_funders=co_funders)


def funding_budget(
    funding: Funding, *, start: datetime.date, end: datetime.date, cost: CostReport | None = None
) -> FundingBudget:
    """A funding's budget against the actual costs of its territory over the whole months from
    start to end (``cost``: the territory's cost report of those months, when the caller has it)."""
    cost = cost or territory_cost(territory_ids=[funding.territory_id], start=start, end=end)
    expenses = expenses_by_category(territory_ids=[funding.territory_id], start=start, end=end)
    return budget_of(funding, start=start, end=end, actual=actual_by_category(cost, expenses))
