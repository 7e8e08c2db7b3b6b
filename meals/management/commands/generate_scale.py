"""``manage.py generate_scale``: synthetic national-scale data for the benchmarks.

    manage.py generate_scale --territories 500 --days 365 [--seed 1] [--until 2025-06-30] [--check]

Per territory: 2 authorities, 4 central kitchens (4,000 to 15,000 meals a day), 16
associations with 1 or 2 distribution sites, about 20 active partnerships (plus a few in
preparation), one kitchen manager per kitchen, one volunteer per association, one authority
coordinator, the monthly transport rates; then ``--days`` days of flow ending ``--until``
(today by default): batches, their pickups and their distributions.

The records are written with COPY on PostgreSQL (bulk_create elsewhere), not through the
services, which would take days at this size; but every rule the services enforce holds (see
``check_generated``, run with ``--check`` and by the tests): partnerships active and of the
right mode, liaisons the kitchen practises, temperatures (a breach makes the batch discarded,
with its reason), use-by dates, counts, dates in order and never in the future, one pickup
per batch, sites of the collecting association, the batch's final status, and the
denormalised territory, kitchen, association and pickup day. The same ``--seed`` and
``--until`` give the same data. History tables (simple_history) are not filled, and the
roll-ups are not computed (``manage.py rebuild_rollups`` does it).
"""

from __future__ import annotations

import datetime
import io
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from associations.conventions.takeover import take_over_conventions
from associations.models import Association, DistributionSite, Partnership
from costing.models import TransportRate
from kitchens.models import Kitchen
from meals import food_safety
from meals.models import (
    COLD_MAX_C,
    HOT_MIN_C,
    REACH_FIELDS,
    Batch,
    Distribution,
    Liaison,
    Pickup,
    TransportMode,
)
from territories.models import Authority, Membership, Territory
from territories.roles import Role

SLUG_PREFIX = "scale-"
# One password for every generated account, hashed once (the benchmarks log in with it).
SCALE_PASSWORD = "passerelle-scale"  # noqa: S105 - synthetic benchmark accounts only
EVALUATOR_USERNAME = "scale-evaluateur"
KITCHENS_PER_TERRITORY = 4
ASSOCIATIONS_PER_TERRITORY = 16
# Territories generated and written together; the next chunk is generated while this one is copied.
CHUNK_TERRITORIES = 10

REGIONS: dict[str, str] = {
    "Auvergne-Rhône-Alpes": "01 03 07 15 26 38 42 43 63 69 73 74",
    "Bourgogne-Franche-Comté": "21 25 39 58 70 71 89 90",
    "Bretagne": "22 29 35 56",
    "Centre-Val de Loire": "18 28 36 37 41 45",
    "Corse": "2A 2B",
    "Grand Est": "08 10 51 52 54 55 57 67 68 88",
    "Hauts-de-France": "02 59 60 62 80",
    "Île-de-France": "75 77 78 91 92 93 94 95",
    "Normandie": "14 27 50 61 76",
    "Nouvelle-Aquitaine": "16 17 19 23 24 33 40 47 64 79 86 87",
    "Occitanie": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "Pays de la Loire": "44 49 53 72 85",
    "Provence-Alpes-Côte d'Azur": "04 05 06 13 83 84",
    "Outre-mer": "971 972 973 974 976",
}
DEPARTEMENTS = sorted((code, region) for region, codes in REGIONS.items() for code in codes.split())

COMPONENT_SETS = [
    ["starter", "main", "side", "dairy", "dessert"],
    ["main", "side", "dessert"],
    ["starter", "main", "side", "dessert", "bread"],
    ["main", "side", "dairy"],
]
ALLERGEN_SETS = [
    ["gluten", "milk"],
    ["gluten", "eggs", "milk"],
    ["milk"],
    ["gluten", "celery", "mustard"],
    [],
]
COMPONENTS_JSON = [json.dumps(items) for items in COMPONENT_SETS]
ALLERGENS_JSON = [json.dumps(items) for items in ALLERGEN_SETS]
NO_ALLERGENS = json.dumps([])

# Temperatures in tenths of a degree, as the text COPY and the ORM both read them.
COLD_OK = [f"{tenths / 10:.1f}" for tenths in range(5, int(COLD_MAX_C * 10) + 1)]
COLD_BREACH = [f"{tenths / 10:.1f}" for tenths in range(int(COLD_MAX_C * 10) + 5, 90)]
HOT_OK = [f"{tenths / 10:.1f}" for tenths in range(int(HOT_MIN_C * 10), 760)]
HOT_BREACH = [f"{tenths / 10:.1f}" for tenths in range(520, int(HOT_MIN_C * 10))]
TEMPERATURES: dict[str, tuple[list[str], list[str]]] = {
    Liaison.COLD.value: (COLD_OK, COLD_BREACH),
    Liaison.HOT.value: (HOT_OK, HOT_BREACH),
}

# Transport: the usual mode's weight, its share of refrigerated vehicles.
MODES = [
    (TransportMode.ASSOCIATION_VEHICLE.value, 55, 0.6),
    (TransportMode.KITCHEN_DELIVERY.value, 20, 0.9),
    (TransportMode.THIRD_PARTY.value, 10, 1.0),
    (TransportMode.SOFT.value, 15, 0.0),
]
RATED_MODES = [TransportMode.ASSOCIATION_VEHICLE, TransportMode.KITCHEN_DELIVERY, TransportMode.THIRD_PARTY]

# Hot surplus expires the day it is made: its association's convention says it distributes
# within a few hours, so it can take it at midday (Code de l'environnement D541-310).
HOT_SURPLUS_DELAY_HOURS = 4

# Rates of the outcomes of a batch.
CANCELLED = 0.008
DISPATCH_BREACH = 0.003
NEXT_DAY_PICKUP = 0.15  # cold liaison only
MISSED_PICKUP = 0.01
RECEIPT_BREACH = 0.005
SHORT_RECEIPT = 0.05
NOT_YET_DISTRIBUTED = 0.5  # still within its use-by date at the end of the period
NEVER_RECORDED = 0.02
TWO_DISTRIBUTIONS = 0.25
SOME_DISCARDED = 0.06

# The columns written, in order; checked against the models so a new field fails loudly.
BATCH_COLUMNS = (
    "id", "territory_id", "partnership_id", "kitchen_id", "association_id", "kind", "production_date",
    "service", "meals_count", "components", "liaison", "lot_number", "use_by_date",
    "dispatch_temperature_c", "allergens", "status", "discard_reason", "created_by_id", "created_at",
    "no_regulated_allergens", "dishes", "portion_type", "portion_grams", "reheating_instructions",
    "recalled_at", "recall_reason", "recalled_by_id", "meals_recalled", "unusual_confirmed",
)  # fmt: skip
PICKUP_COLUMNS = (
    "id", "territory_id", "batch_id", "association_id", "picked_up_by_id", "picked_up_at", "picked_up_on",
    "meals_received", "temperature_c", "transport_mode", "refrigerated_vehicle", "distance_km",
    "duration_minutes", "transport_cost", "shortfall_reason", "shortfall_note",
)  # fmt: skip
DISTRIBUTION_COLUMNS = (
    "id", "territory_id", "pickup_id", "batch_id", "association_id", "site_id", "distributed_on",
    "meals_distributed", "beneficiaries", "households", "children", "meals_discarded", "discard_reason",
    "temperature_c", "consumed_on_receipt", "reheat_temperature_c", "reheat_minutes", "recorded_by_id",
    *REACH_FIELDS,
)  # fmt: skip
FLOW_TABLES: list[tuple[type[models.Model], tuple[str, ...]]] = [
    (Batch, BATCH_COLUMNS),
    (Pickup, PICKUP_COLUMNS),
    (Distribution, DISTRIBUTION_COLUMNS),
]

STAT_NAMES: dict[type[models.Model], str] = {
    Batch: "batches",
    Pickup: "pickups",
    Distribution: "distributions",
}

Row = tuple[Any, ...]


class Null:
    """An empty column in a generated row: ``\\N`` in COPY's text format, ``None`` for the ORM."""

    def __str__(self) -> str:
        return "\\N"


NULL = Null()
# Who is reached is optional at a site: the generated sites leave it unrecorded.
UNRECORDED_REACH = (NULL,) * len(REACH_FIELDS)


# The plan of the actors, kept in memory to generate the flow


@dataclass
class KitchenPlan:
    id: int
    label: str
    production: int
    liaisons: list[str]
    manager_id: int = 0


@dataclass
class AssociationPlan:
    id: int
    label: str
    # Surplus donations go only to associations habilitated for food aid (the services check it).
    habilitated: bool
    site_ids: list[int] = field(default_factory=list)
    # A cold batch is distributed after its pickup day only where meals can be kept cold.
    cold_site_ids: list[int] = field(default_factory=list)
    volunteer_id: int = 0


@dataclass
class PartnershipPlan:
    kitchen: KitchenPlan
    association: AssociationPlan
    mode: str
    starts_on: datetime.date
    liaison: str
    dedicated_size: int
    transport_mode: str
    distance_km: float
    label: str
    planned_meals_per_week: int = 0
    id: int = 0


@dataclass
class TerritoryPlan:
    index: int
    rng: random.Random
    id: int = 0

    @property
    def label(self) -> str:
        """The territory's number: names and lot numbers use it, not ids, so a seed gives the same data."""
        return f"{self.index + 1:04d}"

    kitchens: list[KitchenPlan] = field(default_factory=list)
    associations: list[AssociationPlan] = field(default_factory=list)
    partnerships: list[PartnershipPlan] = field(default_factory=list)


@dataclass
class Stats:
    territories: int = 0
    kitchens: int = 0
    associations: int = 0
    sites: int = 0
    partnerships: int = 0
    users: int = 0
    batches: int = 0
    pickups: int = 0
    distributions: int = 0
    seconds_actors: float = 0.0
    seconds_flow: float = 0.0
    seconds_copy: float = 0.0
    seconds_analyze: float = 0.0

    @property
    def flow_rows(self) -> int:
        return self.batches + self.pickups + self.distributions


def check_columns() -> None:
    for model, columns in FLOW_TABLES:
        expected = {field.column for field in model._meta.concrete_fields}
        if set(columns) != expected:
            raise CommandError(
                f"{model.__name__}: the generator writes {sorted(columns)} but the table has "
                f"{sorted(expected)}; update generate_scale."
            )


# Actors, written with bulk_create (a few tens of thousands of rows)


def log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def rna(number: int) -> str:
    return f"W{number:09d}"[-10:]


def plan_territories(*, count: int, seed: int, first_day: datetime.date) -> list[TerritoryPlan]:
    return [
        TerritoryPlan(index=index, rng=random.Random(seed * 1_000_003 + index))  # noqa: S311 - synthetic data
        for index in range(count)
    ]


def create_actors(
    plans: list[TerritoryPlan],
    *,
    first_day: datetime.date,
    until: datetime.date,
    kitchens_per_territory: int,
    associations_per_territory: int,
    stats: Stats,
) -> None:
    """Territories, authorities, kitchens, associations, sites, partnerships, users, roles, rates."""
    taken = set(
        Territory.objects.all_territories()
        .filter(slug__startswith=SLUG_PREFIX)
        .values_list("slug", flat=True)
    )
    territories = []
    for plan in plans:
        code, region = DEPARTEMENTS[plan.index % len(DEPARTEMENTS)]
        slug = f"{SLUG_PREFIX}{plan.index + 1:04d}"
        if slug in taken:
            raise CommandError(f"{slug} exists already: generate into an empty database.")
        territories.append(
            Territory(
                name=f"Territoire {plan.index + 1:04d} ({code})",
                slug=slug,
                departement_code=code,
                region=region,
                is_pilot=False,
                has_pat=plan.rng.random() < 0.4,
            )
        )
    Territory.objects.bulk_create(territories)
    for plan, territory in zip(plans, territories, strict=True):
        plan.id = territory.pk

    authorities = []
    for plan in plans:
        authorities.append(
            Authority(territory_id=plan.id, kind=Authority.Kind.CCAS, name=f"CCAS {plan.label}")
        )
        kind = plan.rng.choice([Authority.Kind.DEPARTEMENT, Authority.Kind.EPCI, Authority.Kind.MAIRIE])
        authorities.append(Authority(territory_id=plan.id, kind=kind, name=f"Collectivité {plan.label}"))
    Authority.objects.bulk_create(authorities)

    kitchens: list[tuple[TerritoryPlan, Kitchen]] = []
    for plan in plans:
        for number in range(kitchens_per_territory):
            production = int(round(log_uniform(plan.rng, 4000, 15000), -1))
            cold = plan.rng.random() < 0.9
            hot = not cold or plan.rng.random() < 0.3
            kitchen = Kitchen(
                territory_id=plan.id,
                name=f"Cuisine centrale {plan.label}-{number + 1}",
                operator_type=plan.rng.choice(Kitchen.OperatorType.values),
                daily_capacity=round(production * plan.rng.uniform(1.05, 1.3), -1),
                usual_daily_production=production,
                does_cold_liaison=cold,
                does_hot_liaison=hot,
                address=f"{number + 1} rue de la Restauration collective, territoire {plan.label}",
            )
            kitchens.append((plan, kitchen))
            liaisons = [name.value for name, done in ((Liaison.COLD, cold), (Liaison.HOT, hot)) if done]
            plan.kitchens.append(
                KitchenPlan(
                    id=0, label=f"{plan.label}-{number + 1}", production=production, liaisons=liaisons
                )
            )
    Kitchen.objects.bulk_create([kitchen for _plan, kitchen in kitchens])
    kitchen_plans = [kitchen for plan in plans for kitchen in plan.kitchens]
    for kitchen_plan, (_plan, kitchen) in zip(kitchen_plans, kitchens, strict=True):
        kitchen_plan.id = kitchen.pk

    associations: list[Association] = []
    for plan in plans:
        for number in range(associations_per_territory):
            habilitation = plan.rng.choices(Association.Habilitation.values, weights=[15, 55, 30])[0]
            habilitated = habilitation != Association.Habilitation.NONE
            associations.append(
                Association(
                    territory_id=plan.id,
                    name=f"Association solidaire {plan.label}-{number + 1}",
                    rna=rna((plan.index + 1) * 1000 + number),
                    habilitation=habilitation,
                    habilitation_number=f"HAB-{plan.label}-{number + 1}" if habilitated else "",
                    habilitation_expires_on=until + datetime.timedelta(days=plan.rng.randint(60, 1500))
                    if habilitated
                    else None,
                )
            )
            plan.associations.append(
                AssociationPlan(id=0, label=f"{plan.label}-{number + 1}", habilitated=habilitated)
            )
    Association.objects.bulk_create(associations)
    association_plans = [association for plan in plans for association in plan.associations]
    for association_plan, association in zip(association_plans, associations, strict=True):
        association_plan.id = association.pk

    sites: list[tuple[AssociationPlan, DistributionSite]] = []
    for plan in plans:
        for association_plan in plan.associations:
            for number in range(1 if plan.rng.random() < 0.6 else 2):
                cold_storage = plan.rng.random() < 0.7
                site = DistributionSite(
                    territory_id=plan.id,
                    association_id=association_plan.id,
                    name=f"Local {association_plan.label}-{number + 1}",
                    address=f"{number + 1} place du Marché, territoire {plan.label}",
                    has_cold_storage=cold_storage,
                    cold_storage_litres=plan.rng.choice([300, 600, 1200]) if cold_storage else None,
                    opening_days=plan.rng.choice(
                        [["mon", "wed", "fri"], ["tue", "thu"], ["mon", "tue", "wed", "thu", "fri"]]
                    ),
                )
                sites.append((association_plan, site))
    DistributionSite.objects.bulk_create([site for _association, site in sites])
    for association_plan, site in sites:
        association_plan.site_ids.append(site.pk)
        if site.has_cold_storage:
            association_plan.cold_site_ids.append(site.pk)

    partnerships: list[Partnership] = []
    planned: list[PartnershipPlan] = []
    span = (until - first_day).days + 1
    for plan in plans:
        for association_plan in plan.associations:
            count = 2 if plan.rng.random() < 0.25 and len(plan.kitchens) > 1 else 1
            for kitchen_plan in plan.rng.sample(plan.kitchens, count):
                mode = plan.rng.choices(Partnership.Mode.values, weights=[60, 40])[0]
                if not association_plan.habilitated:
                    mode = Partnership.Mode.DEDICATED.value
                if plan.rng.random() < 0.85:
                    starts_on = first_day - datetime.timedelta(days=plan.rng.randint(30, 700))
                else:
                    starts_on = first_day + datetime.timedelta(
                        days=plan.rng.randint(0, max(span * 2 // 3, 0))
                    )
                liaison = (
                    Liaison.HOT
                    if Liaison.HOT in kitchen_plan.liaisons
                    and (Liaison.COLD not in kitchen_plan.liaisons or plan.rng.random() < 0.3)
                    else Liaison.COLD
                )
                dedicated = max(
                    20, min(450, round(kitchen_plan.production * log_uniform(plan.rng, 0.004, 0.1)))
                )
                usual_mode = plan.rng.choices([mode for mode, *_ in MODES], weights=[w for _, w, _ in MODES])[
                    0
                ]
                distance = (
                    plan.rng.uniform(0.5, 4) if usual_mode == TransportMode.SOFT else plan.rng.uniform(2, 30)
                )
                partnership_plan = PartnershipPlan(
                    kitchen=kitchen_plan,
                    association=association_plan,
                    mode=mode,
                    starts_on=starts_on,
                    liaison=liaison,
                    dedicated_size=dedicated,
                    transport_mode=usual_mode,
                    distance_km=distance,
                    label=f"{kitchen_plan.label}-{association_plan.label.rsplit('-', 1)[1]}",
                    planned_meals_per_week=dedicated * 5 if mode != Partnership.Mode.SURPLUS else 150,
                )
                partnerships.append(
                    Partnership(
                        territory_id=plan.id,
                        kitchen_id=kitchen_plan.id,
                        association_id=association_plan.id,
                        mode=mode,
                        starts_on=starts_on,
                        planned_meals_per_week=partnership_plan.planned_meals_per_week,
                        # Hot surplus expires the day it is made: its association distributes within
                        # the day (Code de l'environnement D541-310).
                        distribution_delay_hours=HOT_SURPLUS_DELAY_HOURS
                        if liaison == Liaison.HOT and mode == Partnership.Mode.SURPLUS
                        else 48,
                        status=Partnership.Status.ACTIVE,
                    )
                )
                planned.append(partnership_plan)
                plan.partnerships.append(partnership_plan)
            if plan.rng.random() < 0.05:
                # A convention in preparation: no batch yet.
                partnerships.append(
                    Partnership(
                        territory_id=plan.id,
                        kitchen_id=plan.rng.choice(plan.kitchens).id,
                        association_id=association_plan.id,
                        mode=Partnership.Mode.SURPLUS
                        if association_plan.habilitated
                        else Partnership.Mode.DEDICATED,
                        starts_on=until + datetime.timedelta(days=30),
                        planned_meals_per_week=100,
                        status=Partnership.Status.DRAFT,
                    )
                )
    Partnership.objects.bulk_create(partnerships)
    # Their conventions, signed before the data begin (drafts' wait for signatures).
    take_over_conventions(django_apps)
    active = [partnership for partnership in partnerships if partnership.status == Partnership.Status.ACTIVE]
    for partnership_plan, partnership in zip(planned, active, strict=True):
        partnership_plan.id = partnership.pk

    create_accounts(plans)
    create_transport_rates(plans, first_day=first_day, until=until)
    stats.territories = len(plans)
    stats.kitchens = len(kitchens)
    stats.associations = len(associations)
    stats.sites = len(sites)
    stats.partnerships = len(partnerships)


def create_accounts(plans: list[TerritoryPlan]) -> None:
    """A manager per kitchen, a volunteer per association, a coordinator per territory, one evaluator."""
    user_model = get_user_model()
    password = make_password(SCALE_PASSWORD)
    users: list[Any] = []
    memberships: list[Membership] = []
    ccas = dict(
        Authority.objects.all_territories()
        .filter(territory_id__in=[plan.id for plan in plans], kind=Authority.Kind.CCAS)
        .values_list("territory_id", "pk")
    )
    for plan in plans:
        for kitchen in plan.kitchens:
            users.append(user_model(username=f"scale-cuisine-{kitchen.label}", password=password))
            memberships.append(
                Membership(territory_id=plan.id, role=Role.KITCHEN_MANAGER, kitchen_id=kitchen.id)
            )
        for association in plan.associations:
            users.append(user_model(username=f"scale-benevole-{association.label}", password=password))
            memberships.append(
                Membership(territory_id=plan.id, role=Role.VOLUNTEER, association_id=association.id)
            )
        users.append(user_model(username=f"scale-coordination-{plan.label}", password=password))
        memberships.append(
            Membership(territory_id=plan.id, role=Role.AUTHORITY_COORDINATOR, authority_id=ccas[plan.id])
        )
    if not user_model.objects.filter(username=EVALUATOR_USERNAME).exists():
        users.append(user_model(username=EVALUATOR_USERNAME, password=password))
        memberships.append(Membership(role=Role.EVALUATOR))
    user_model.objects.bulk_create(users)
    for user, membership in zip(users, memberships, strict=True):
        membership.user_id = user.pk
    Membership.objects.bulk_create(memberships)
    accounts = iter(users)
    for plan in plans:
        for kitchen in plan.kitchens:
            kitchen.manager_id = next(accounts).pk
        for association in plan.associations:
            association.volunteer_id = next(accounts).pk
        next(accounts)


def months_between(first_day: datetime.date, until: datetime.date) -> list[datetime.date]:
    months = []
    month = first_day.replace(day=1)
    while month <= until:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def create_transport_rates(
    plans: list[TerritoryPlan], *, first_day: datetime.date, until: datetime.date
) -> None:
    """The territory's scale for each month and motorised mode; soft modes have none."""
    rates = []
    for plan in plans:
        per_km = Decimal(f"{plan.rng.uniform(0.35, 0.65):.2f}")
        hourly = Decimal(f"{plan.rng.uniform(18, 30):.2f}")
        for month in months_between(first_day, until):
            for mode in RATED_MODES:
                rates.append(
                    TransportRate(
                        territory_id=plan.id,
                        month=month,
                        transport_mode=mode,
                        cost_per_km=per_km,
                        driver_hourly_cost=hourly,
                    )
                )
    TransportRate.objects.bulk_create(rates)


# The flow


class Ids:
    """The next id of each flow table: ids are chosen here so that pickups can name their batch."""

    def __init__(self) -> None:
        self.next = {
            model: (model.objects.all_territories().aggregate(top=Max("pk"))["top"] or 0) + 1  # type: ignore[attr-defined]
            for model, _columns in FLOW_TABLES
        }

    def take(self, model: type[models.Model]) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


class Calendar:
    """Per-day strings computed once: compact date for lot numbers, Paris UTC offset, times of day."""

    def __init__(self, days: Sequence[datetime.date]) -> None:
        paris = ZoneInfo(settings.TIME_ZONE)
        self.compact: dict[datetime.date, str] = {}
        self.offset: dict[datetime.date, str] = {}
        for day in [*days, *(days[-1] + datetime.timedelta(days=n) for n in range(1, 5))]:
            self.compact[day] = day.strftime("%Y%m%d")
            raw = datetime.datetime.combine(day, datetime.time(12), tzinfo=paris).strftime("%z")
            self.offset[day] = f"{raw[:3]}:{raw[3:]}"
        # The times of day records are made at: batches at 08:mm, pickups 10:00 to 14:59.
        self.morning = {day: self.times(day, [8]) for day in self.offset}
        self.midday = {day: self.times(day, range(10, 15)) for day in self.offset}

    def times(self, day: datetime.date, hours: Iterable[int]) -> list[str]:
        return [
            f"{day} {hour:02d}:{minute:02d}:00{self.offset[day]}" for hour in hours for minute in range(60)
        ]


def pick(random_: Callable[[], float], items: Sequence[Any]) -> Any:
    """``random.choice`` with the generator's ``random()``, several times faster."""
    return items[int(random_() * len(items))]


DAY = datetime.timedelta(days=1)


class TerritoryFlow:
    """The batches, pickups and distributions of one territory over the days, with their outcomes."""

    def __init__(
        self,
        plan: TerritoryPlan,
        days: Sequence[datetime.date],
        until: datetime.date,
        ids: Ids,
        calendar: Calendar,
    ) -> None:
        self.plan, self.days, self.until, self.ids, self.calendar = plan, days, until, ids, calendar
        self.rng = plan.rng
        self.batches: list[Row] = []
        self.pickups: list[Row] = []
        self.distributions: list[Row] = []
        for partnership in plan.partnerships:
            self.produce(partnership)

    def produce(self, partnership: PartnershipPlan) -> None:
        random_, calendar = self.rng.random, self.calendar
        kitchen, association, liaison = partnership.kitchen, partnership.association, partnership.liaison
        ok_temperatures, breach_temperatures = TEMPERATURES[liaison]
        shelf_days = 3 if liaison == Liaison.COLD else 0
        dedicated = partnership.mode == Partnership.Mode.DEDICATED
        surplus = partnership.mode == Partnership.Mode.SURPLUS
        for day in self.days:
            # School catering: no production at weekends, a little in the summer holidays.
            if day < partnership.starts_on or day.weekday() >= 5:
                continue
            season = 0.3 if day.month == 8 else 1.0
            kinds = []
            if dedicated and random_() < 0.95 * season:
                kinds.append(Batch.Kind.DEDICATED.value)
            if surplus and random_() < 0.35 * season:
                kinds.append(Batch.Kind.SURPLUS.value)
            for sequence, kind in enumerate(kinds, 1):
                batch_id = self.ids.take(Batch)
                if kind == Batch.Kind.DEDICATED:
                    meals = max(1, round(partnership.dedicated_size * (0.9 + 0.2 * random_())))
                else:
                    meals = 10 + int(random_() * 111)
                use_by = day + DAY * shelf_days
                # Above three times the usual daily meals (5 production days), confirmed by the kitchen.
                unusual = meals * 5 > 3 * partnership.planned_meals_per_week
                outcome = random_()
                if outcome < CANCELLED:
                    status, dispatch = Batch.Status.CANCELLED.value, pick(random_, ok_temperatures)
                    reason = "Production annulée (grève du personnel)"
                elif outcome < CANCELLED + DISPATCH_BREACH:
                    status, dispatch = Batch.Status.DISCARDED.value, pick(random_, breach_temperatures)
                    reason = "Chaîne du froid ou du chaud rompue au départ"
                else:
                    dispatch = pick(random_, ok_temperatures)
                    status, reason = self.collect(partnership, batch_id, day, use_by, meals)
                self.batches.append(
                    (
                        batch_id, self.plan.id, partnership.id, kitchen.id, association.id, kind, day,
                        "lunch", meals, pick(random_, COMPONENTS_JSON), liaison,
                        f"{partnership.label}-{calendar.compact[day]}-{sequence}", use_by,
                        dispatch, (allergens := pick(random_, ALLERGENS_JSON)), status, reason,
                        kitchen.manager_id, pick(random_, calendar.morning[day]),
                        # Allergens declared: an empty list is "none of the 14" ticked.
                        allergens == NO_ALLERGENS, "", "", NULL, "", NULL, "", NULL, 0, unusual,
                    )
                )  # fmt: skip

    def collect(
        self,
        partnership: PartnershipPlan,
        batch_id: int,
        day: datetime.date,
        use_by: datetime.date,
        meals: int,
    ) -> tuple[str, str]:
        """The pickup and distributions of a ready batch; returns its final status and reason."""
        rng, random_, until = self.rng, self.rng.random, self.until
        pickup_day = day + DAY if partnership.liaison == Liaison.COLD and random_() < NEXT_DAY_PICKUP else day
        # The last day of the period is in progress: what is collected on it is not known yet.
        if pickup_day >= until or random_() < MISSED_PICKUP:
            return Batch.Status.READY.value, ""
        association = partnership.association
        ok_temperatures, breach_temperatures = TEMPERATURES[partnership.liaison]
        received = meals - round(meals * rng.uniform(0.01, 0.03)) if random_() < SHORT_RECEIPT else meals
        breach = random_() < RECEIPT_BREACH
        mode = partnership.transport_mode if random_() >= 0.1 else rng.choice(MODES)[0]
        refrigerated_share = next(share for name, _weight, share in MODES if name == mode)
        distance = round(partnership.distance_km * rng.uniform(0.95, 1.05), 1)
        if mode == TransportMode.THIRD_PARTY:
            cost: str | Null = f"{rng.uniform(25, 80):.2f}"
        else:
            cost = f"{rng.uniform(5, 40):.2f}" if random_() < 0.08 else NULL
        pickup_id = self.ids.take(Pickup)
        self.pickups.append(
            (
                pickup_id, self.plan.id, batch_id, association.id, association.volunteer_id,
                pick(random_, self.calendar.midday[pickup_day]), pickup_day, received,
                pick(random_, breach_temperatures if breach else ok_temperatures), mode,
                random_() < refrigerated_share, f"{distance:.1f}", round(distance * 2.5 + 10), cost,
                "counting_error" if received < meals else "", "",
            )
        )  # fmt: skip
        if breach:
            return Batch.Status.DISCARDED.value, "Température à réception hors limites"
        if (use_by >= until and random_() < NOT_YET_DISTRIBUTED) or random_() < NEVER_RECORDED:
            return Batch.Status.PICKED_UP.value, ""
        discarded = 0
        if random_() < SOME_DISCARDED and received > 1:
            discarded = min(received - 1, max(1, round(received * rng.uniform(0.01, 0.05))))
        remaining = received - discarded
        parts = [remaining]
        if random_() < TWO_DISTRIBUTIONS and remaining > 1:
            first = min(remaining - 1, max(1, round(remaining * rng.uniform(0.4, 0.7))))
            parts = [first, remaining - first]
        distributed_on, last_day = pickup_day, min(use_by, until)
        cold = partnership.liaison == Liaison.COLD
        for number, part in enumerate(parts):
            if number and distributed_on < last_day and association.cold_site_ids and random_() < 0.5:
                distributed_on += DAY
            sites = association.cold_site_ids if distributed_on > pickup_day else association.site_ids
            last = number == len(parts) - 1
            people = max(1, round(part * rng.uniform(0.85, 1.0)))
            households = round(people / rng.uniform(1.8, 2.8)) if random_() < 0.7 else NULL
            children = round(people * rng.uniform(0.1, 0.4)) if random_() < 0.6 else NULL
            self.distributions.append(
                (
                    self.ids.take(Distribution), self.plan.id, pickup_id, batch_id, association.id,
                    pick(random_, sites), distributed_on, part, people, households, children,
                    discarded if last else 0, "Barquettes abîmées" if last and discarded else "",
                    pick(random_, COLD_OK) if cold else NULL, False, NULL, NULL, association.volunteer_id,
                    *UNRECORDED_REACH,
                )
            )  # fmt: skip
        return Batch.Status.DISTRIBUTED.value, ""


# Writers


def copy_line(row: Row) -> str:
    return "\t".join(map(str, row))


class CopyWriter:
    """COPY on PostgreSQL, in a background thread: the next chunk is generated meanwhile.

    The raw connection is Django's own, inside its transaction; the main thread does not use
    it while a copy runs, and waits for the copies before committing.
    """

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw = connection.connection
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.pending: list[Future[None]] = []

    def write(self, model: type[models.Model], columns: tuple[str, ...], rows: list[Row]) -> None:
        if not rows:
            return
        text = "\n".join(map(copy_line, rows)) + "\n"
        self.pending.append(self.executor.submit(self.copy, model._meta.db_table, columns, text))

    def copy(self, table: str, columns: tuple[str, ...], text: str) -> None:
        with self.raw.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(text), size=1 << 20
            )

    def wait(self, keep: int = 0) -> None:
        """Waits until at most ``keep`` chunks are pending (raising a copy's error)."""
        while len(self.pending) > keep:
            self.pending.pop(0).result()

    def close(self) -> None:
        self.wait()
        self.executor.shutdown()


JSON_COLUMNS = {"components", "allergens"}


def orm_value(value: Any) -> Any:
    return None if value is NULL else value


class OrmWriter:
    """bulk_create elsewhere (SQLite): the small sizes of the tests and the demo."""

    def write(self, model: type[models.Model], columns: tuple[str, ...], rows: list[Row]) -> None:
        loads: list[Callable[[Any], Any]] = [
            json.loads if column in JSON_COLUMNS else orm_value for column in columns
        ]
        objects = [
            model(**{column: load(value) for column, load, value in zip(columns, loads, row, strict=True)})
            for row in rows
        ]
        model.objects.bulk_create(objects, batch_size=500)  # type: ignore[attr-defined]

    def wait(self, keep: int = 0) -> None:
        pass

    def close(self) -> None:
        pass


def is_superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def skip_reference_triggers() -> bool:
    """Turns off the foreign-key triggers for this transaction, when allowed (superuser).

    Django's foreign keys are checked at commit, one lookup per reference: at this size the
    commit alone took longer than the copies. ``check_references`` then verifies every
    reference with one anti-join per foreign key, before the commit.
    """
    if connection.vendor != "postgresql" or not is_superuser():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
    return True


def check_references(first_ids: dict[type[models.Model], int]) -> None:
    """Every foreign key of the rows written points to an existing row (raises otherwise)."""
    broken = []
    with connection.cursor() as cursor:
        for model, _columns in FLOW_TABLES:
            table = model._meta.db_table
            for model_field in model._meta.concrete_fields:
                if not isinstance(model_field, models.ForeignKey):
                    continue
                target = model_field.related_model._meta  # type: ignore[union-attr]
                column, target_table, target_key = model_field.column, target.db_table, target.pk.column
                cursor.execute(
                    f"SELECT COUNT(*) FROM {table} c WHERE c.id >= %s AND c.{column} IS NOT NULL "  # noqa: S608 - model metadata
                    f"AND NOT EXISTS (SELECT 1 FROM {target_table} t WHERE t.{target_key} = c.{column})",
                    [first_ids[model]],
                )
                (orphans,) = cursor.fetchone()
                if orphans:
                    broken.append(f"{table}.{model_field.column}: {orphans}")
    if broken:
        raise CommandError(f"References to missing rows: {', '.join(broken)}")


def drop_secondary_indexes() -> list[str]:
    """Drops the flow tables' indexes that back no constraint, when the tables are empty; returns
    their definitions to build them again after the copies (a sort is faster than row by row)."""
    if connection.vendor != "postgresql":
        return []
    if any(model.objects.all_territories().exists() for model, _columns in FLOW_TABLES):  # type: ignore[attr-defined]
        return []
    tables = [model._meta.db_table for model, _columns in FLOW_TABLES]
    flush_deferred_checks()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            ORDER BY i.indexname
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in indexes]


def flush_deferred_checks() -> None:
    """Runs the foreign-key checks queued in this transaction now: PostgreSQL refuses to change
    the indexes of a table with checks pending."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def create_indexes(definitions: list[str]) -> None:
    if not definitions:
        return
    flush_deferred_checks()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for definition in definitions:
            cursor.execute(definition)


def set_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model, _columns in FLOW_TABLES:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - model table names
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )


def generate(
    *,
    territories: int,
    days: int,
    seed: int = 1,
    until: datetime.date | None = None,
    kitchens_per_territory: int = KITCHENS_PER_TERRITORY,
    associations_per_territory: int = ASSOCIATIONS_PER_TERRITORY,
    progress: Callable[[str], None] | None = None,
) -> Stats:
    """Generates the actors and ``days`` days of flow ending ``until``, in one transaction."""
    check_columns()
    until = until or timezone.localdate()
    if until > timezone.localdate():
        raise CommandError("--until cannot be in the future: records are never dated in the future.")
    first_day = until - datetime.timedelta(days=days - 1)
    day_list = [first_day + datetime.timedelta(days=n) for n in range(days)]
    stats = Stats()
    plans = plan_territories(count=territories, seed=seed, first_day=first_day)
    with transaction.atomic():
        started = time.perf_counter()
        create_actors(
            plans,
            first_day=first_day,
            until=until,
            kitchens_per_territory=kitchens_per_territory,
            associations_per_territory=associations_per_territory,
            stats=stats,
        )
        stats.users = len(plans) * (kitchens_per_territory + associations_per_territory + 1)
        stats.seconds_actors = time.perf_counter() - started
        started = time.perf_counter()
        ids = Ids()
        first_ids = dict(ids.next)
        triggers_skipped = skip_reference_triggers()
        dropped_indexes = drop_secondary_indexes()
        calendar = Calendar(day_list)
        writer: CopyWriter | OrmWriter = CopyWriter() if connection.vendor == "postgresql" else OrmWriter()
        try:
            for start in range(0, len(plans), CHUNK_TERRITORIES):
                flows = [
                    TerritoryFlow(plan, day_list, until, ids, calendar)
                    for plan in plans[start : start + CHUNK_TERRITORIES]
                ]
                writer.wait(keep=3)  # bounded memory: the previous chunk's tables copying, this one queued
                for model, columns in FLOW_TABLES:
                    name = STAT_NAMES[model]
                    rows = [row for flow in flows for row in getattr(flow, name)]
                    writer.write(model, columns, rows)
                    setattr(stats, name, getattr(stats, name) + len(rows))
                if progress:
                    done = min(start + CHUNK_TERRITORIES, len(plans))
                    progress(f"{done}/{len(plans)} territoires, {stats.flow_rows} enregistrements")
        finally:
            writer.close()
        stats.seconds_copy = time.perf_counter() - started
        create_indexes(dropped_indexes)
        if triggers_skipped:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            check_references(first_ids)
        set_sequences()
        stats.seconds_flow = time.perf_counter() - started
    if connection.vendor == "postgresql":
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for model in (Batch, Pickup, Distribution, Partnership, Kitchen, Association, Territory):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        stats.seconds_analyze = time.perf_counter() - started
    return stats


# The rules, checked on what was written


def check_generated(territory_ids: Iterable[int] | None = None) -> dict[str, int]:
    """The number of records breaking each rule the services enforce (all zero when valid)."""
    today = timezone.localdate()
    batches = Batch.objects.all_territories()
    pickups = Pickup.objects.all_territories()
    distributions = Distribution.objects.all_territories()
    if territory_ids is not None:
        ids = list(territory_ids)
        batches = batches.filter(territory_id__in=ids)
        pickups = pickups.filter(territory_id__in=ids)
        distributions = distributions.filter(territory_id__in=ids)
    cold, hot = Q(liaison=Liaison.COLD), Q(liaison=Liaison.HOT)
    dispatch_breach = (cold & Q(dispatch_temperature_c__gt=COLD_MAX_C)) | (
        hot & Q(dispatch_temperature_c__lt=HOT_MIN_C)
    )
    receipt_breach = (Q(batch__liaison=Liaison.COLD) & Q(temperature_c__gt=COLD_MAX_C)) | (
        Q(batch__liaison=Liaison.HOT) & Q(temperature_c__lt=HOT_MIN_C)
    )
    mode_allows = Q(partnership__mode=Partnership.Mode.DEDICATED, kind=Batch.Kind.DEDICATED) | Q(
        partnership__mode=Partnership.Mode.SURPLUS, kind=Batch.Kind.SURPLUS
    )
    liaison_allowed = (cold & Q(kitchen__does_cold_liaison=True)) | (hot & Q(kitchen__does_hot_liaison=True))
    reached = Q(status__in=[Batch.Status.PICKED_UP, Batch.Status.DISTRIBUTED])
    per_pickup = pickups.annotate(
        used=Sum("distributions__meals_distributed", default=0)
        + Sum("distributions__meals_discarded", default=0)
    )
    checks: dict[str, models.QuerySet] = {
        "batch: partnership not active at production": batches.exclude(
            Q(partnership__status=Partnership.Status.ACTIVE)
            & Q(partnership__starts_on__lte=F("production_date"))
            & (Q(partnership__ends_on__isnull=True) | Q(partnership__ends_on__gte=F("production_date")))
        ),
        "batch: kind outside the convention": batches.exclude(mode_allows),
        "batch: surplus to an association without a valid habilitation": batches.filter(
            Q(kind=Batch.Kind.SURPLUS)
            & (
                Q(association__habilitation=Association.Habilitation.NONE)
                | Q(association__habilitation_expires_on__lt=F("production_date"))
            )
        ),
        "batch: liaison the kitchen does not do": batches.exclude(liaison_allowed),
        "batch: denormalised kitchen, association or territory": batches.exclude(
            kitchen_id=F("partnership__kitchen_id"),
            association_id=F("partnership__association_id"),
            territory_id=F("partnership__territory_id"),
        ),
        "batch: produced in the future": batches.filter(production_date__gt=today),
        "batch: use-by before production": batches.filter(use_by_date__lt=F("production_date")),
        "batch: no meals": batches.filter(meals_count__lte=0),
        "batch: dispatch breach not discarded": batches.filter(dispatch_breach).exclude(
            status=Batch.Status.DISCARDED, discard_reason__gt=""
        ),
        "batch: picked up or distributed without a pickup": batches.filter(reached, pickup__isnull=True),
        "pickup: of a batch still ready or cancelled": pickups.filter(
            batch__status__in=[Batch.Status.READY, Batch.Status.CANCELLED]
        ),
        "pickup: of a batch breached at dispatch": pickups.filter(
            (Q(batch__liaison=Liaison.COLD) & Q(batch__dispatch_temperature_c__gt=COLD_MAX_C))
            | (Q(batch__liaison=Liaison.HOT) & Q(batch__dispatch_temperature_c__lt=HOT_MIN_C))
        ),
        "batch: distributed without a distribution": batches.filter(status=Batch.Status.DISTRIBUTED).exclude(
            distributions__meals_distributed__gt=0
        ),
        "batch: picked up though distributed": batches.filter(
            status=Batch.Status.PICKED_UP, distributions__meals_distributed__gt=0
        ),
        "batch: cancelled or discarded without reason": batches.filter(
            status__in=[Batch.Status.CANCELLED, Batch.Status.DISCARDED], discard_reason=""
        ),
        "pickup: before production or after use-by": pickups.filter(
            Q(picked_up_on__lt=F("batch__production_date")) | Q(picked_up_on__gt=F("batch__use_by_date"))
        ),
        "pickup: in the future": pickups.filter(picked_up_at__gt=timezone.now()),
        "pickup: more meals than the batch": pickups.filter(meals_received__gt=F("batch__meals_count")),
        "pickup: receipt breach not discarded": pickups.filter(receipt_breach).exclude(
            batch__status=Batch.Status.DISCARDED
        ),
        "pickup: denormalised association or territory": pickups.exclude(
            association_id=F("batch__association_id"), territory_id=F("batch__territory_id")
        ),
        "distribution: before pickup, after use-by or in the future": distributions.filter(
            Q(distributed_on__lt=F("pickup__picked_up_on"))
            | Q(distributed_on__gt=F("batch__use_by_date"))
            | Q(distributed_on__gt=today)
        ),
        "distribution: site of another association": distributions.exclude(
            site__association_id=F("association_id")
        ),
        "distribution: denormalised batch, association or territory": distributions.exclude(
            batch_id=F("pickup__batch_id"),
            association_id=F("pickup__association_id"),
            territory_id=F("pickup__territory_id"),
        ),
        "distribution: meals of a discarded batch": distributions.filter(
            batch__status=Batch.Status.DISCARDED, meals_distributed__gt=0
        ),
        "distribution: nothing distributed nor discarded": distributions.filter(
            meals_distributed=0, meals_discarded=0
        ),
        "distribution: discarded without reason": distributions.filter(
            meals_discarded__gt=0, discard_reason=""
        ),
        "distribution: meals without people": distributions.filter(meals_distributed__gt=0, beneficiaries=0),
        "distribution: more households or children than people": distributions.filter(
            Q(households__gt=F("beneficiaries")) | Q(children__gt=F("beneficiaries"))
        ),
        "pickup: more meals handed out than received": per_pickup.filter(used__gt=F("meals_received")),
    }
    shelf_lives = set(Kitchen.objects.values_list("cold_shelf_life_days", flat=True))
    past_shelf_life = Q(pk__in=[])
    for days in shelf_lives:
        past_shelf_life |= Q(
            kitchen__cold_shelf_life_days=days,
            use_by_date__gt=F("production_date") + datetime.timedelta(days=days),
        )
    checks.update(
        {
            "batch: cold use-by past the kitchen's shelf life": batches.filter(cold & past_shelf_life),
            "batch: hot use-by other than the production day": batches.filter(hot).exclude(
                use_by_date=F("production_date")
            ),
            "batch: more meals than the kitchen's daily capacity": batches.filter(
                meals_count__gt=F("kitchen__daily_capacity")
            ),
            "batch: unusual count not confirmed": batches.filter(unusual_confirmed=False)
            .alias(
                weekly=F("meals_count") * F("partnership__production_days_per_week"),
                usual=3 * F("partnership__planned_meals_per_week"),
            )
            .filter(weekly__gt=F("usual")),
            "pickup: hot batch on another day than its production": pickups.filter(
                Q(batch__liaison=Liaison.HOT) & ~Q(picked_up_on=F("batch__production_date"))
            ),
            "distribution: cold meals handed out without a temperature, or above +3 °C": distributions.filter(
                batch__liaison=Liaison.COLD, meals_distributed__gt=0
            ).filter(
                Q(temperature_c__isnull=True, consumed_on_receipt=False) | Q(temperature_c__gt=COLD_MAX_C)
            ),
            "distribution: cold meals kept past the pickup day without cold storage": distributions.filter(
                batch__liaison=Liaison.COLD,
                meals_distributed__gt=0,
                distributed_on__gt=F("pickup__picked_up_on"),
                site__has_cold_storage=False,
            ),
        }
    )
    counted = {name: queryset.values("pk").distinct().count() for name, queryset in checks.items()}
    # The 48 hours of a donation (Code de l'environnement D541-310), read in Python on the
    # few pickups within two days of their use-by date.
    close = pickups.filter(
        batch__kind=Batch.Kind.SURPLUS,
        picked_up_on__gte=F("batch__use_by_date") - datetime.timedelta(days=2),
    ).select_related("batch__partnership")
    counted["pickup: donation with less than 48 hours of use-by left"] = sum(
        1
        for pickup in close.iterator()
        if food_safety.check_pickup_timing(batch=pickup.batch, picked_up_at=pickup.picked_up_at)
    )
    counted["batch: more than one pickup"] = (
        pickups.values("batch_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    )
    return counted


class Command(BaseCommand):
    help = (
        "Génère des données synthétiques à l'échelle nationale "
        "(territoires, acteurs, lots, collectes, distributions)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--territories", type=int, required=True)
        parser.add_argument("--days", type=int, required=True, help="Jours de flux, se terminant --until.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--until", type=datetime.date.fromisoformat, help="Dernier jour (aujourd'hui par défaut)."
        )
        parser.add_argument(
            "--kitchens", type=int, default=KITCHENS_PER_TERRITORY, help="Cuisines par territoire."
        )
        parser.add_argument(
            "--associations",
            type=int,
            default=ASSOCIATIONS_PER_TERRITORY,
            help="Associations par territoire.",
        )
        parser.add_argument("--check", action="store_true", help="Vérifie ensuite chaque règle des services.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["territories"] < 1 or options["days"] < 1:
            raise CommandError("--territories and --days must be positive.")
        if options["kitchens"] < 1 or options["associations"] < 1:
            raise CommandError("--kitchens and --associations must be positive.")
        started = time.perf_counter()
        stats = generate(
            territories=options["territories"],
            days=options["days"],
            seed=options["seed"],
            until=options["until"],
            kitchens_per_territory=options["kitchens"],
            associations_per_territory=options["associations"],
            progress=(lambda line: self.stdout.write(line)) if options["verbosity"] > 1 else None,
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{stats.territories} territoires, {stats.kitchens} cuisines, {stats.associations} associations, "
            f"{stats.sites} lieux, {stats.partnerships} partenariats, {stats.users} comptes ; "
            f"{stats.batches} lots, {stats.pickups} collectes, {stats.distributions} distributions "
            f"en {elapsed:.1f} s ({stats.flow_rows / max(stats.seconds_flow, 1e-9):,.0f} enregistrements/s)."
        )
        if options["check"]:
            broken = {name: count for name, count in check_generated().items() if count}
            if broken:
                raise CommandError(f"Règles non respectées : {broken}")
            self.stdout.write(self.style.SUCCESS("Toutes les règles des services sont respectées."))
