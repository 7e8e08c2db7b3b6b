"""The demo's daily flow: months of batches, pickups and distributions for the demo partnerships.

``manage.py seed_demo`` calls ``flow_seed`` once per territory. Each partnership-day is first
*planned* from its own ``random.Random`` (seeded with the partnership's lot prefix and the day),
so the plan of a day does not depend on the length of the window, then *recorded* through
``meals.services`` with the demo accounts, so every rule of the flow holds. A partnership-day
whose lot number is already there is skipped: running the seed again creates nothing.

What the flow looks like, on school days only (Monday to Friday, outside the public holidays
and the school holidays of zone C, from the official calendar where ``territories.demo.calendar``
holds it, estimated outside it): kitchens are closed in the school holidays, so no batch is
produced then.

- dedicated meals every school day (fewer on Wednesdays), from the partnership's planned
  meals per week, within 20 to 400 and 0.4 % to 10 % of the kitchen's usual production;
- surplus donations on about half of the school days, 10 to 150 meals;
- cold liaison at 1-3 °C, use-by date three days after production (the kitchen's shelf
  life); hot liaison at 63-70 °C, used the same day, for a few batches of the kitchens that do
  it (hot surplus only for an association whose convention states it distributes within a
  few hours, collected after the lunch service, 13:30 to 14:14);
- the pickup by the volunteer on the day (a few dedicated batches the next school day: a
  donation keeps its 48 hours of use-by, Code de l'environnement D541-310), refrigerated
  vehicle for most, 2 to 25 km and 15 to 60 minutes; the distribution the same day, or the
  next day for a cold batch at a site with cold storage, open that day where possible, at
  1.5-3 °C;
- about 1.5 % of cancelled batches, 1 % of cold chain breaches at receipt (the batch is recorded
  as discarded), 2 % of batches with damaged trays set aside at distribution, a few surplus
  batches never picked up; the last school days keep batches ready to collect. The demo
  volunteer's association keeps every batch of the last school day ready to collect and has
  collected those of the school day before, not distributed yet (what its "À collecter" and
  "À distribuer" show).
"""

from __future__ import annotations

import datetime
import functools
import itertools
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from associations.models import DistributionSite, Partnership, Weekday
from costing.tasks import discard_pending_rollups
from territories.demo import calendar as school_calendar

from . import services
from .models import Allergen, Batch, Component, Liaison, PortionType, TransportMode

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SEED = "passerelle-demo"
PARIS = ZoneInfo("Europe/Paris")
DAY = datetime.timedelta(days=1)

CANCEL_REASON = "Menu modifié"
BREACH_REASON = "Rupture de la chaîne du froid pendant le transport"
DAMAGED_REASON = "Barquettes abîmées"
# The demo's one recall: a lot of the recent weeks, already distributed, recalled on a lab result
# of its "plat témoin", the sample a collective kitchen keeps five days (arrêté du 21 décembre
# 2009, art. 32).
RECALL_REASON = (
    "Analyse défavorable du plat témoin (Listeria monocytogenes) : retrait-rappel du lot par précaution."
)
RECALL_MIN_AGE_DAYS = 7

# Incident rates, per batch.
CANCEL_RATE = 0.015
BREACH_RATE = 0.01  # cold batches picked up
DAMAGED_RATE = 0.02  # batches distributed
UNCOLLECTED_RATE = 0.03  # surplus batches
# Share of the planned meals that are dedicated when a partnership does both.
DEDICATED_SHARE_WHEN_BOTH = 0.85
SURPLUS_DAY_RATE = 0.5
HOT_RATE: dict[str, float] = {Batch.Kind.DEDICATED: 0.05, Batch.Kind.SURPLUS: 0.25}
# Collected by 14:14, a hot donation has 9 h 46 left before midnight: only an association whose
# convention says it distributes within 9 hours may take it (Code de l'environnement D541-310).
HOT_SURPLUS_DELAY_HOURS = 9
# Of the batches of the last school days, the share left ready to collect, and of the others
# the share picked up but not yet distributed.
KEEP_READY_RATE = 0.4
WAITING_RATE = 0.5


# -- calendar -----------------------------------------------------------------------------------


def easter(year: int) -> datetime.date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


def monday_on_or_after(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=-day.weekday() % 7)


@functools.cache
def days_off(year: int) -> frozenset[datetime.date]:
    """Public holidays and school holidays of a year, roughly those of Île-de-France (zone C)."""
    sunday = easter(year)
    off = {
        datetime.date(year, month, day)
        for month, day in ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
    }
    # Easter Monday, Ascension and its Friday, Whit Monday.
    off |= {sunday + datetime.timedelta(days=n) for n in (1, 39, 40, 50)}
    fortnights = [
        monday_on_or_after(datetime.date(year, 2, 15)),  # winter
        monday_on_or_after(datetime.date(year, 4, 18)),  # spring
        monday_on_or_after(datetime.date(year, 11, 2)) - datetime.timedelta(days=14),  # Toussaint
        monday_on_or_after(datetime.date(year, 1, 2)) - datetime.timedelta(days=14),  # Christmas, ending
        monday_on_or_after(datetime.date(year + 1, 1, 2)) - datetime.timedelta(days=14),  # starting
    ]
    for start in fortnights:
        off |= {start + datetime.timedelta(days=n) for n in range(14)}
    summer = datetime.date(year, 7, 5)
    off |= {summer + datetime.timedelta(days=n) for n in range((datetime.date(year, 9, 1) - summer).days)}
    return frozenset(day for day in off if day.year == year)


def public_holidays(year: int) -> frozenset[datetime.date]:
    """The French public holidays of a year (Easter Monday, Ascension and Whit Monday included)."""
    sunday = easter(year)
    days = {
        datetime.date(year, month, day)
        for month, day in ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
    }
    return frozenset(days | {sunday + datetime.timedelta(days=n) for n in (1, 39, 50)})


def is_school_day(day: datetime.date) -> bool:
    """A weekday with school lunch: within the official zone C calendar (``territories.demo.
    calendar``), outside its holidays and the public holidays; outside it, the estimate."""
    if day.weekday() >= 5:
        return False
    first, last = school_calendar.COVERED
    if first <= day <= last:
        return day not in public_holidays(day.year) and school_calendar.holiday_on(day) is None
    return day not in days_off(day.year)


def school_days(since: datetime.date, until: datetime.date) -> list[datetime.date]:
    return [since + DAY * n for n in range((until - since).days + 1) if is_school_day(since + DAY * n)]


def last_school_days(today: datetime.date, count: int = 2) -> set[datetime.date]:
    """The last ``count`` school days before ``today`` (none after a long holiday)."""
    days = [today - DAY * n for n in range(1, 90) if is_school_day(today - DAY * n)]
    return set(days[:count])


def weekday_code(day: datetime.date) -> str:
    return Weekday.values[day.weekday()]


# -- menus --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dish:
    name: str
    allergens: tuple[str, ...] = ()


A = Allergen
DISHES: dict[str, tuple[Dish, ...]] = {
    Component.STARTER: (
        Dish("Carottes râpées vinaigrette", (A.MUSTARD,)),
        Dish("Céleri rémoulade", (A.CELERY, A.EGGS, A.MUSTARD)),
        Dish("Taboulé", (A.GLUTEN,)),
        Dish("Salade de lentilles", (A.MUSTARD,)),
        Dish("Betteraves persillées"),
        Dish("Concombre à la crème", (A.MILK,)),
        Dish("Œuf dur mayonnaise", (A.EGGS, A.MUSTARD)),
        Dish("Potage de légumes", (A.CELERY,)),
    ),
    Component.MAIN: (
        Dish("Poulet rôti"),
        Dish("Filet de colin meunière", (A.FISH, A.GLUTEN)),
        Dish("Poisson pané", (A.FISH, A.GLUTEN)),
        Dish("Bœuf bourguignon", (A.CELERY,)),
        Dish("Lasagnes à la bolognaise", (A.GLUTEN, A.MILK, A.EGGS, A.CELERY)),
        Dish("Omelette au fromage", (A.EGGS, A.MILK)),
        Dish("Hachis parmentier", (A.MILK, A.CELERY)),
        Dish("Sauté de dinde à la moutarde", (A.MUSTARD, A.MILK)),
        Dish("Dahl de lentilles corail", (A.CELERY,)),
        Dish("Boulettes de pois chiches sauce tomate", (A.GLUTEN, A.CELERY)),
    ),
    Component.SIDE: (
        Dish("Riz pilaf"),
        Dish("Haricots verts"),
        Dish("Purée de pommes de terre", (A.MILK,)),
        Dish("Coquillettes", (A.GLUTEN,)),
        Dish("Semoule", (A.GLUTEN,)),
        Dish("Poêlée de légumes", (A.CELERY,)),
        Dish("Petits pois carottes"),
        Dish("Gratin de chou-fleur", (A.MILK, A.GLUTEN)),
    ),
    Component.DAIRY: (
        Dish("Yaourt nature", (A.MILK,)),
        Dish("Camembert", (A.MILK,)),
        Dish("Emmental", (A.MILK,)),
        Dish("Fromage blanc", (A.MILK,)),
        Dish("Petit-suisse", (A.MILK,)),
    ),
    Component.DESSERT: (
        Dish("Pomme"),
        Dish("Poire"),
        Dish("Clémentines"),
        Dish("Compote de pommes"),
        Dish("Gâteau au chocolat", (A.GLUTEN, A.EGGS, A.MILK)),
        Dish("Crème dessert vanille", (A.MILK,)),
        Dish("Flan pâtissier", (A.GLUTEN, A.EGGS, A.MILK)),
    ),
    Component.BREAD: (Dish("Pain", (A.GLUTEN,)), Dish("Pain de campagne", (A.GLUTEN,))),
}
COMPONENT_ORDER = list(Component.values)


def day_menu(kitchen_code: str, day: datetime.date) -> dict[str, Dish]:
    """The kitchen's lunch menu of the day: four or five components and bread."""
    rng = random.Random(f"{SEED}:menu:{kitchen_code}:{day.isoformat()}")  # noqa: S311 - demo data
    components = list(Component.values)
    if rng.random() < 0.4:  # a four-component menu
        components.remove(rng.choice([Component.STARTER, Component.DAIRY]))
    return {component: rng.choice(DISHES[component]) for component in components}


def menu_fields(menu: dict[str, Dish], components: Iterable[str]) -> tuple[list[str], list[str]]:
    """The components of a batch, in menu order, and the allergens of their dishes."""
    chosen = [component for component in COMPONENT_ORDER if component in set(components)]
    allergens = {allergen for component in chosen for allergen in menu[component].allergens}
    return chosen, [allergen for allergen in Allergen.values if allergen in allergens]


# -- plans --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPartnership:
    """A demo partnership with what its flow needs; ``volunteers_own`` when it is the
    association of the demo volunteer, whose batches of the last school day stay ready and
    those of the day before wait for their distribution."""

    partnership: Partnership
    kitchen_code: str
    number: int
    sites: tuple[DistributionSite, ...]
    volunteers_own: bool = False

    def lot_number(self, day: datetime.date, kind: str) -> str:
        suffix = "D" if kind == Batch.Kind.DEDICATED else "E"
        return f"{self.kitchen_code}-{day:%Y%m%d}-{self.number}{suffix}"


@dataclass(frozen=True)
class DistributionPlan:
    site: DistributionSite
    day: datetime.date
    meals_distributed: int
    beneficiaries: int
    households: int
    children: int
    meals_discarded: int = 0
    discard_reason: str = ""
    temperature_c: Decimal | None = None


@dataclass(frozen=True)
class PickupPlan:
    at: datetime.datetime
    meals_received: int
    temperature_c: Decimal
    transport_mode: str
    refrigerated_vehicle: bool
    distance_km: Decimal
    duration_minutes: int
    discard_reason: str = ""
    distributions: tuple[DistributionPlan, ...] = ()


@dataclass(frozen=True)
class BatchPlan:
    kind: str
    lot_number: str
    meals_count: int
    liaison: str
    use_by_date: datetime.date
    dispatch_temperature_c: Decimal
    components: list[str]
    allergens: list[str]
    dishes: str = ""
    cancel_reason: str = ""
    pickup: PickupPlan | None = None


@dataclass(frozen=True)
class Route:
    """How an association usually fetches a partnership's meals."""

    transport_mode: str
    distance_km: float


def one_decimal(value: float) -> Decimal:
    return Decimal(f"{value:.1f}")


def route_of(demo: DemoPartnership) -> Route:
    rng = random.Random(f"{SEED}:route:{demo.kitchen_code}:{demo.number}")  # noqa: S311 - demo data
    distance = rng.uniform(2, 25)
    mode = rng.choices(
        [TransportMode.ASSOCIATION_VEHICLE, TransportMode.KITCHEN_DELIVERY, TransportMode.THIRD_PARTY],
        weights=[70, 20, 10],
    )[0]
    if distance < 4 and rng.random() < 0.5:
        mode = TransportMode.SOFT
    return Route(mode, distance)


def meals_bounds(partnership: Partnership, kind: str) -> tuple[int, int]:
    if kind == Batch.Kind.SURPLUS:
        return 10, 150
    usual = partnership.kitchen.usual_daily_production
    return max(20, math.ceil(usual * 0.004)), min(400, usual // 10)


def planned_meals(partnership: Partnership, kind: str, day: datetime.date, rng: random.Random) -> int:
    """The day's meals of one kind: a share of the planned weekly meals, within realistic bounds."""
    weekly = partnership.planned_meals_per_week
    if kind == Batch.Kind.DEDICATED:
        daily = weekly / 5 * rng.uniform(0.85, 1.15) * (0.75 if day.weekday() == 2 else 1)
    else:
        daily = weekly / (5 * SURPLUS_DAY_RATE) * rng.uniform(0.6, 1.4)
    low, high = meals_bounds(partnership, kind)
    return min(high, max(low, round(daily)))


def kinds_of(partnership: Partnership) -> list[str]:
    kinds: dict[str, list[str]] = {
        Partnership.Mode.DEDICATED: [Batch.Kind.DEDICATED],
        Partnership.Mode.SURPLUS: [Batch.Kind.SURPLUS],
    }
    return kinds[partnership.mode]


def plan_day(
    demo: DemoPartnership, day: datetime.date, *, last_days: bool, today: datetime.date
) -> list[BatchPlan]:
    """The batches of one partnership-day, with their pickup and distributions.

    ``last_days``: the day is one of the last school days before ``today``, whose batches
    (all cold, so still within their use-by date) are partly left ready to collect.
    """
    rng = random.Random(f"{SEED}:{demo.kitchen_code}:{demo.number}:{day.isoformat()}")  # noqa: S311
    partnership = demo.partnership
    kitchen = partnership.kitchen
    menu = day_menu(demo.kitchen_code, day)
    plans = []
    for kind in kinds_of(partnership):
        if kind == Batch.Kind.SURPLUS and rng.random() >= SURPLUS_DAY_RATE:
            continue
        meals = planned_meals(partnership, kind, day, rng)
        # The last days' batches are cold, so they can still be collected today.
        hot = kitchen.does_hot_liaison and not last_days and rng.random() < HOT_RATE[kind]
        # A hot donation expires tonight: only an association distributing within a few hours takes it.
        hot = hot and (
            kind == Batch.Kind.DEDICATED or partnership.distribution_delay_hours <= HOT_SURPLUS_DELAY_HOURS
        )
        hot = hot or not kitchen.does_cold_liaison
        if kind == Batch.Kind.DEDICATED:
            served = list(menu)
        else:  # what was left: the main course and its side, sometimes more
            served = [c for c in menu if c in (Component.MAIN, Component.SIDE) or rng.random() < 0.3]
        components, allergens = menu_fields(menu, served)
        plan = BatchPlan(
            kind=kind,
            lot_number=demo.lot_number(day, kind),
            meals_count=meals,
            liaison=Liaison.HOT if hot else Liaison.COLD,
            use_by_date=day if hot else day + kitchen.cold_shelf_life_days * DAY,
            dispatch_temperature_c=one_decimal(rng.uniform(64, 70) if hot else rng.uniform(1, 2.8)),
            components=components,
            allergens=allergens,
            dishes=", ".join(menu[component].name for component in components),
        )
        plans.append(plan_outcome(demo, day, plan, rng, last_days=last_days, today=today))
    return plans


def plan_outcome(
    demo: DemoPartnership,
    day: datetime.date,
    plan: BatchPlan,
    rng: random.Random,
    *,
    last_days: bool,
    today: datetime.date,
) -> BatchPlan:
    """What becomes of a batch: cancelled, left ready, or picked up (then distributed or not)."""
    until = today - DAY
    collectable = plan.use_by_date >= today
    if rng.random() < CANCEL_RATE:
        return replace(plan, cancel_reason=CANCEL_REASON)
    waiting = False  # picked up, its distribution still to come
    if last_days and collectable:
        if demo.volunteers_own:
            # The demo volunteer's association: the last school day's batches wait for their
            # pickup (its "À collecter"), the day before's are collected and wait for their
            # distribution (its "À distribuer").
            if day == max(last_school_days(today)):
                return plan
            waiting = True
        elif rng.random() < KEEP_READY_RATE:
            return plan
        else:
            waiting = rng.random() < WAITING_RATE
    uncollected = plan.kind == Batch.Kind.SURPLUS and rng.random() < UNCOLLECTED_RATE
    if uncollected and not collectable:
        return plan

    cold = plan.liaison == Liaison.COLD
    pickup_day = day
    next_day = cold and rng.random() < 0.1 and is_school_day(day + DAY) and day + DAY <= until
    if next_day and plan.kind == Batch.Kind.DEDICATED:  # a donation would be short of its 48 hours
        pickup_day = day + DAY  # collected the next school day
    if not cold:
        hour, minute = 11, rng.randrange(0, 45)
        if plan.kind == Batch.Kind.SURPLUS:  # hot surplus: once the lunch service is over
            hour, minute = divmod(13 * 60 + 30 + minute, 60)
    elif plan.kind == Batch.Kind.DEDICATED:
        hour, minute = rng.choice([9, 10, 11]), rng.randrange(0, 60)
    else:  # surplus is known once the lunch service is over
        hour, minute = rng.choice([13, 14, 15]), rng.randrange(0, 60)
    route = route_of(demo)
    distance = min(25, max(2, route.distance_km * rng.uniform(0.95, 1.1)))
    duration = min(60, max(15, round(8 + distance * rng.uniform(1.6, 2.2))))
    refrigerated = cold and route.transport_mode != TransportMode.SOFT and rng.random() < 0.9
    breach = cold and rng.random() < BREACH_RATE
    if breach:  # the meals arrive too warm: recorded as discarded, with the reason
        temperature = rng.uniform(4.5, 8.5)
    elif cold:
        temperature = min(3.0, max(1.0, float(plan.dispatch_temperature_c) + rng.uniform(-0.3, 0.6)))
    else:
        temperature = max(63.0, float(plan.dispatch_temperature_c) - rng.uniform(0.5, 3))
    received = plan.meals_count
    pickup = PickupPlan(
        at=datetime.datetime.combine(pickup_day, datetime.time(hour, minute), tzinfo=PARIS),
        meals_received=received,
        temperature_c=one_decimal(temperature),
        transport_mode=route.transport_mode,
        refrigerated_vehicle=refrigerated and not breach,
        distance_km=one_decimal(distance),
        duration_minutes=duration,
        discard_reason=BREACH_REASON if breach else "",
        distributions=(
            ()
            if breach or waiting
            else plan_distributions(demo, plan, pickup_day, received, rng, until=until)
        ),
    )
    return replace(plan, pickup=pickup)


def plan_distributions(
    demo: DemoPartnership,
    plan: BatchPlan,
    pickup_day: datetime.date,
    received: int,
    rng: random.Random,
    *,
    until: datetime.date,
) -> tuple[DistributionPlan, ...]:
    """The same day, or the next day for a cold batch at a site with cold storage; none yet
    when that day is still to come. Cold meals are at 1.5-3 °C at the distribution."""
    next_day = pickup_day + DAY
    day = pickup_day
    cold = plan.liaison == Liaison.COLD
    sites = list(demo.sites)
    if cold and next_day <= plan.use_by_date and rng.random() < 0.4:
        stored = [site for site in sites if site.has_cold_storage]
        if stored:
            day, sites = next_day, stored
    if day > until:
        return ()  # picked up, to be distributed today
    open_sites = [site for site in sites if weekday_code(day) in site.opening_days] or sites
    # The temperatures have their own draws, so the rest of the plan is that of the seed.
    thermometer = random.Random(f"{SEED}:distribution:{plan.lot_number}")  # noqa: S311 - demo data
    discarded = 0
    if rng.random() < DAMAGED_RATE:
        discarded = max(1, round(received * rng.uniform(0.03, 0.12)))
    to_hand_out = received - discarded
    if len(open_sites) > 1 and to_hand_out >= 120 and rng.random() < 0.5:
        first = round(to_hand_out * rng.uniform(0.4, 0.6))
        shares = [(open_sites[0], first), (open_sites[1], to_hand_out - first)]
    else:
        shares = [(rng.choice(open_sites), to_hand_out)]
    distributions = []
    for index, (site, meals) in enumerate(shares):
        people = max(1, meals - round(meals * rng.uniform(0.03, 0.12)))  # some take two meals
        distributions.append(
            DistributionPlan(
                site=site,
                day=day,
                meals_distributed=meals,
                beneficiaries=people,
                households=max(1, round(people * rng.uniform(0.4, 0.6))),
                children=round(people * rng.uniform(0.15, 0.35)),
                meals_discarded=discarded if index == 0 else 0,
                discard_reason=DAMAGED_REASON if discarded and index == 0 else "",
                temperature_c=one_decimal(thermometer.uniform(1.5, 3.0)) if cold else None,
            )
        )
    return tuple(distributions)


# -- recording ----------------------------------------------------------------------------------


@dataclass
class FlowCounts:
    batches: int = 0
    pickups: int = 0
    distributions: int = 0
    skipped_days: int = 0

    def add(self, other: FlowCounts) -> None:
        self.batches += other.batches
        self.pickups += other.pickups
        self.distributions += other.distributions
        self.skipped_days += other.skipped_days


def window(days: int) -> tuple[datetime.date, datetime.date]:
    """The first and last of the ``days`` days ending yesterday."""
    until = timezone.localdate() - DAY
    return until - (days - 1) * DAY, until


def flow_seed(
    *,
    partnerships: Sequence[DemoPartnership],
    kitchen_user: User,
    volunteer: User,
    since: datetime.date,
    until: datetime.date,
) -> FlowCounts:
    """Records one territory's flow from ``since`` to ``until``, a transaction per week, so that
    the pages ``make run`` serves meanwhile wait at most a week's writing for the database. The
    roll-ups the services queue are discarded: the caller rebuilds the whole range at once, then
    the monthly costs (``seed_demo``)."""
    today = timezone.localdate()
    counts = FlowCounts()
    last_days = last_school_days(today)
    existing = set(
        Batch.objects.all_territories()
        .filter(
            partnership_id__in=[demo.partnership.pk for demo in partnerships],
            production_date__range=(since, until),
        )
        .values_list("lot_number", flat=True)
    )
    for _week, days in itertools.groupby(school_days(since, until), key=lambda day: day.isocalendar()[:2]):
        with transaction.atomic():
            for day in days:
                for demo in partnerships:
                    partnership = demo.partnership
                    if not partnership.starts_on <= day <= (partnership.ends_on or day):
                        continue
                    plans = plan_day(demo, day, last_days=day in last_days, today=today)
                    if any(plan.lot_number in existing for plan in plans):
                        counts.skipped_days += 1
                        continue
                    for plan in plans:
                        record(plan, demo, day, kitchen_user=kitchen_user, volunteer=volunteer, counts=counts)
            # The caller rebuilds every roll-up of the range in one statement, and the monthly costs.
            discard_pending_rollups()
    return counts


# An adult's lunch of a central kitchen, and how its cold meals are brought back to temperature.
DEMO_PORTION_GRAMS = 450
REHEATING = "Four 180 °C, 20 à 25 minutes, ou micro-ondes : 63 °C à cœur au moins, servir dans l'heure."


def record(
    plan: BatchPlan,
    demo: DemoPartnership,
    day: datetime.date,
    *,
    kitchen_user: User,
    volunteer: User,
    counts: FlowCounts,
) -> None:
    batch = services.batch_create(
        partnership=demo.partnership,
        by=kitchen_user,
        kind=plan.kind,
        production_date=day,
        meals_count=plan.meals_count,
        liaison=plan.liaison,
        lot_number=plan.lot_number,
        use_by_date=plan.use_by_date,
        dispatch_temperature_c=plan.dispatch_temperature_c,
        components=plan.components,
        allergens=plan.allergens,
        # What travels with the batch: no allergen among the 14 is declared as such.
        no_regulated_allergens=not plan.allergens,
        dishes=plan.dishes,
        portion_type=PortionType.ADULT,
        portion_grams=DEMO_PORTION_GRAMS,
        reheating_instructions=REHEATING if plan.liaison == Liaison.COLD else "",
        declared_on=day,  # the history is recorded as declared on each production day
    )
    counts.batches += 1
    if plan.cancel_reason:
        services.batch_cancel(batch=batch, by=kitchen_user, reason=plan.cancel_reason)
        return
    if plan.pickup is None:
        return
    pickup = services.pickup_confirm(
        batch=batch,
        by=volunteer,
        meals_received=plan.pickup.meals_received,
        temperature_c=plan.pickup.temperature_c,
        transport_mode=plan.pickup.transport_mode,
        picked_up_at=plan.pickup.at,
        refrigerated_vehicle=plan.pickup.refrigerated_vehicle,
        distance_km=plan.pickup.distance_km,
        duration_minutes=plan.pickup.duration_minutes,
        discard_reason=plan.pickup.discard_reason,
    )
    counts.pickups += 1
    for distribution in plan.pickup.distributions:
        services.distribution_record(
            pickup=pickup,
            by=volunteer,
            site=distribution.site,
            distributed_on=distribution.day,
            meals_distributed=distribution.meals_distributed,
            beneficiaries=distribution.beneficiaries,
            households=distribution.households,
            children=distribution.children,
            meals_discarded=distribution.meals_discarded,
            discard_reason=distribution.discard_reason,
            temperature_c=distribution.temperature_c,
        )
        counts.distributions += 1


def recall_seed(
    *, demo: DemoPartnership, kitchen_user: User, since: datetime.date, until: datetime.date
) -> Batch | None:
    """Recalls the partnership's latest distributed lot produced at least a week ago (within
    ``since``-``until``) through the recall service, once: nothing when a lot of the partnership
    already carries the demo's recall, or when the range holds no such lot. The roll-ups it
    queues are discarded: the caller rebuilds the range."""
    batches = Batch.objects.all_territories().filter(partnership=demo.partnership)
    if batches.filter(recall_reason=RECALL_REASON).exists():
        return None
    latest = min(until, timezone.localdate() - RECALL_MIN_AGE_DAYS * DAY)
    batch = (
        batches.filter(
            status=Batch.Status.DISTRIBUTED, recalled_at__isnull=True, production_date__range=(since, latest)
        )
        .order_by("-production_date", "-pk")
        .first()
    )
    if batch is None:
        return None
    with transaction.atomic():
        recalled = services.batch_recall(batch=batch, by=kitchen_user, reason=RECALL_REASON)
        discard_pending_rollups()
    return recalled
