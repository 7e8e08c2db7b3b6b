# ruff: noqa: RUF001, RUF003 - written with the sign − of French arithmetic
"""The money tables of a report: each funding's budget against the actual costs (Cerfa 15059
shape), its co-funders, the gross and net cost per payer, and the full cost with the kitchens'
fixed share. The figures come from ``costing.budget`` and ``costing.net_cost``; this module only
lays them out as report tables (``evaluation.figures.table``), which the PDF and the exports
read alike.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from costing.budget import funding_budget
from costing.models import Funding
from costing.net_cost import fixed_cost_figures, net_cost_figures, transfers_of
from costing.selectors import FrameReader, rollup_frame
from costing.services import PER_MEAL, CostData, CostReport

from .figures import Table, column, costs_by_territory, missing_counted, table

# The fundings each report's budget table shows: a funder's report, that funder's grants.
FUNDERS_OF_REPORT = {"drihl": [Funding.Funder.DRIHL], "carasso": [Funding.Funder.CARASSO]}


def fundings_of(
    kind: str, territory_ids: list[int], start: datetime.date, end: datetime.date
) -> list[Funding]:
    fundings = (
        Funding.objects.all_territories()
        .filter(territory_id__in=territory_ids, period_start__lte=end, period_end__gte=start)
        .prefetch_related("budget_lines", "co_funders")
        .order_by("territory__name", "period_start", "pk")
    )
    if kind in FUNDERS_OF_REPORT:
        fundings = fundings.filter(funder__in=FUNDERS_OF_REPORT[kind])
    return [funding for funding in fundings if funding.budget_lines.all()]


def funding_label(budget: dict[str, Any]) -> str:
    return f"{budget['funder']} — {budget['funder_name']}" if budget["funder_name"] else budget["funder"]


def budget_tables(
    *,
    kind: str,
    territory_ids: list[int],
    cost: CostReport,
    data: CostData,
    names: dict[int, str],
) -> tuple[Table, Table, list[dict[str, Any]]]:
    """The budget against the actual costs of each funding with a budget, over the report's
    months, and the co-funders; the actual costs of each funding's own territory."""
    start, end = cost.start, cost.end
    fundings = fundings_of(kind, territory_ids, start, end)
    if len(territory_ids) == 1:
        costs = {territory_ids[0]: cost}
    else:
        costs = (
            costs_by_territory(territory_ids=territory_ids, start=start, end=end, data=data)
            if fundings
            else {}
        )
    budgets = [
        funding_budget(funding, start=start, end=end, cost=costs[funding.territory_id]).as_dict()
        for funding in fundings
    ]
    rows, co_funders = [], []
    for funding, budget in zip(fundings, budgets, strict=True):
        label = funding_label(budget)
        where = names[funding.territory_id]
        for row in budget["rows"]:
            rows.append(
                {
                    "territory": where,
                    "funding": label,
                    **{
                        key: row[key]
                        for key in ("category", "planned", "actual", "gap", "complete", "explanation")
                    },
                    "explanation": row["explanation"]
                    or ("" if row["allocated"] else _("aucune ligne de budget")),
                }
            )
        rows.append(
            {
                "territory": where,
                "funding": label,
                "category": _("Total"),
                **budget["total"],
                "explanation": "",
            }
        )
        co_funders.append(
            {
                "territory": where,
                "funding": label,
                "kind": _("Subvention demandée"),
                "organisation": label,
                "amount": budget["amount"],
                "in_period": None,
                "status": "",
            }
        )
        co_funders.extend({"territory": where, "funding": label, **item} for item in budget["co_funders"])
    budget_table = table(
        "budget",
        _("Budget prévisionnel et réalisé, par catégorie"),
        [
            column("territory", _("Territoire"), "text"),
            column("funding", _("Financement"), "text"),
            column("category", _("Catégorie"), "text"),
            column("planned", _("Prévu (€)"), "euro", "€"),
            column("actual", _("Réalisé"), "figure", "€"),
            column("gap", _("Écart (réalisé − prévu)"), "figure", "€"),
            column("explanation", _("Explication de l'écart"), "text"),
        ],
        rows,
        note=_(
            "Présentation du compte rendu financier de subvention (Cerfa n° 15059*02). Prévu : ligne du "
            "budget au prorata des jours du financement dans les mois de la période ; réalisé : coûts "
            "enregistrés sur la plateforme pour ces mois (docs/reports.md, « Budget et réalisé ») ; "
            "non affecté : coût d'une catégorie sans ligne au budget, compté dans le total."
        ),
    )
    co_funder_table = table(
        "co_funders",
        _("Ressources de l'action, subvention et cofinanceurs"),
        [
            column("territory", _("Territoire"), "text"),
            column("funding", _("Financement"), "text"),
            column("kind", _("Type"), "text"),
            column("organisation", _("Organisme"), "text"),
            column("amount", _("Montant (€)"), "euro", "€"),
            column("in_period", _("Sur la période (prorata)"), "euro", "€"),
            column("status", _("Statut"), "text"),
        ],
        co_funders,
    )
    return budget_table, co_funder_table, budgets


def net_cost_table(
    *, territory_ids: list[int], cost: CostReport, read_frame: FrameReader = rollup_frame
) -> tuple[Table, list[dict[str, Any]]]:
    """The gross and net cost per payer over the report's months (``costing.net_cost``)."""
    transfers = transfers_of(territory_ids=territory_ids, months=cost.months, read_frame=read_frame)
    rows = missing_counted(net_cost_figures(cost, transfers))
    return (
        table(
            "net_costs",
            _("Coût brut et coût net d'un repas, par payeur"),
            [
                column("label", _("Payeur"), "text"),
                column("gross", _("Coût brut"), "figure", "€"),
                column("gross_per_meal", _("Brut par repas"), "figure", _(PER_MEAL)),
                column("net", _("Coût net"), "figure", "€"),
                column("net_per_meal", _("Net par repas"), "figure", _(PER_MEAL)),
            ],
            rows,
            note=_(
                "Coût net d'un payeur = ce qu'il supporte + ce qu'il paie − ce qu'il reçoit (paiements des "
                "repas dédiés, participation des bénéficiaires, autres recettes, subventions au prorata) ; "
                "par repas : ÷ repas distribués. Les coûts nets des payeurs font ensemble le coût total."
            ),
        ),
        rows,
    )


def full_cost_table(cost: CostReport) -> tuple[Table, dict[str, Any]]:
    """The marginal cost, the programme's cost and the full cost with the kitchens' fixed share."""
    result = fixed_cost_figures(cost)
    rows = [
        {
            "label": figure["label"],
            "value": figure["value"],
            "complete": figure["complete"],
            "applicable": figure["applicable"],
        }
        for figure in result["figures"]
    ]
    reference = result["reference"]
    last = result["figures"][-1]
    compared = last["value"] is not None and last["complete"]  # a lower bound is no cost to compare
    note = (
        _("Repère : coût complet d'un repas de restauration scolaire, %(low)s à %(high)s € (%(source)s).")
        % {"low": reference["low"], "high": reference["high"], "source": reference["source"]}
        if compared
        else ""
    )
    return (
        table(
            "full_cost",
            _("Coût marginal, coût du programme et coût complet avec la part des coûts fixes des cuisines"),
            [column("label", _("Chiffre"), "text"), column("value", _("Par repas"), "figure", _(PER_MEAL))],
            rows,
            note=note,
        ),
        result,
    )


def money_part(
    *,
    kind: str,
    territory_ids: list[int],
    cost: CostReport,
    data: CostData,
    names: dict[int, str],
    read_frame: FrameReader = rollup_frame,
) -> tuple[dict[str, Table], dict[str, Any]]:
    """The money tables of a report, and the figures they print."""
    budget, co_funders, budgets = budget_tables(
        kind=kind, territory_ids=territory_ids, cost=cost, data=data, names=names
    )
    net, net_rows = net_cost_table(territory_ids=territory_ids, cost=cost, read_frame=read_frame)
    full, full_result = full_cost_table(cost)
    # Each missing input is listed once in a report, in ``figures["missing"]``: the figures here
    # keep how many they lack (as ``evaluation.figures.missing_counted`` does for the costs).
    full_result = {
        **full_result,
        "figures": missing_counted(full_result["figures"]),
        "fixed_share": missing_counted([full_result["fixed_share"]])[0],
    }
    for budget in budgets:
        budget["rows"] = missing_counted(budget["rows"])
    return (
        {"budget": budget, "co_funders": co_funders, "net_costs": net, "full_cost": full},
        {"budgets": budgets, "net_costs": net_rows, "full_cost": full_result},
    )
