"""Territories side by side: grouped reads and the cached roll-up part give each territory the
very values ``compute_indicators`` gives it alone, and a change of its roll-ups, its monthly
cost figures or the reference values is seen at once."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from costing import services as cost_services
from costing.models import DailyRollup, KitchenCostInput, ReferenceValue
from costing.versions import bump_days
from evaluation.indicators import compute_indicators, side_by_side
from territories.roles import Role
from tests.evaluation.test_indicators import MARCH, MARCH_END, World, day
from tests.factories import (
    AssociationFactory,
    DailyRollupFactory,
    JournalEntryFactory,
    KitchenCostInputFactory,
    KitchenFactory,
    PartnershipFactory,
    SurveyFactory,
    SurveyQuestionFactory,
    SurveyResponseFactory,
    TerritoryFactory,
    member,
)

pytestmark = pytest.mark.django_db

D = Decimal


class Worlds:
    """The hand-built territory of test_indicators, and a second one unlike it (dedicated meals
    without usual production, a yes/no survey, its own people and journal), and a third, empty."""

    def __init__(self) -> None:
        self.plaine = World()
        first = self.plaine.territory
        member(Role.VOLUNTEER, first, association=self.plaine.a1)
        member(Role.AUTHORITY_COORDINATOR, first, authority=self.plaine.authority)
        JournalEntryFactory(territory=first, observed_on=day(2), kitchen=self.plaine.kitchen)
        survey = SurveyFactory(territory=first)
        SurveyQuestionFactory(survey=survey)
        SurveyResponseFactory(survey=survey, answered_on=day(14), answers={"satisfaction": 4})

        self.vallee = TerritoryFactory(name="Vallée")
        kitchen = KitchenFactory(territory=self.vallee, usual_daily_production=0)
        association = AssociationFactory(territory=self.vallee)
        self.partnership = PartnershipFactory(
            territory=self.vallee, kitchen=kitchen, association=association, planned_meals_per_week=140
        )
        DailyRollupFactory(
            partnership=self.partnership, day=day(6), batches=1, meals_produced_dedicated=120,
            pickups=1, pickups_on_time=1, meals_picked_up=120, distributions=1,
            meals_distributed=110, meals_discarded=10, people_served=90,
        )  # fmt: skip
        KitchenCostInputFactory(kitchen=kitchen, month=MARCH)
        member(Role.VOLUNTEER, self.vallee, association=association)
        JournalEntryFactory(territory=self.vallee, observed_on=day(9), nature="lever")
        partner = SurveyFactory(territory=self.vallee, kind="partner")
        SurveyQuestionFactory(survey=partner, code="utile", kind="yes_no")
        SurveyResponseFactory(survey=partner, answered_on=day(15), answers={"utile": True})

        self.colline = TerritoryFactory(name="Colline")
        self.territories = [self.plaine.territory, self.vallee, self.colline]


@pytest.fixture
def worlds():
    return Worlds()


def alone(territory, start=MARCH, end=MARCH_END) -> dict:
    return compute_indicators(territory_ids=[territory.pk], start=start, end=end).as_dict()


def together(worlds, *, cached: bool, start=MARCH, end=MARCH_END) -> dict[str, dict]:
    pairs = side_by_side(territories=worlds.territories, start=start, end=end, cached=cached)
    assert [territory.pk for territory, _result in pairs] == [t.pk for t in worlds.territories]
    return {territory.name: result.as_dict() for territory, result in pairs}


def value(result: dict, code: str) -> str | None:
    return next(row["value"] for row in result["indicators"] if row["code"] == code)


def test_side_by_side_gives_each_territory_its_values_alone(worlds):
    expected = {territory.name: alone(territory) for territory in worlds.territories}
    assert value(expected["Plaine"], "meals_distributed") == "1000"
    assert value(expected["Vallée"], "meals_distributed") == "110"
    assert value(expected["Colline"], "meals_distributed") == "0"
    assert together(worlds, cached=False) == expected
    assert together(worlds, cached=True) == expected  # read, then kept
    assert together(worlds, cached=True) == expected  # from the cache
    # Over two months, and in English: the same again.
    april_end = datetime.date(2025, 4, 30)
    assert together(worlds, cached=True, end=april_end) == {
        territory.name: alone(territory, end=april_end) for territory in worlds.territories
    }
    with translation.override("en"):
        english = {territory.name: alone(territory) for territory in worlds.territories}
        assert together(worlds, cached=True) == english


def test_a_changed_rollup_is_seen_at_once(worlds):
    together(worlds, cached=True)
    # A roll-up rewritten (the roll-up task or a rebuild): its territory's sums change. The rows
    # are written by hand here, and the territory-month's version bumped as their writers bump
    # it in the same transaction (costing.versions; tests/costing/test_rollup_versions.py).
    DailyRollup.objects.filter(partnership=worlds.partnership, day=day(6)).update(meals_distributed=100)
    bump_days(worlds.vallee.pk, [day(6)])
    after = together(worlds, cached=True)
    assert value(after["Vallée"], "meals_distributed") == "100"
    assert after["Vallée"] == alone(worlds.vallee)
    # A new roll-up row, and one removed.
    DailyRollupFactory(partnership=worlds.partnership, day=day(7), distributions=1, meals_distributed=5)
    bump_days(worlds.vallee.pk, [day(7)])
    assert value(together(worlds, cached=True)["Vallée"], "meals_distributed") == "105"
    DailyRollup.objects.filter(partnership=worlds.partnership, day=day(7)).delete()
    bump_days(worlds.vallee.pk, [day(7)])
    assert value(together(worlds, cached=True)["Vallée"], "meals_distributed") == "100"
    # A distribution moved to another day of the period: the same sums, another count of days.
    before = together(worlds, cached=True)["Plaine"]
    DailyRollup.objects.filter(partnership=worlds.plaine.p2, day=day(20)).update(day=day(3))
    bump_days(worlds.plaine.territory.pk, [day(20), day(3)])
    after = together(worlds, cached=True)["Plaine"]
    assert value(after, "meals_distributed") == value(before, "meals_distributed")
    assert value(after, "distribution_days_per_week") != value(before, "distribution_days_per_week")
    assert after == alone(worlds.plaine.territory)


def test_a_changed_cost_input_is_seen_once_its_monthly_figures_are_refreshed(worlds):
    territory = worlds.plaine.territory
    before = together(worlds, cached=True)["Plaine"]
    KitchenCostInput.objects.filter(kitchen=worlds.plaine.kitchen, month=MARCH).update(
        food_cost_per_meal=D("2.80")
    )
    # What saving an input sets off on commit (costing.services.cost_input_saved).
    cost_services.monthly_cost_refresh(territory_id=territory.pk, month=MARCH)
    after = together(worlds, cached=True)["Plaine"]
    assert value(after, "marginal_cost_dedicated") != value(before, "marginal_cost_dedicated")
    assert after == alone(territory)
    # Refreshed again (the roll-up task after any write of the month): read again, same values.
    cost_services.monthly_cost_refresh(territory_id=territory.pk, month=MARCH)
    assert together(worlds, cached=True)["Plaine"] == after


def test_a_changed_reference_value_is_seen_at_once(worlds):
    together(worlds, cached=True)
    ReferenceValue.objects.filter(code="meal_weight_kg").update(value=D("0.5"))
    after = together(worlds, cached=True)
    assert after == {territory.name: alone(territory) for territory in worlds.territories}


def test_people_journal_and_surveys_are_read_on_every_request(worlds):
    together(worlds, cached=True)
    JournalEntryFactory(territory=worlds.vallee, observed_on=day(10))
    member(Role.VOLUNTEER, worlds.vallee)
    survey = SurveyFactory(territory=worlds.colline)
    SurveyQuestionFactory(survey=survey)
    SurveyResponseFactory(survey=survey, answered_on=day(16), answers={"satisfaction": 2})
    after = together(worlds, cached=True)
    assert value(after["Vallée"], "journal_entries") == "2"
    assert after == {territory.name: alone(territory) for territory in worlds.territories}


def test_cached_reads_do_not_grow_with_the_territories(worlds):
    more = [*worlds.territories, *(TerritoryFactory() for _ in range(3))]

    def count(territories) -> int:
        with CaptureQueriesContext(connection) as queries:
            side_by_side(territories=territories, start=MARCH, end=MARCH_END)
        return len(queries.captured_queries)

    count(worlds.territories), count(more)  # read and kept
    assert count(worlds.territories) == count(more)
    # Without the cache the roll-ups, conventions, people, journal and surveys are still read
    # once for all the territories; only the cost method's reads repeat per territory.
    with CaptureQueriesContext(connection) as three:
        side_by_side(territories=worlds.territories, start=MARCH, end=MARCH_END, cached=False)
    with CaptureQueriesContext(connection) as six:
        side_by_side(territories=more, start=MARCH, end=MARCH_END, cached=False)
    per_territory = (len(six.captured_queries) - len(three.captured_queries)) / 3
    assert per_territory < 13 / 2
