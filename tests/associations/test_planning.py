# ruff: noqa: RUF002, RUF003 - the case is written with the signs ×, − and ÷
"""Planned meals count only the days the partnership runs: no meal is planned in a school holiday
of its territory nor on a closure of its kitchen (``associations.planning``), and the indicator
and the report's objectives table read that one definition.

The case, by hand: a convention of 700 meals a week, the zone C winter holiday of 2026 from
Monday 23 February to Sunday 8 March (14 days). From Monday 16 February to Sunday 15 March
(28 days), the partnership runs 28 − 14 = 14 days: 700 × 14 ÷ 7 = 1,400 meals, the week before
and the week after; the holiday weeks plan nothing.
"""

import datetime
from decimal import Decimal

import pytest

from associations import planning
from evaluation.figures import objectives_table
from evaluation.indicators import planned_meals_by
from kitchens.models import Closure
from tests.factories import KitchenFactory, PartnershipFactory, TerritoryFactory

pytestmark = pytest.mark.django_db

D = datetime.date
HOLIDAY = (D(2026, 2, 23), D(2026, 3, 8))


@pytest.fixture
def partnership():
    partnership = PartnershipFactory(planned_meals_per_week=700, starts_on=D(2025, 1, 1))
    Closure.objects.create(
        territory=partnership.territory,
        kind=Closure.Kind.SCHOOL_HOLIDAY,
        label="Vacances d'hiver 2025-2026 (zone C)",
        starts_on=HOLIDAY[0],
        ends_on=HOLIDAY[1],
    )
    return partnership


def planned(partnership, start: datetime.date, end: datetime.date) -> Decimal:
    return planned_meals_by(territory_ids=[partnership.territory_id], start=start, end=end, split=False)[None]


@pytest.mark.parametrize(
    ("start", "end", "meals"),
    [
        (D(2026, 2, 16), D(2026, 3, 15), Decimal(1400)),  # the holiday and a week either side
        (D(2026, 2, 16), D(2026, 2, 22), Decimal(700)),  # the week before: in full
        (D(2026, 3, 9), D(2026, 3, 15), Decimal(700)),  # the week after: in full
        (D(2026, 2, 23), D(2026, 3, 1), Decimal(0)),  # a holiday week: nothing
        (D(2026, 2, 23), D(2026, 3, 8), Decimal(0)),  # the whole holiday: nothing
        (D(2026, 2, 22), D(2026, 2, 23), Decimal(100)),  # the last day before it and its first day
        (D(2026, 3, 8), D(2026, 3, 9), Decimal(100)),  # its last day and the first day after
    ],
)
def test_planned_meals_count_only_the_days_the_partnership_runs(partnership, start, end, meals):
    assert planned(partnership, start, end) == meals


def test_a_kitchen_closure_counts_for_its_own_kitchen_only(partnership):
    other = PartnershipFactory(
        territory=partnership.territory,
        kitchen=KitchenFactory(territory=partnership.territory),
        planned_meals_per_week=350,
        starts_on=D(2025, 1, 1),
    )
    Closure.objects.create(
        territory=other.territory,
        kitchen=other.kitchen,
        kind=Closure.Kind.KITCHEN_CLOSURE,
        label="Travaux de la chambre froide",
        starts_on=D(2026, 3, 9),
        ends_on=D(2026, 3, 15),
    )
    # The week after the holiday: the first kitchen runs (700), the other is closed (0).
    assert planned(partnership, D(2026, 3, 9), D(2026, 3, 15)) == Decimal(700)
    # The week before: both run, 700 + 350.
    assert planned(partnership, D(2026, 2, 16), D(2026, 2, 22)) == Decimal(1050)


def test_another_territorys_holidays_change_nothing(partnership):
    elsewhere = TerritoryFactory()
    Closure.objects.create(
        territory=elsewhere,
        kind=Closure.Kind.SCHOOL_HOLIDAY,
        label="Vacances d'hiver (autre zone)",
        starts_on=D(2026, 2, 9),
        ends_on=D(2026, 2, 22),
    )
    assert planned(partnership, D(2026, 2, 16), D(2026, 2, 22)) == Decimal(700)


def test_the_report_table_reads_the_same_definition(partnership):
    table = objectives_table(
        territory_ids=[partnership.territory_id],
        start=D(2026, 2, 16),
        end=D(2026, 3, 15),
        names={partnership.territory_id: partnership.territory.name},
    )
    [row] = table["rows"]
    assert (row["planned_per_week"], row["days"], row["planned"]) == (700, 14, 1400)


def test_running_days_by_hand():
    assert planning.running_days(D(2026, 2, 16), D(2026, 3, 15), [HOLIDAY]) == 14
    assert (
        planning.running_days(D(2026, 2, 16), D(2026, 3, 15), [HOLIDAY, (D(2026, 3, 1), D(2026, 3, 10))])
        == 12
    )
    assert planning.running_days(D(2026, 3, 15), D(2026, 3, 14), []) == 0


def test_the_planned_meals_and_their_closures_are_read_in_one_query(partnership, django_assert_num_queries):
    """The dashboard reads the planned meals on every request: the partnerships and the closures
    come in one query, and give what the closures read apart give (1,400 over the holiday and a
    week either side)."""
    with django_assert_num_queries(1):
        assert planned(partnership, D(2026, 2, 16), D(2026, 3, 15)) == Decimal(1400)
