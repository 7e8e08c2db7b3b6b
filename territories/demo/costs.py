"""The demo's costs: monthly inputs of every kitchen, association and authority, transport rates
per mode, reference values and fundings.

Every value is realistic for French collective catering and food aid, and its source is given
in docs/methodology.md ("Les valeurs de la démonstration"). A month's inputs vary a little from
one month to the next (each from its own ``random.Random``, seeded with the actor and the month,
so seeding again writes the same values). Hours follow the month's volumes, read from the
roll-ups: extra labour for the dedicated meals, handling for the surplus, volunteers for the
pickups and distributions. Only months with activity get inputs, as a coordinator would enter
them; the months the demo leaves out on purpose (``MISSING``) get none.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from associations.models import Association
from costing.models import (
    AssociationCost,
    CoordinationCost,
    DailyRollup,
    Funding,
    KitchenCostInput,
    ReferenceValue,
    TransportRate,
)
from kitchens.models import Kitchen
from meals.models import TransportMode
from territories.models import Authority, Territory

SEED = "passerelle-demo"
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

Upsert = Callable[[type[Any], Mapping[str, Any], Mapping[str, Any]], Any]


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def pilot_months(today: datetime.date) -> list[datetime.date]:
    """The demo's pilot year: the twelve whole months before ``today``'s month."""
    current = first_of_month(today)
    return [add_months(current, n) for n in range(-12, 0)]


# -- the inputs left out on purpose -------------------------------------------------------------

# One territory's kitchen sent no inputs for two months (a new manager, the monthly statement
# not passed on): so the cost page and the reports show what incompleteness looks like. The
# months are counted back from the current month: with the last full month November, they are
# September and October, inside the cost page's default period (the last three whole months).
MISSING_TERRITORY = "grand-paris-sud"
MISSING_KITCHEN = "Cuisine centrale de Corbeil-Essonnes"
MISSING_MONTHS_BACK = (3, 2)


def missing_months(today: datetime.date) -> list[datetime.date]:
    current = first_of_month(today)
    return [add_months(current, -n) for n in MISSING_MONTHS_BACK]


# -- values -------------------------------------------------------------------------------------


def money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def hours_of(value: float) -> Decimal:
    return Decimal(f"{max(value, 0):.1f}")


def rng_of(*parts: object) -> random.Random:
    return random.Random(":".join([SEED, "cost", *map(str, parts)]))  # noqa: S311 - demo data


@dataclass(frozen=True)
class KitchenVolumes:
    dedicated: int
    surplus: int
    days: int


def kitchen_values(kitchen: Kitchen, month: datetime.date, volumes: KitchenVolumes) -> dict[str, Any]:
    """A kitchen's inputs for a month (sources: docs/methodology.md).

    Food about 2 € a meal (an adult portion, a little above a school meal's), individual trays
    and lids 0.15-0.25 €, energy 0.10-0.18 €; the extra labour of the dedicated meals about one
    hour for 40 to 55 meals (portioning in individual trays, labelling, loading) at the loaded
    hourly cost of a kitchen agent, 26-30 €; handling the surplus about an hour for 100 to 160
    meals; other direct costs (control samples, cleaning of isothermal boxes, labels)."""
    rng = rng_of("kitchen", kitchen.name, month.isoformat())
    private = kitchen.operator_type == Kitchen.OperatorType.PRIVATE
    return {
        "food_cost_per_meal": money(rng.uniform(1.95, 2.35) + (0.12 if private else 0)),
        "packaging_per_meal": money(rng.uniform(0.15, 0.25)),
        "energy_per_meal": money(rng.uniform(0.10, 0.18)),
        "extra_labour_hours": hours_of(volumes.dedicated / rng.uniform(40, 55)),
        "labour_hourly_cost": money(29.5 if private else rng.choice([26.8, 27.4, 28.1])),
        "surplus_handling_hours": hours_of(volumes.surplus / rng.uniform(100, 160)),
        "other_direct_costs": money(volumes.days * rng.uniform(6, 12)),
    }


@dataclass(frozen=True)
class AssociationVolumes:
    pickups: int
    meals: int
    distributions: int


def association_values(
    association: Association, month: datetime.date, volumes: AssociationVolumes, *, first: bool
) -> dict[str, Any]:
    """An association's inputs for a month: a part-time paid coordinator (loaded hourly cost
    19-23 €, about the SMIC loaded for a coordinator's grade), volunteers (about 1 h 15 a pickup
    for two people and 2 h a distribution), a share of its premises and of its electricity for
    the cold storage, an isothermal and cold equipment amortised over five years, consumables
    (bags, gloves, cleaning)."""
    rng = rng_of("association", association.name, month.isoformat())
    return {
        "paid_staff_hours": hours_of(volumes.pickups * rng.uniform(0.3, 0.5) + 6),
        "paid_staff_hourly_cost": money(rng.choice([19.4, 20.6, 22.3])),
        "volunteer_hours": hours_of(
            volumes.pickups * 2 * 1.25 + volumes.distributions * 2 * rng.uniform(1.6, 2.2)
        ),
        "premises_cost": money(rng.uniform(180, 320) if first else rng.uniform(90, 160)),
        "equipment_cost": money(4800 if first else 2400),
        "equipment_amortisation_months": 60,
        "other_costs": money(volumes.meals * rng.uniform(0.02, 0.04) + 25),
    }


def coordination_values(authority: Authority, month: datetime.date, *, lead: bool) -> dict[str, Any]:
    """An authority's coordination time for a month: the lead authority's project officer 12 to
    20 hours (steering, follow-up of the conventions and of the evaluation) at a loaded 38-42 €
    an hour (attaché territorial), the other 4 to 8 hours at 32-35 €; a steering committee each
    quarter costs a little (room, printing)."""
    rng = rng_of("coordination", authority.name, month.isoformat())
    quarter = month.month in (3, 6, 9, 12)
    return {
        "staff_hours": hours_of(rng.uniform(12, 20) if lead else rng.uniform(4, 8)),
        "staff_hourly_cost": money(40.5 if lead else 33.2),
        "other_costs": money(rng.uniform(60, 140) if quarter and lead else 0),
    }


# Per mode: cost per km (fuel, insurance, upkeep; a refrigerated van costs more) and the
# driver's hourly cost (volunteers drive the associations' vehicles and ride the cargo bikes:
# 0 €, their time is valued apart with the volunteer hours).
TRANSPORT_RATES: dict[str, tuple[Decimal, Decimal]] = {
    TransportMode.ASSOCIATION_VEHICLE: (Decimal("0.42"), Decimal("0.00")),
    TransportMode.KITCHEN_DELIVERY: (Decimal("0.58"), Decimal("27.40")),
    TransportMode.THIRD_PARTY: (Decimal("0.95"), Decimal("32.00")),
    TransportMode.SOFT: (Decimal("0.06"), Decimal("0.00")),
}


# -- reference values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    code: str
    value: Decimal
    unit: str
    scope: str
    source: str
    source_date: datetime.date
    valid_from: datetime.date
    valid_until: datetime.date | None = None


D = datetime.date
RV = ReferenceValue.Code

REFERENCES: tuple[Reference, ...] = (
    Reference(
        RV.FOOD_PARCEL_COST,
        Decimal("2.30"),
        "€ par équivalent repas",
        "Coût complet, pour le réseau associatif, d'un équivalent repas distribué en colis : denrées "
        "achetées ou valorisées, stockage, logistique et locaux, hors bénévolat ; 500 g de denrées "
        "= 1 équivalent repas (convention des Banques alimentaires).",
        "IGAS, « La lutte contre la précarité alimentaire », rapport 2019-069R ; Banques alimentaires "
        "(1 repas = 500 g) ; estimation de l'évaluation, voir docs/methodology.md",
        D(2019, 12, 1),
        D(2025, 1, 1),
        D(2025, 12, 31),
    ),
    Reference(
        RV.FOOD_PARCEL_COST,
        Decimal("2.45"),
        "€ par équivalent repas",
        "Comme la valeur de 2025, revalorisée de l'inflation alimentaire de 2025.",
        "IGAS, rapport 2019-069R ; Banques alimentaires ; estimation de l'évaluation, voir "
        "docs/methodology.md",
        D(2019, 12, 1),
        D(2026, 1, 1),
    ),
    Reference(
        RV.SOCIAL_GROCERY_COST,
        Decimal("3.10"),
        "€ par équivalent repas",
        "Coût pour la structure d'un équivalent repas en épicerie sociale ou solidaire (produits "
        "vendus 10 à 30 % de leur prix), participation des ménages déduite, hors bénévolat.",
        "Estimation de l'évaluation à partir des budgets d'épiceries sociales, voir docs/methodology.md",
        D(2025, 6, 1),
        D(2025, 1, 1),
    ),
    Reference(
        RV.SOCIAL_RESTAURANT_COST,
        Decimal("9.00"),
        "€ par repas servi",
        "Prix de revient d'un repas servi à table en restaurant social (denrées, cuisine, service, "
        "locaux), hors bénévolat.",
        "Prix réel d'un repas en restauration collective, 7 à 13 € (ehonline.eu) ; coût complet de "
        "la pause méridienne 8,72 € (ADEME, Basic et Citexia, 2023)",
        D(2023, 10, 16),
        D(2025, 1, 1),
    ),
    Reference(
        RV.VOLUNTEER_HOUR,
        Decimal("11.88"),
        "€ par heure",
        "Valeur d'une heure de bénévolat d'exécution (collecte, distribution) : le SMIC horaire "
        "brut, méthode usuelle de valorisation comptable du bénévolat.",
        "SMIC horaire brut au 1er novembre 2024 (décret n° 2024-951 du 23 octobre 2024)",
        D(2024, 10, 23),
        D(2024, 11, 1),
        D(2025, 12, 31),
    ),
    Reference(
        RV.VOLUNTEER_HOUR,
        Decimal("12.02"),
        "€ par heure",
        "Valeur d'une heure de bénévolat d'exécution (collecte, distribution) : le SMIC horaire "
        "brut, méthode usuelle de valorisation comptable du bénévolat.",
        "SMIC horaire brut au 1er janvier 2026",
        D(2025, 12, 17),
        D(2026, 1, 1),
    ),
    Reference(
        RV.MEAL_WEIGHT,
        Decimal("0.4000"),
        "kg par repas",
        "Gaspillage évité par repas donné plutôt que jeté : poids moyen d'un repas adulte de "
        "restauration collective (plat protidique, garniture, entrée ou dessert), emballage exclu.",
        "Estimation de l'évaluation d'après les grammages des portions pour adultes du GEMRCN "
        "(recommandation nutrition, 2015), voir docs/methodology.md",
        D(2025, 1, 1),
        D(2025, 1, 1),
    ),
    Reference(
        RV.CO2_PER_KG_WASTE,
        Decimal("1.5300"),
        "kg éq. CO2 par kg",
        "Émissions de gaz à effet de serre d'un kilogramme de nourriture perdue ou gaspillée, "
        "moyenne de la chaîne alimentaire française (15,3 Mt éq. CO2 pour 10 Mt par an).",
        "ADEME, campagne nationale contre le gaspillage alimentaire (octobre 2021), d'après « Pertes et "
        "gaspillages alimentaires : l'état des lieux et leur gestion par étapes de la chaîne "
        "alimentaire » (mai 2016)",
        D(2021, 10, 1),
        D(2025, 1, 1),
    ),
)


# -- fundings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundingSeed:
    funder: str
    funder_name: str
    amount: Decimal
    period_start: datetime.date
    period_end: datetime.date


F = Funding.Funder

# DRIHL Île-de-France under France Relance (mesure de soutien aux associations de lutte contre la
# pauvreté) for the four, the Fondation Carasso (programme « Alimentation durable ») for Plaine
# Commune and Vitry-sur-Seine, and each territory's own share (coordination time and equipment).
FUNDINGS: dict[str, tuple[FundingSeed, ...]] = {
    "plaine-commune": (
        FundingSeed(
            F.DRIHL, "DRIHL Île-de-France (France Relance)", Decimal(85000), D(2025, 1, 1), D(2026, 12, 31)
        ),
        FundingSeed(
            F.CARASSO, "Fondation Daniel et Nina Carasso", Decimal(60000), D(2025, 3, 1), D(2027, 2, 28)
        ),
        FundingSeed(
            F.AUTHORITY,
            "Établissement public territorial Plaine Commune",
            Decimal(30000),
            D(2025, 1, 1),
            D(2026, 12, 31),
        ),
    ),
    "paris-13": (
        FundingSeed(
            F.DRIHL, "DRIHL Île-de-France (France Relance)", Decimal(70000), D(2025, 1, 1), D(2026, 12, 31)
        ),
        FundingSeed(
            F.AUTHORITY, "Mairie du 13e arrondissement", Decimal(25000), D(2025, 1, 1), D(2026, 12, 31)
        ),
    ),
    "grand-paris-sud": (
        FundingSeed(
            F.DRIHL, "DRIHL Île-de-France (France Relance)", Decimal(75000), D(2025, 1, 1), D(2026, 12, 31)
        ),
        FundingSeed(
            F.AUTHORITY,
            "Communauté d'agglomération Grand Paris Sud",
            Decimal(28000),
            D(2025, 1, 1),
            D(2026, 12, 31),
        ),
    ),
    "vitry-sur-seine": (
        FundingSeed(
            F.DRIHL, "DRIHL Île-de-France (France Relance)", Decimal(55000), D(2025, 1, 1), D(2026, 12, 31)
        ),
        FundingSeed(
            F.CARASSO, "Fondation Daniel et Nina Carasso", Decimal(45000), D(2025, 5, 1), D(2027, 4, 30)
        ),
        FundingSeed(F.AUTHORITY, "CCAS de Vitry-sur-Seine", Decimal(18000), D(2025, 1, 1), D(2026, 12, 31)),
    ),
}


# -- seeding ------------------------------------------------------------------------------------


def monthly(queryset: Any, key: str, **sums: Any) -> dict[tuple[int, datetime.date], dict[str, int]]:
    rows = queryset.annotate(month=TruncMonth("day")).values(key, "month").annotate(**sums).order_by()
    return {(row[key], row["month"]): {name: int(row[name] or 0) for name in sums} for row in rows}


def seed_references(upsert: Upsert) -> None:
    for ref in REFERENCES:
        upsert(
            ReferenceValue,
            {"code": ref.code, "valid_from": ref.valid_from},
            {
                "value": ref.value,
                "unit": ref.unit,
                "scope": ref.scope,
                "source": ref.source,
                "source_date": ref.source_date,
                "valid_until": ref.valid_until,
            },
        )


def seed_fundings(upsert: Upsert, territory: Territory) -> None:
    for funding in FUNDINGS.get(territory.slug, ()):
        upsert(
            Funding,
            {"territory": territory, "funder": funding.funder, "period_start": funding.period_start},
            {"funder_name": funding.funder_name, "amount": funding.amount, "period_end": funding.period_end},
        )


def seed_transport_rates(upsert: Upsert, territory: Territory, months: Iterable[datetime.date]) -> None:
    for month in months:
        for mode, (per_km, per_hour) in TRANSPORT_RATES.items():
            upsert(
                TransportRate,
                {"territory": territory, "month": month, "transport_mode": mode},
                {"cost_per_km": per_km, "driver_hourly_cost": per_hour},
            )


def seed_monthly_inputs(
    upsert: Upsert, territory: Territory, months: list[datetime.date], today: datetime.date
) -> None:
    """Every kitchen's, association's and authority's inputs of the months they were active,
    but those left out on purpose."""
    rollups = DailyRollup.objects.filter(
        territory=territory, day__gte=months[0], day__lt=add_months(months[-1], 1)
    )
    kitchen_volumes = monthly(
        rollups,
        "kitchen",
        dedicated=Sum("meals_produced_dedicated"),
        surplus=Sum("meals_produced_surplus"),
        batches=Sum("batches"),
    )
    kitchen_days = {
        (row["kitchen"], row["month"]): row["days"]
        for row in rollups.filter(batches__gt=0)
        .annotate(month=TruncMonth("day"))
        .values("kitchen", "month")
        .annotate(days=Count("day", distinct=True))
        .order_by()
    }
    association_volumes = monthly(
        rollups,
        "association",
        pickups=Sum("pickups"),
        meals=Sum("meals_picked_up"),
        distributions=Sum("distributions"),
    )
    skipped = set(missing_months(today)) if territory.slug == MISSING_TERRITORY else set()
    for kitchen in Kitchen.objects.filter(territory=territory).order_by("pk"):
        for month in months:
            volumes = kitchen_volumes.get((kitchen.pk, month))
            if not volumes or not (volumes["dedicated"] or volumes["surplus"]):
                continue
            if kitchen.name == MISSING_KITCHEN and month in skipped:
                continue
            values = kitchen_values(
                kitchen,
                month,
                KitchenVolumes(
                    volumes["dedicated"], volumes["surplus"], kitchen_days.get((kitchen.pk, month), 0)
                ),
            )
            upsert(KitchenCostInput, {"kitchen": kitchen, "month": month}, {"territory": territory, **values})
    associations = list(Association.objects.filter(territory=territory).order_by("pk"))
    for association in associations:
        for month in months:
            volumes = association_volumes.get((association.pk, month))
            if not volumes or not (volumes["pickups"] or volumes["distributions"]):
                continue
            values = association_values(
                association,
                month,
                AssociationVolumes(volumes["pickups"], volumes["meals"], volumes["distributions"]),
                first=association == associations[0],
            )
            upsert(
                AssociationCost,
                {"association": association, "month": month},
                {"territory": territory, **values},
            )
    active = {month for (_kitchen, month), volumes in kitchen_volumes.items() if any(volumes.values())}
    active |= {
        month for (_association, month), volumes in association_volumes.items() if any(volumes.values())
    }
    authorities = list(Authority.objects.filter(territory=territory).order_by("pk"))
    for authority in authorities:
        for month in months:
            if month not in active:
                continue
            values = coordination_values(authority, month, lead=authority == authorities[0])
            upsert(
                CoordinationCost, {"authority": authority, "month": month}, {"territory": territory, **values}
            )
