# ruff: noqa: RUF001, RUF003 - the notes are written with the sign × of French arithmetic
"""The figures a dashboard shows and a report freezes: roll-ups → pandas → plain tables.

``dashboard_figures`` and ``report_figures`` read a set of territories over a period once and
return a dict that is JSON as it stands — integers, exact decimals as strings, dates in ISO
format, French labels. A report stores it (``Report.figures``) and renders its document, its
charts and its exports from it alone, so the same figures always give the same document; a
dashboard renders it at once.

Every table has the same shape (``name``, ``title``, ``columns`` with their kind, ``rows``), which
the pages, the PDF and the CSV/XLSX exports read alike.

Reads go through ``all_territories``: callers check the reader's scope on the territories
first (``evaluation.views``, ``evaluation.report_api``, or the evaluator who asked a report).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
from django.core.cache import cache
from django.db.models import Field, Model
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from associations import planning
from associations.models import Association, Partnership
from costing.losses import LOSS_PARTS, loss_rate_definition, meals_lost
from costing.models import Funding, ReferenceValue
from costing.selectors import (
    FrameReader,
    RollupFrames,
    cost_data,
    monthly_table,
    reference_in_force,
    rollup_frame,
)
from costing.selectors import volumes_of as volumes_of_frame
from costing.services import (
    COMPARED_REFERENCES,
    CostData,
    CostReport,
    as_json,
    cost_report,
    first_of_month,
    inputs_not_recorded,
    last_of_month,
)
from kitchens.models import Kitchen
from territories.models import Authority, Territory

from . import selectors
from .indicators import (
    FLOW_CACHE_SECONDS,
    FlowPart,
    IndicatorSet,
    Question,
    assemble,
    distribution_days_by,
    flow_parts,
    live_parts,
    production_rows_by,
    rollup_versions,
)
from .models import JournalEntry
from .rates import dispatch_compliance_share, flow_rates
from .rates import percent as share
from .selectors import ReadsAhead

# 2: in a report, the cost figures and indicators give how many inputs they lack
# (``missing_count``), each input being listed once, in ``missing``.
SCHEMA = 2
CENT = Decimal("0.01")

# The cost figures a report prints, in this order (``costing.services.cost_report`` keys).
COST_KEYS = [
    "total_cost", "full_cost_per_meal", "full_cost_per_meal_with_volunteers", "cost_per_person",
    "marginal_cost_dedicated", "marginal_cost_surplus", "kitchen_cost", "transport_cost",
    "association_cost", "coordination_cost", "volunteer_value",
    "food_parcel_cost_per_meal_ratio", "food_parcel_cost_per_meal_difference",
    "social_grocery_cost_per_meal_ratio", "social_grocery_cost_per_meal_difference",
]  # fmt: skip
HEADLINE_COSTS = ["full_cost_per_meal", "full_cost_per_meal_with_volunteers", "total_cost", "cost_per_person"]

Table = dict[str, Any]


# --- Shapes ---------------------------------------------------------------------------------


def column(
    key: str,
    label: str,
    kind: str = "int",
    unit: str = "",
    *,
    pdf: bool = True,
    complete: str = "",
    unit_key: str = "",
    short: bool = False,
) -> dict[str, Any]:
    """A table column. ``kind``: text, int, decimal, euro, percent, date, month, week, bool, or
    figure: a value with its completeness (a cost), printed by ``costing.display.figure_text``
    ("au moins X", "inconnu") in pages, PDFs and exports alike.

    A figure column names the row's key that says whether the value is complete (``complete``),
    and, when the unit varies by row, the row's key of the unit (``unit_key``); ``short`` writes
    "≥ X" for "au moins X" in a narrow cell. ``pdf=False``: a long note kept in the exports but
    not printed in the PDF's table."""
    data: dict[str, Any] = {"key": key, "label": label, "kind": kind, "unit": unit}
    if not pdf:
        data["pdf"] = False
    if kind == "figure":
        data["complete"] = complete or "complete"
        if unit_key:
            data["unit_key"] = unit_key
        if short:
            data["short"] = True
    return data


def table(
    name: str, title: str, columns: list[dict[str, str]], rows: list[dict[str, Any]], note: str = ""
) -> Table:
    return {
        "name": name,
        "title": title,
        "columns": columns,
        "rows": [{key: jsonable(value) for key, value in row.items()} for row in rows],
        "note": note,
    }


def jsonable(value: Any) -> Any:
    """Exact decimals as strings, dates in ISO format, numpy integers as Python integers."""
    if hasattr(value, "item") and not isinstance(value, Decimal | str):
        value = value.item()
    if isinstance(value, datetime.datetime):
        value = value.date()
    return as_json(value)


def monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def figure_of(cost: CostReport, key: str) -> dict[str, Any]:
    data = cost.figure(key).as_dict()
    return {
        name: data[name]
        for name in ("key", "label", "unit", "value", "method", "missing", "complete", "applicable")
    }


# --- Activity from the roll-ups -------------------------------------------------------------

WEEKLY_COLUMNS = ["meals_distributed", "people_served", "meals_discarded", "pickups"]


def weekly_table(series: pd.DataFrame, *, start: datetime.date, end: datetime.date) -> Table:
    """Meals and people week by week (``series``: ``evaluation.selectors.weekly_series``'s)."""
    partial = monday(start) != start or monday(end) + datetime.timedelta(days=6) != end
    return table(
        "weekly",
        _("Activité par semaine"),
        [
            column("week", _("Semaine du"), "week"),
            column("meals_distributed", _("Repas distribués")),
            column("people_served", _("Passages (personnes servies)")),
            column("meals_discarded", _("Repas écartés")),
            column("pickups", _("Collectes")),
        ],
        [
            {"week": row["week"], **{name: int(row[name]) for name in WEEKLY_COLUMNS}}
            for row in series.to_dict("records")
        ],
        note=_("La première et la dernière semaine ne comptent que les jours de la période.")
        if partial
        else "",
    )


def volumes_of(monthly: pd.DataFrame) -> dict[str, Any]:
    names = [
        "meals_produced_dedicated", "meals_produced_surplus", "meals_picked_up", "meals_distributed",
        "meals_discarded", "people_served", "households", "children", "pickups", "distributions",
        "batches", "batches_cancelled", "batches_expired", "pickups_on_time", "receipt_breaches",
        "dispatch_breaches", "meals_short", "meals_expired", "meals_recalled", "batches_recalled",
    ]  # fmt: skip
    volumes: dict[str, Any] = {name: int(sum(int(value) for value in monthly[name])) for name in names}
    volumes["km"] = str(sum((Decimal(value) for value in monthly["km"]), Decimal(0)))
    volumes["meals_lost"] = meals_lost(volumes)
    volumes.update({name: jsonable(value) for name, value in flow_rates(volumes).items()})
    return volumes


def activity_table(monthly: pd.DataFrame) -> Table:
    names = [
        "meals_produced_dedicated", "meals_produced_surplus", "meals_picked_up",
        "meals_distributed", "people_served", "meals_discarded",
    ]  # fmt: skip
    rows = [
        {"month": month, **{name: int(values[name]) for name in names}}
        for month, values in monthly.iterrows()
    ]
    return table(
        "activity",
        _("Activité par mois"),
        [
            column("month", _("Mois"), "month"),
            column("meals_produced_dedicated", _("Repas dédiés produits")),
            column("meals_produced_surplus", _("Repas d'excédents donnés")),
            column("meals_picked_up", _("Repas collectés")),
            column("meals_distributed", _("Repas distribués")),
            column("people_served", _("Passages (personnes servies)")),
            column("meals_discarded", _("Repas écartés")),
        ],
        rows,
    )


def temperature_table(monthly: pd.DataFrame) -> Table:
    rows = []
    for month, values in monthly.iterrows():
        pickups, breaches = int(values["pickups"]), int(values["receipt_breaches"])
        batches, dispatch = int(values["batches"]), int(values["dispatch_breaches"])
        rates = flow_rates(values)
        rows.append(
            {
                "month": month,
                "pickups": pickups,
                "pickups_within": pickups - breaches,
                "pickups_within_share": rates["temperature_compliance"],
                "batches": batches,
                "batches_within_share": dispatch_compliance_share(
                    batches=batches, dispatch_breaches=dispatch
                ),
                "pickups_on_time_share": rates["pickups_on_time_share"],
            }
        )
    return table(
        "temperature",
        _("Chaîne du froid et du chaud, par mois"),
        [
            column("month", _("Mois"), "month"),
            column("pickups", _("Collectes")),
            column("pickups_within", _("Collectes dans les limites de température")),
            column("pickups_within_share", _("Part des collectes dans les limites"), "percent", "%"),
            column("batches", _("Lots")),
            column("batches_within_share", _("Part des lots expédiés dans les limites"), "percent", "%"),
            column("pickups_on_time_share", _("Part des lots collectés à temps"), "percent", "%"),
        ],
        rows,
        note=_("Limites : +3 °C ou moins en liaison froide, 63 °C ou plus en liaison chaude."),
    )


def losses_table(monthly: pd.DataFrame) -> Table:
    rows = []
    for month, values in monthly.iterrows():
        rows.append(
            {
                "month": month,
                "meals_distributed": int(values["meals_distributed"]),
                **{name: int(values[name]) for name in LOSS_PARTS},
                "meals_lost": meals_lost(values),
                "loss_rate": flow_rates(values)["loss_rate"],
                "batches_expired": int(values["batches_expired"]),
                "batches_cancelled": int(values["batches_cancelled"]),
                "batches_recalled": int(values["batches_recalled"]),
            }
        )
    return table(
        "losses",
        _("Pertes, par mois"),
        [
            column("month", _("Mois"), "month"),
            column("meals_distributed", _("Repas distribués")),
            column("meals_discarded", _("Repas écartés")),
            column("meals_short", _("Repas manquants à la collecte")),
            column("meals_expired", _("Repas non collectés avant la DLC")),
            column("meals_recalled", _("Repas retirés par un rappel")),
            column("meals_lost", _("Repas perdus")),
            column("loss_rate", _("Taux de perte"), "percent", "%"),
            column("batches_expired", _("Lots non collectés avant la DLC")),
            column("batches_cancelled", _("Lots annulés")),
            column("batches_recalled", _("Lots rappelés")),
        ],
        rows,
        note=loss_rate_definition(),
    )


# --- What the meals were made of (the batches' components) ----------------------------------

# A full meal of collective catering: a main dish, its side and at least two of starter, dairy
# and dessert (the four or five components of a school menu); bread is not counted.
FULL_MEAL_OTHERS = {"starter", "dairy", "dessert"}


def content_kind(components: Any) -> str:
    """A batch's content by its recorded components: full, main_side, other or unknown."""
    chosen = set(components or [])
    if not chosen:
        return "unknown"
    if {"main", "side"} <= chosen:
        return "full" if len(chosen & FULL_MEAL_OTHERS) >= 2 else "main_side"
    return "other"


def meal_content(*, territory_ids: list[int], start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """The content of the batches produced in the period (cancelled ones left out), from their
    recorded components: how many batches and meals of each kind, and each kind's share of the
    batches (percent to a tenth). The reports describe the meals with these figures only."""
    from django.db.models import Count, Sum

    from meals.models import Batch

    counts = {kind: {"batches": 0, "meals": 0} for kind in ("full", "main_side", "other", "unknown")}
    rows = (
        Batch.objects.all_territories()
        .filter(territory_id__in=territory_ids, production_date__gte=start, production_date__lte=end)
        .exclude(status=Batch.Status.CANCELLED)
        .values("components")
        .annotate(batches=Count("id"), meals=Sum("meals_count"))
        .order_by()
    )
    for row in rows:
        kind = counts[content_kind(row["components"])]
        kind["batches"] += int(row["batches"])
        kind["meals"] += int(row["meals"] or 0)
    batches = sum(kind["batches"] for kind in counts.values())
    return {
        "batches": batches,
        **{
            name: {**kind, "share": jsonable(share(kind["batches"], batches))}
            for name, kind in counts.items()
        },
    }


# --- Costs ----------------------------------------------------------------------------------


def monthly_cost_table(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    data: CostData | None = None,
    read_frame: FrameReader = rollup_frame,
) -> Table:
    """The cost method month by month, over whole months (``evaluation.selectors.monthly_series``)."""
    series = selectors.monthly_series(
        territory_ids=territory_ids, start=start, end=end, data=data, read_frame=read_frame
    )
    rows = [
        {
            "month": row["month"],
            "meals_distributed": int(row["meals_distributed"]),
            "full_cost_per_meal": row["full_cost_per_meal"],
            "complete": bool(row["full_cost_complete"]),
        }
        for row in series.to_dict("records")
    ]
    return table(
        "monthly_costs",
        _("Coût complet par repas distribué, par mois"),
        [
            column("month", _("Mois"), "month"),
            column("meals_distributed", _("Repas distribués (mois entier)")),
            column("full_cost_per_meal", _("Coût complet par repas"), "figure", "€", complete="complete"),
        ],
        rows,
        note=_(
            "Un mois incomplet a une valeur minimale (« au moins ») : une donnée manquante n'est jamais "
            "comptée comme zéro. "
            "La liste des données manquantes figure dans la partie « Sources et méthode »."
        ),
    )


def cost_figures(cost: CostReport) -> list[dict[str, Any]]:
    return [figure_of(cost, key) for key in COST_KEYS]


def costs_table(figures: list[dict[str, Any]]) -> Table:
    return table(
        "costs",
        _("Coûts de la période"),
        [
            column("label", _("Chiffre"), "text"),
            column("value", _("Valeur"), "figure", complete="complete", unit_key="unit"),
            column("unit", _("Unité"), "text"),
            column("complete", _("Complet"), "bool"),
            column("missing_count", _("Données manquantes"), "int"),
        ],
        [
            {
                "key": figure["key"],
                "label": figure["label"],
                "value": figure["value"],
                "unit": figure["unit"],
                "complete": figure["complete"],
                "missing_count": len(figure["missing"]),
            }
            for figure in figures
            if figure["applicable"]
        ],
    )


def missing_table(items: list[str]) -> Table:
    """The inputs a report lacked (its ``missing``), one per row, for the exports."""
    return table(
        "missing",
        _("Données manquantes"),
        [column("item", _("Donnée manquante"), "text")],
        [{"item": item} for item in items],
        note=_("Les chiffres qui en dépendent sont marqués incomplets et leur valeur est un minimum."),
    )


def missing_counted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Figures or indicators with the number of inputs they lack in place of their list."""
    counted = []
    for row in rows:
        kept = {key: value for key, value in row.items() if key != "missing"}
        counted.append({**kept, "missing_count": len(row["missing"])})
    return counted


# --- Indicators (evaluation.indicators) -----------------------------------------------------


def indicator_rows(result: IndicatorSet) -> list[dict[str, Any]]:
    return [
        {
            "code": indicator.code,
            "label": str(indicator.label),
            "definition": str(indicator.definition),
            "unit": str(indicator.unit),
            "question": str(indicator.question),
            "question_label": str(Question(indicator.question).label),
            "applicable": bool(indicator.applicable),
            "value": jsonable(indicator.value),
            "complete": bool(indicator.complete),
            "missing": [str(item) for item in indicator.missing],
        }
        for indicator in result.indicators
    ]


def indicators_table(rows: list[dict[str, Any]]) -> Table:
    return table(
        "indicators",
        _("Indicateurs de l'évaluation"),
        [
            column("question_label", _("Question évaluative"), "text"),
            column("code", _("Code"), "text"),
            column("label", _("Indicateur"), "text"),
            column("value", _("Valeur"), "figure", complete="complete", unit_key="unit"),
            column("unit", _("Unité"), "text"),
            column("complete", _("Complet"), "bool"),
            column("definition", _("Définition"), "text"),
        ],
        [
            {
                key: row[key]
                for key in (
                    "question_label",
                    "code",
                    "label",
                    "value",
                    "unit",
                    "complete",
                    "applicable",
                    "definition",
                )
            }
            for row in rows
        ],
    )


# --- The territories, their actors, objectives, fundings and journal -----------------------


def territory_rows(territory_ids: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "id": territory.pk,
            "name": territory.name,
            "departement_code": territory.departement_code,
            "region": territory.region,
            "is_pilot": territory.is_pilot,
            "has_pat": territory.has_pat,
        }
        for territory in Territory.objects.all_territories().filter(pk__in=territory_ids).order_by("name")
    ]


def choice_labels(model: type[Model], name: str) -> dict[Any, str]:
    """A field's choices and their labels in the active language, translated once for a table
    (``get_<field>_display`` translates again for each of thousands of rows); a value outside
    the choices is shown as it is, as ``get_<field>_display`` shows it."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field), f"{model.__name__}.{name} is not a field with choices"
    return {value: str(label) for value, label in field.flatchoices}


def actors_table(territory_ids: list[int], names: dict[int, str]) -> Table:
    rows: list[dict[str, Any]] = []
    kind, role = _("Cuisine centrale"), _("Produit les repas dédiés et donne ses excédents")
    detail = _("%(operator)s, %(meals)s repas par jour habituellement")
    operators = choice_labels(Kitchen, "operator_type")
    for kitchen in Kitchen.objects.all_territories().filter(territory_id__in=territory_ids).order_by("name"):
        rows.append(
            {
                "territory": names[kitchen.territory_id],
                "kind": kind,
                "name": kitchen.name,
                "detail": detail
                % {
                    "operator": operators.get(kitchen.operator_type, kitchen.operator_type),
                    "meals": kitchen.usual_daily_production,
                },
                "role": role,
            }
        )
    kind, role = _("Association"), _("Collecte les repas et les distribue")
    detail = _("Habilitation : %(habilitation)s")
    habilitations = choice_labels(Association, "habilitation")
    for association in (
        Association.objects.all_territories().filter(territory_id__in=territory_ids).order_by("name")
    ):
        rows.append(
            {
                "territory": names[association.territory_id],
                "kind": kind,
                "name": association.name,
                "detail": detail
                % {"habilitation": habilitations.get(association.habilitation, association.habilitation)},
                "role": role,
            }
        )
    kind, role = _("Collectivité"), _("Coordonne le partenariat")
    authority_kinds = choice_labels(Authority, "kind")
    for authority in (
        Authority.objects.all_territories().filter(territory_id__in=territory_ids).order_by("name")
    ):
        rows.append(
            {
                "territory": names[authority.territory_id],
                "kind": kind,
                "name": authority.name,
                "detail": authority_kinds.get(authority.kind, authority.kind),
                "role": role,
            }
        )
    return table(
        "actors",
        _("Acteurs du partenariat"),
        [
            column("territory", _("Territoire"), "text"),
            column("kind", _("Type"), "text"),
            column("name", _("Nom"), "text"),
            column("detail", _("Précisions"), "text"),
            column("role", _("Rôle"), "text"),
        ],
        rows,
    )


def objectives_table(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    names: dict[int, str],
    read_frame: FrameReader = rollup_frame,
) -> Table:
    """Planned meals (the conventions' meals per week over their days in the period) against delivered."""
    frame = read_frame(territory_ids=territory_ids, start=start, end=end)
    partnerships = (
        Partnership.objects.all_territories()
        .filter(territory_id__in=territory_ids, starts_on__lte=end)
        .exclude(status=Partnership.Status.DRAFT)
        .select_related("kitchen", "association")
        .order_by("kitchen__name", "association__name", "pk")
    )
    delivered: dict[tuple[int, int], tuple[int, int]] = {}
    if len(frame):
        by_pair = frame.groupby(["kitchen", "association"])[["meals_picked_up", "meals_distributed"]].sum()
        for (kitchen, association), values in by_pair.iterrows():
            delivered[(int(kitchen), int(association))] = (
                int(values["meals_picked_up"]),
                int(values["meals_distributed"]),
            )
    rows = []
    modes = choice_labels(Partnership, "mode")
    calendar = planning.ClosureCalendar.read(territory_ids=territory_ids, start=start, end=end)
    for partnership in partnerships:
        running = planning.planned_meals(
            per_week=partnership.planned_meals_per_week,
            starts_on=partnership.starts_on,
            ends_on=partnership.ends_on,
            start=start,
            end=end,
            closed=calendar.closed(partnership.territory_id, partnership.kitchen_id),
        )
        days = running.days
        planned = running.meals.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        picked_up, distributed = delivered.pop((partnership.kitchen_id, partnership.association_id), (0, 0))
        rows.append(
            {
                "territory": names[partnership.territory_id],
                "partnership": str(partnership),
                "mode": modes.get(partnership.mode, partnership.mode),
                "planned_per_week": partnership.planned_meals_per_week,
                "days": days,
                "planned": int(planned),
                "picked_up": picked_up,
                "distributed": distributed,
                "delivered_share": share(distributed, int(planned)),
            }
        )
    return table(
        "objectives",
        _("Résultats au regard des objectifs"),
        [
            column("territory", _("Territoire"), "text"),
            column("partnership", _("Partenariat"), "text"),
            column("mode", _("Mode"), "text"),
            column("planned_per_week", _("Repas prévus par semaine")),
            column("days", _("Jours de fonctionnement sur la période")),
            column("planned", _("Repas prévus sur la période")),
            column("picked_up", _("Repas collectés")),
            column("distributed", _("Repas distribués")),
            column("delivered_share", _("Part des repas prévus distribués"), "percent", "%"),
        ],
        rows,
        note=_(
            "Repas prévus = repas prévus par semaine de la convention × jours de fonctionnement dans la "
            "période ÷ 7 (jours de la convention hors vacances scolaires et fermetures de la cuisine) ; "
            "part distribuée = repas distribués ÷ repas prévus."
        ),
    )


def per_territory_tables(tables: dict[str, Table], names: dict[int, str]) -> tuple[Table, Table]:
    """The actors and the objectives summed per territory, for a synthesis: one row per territory
    instead of one per actor or partnership (the detailed tables stay in the figures and exports)."""
    actors: dict[str, dict[str, Any]] = {
        name: {"territory": name, "kitchens": 0, "associations": 0, "authorities": 0}
        for name in sorted(names.values())
    }
    kinds = {str(_("Cuisine centrale")): "kitchens", str(_("Association")): "associations"}
    for row in tables["actors"]["rows"]:
        actors[row["territory"]][kinds.get(row["kind"], "authorities")] += 1
    objectives: dict[str, dict[str, Any]] = {
        name: {"territory": name, "partnerships": 0, "planned": 0, "picked_up": 0, "distributed": 0}
        for name in sorted(names.values())
    }
    for row in tables["objectives"]["rows"]:
        sums = objectives[row["territory"]]
        sums["partnerships"] += 1
        for key in ("planned", "picked_up", "distributed"):
            sums[key] += row[key]
    for sums in objectives.values():
        sums["delivered_share"] = share(sums["distributed"], sums["planned"])
    detail = _("Le détail par %(what)s figure dans l'export du tableau « %(table)s » (CSV ou XLSX).")
    return (
        table(
            "actors_by_territory",
            _("Acteurs par territoire"),
            [
                column("territory", _("Territoire"), "text"),
                column("kitchens", _("Cuisines centrales")),
                column("associations", _("Associations")),
                column("authorities", _("Collectivités")),
            ],
            list(actors.values()),
            note=detail % {"what": _("acteur"), "table": tables["actors"]["title"]},
        ),
        table(
            "objectives_by_territory",
            _("Résultats au regard des objectifs, par territoire"),
            [
                column("territory", _("Territoire"), "text"),
                column("partnerships", _("Partenariats")),
                column("planned", _("Repas prévus sur la période")),
                column("picked_up", _("Repas collectés")),
                column("distributed", _("Repas distribués")),
                column("delivered_share", _("Part des repas prévus distribués"), "percent", "%"),
            ],
            list(objectives.values()),
            note=detail % {"what": _("partenariat"), "table": tables["objectives"]["title"]},
        ),
    )


def fundings_table(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    names: dict[int, str],
    total_cost: dict[str, Any],
) -> tuple[Table, dict[str, Any]]:
    """The grants that overlap the period, with the part of each that falls in it (prorata temporis)."""
    fundings = (
        Funding.objects.all_territories()
        .filter(territory_id__in=territory_ids, period_start__lte=end, period_end__gte=start)
        .order_by("territory__name", "period_start", "pk")
    )
    rows, in_period = [], Decimal(0)
    for funding in fundings:
        days = (funding.period_end - funding.period_start).days + 1
        overlap = (min(end, funding.period_end) - max(start, funding.period_start)).days + 1
        part = (funding.amount * overlap / days).quantize(CENT, rounding=ROUND_HALF_UP)
        in_period += part
        rows.append(
            {
                "territory": names[funding.territory_id],
                "funder": funding.get_funder_display(),
                "funder_name": funding.funder_name,
                "amount": funding.amount,
                "period_start": funding.period_start,
                "period_end": funding.period_end,
                "in_period": part,
            }
        )
    cost_value = Decimal(total_cost["value"]) if total_cost["value"] is not None else None
    summary = {
        "in_period": jsonable(in_period),
        "total_cost": total_cost["value"],
        "total_cost_complete": total_cost["complete"],
        "coverage": jsonable(share(in_period, cost_value)) if cost_value else None,
    }
    return (
        table(
            "fundings",
            _("Financements mobilisés"),
            [
                column("territory", _("Territoire"), "text"),
                column("funder", _("Financeur"), "text"),
                column("funder_name", _("Nom"), "text"),
                column("amount", _("Montant accordé"), "euro", "€"),
                column("period_start", _("Début"), "date"),
                column("period_end", _("Fin"), "date"),
                column("in_period", _("Part sur la période (prorata)"), "euro", "€"),
            ],
            rows,
            note=_(
                "Part sur la période = montant × jours du financement dans la période ÷ jours du financement."
            ),
        ),
        summary,
    )


def journal_table(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    names: dict[int, str],
    shared_only: bool,
) -> Table:
    """The obstacles and levers observed in the period (without their authors).

    A report addressed to funders (``shared_only``) prints only the entries shared with funders:
    funders read the report and its exports (docs/roles.md)."""
    entries = (
        JournalEntry.objects.all_territories()
        .filter(territory_id__in=territory_ids, observed_on__gte=start, observed_on__lte=end)
        .order_by("observed_on", "pk")
    )
    if shared_only:
        entries = entries.filter(shared_with_funders=True)
    natures, categories = choice_labels(JournalEntry, "nature"), choice_labels(JournalEntry, "category")
    return table(
        "journal",
        _("Freins et leviers observés"),
        [
            column("territory", _("Territoire"), "text"),
            column("observed_on", _("Date"), "date"),
            column("nature", _("Frein ou levier"), "text"),
            column("category", _("Catégorie"), "text"),
            column("title", _("Titre"), "text"),
            column("text", _("Observation"), "text"),
        ],
        [
            {
                "territory": names[entry.territory_id],
                "observed_on": entry.observed_on,
                "nature": natures.get(entry.nature, entry.nature),
                "nature_code": entry.nature,
                "category": categories.get(entry.category, entry.category),
                "title": entry.title,
                "text": entry.text,
            }
            for entry in entries
        ],
    )


# --- Territories side by side ---------------------------------------------------------------


def costs_by_territory(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    data: CostData | None = None,
    read_frame: FrameReader = rollup_frame,
) -> dict[int, CostReport]:
    """The cost method run for each territory over the whole months from start to end, on its
    share of one read of every territory (``cost_data``, or ``data`` when the caller has it, and
    the roll-ups once, the actors' territories once): a constant number of queries, whatever the
    number of territories."""
    data = data or cost_data(territory_ids=territory_ids, start=start, end=end, read_frame=read_frame)
    months = data.months
    frame = read_frame(territory_ids=territory_ids, start=months[0], end=last_of_month(months[-1]))
    frames = dict(iter(frame.groupby("territory"))) if len(frame) else {}
    kitchen_territory = dict(
        Kitchen.objects.all_territories()
        .filter(territory_id__in=territory_ids)
        .values_list("pk", "territory_id")
    )
    association_territory = dict(
        Association.objects.all_territories()
        .filter(territory_id__in=territory_ids)
        .values_list("pk", "territory_id")
    )
    kitchens: dict[int, list[Any]] = {}
    for kitchen in data.kitchens:
        kitchens.setdefault(kitchen_territory[kitchen.kitchen_id], []).append(kitchen)
    associations: dict[int, list[Any]] = {}
    for association in data.associations:
        associations.setdefault(association_territory[association.association_id], []).append(association)
    coordination: dict[int, list[Any]] = {}
    for row in data.coordination:
        coordination.setdefault(row.territory_id, []).append(row)
    empty = frame.iloc[0:0]
    return {
        territory_id: cost_report(
            CostData(
                territory_ids=[territory_id],
                months=months,
                volumes=volumes_of_frame(frames.get(territory_id, empty)),
                kitchens=kitchens.get(territory_id, []),
                associations=associations.get(territory_id, []),
                coordination=coordination.get(territory_id, []),
                references=data.references,
                costs=data.costs,
            )
        )
        for territory_id in territory_ids
    }


def comparison_table(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    data: CostData | None = None,
    read_frame: FrameReader = rollup_frame,
) -> Table:
    """The main figures of every territory side by side: one roll-up query, then the cost method of
    each on its share of one read of the cost data (``costs_by_territory``)."""
    frame = read_frame(territory_ids=territory_ids, start=start, end=end)
    sums: dict[int, dict[str, Any]] = {}
    if len(frame):
        grouped = frame.groupby("territory")[
            ["meals_distributed", "people_served", "meals_produced_dedicated", "meals_produced_surplus",
             "meals_discarded", "meals_short", "meals_expired", "meals_recalled", "pickups",
             "receipt_breaches"]
        ].sum()  # fmt: skip
        sums = {
            int(territory): {name: int(value) for name, value in values.items()}
            for territory, values in grouped.iterrows()
        }
    costs = costs_by_territory(
        territory_ids=territory_ids, start=start, end=end, data=data, read_frame=read_frame
    )
    rows = []
    for territory in territory_rows(territory_ids):
        values = sums.get(territory["id"], {})
        get = values.get
        cost = costs[territory["id"]].figure("full_cost_per_meal")
        distributed = get("meals_distributed", 0)
        rates = flow_rates(values)
        rows.append(
            {
                "territory_id": territory["id"],
                "territory": territory["name"],
                "meals_distributed": distributed,
                "people_served": get("people_served", 0),
                "meals_per_person": rates["meals_per_person"],
                "meals_produced_dedicated": get("meals_produced_dedicated", 0),
                "meals_produced_surplus": get("meals_produced_surplus", 0),
                "full_cost_per_meal": cost.value,
                "full_cost_complete": cost.complete,
                "loss_rate": rates["loss_rate"],
                "temperature_compliance": rates["temperature_compliance"],
            }
        )
    return table(
        "comparison",
        _("Les territoires côte à côte"),
        [
            column("territory", _("Territoire"), "text"),
            column("meals_distributed", _("Repas distribués")),
            column("people_served", _("Passages (personnes servies)")),
            column("meals_per_person", _("Repas par passage"), "decimal"),
            column("meals_produced_dedicated", _("Repas dédiés")),
            column("meals_produced_surplus", _("Repas d'excédents")),
            column(
                "full_cost_per_meal",
                _("Coût complet par repas"),
                "figure",
                "€",
                complete="full_cost_complete",
                short=True,
            ),
            column("loss_rate", _("Taux de perte"), "percent", "%"),
            column("temperature_compliance", _("Collectes dans les limites de température"), "percent", "%"),
        ],
        rows,
        note=_("Les coûts portent sur les mois entiers de la période."),
    )


# --- Sources and method ---------------------------------------------------------------------


# The reference values the figures read at the end of the period's whole months: the comparisons
# of the cost method (``costing.services.COMPARED_REFERENCES``) and the food waste and CO2
# avoided (``evaluation.indicators.impact_indicators``). The value of a volunteer hour is read
# month by month (``costing.selectors.cost_data``); nothing reads the CO2 per meal.
READ_AT_PERIOD_END = (
    *COMPARED_REFERENCES,
    ReferenceValue.Code.MEAL_WEIGHT,
    ReferenceValue.Code.CO2_PER_KG_WASTE,
)


def references_used(data: CostData) -> list[dict[str, Any]]:
    """The reference values the figures of the period used, each with the period of validity of
    the value used (from its ``valid_from`` to its ``valid_until`` or the day before the next
    value of the same code, whichever comes first, or open): the value in force at the end of
    the cost months for the comparisons and the impact, the value in force each month whose
    associations recorded volunteer hours. A value nothing used (the CO2 per meal) is not
    listed."""
    every = list(ReferenceValue.objects.all_territories().order_by("code", "valid_from"))
    used: list[ReferenceValue] = [
        reference for code in READ_AT_PERIOD_END if (reference := data.references.get(code)) is not None
    ]
    volunteer_months = sorted(
        {
            row.month
            for row in data.associations
            if row.inputs is not None and (getattr(row.inputs, "volunteer_hours", None) or 0) > 0
        }
    )
    for month in volunteer_months:
        reference = reference_in_force(every, ReferenceValue.Code.VOLUNTEER_HOUR, last_of_month(month))
        if reference is not None and all(reference.pk != kept.pk for kept in used):
            used.append(reference)
    rows = []
    for reference in used:
        later = [
            other.valid_from
            for other in every
            if other.code == reference.code and other.valid_from > reference.valid_from
        ]
        # It ends the day before the next value, or on its own end of validity if it has one.
        ends = [min(later) - datetime.timedelta(days=1)] if later else []
        own_end: datetime.date | None = getattr(reference, "valid_until", None)
        if own_end is not None:
            ends.append(own_end)
        valid_to = min(ends, default=None)
        rows.append(
            {
                "code": reference.code,
                "label": str(ReferenceValue.Code(reference.code).label),
                "value": jsonable(reference.value),
                "valid_from": jsonable(reference.valid_from),
                "valid_to": jsonable(valid_to),
                "source": reference.source,
                "source_date": jsonable(reference.source_date),
            }
        )
    return rows


def sources(*, built_on: datetime.date, with_journal: bool) -> list[str]:
    items = [
        _(
            "Agrégats journaliers de Passerelle, recalculés à partir des lots déclarés par les cuisines, "
            "des collectes et des distributions saisies par les associations (état au %(date)s)."
        )
        % {"date": formats.date_format(built_on, "SHORT_DATE_FORMAT")},
        _(
            "Saisies mensuelles des coûts : cuisines, associations, coordination des collectivités, "
            "barèmes de transport."
        ),
        _("Financements enregistrés dans Passerelle."),
        _("Valeurs de référence externes, avec leur source (voir ci-dessous)."),
    ]
    if with_journal:
        items.append(_("Journal d'observation de l'évaluation embarquée (freins et leviers)."))
    return items


def method(cost: CostReport) -> list[str]:
    keys = [
        "marginal_cost_dedicated",
        "marginal_cost_surplus",
        "full_cost_per_meal",
        "full_cost_per_meal_with_volunteers",
    ]
    return [
        _(
            "Les volumes (repas, personnes, collectes) portent sur les jours exacts de la période ; "
            "les coûts portent sur les mois entiers qu'elle touche, car les coûts sont saisis par mois."
        ),
        _(
            "Une donnée manquante n'est jamais comptée comme zéro : le chiffre concerné est marqué incomplet "
            "et sa valeur est un minimum (« au moins »)."
        ),
        _(
            "Chaîne du froid et du chaud : une collecte est dans les limites quand les repas sont reçus à "
            "+3 °C ou moins (liaison froide) ou à 63 °C ou plus (liaison chaude)."
        ),
        *[cost.figure(key).method for key in keys],
        _(
            "Les chiffres de ce document ont été calculés une fois et conservés avec lui : le télécharger de "
            "nouveau donne le même document."
        ),
    ]


# --- Entry points ---------------------------------------------------------------------------


@inputs_not_recorded()
def flow_figures(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    read_frame: FrameReader | None = None,
    ahead: ReadsAhead | None = None,
) -> tuple[dict[str, Any], CostReport, CostData, FlowPart]:
    """What a dashboard shows that is read off the roll-ups and the cost inputs (all but the
    territories' names and the indicators read anew: conventions, people, journal, surveys),
    with the cost report, the cost data and the indicators' part they were read for. The
    roll-ups (``read_frame``: ``RollupFrames``) and the cost method's inputs are read once and
    handed to every table that needs them, and each actor-month is costed once. Figures carry
    no list of the inputs they used: dashboards and reports do not print them.

    ``ahead``: where the weekly series, the distribution days and the kitchens' production are
    read, in threads while the roll-up frame is read and the cost method computes (a report's
    build), or in this thread when needed (a dashboard's request: no connection of its own)."""
    read_frame = read_frame or RollupFrames(territory_ids)
    period = {"territory_ids": territory_ids, "start": start, "end": end}
    monthly = monthly_table(territory_ids=territory_ids, start=start, end=end, read_frame=read_frame)
    # Started once the roll-up frame is read, which keeps both of the database's cores busy.
    ahead = ahead or ReadsAhead(threads=False)
    read_weekly = ahead.start(selectors.weekly_series, **period)
    read_days = ahead.start(distribution_days_by, **period, split=False)
    read_kitchens = ahead.start(production_rows_by, **period, split=False)
    data = cost_data(territory_ids=territory_ids, start=start, end=end, read_frame=read_frame)
    cost = cost_report(data)
    costs = cost_figures(cost)
    parts = flow_parts(
        territory_ids=territory_ids,
        start=start,
        end=end,
        split=False,
        data=data,
        cost=cost,
        frame=read_frame(territory_ids=territory_ids, start=start, end=end),
        read_days=read_days,
        read_kitchens=read_kitchens,
    )
    flow = parts[None]
    figures = {
        "schema": SCHEMA,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "cost_period": {"start": cost.start.isoformat(), "end": cost.end.isoformat()},
        "volumes": volumes_of(monthly),
        "costs": costs,
        "missing": cost.missing,
        "tables": {
            "weekly": weekly_table(read_weekly(), start=start, end=end),
            "activity": activity_table(monthly),
            "monthly_costs": monthly_cost_table(
                territory_ids=territory_ids, start=start, end=end, data=data, read_frame=read_frame
            ),
            "temperature": temperature_table(monthly),
            "losses": losses_table(monthly),
            "costs": costs_table(costs),
        },
    }
    return figures, cost, data, flow


def with_live_figures(
    figures: dict[str, Any],
    flow: FlowPart,
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
) -> dict[str, Any]:
    """``figures`` (``flow_figures``'s) completed with what is read on every request: the
    territories and the indicators (their roll-up part ``flow``, the conventions, people,
    journal and surveys)."""
    live = live_parts(territory_ids=territory_ids, start=start, end=end, split=False)[None]
    indicators = indicator_rows(
        assemble(territory_ids=territory_ids, start=start, end=end, flow=flow, live=live)
    )
    return {
        **{key: figures[key] for key in ("schema", "period", "cost_period")},
        "territories": territory_rows(territory_ids),
        **{key: figures[key] for key in ("volumes", "costs", "missing")},
        "indicators": indicators,
        "tables": {**figures["tables"], "indicators": indicators_table(indicators)},
    }


def collect(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    read_frame: FrameReader | None = None,
    ahead: ReadsAhead | None = None,
) -> tuple[dict[str, Any], CostReport, CostData]:
    """The figures of a dashboard, and the cost report and cost data read for them."""
    figures, cost, data, flow = flow_figures(
        territory_ids=territory_ids, start=start, end=end, read_frame=read_frame, ahead=ahead
    )
    return with_live_figures(figures, flow, territory_ids=territory_ids, start=start, end=end), cost, data


# How long a dashboard's figures are kept at most: the bound on what the roll-up version does
# not see (a kitchen renamed, its usual production changed), as for the indicators.
DASHBOARD_CACHE_SECONDS = FLOW_CACHE_SECONDS
DASHBOARD_CACHE_PREFIX = "evaluation:dashboard:figures:v1"


def dashboard_figures(*, territory_id: int, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """What a territory's dashboard shows over a period: the part read off the roll-ups and cost
    inputs from the cache while the territory's roll-up version (``rollup_versions``, which the
    indicators' cache uses too) is unchanged, the rest read anew."""
    territory_ids = [territory_id]
    version = rollup_versions(territory_ids=territory_ids, start=start, end=end)[territory_id]
    key = f"{DASHBOARD_CACHE_PREFIX}:{territory_id}:{start}:{end}:{get_language() or ''}:{version}"
    kept: tuple[dict[str, Any], FlowPart] | None = cache.get(key)
    if kept is None:
        figures, _cost, _data, flow = flow_figures(territory_ids=territory_ids, start=start, end=end)
        kept = (figures, flow)
        cache.set(key, kept, DASHBOARD_CACHE_SECONDS)
    return with_live_figures(*kept, territory_ids=territory_ids, start=start, end=end)


@inputs_not_recorded()
def report_figures(
    *, kind: str, territory_ids: list[int], start: datetime.date, end: datetime.date, progress: Any = None
) -> dict[str, Any]:
    """Every figure a report prints, computed once; the report stores them and is rendered from them.

    ``progress(percent)`` is called between the steps, for the report's status."""

    def step(percent: int) -> None:
        if progress is not None:
            progress(percent)

    built_on = timezone.localdate()
    frames = RollupFrames(territory_ids)
    with ReadsAhead() as ahead:
        figures, cost, data = collect(
            territory_ids=territory_ids, start=start, end=end, read_frame=frames, ahead=ahead
        )
    step(45)
    names = {row["id"]: row["name"] for row in figures["territories"]}
    tables = figures["tables"]
    tables["actors"] = actors_table(territory_ids, names)
    tables["objectives"] = objectives_table(
        territory_ids=territory_ids, start=start, end=end, names=names, read_frame=frames
    )
    total_cost = next(figure for figure in figures["costs"] if figure["key"] == "total_cost")
    tables["fundings"], figures["funding"] = fundings_table(
        territory_ids=territory_ids, start=start, end=end, names=names, total_cost=total_cost
    )
    # Territory reports are read by the territory's funders; the synthesis by evaluators only.
    tables["journal"] = journal_table(
        territory_ids=territory_ids, start=start, end=end, names=names, shared_only=kind != "synthesis"
    )
    figures["meal_content"] = meal_content(territory_ids=territory_ids, start=start, end=end)
    from .programme import programme_figures  # the programme's tables read this module's shapes

    programme_figures(
        figures,
        kind=kind,
        territory_ids=territory_ids,
        start=start,
        end=end,
        cost=cost,
        data=data,
        read_frame=frames,
    )
    step(55)
    if kind == "synthesis":
        tables["comparison"] = comparison_table(
            territory_ids=territory_ids, start=start, end=end, data=data, read_frame=frames
        )
        tables["actors_by_territory"], tables["objectives_by_territory"] = per_territory_tables(tables, names)
    # Each missing input is listed once, in ``missing`` (exported as the table "missing"); the
    # cost figures and indicators give how many they lack. Listed with each, the thousands of
    # inputs a national synthesis lacks made 26 of its 32 MiB of figures.
    figures["costs"] = missing_counted(figures["costs"])
    figures["indicators"] = missing_counted(figures["indicators"])
    figures.update(
        kind=kind,
        built_on=built_on.isoformat(),
        sources=sources(built_on=built_on, with_journal=True),
        references=references_used(data),
        method=method(cost),
    )
    step(60)
    return figures


def default_dashboard_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last three whole months before today's month."""
    end = first_of_month(today) - datetime.timedelta(days=1)
    start = first_of_month(end)
    for _month in range(2):
        start = first_of_month(start - datetime.timedelta(days=1))
    return start, end
