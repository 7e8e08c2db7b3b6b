"""Demo data for what the funders read first: each grant's budget and co-funders, the programme's
expenses and revenues, the kitchens' fixed costs and EGalim shares, who is reached at the
distributions, the journal's themes and the kitchen staff's survey (docs/indicators.md).

Plausible values for Île-de-France, not measurements: the evaluation replaces them with the
pilots' own. Idempotent, like the rest of ``seed_demo``: each record is found by its natural key
and brought up to its values; the counts of who is reached are only filled where none were.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from associations.models import DistributionSite, Partnership
from costing.models import BudgetLine, CoFunder, DailyRollup, Expense, Funding, KitchenFixedCost, Revenue
from evaluation import services
from evaluation.models import JournalEntry, Survey, SurveyResponse
from evaluation.survey_templates import template_of
from kitchens.models import EgalimDeclaration, Kitchen
from meals.models import REACH_FIELDS, Distribution
from territories.models import Territory

from .costs import SEED, Upsert, add_months

CENT = Decimal("0.01")

# The action's budget over a grant's period, as a share of the grant (the grant funds part of it).
BUDGET_SHARES = {
    "food_production": Decimal("0.95"),
    "transport": Decimal("0.12"),
    "association_staff": Decimal("0.40"),
    "coordination": Decimal("0.10"),
    "evaluation": Decimal("0.08"),
}
EXPLANATIONS = {
    "food_production": "Plus de repas dédiés que prévu à la demande des associations.",
    "transport": "Tournées regroupées : moins de kilomètres que prévu.",
}
# The journal's categories, read as the themes of replication.
THEMES = {
    "logistics": "logistics",
    "technical": "food_safety",
    "economic": "costs",
    "partnership": "governance",
    "administrative": "governance",
    "social": "beneficiaries",
}


def rng_for(*parts: Any) -> random.Random:
    return random.Random(":".join([SEED, "funders", *map(str, parts)]))  # noqa: S311 - demo data


def as_day(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def seed_budgets(upsert: Upsert, territory: Territory) -> None:
    """A budget for the DRIHL and Carasso grants, with the authority's own share as co-funder."""
    fundings = list(Funding.objects.filter(territory=territory).order_by("period_start", "pk"))
    own = next((funding for funding in fundings if funding.funder == Funding.Funder.AUTHORITY), None)
    for funding in fundings:
        if funding.funder not in (Funding.Funder.DRIHL, Funding.Funder.CARASSO):
            continue
        for category, share in BUDGET_SHARES.items():
            upsert(
                BudgetLine,
                {"funding": funding, "category": category},
                {
                    "territory": territory,
                    "planned": (funding.amount * share).quantize(CENT),
                    "explanation": EXPLANATIONS.get(category, ""),
                },
            )
        if own is not None:
            upsert(
                CoFunder,
                {"funding": funding, "organisation": own.funder_name},
                {"territory": territory, "kind": CoFunder.Kind.MUNICIPALITY, "amount": own.amount},
            )
        upsert(
            CoFunder,
            {"funding": funding, "organisation": "CAF de la Seine-Saint-Denis"},
            {
                "territory": territory,
                "kind": CoFunder.Kind.CAF,
                "amount": Decimal(8000),
                "status": "requested",
            },
        )


def seed_expenses_and_revenues(upsert: Upsert, territory: Territory, months: list[datetime.date]) -> None:
    """An evaluation expense each quarter, the beneficiaries' contributions each month, and each
    priced convention's dedicated meals paid at its price (by the CCAS in the first territory's
    pattern, by the association elsewhere)."""
    rng = rng_for(territory.slug, "revenues")
    dedicated = {
        (row["partnership"], as_day(row["month"])): row["meals"]
        for row in DailyRollup.objects.filter(
            territory=territory, day__gte=months[0], partnership__price_per_meal__isnull=False
        )
        .annotate(month=TruncMonth("day"))
        .values("partnership", "month")
        .annotate(meals=Sum("meals_produced_dedicated"))
        if row["meals"]
    }
    payer = Revenue.Kind.CCAS_PAYMENT if territory.is_pilot else Revenue.Kind.ASSOCIATION_PAYMENT
    partnerships = {p.pk: p for p in Partnership.objects.filter(territory=territory)}
    for month in months:
        if month.month in (3, 6, 9, 12):
            upsert(
                Expense,
                {
                    "territory": territory,
                    "month": month,
                    "label": "Évaluation embarquée : enquêtes et analyse",
                },
                {"category": "evaluation", "amount": Decimal(rng.randrange(1800, 2600))},
            )
        upsert(
            Revenue,
            {"territory": territory, "month": month, "kind": Revenue.Kind.BENEFICIARIES},
            {"amount": Decimal(rng.randrange(120, 320))},
        )
    for (partnership_id, month), meals in sorted(dedicated.items()):
        partnership = partnerships[partnership_id]
        upsert(
            Revenue,
            {"territory": territory, "month": month, "kind": payer, "partnership": partnership},
            {"meals": meals, "amount": (meals * partnership.price_per_meal).quantize(CENT)},
        )
    equipment_month = months[len(months) // 2]
    upsert(
        Expense,
        {
            "territory": territory,
            "month": equipment_month,
            "label": "Armoire réfrigérée d'un lieu de distribution",
        },
        {"category": "equipment", "amount": Decimal(2900)},
    )


def seed_kitchens(upsert: Upsert, territory: Territory, months: list[datetime.date]) -> None:
    """Each kitchen's fixed costs and EGalim shares for the years of the pilot; the first
    kitchen's shares as imported from ma-cantine, the others entered."""
    for index, kitchen in enumerate(Kitchen.objects.filter(territory=territory).order_by("pk")):
        rng = rng_for(territory.slug, kitchen.pk)
        for year in sorted({month.year for month in months}):
            meals = kitchen.usual_daily_production * 180  # about 180 school days of service
            upsert(
                KitchenFixedCost,
                {"kitchen": kitchen, "year": year},
                {
                    "territory": territory,
                    "meals_produced": meals,
                    "fixed_costs": (Decimal(meals) * Decimal(rng.randrange(380, 520)) / 100).quantize(CENT),
                    "source": "Compte administratif (estimation de la démonstration)",
                },
            )
            organic = Decimal(rng.randrange(140, 260)) / 10
            upsert(
                EgalimDeclaration,
                {"kitchen": kitchen, "year": year},
                {
                    "territory": territory,
                    "organic_share": organic,
                    "quality_share": organic + Decimal(rng.randrange(180, 320)) / 10,
                    "source": EgalimDeclaration.Source.MA_CANTINE
                    if index == 0
                    else EgalimDeclaration.Source.ENTERED,
                    "source_reference": f"{15000 + kitchen.pk * 10 + year % 10}" if index == 0 else "",
                },
            )


def seed_reach(territory: Territory) -> int:
    """Who is reached at each distribution without counts yet, except at the territory's last
    site, which records none (its figures then read as minimums)."""
    sites = list(
        DistributionSite.objects.filter(territory=territory).order_by("pk").values_list("pk", flat=True)
    )
    silent = sites[-1] if len(sites) > 1 else None
    rows = list(
        Distribution.objects.filter(territory=territory, profile_families__isnull=True)
        .exclude(site_id=silent)
        .only("pk", "beneficiaries", *REACH_FIELDS)
    )
    rng = rng_for(territory.slug, "reach")
    for row in rows:
        served = row.beneficiaries
        # At most 40 + 28 + 12 + 10 = 90 % by the first four profiles: the sum stays within the served.
        families = served * rng.randrange(30, 41) // 100
        alone = served * rng.randrange(20, 29) // 100
        students = served * rng.randrange(5, 13) // 100
        elderly = served * rng.randrange(5, 11) // 100
        sheltered = max(served - families - alone - students - elderly, 0) * rng.randrange(20, 60) // 100
        row.profile_families, row.profile_alone, row.profile_students = families, alone, students
        row.profile_elderly, row.profile_sheltered = elderly, sheltered
        row.referred_ccas = served * rng.randrange(10, 25) // 100
        row.referred_siao = served * rng.randrange(5, 15) // 100
        row.referred_social_worker = served * rng.randrange(10, 20) // 100
        row.turned_away = rng.choice((0, 0, 0, 2, 5, 8))
    Distribution.objects.bulk_update(rows, REACH_FIELDS, batch_size=500)
    return len(rows)


def seed_journal_themes(territory: Territory) -> None:
    for category, theme in THEMES.items():
        JournalEntry.objects.filter(territory=territory, category=category, theme="").update(theme=theme)


def seed_kitchen_staff_survey(territory: Territory, evaluator: Any, months: list[datetime.date]) -> None:
    template = template_of(Survey.Kind.KITCHEN_STAFF)
    survey = Survey.objects.filter(territory=territory, kind=Survey.Kind.KITCHEN_STAFF).first()
    if survey is None:
        survey = services.survey_create(
            by=evaluator, territory=territory, kind=Survey.Kind.KITCHEN_STAFF, **template
        )
    if SurveyResponse.objects.filter(survey=survey).exists():
        return
    rng = rng_for(territory.slug, "kitchen-staff")
    first, last = months[-3], add_months(months[-1], 1) - datetime.timedelta(days=1)
    for _ in range(rng.randint(8, 16)):
        services.survey_response_record(
            survey=survey,
            channel=SurveyResponse.Channel.PAPER,
            answers={
                "meaning": rng.choices([2, 3, 4, 5], weights=[5, 20, 45, 30])[0],
                "workload": rng.choices([1, 2, 3, 4, 5], weights=[5, 20, 35, 30, 10])[0],
                "pride": rng.choices([3, 4, 5], weights=[20, 45, 35])[0],
                "continue": rng.random() < 0.85,
            },
            answered_on=first + datetime.timedelta(days=rng.randint(0, (last - first).days)),
            by=evaluator,
        )


def seed_programme(
    upsert: Upsert, territory: Territory, months: list[datetime.date], *, evaluator: Any
) -> None:
    """Everything above, for one territory of the pilot year."""
    seed_budgets(upsert, territory)
    seed_expenses_and_revenues(upsert, territory, months)
    seed_kitchens(upsert, territory, months)
    seed_reach(territory)
    seed_journal_themes(territory)
    seed_kitchen_staff_survey(territory, evaluator, months)
