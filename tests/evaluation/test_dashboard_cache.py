"""A territory's dashboard figures: the part read off the roll-ups and cost inputs is kept
under the territory's roll-up version, and what is kept always equals what a fresh read gives
(``figures.collect``): a changed, added or moved roll-up, a refreshed cost input, a new journal
entry or survey answer is seen at once."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from costing import services as cost_services
from costing.models import AssociationCost, DailyRollup
from costing.versions import bump_days
from evaluation import figures
from tests.evaluation.reporting import END, START, pilot
from tests.factories import (
    DailyRollupFactory,
    JournalEntryFactory,
    SurveyFactory,
    SurveyQuestionFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plaine():
    return pilot()


def shown(territory_id: int) -> dict:
    return figures.dashboard_figures(territory_id=territory_id, start=START, end=END)


def fresh(territory_id: int) -> dict:
    return figures.collect(territory_ids=[territory_id], start=START, end=END)[0]


def week_of(data: dict, monday: datetime.date) -> dict:
    return next(row for row in data["tables"]["weekly"]["rows"] if row["week"] == monday.isoformat())


def indicator(data: dict, code: str):
    return next(row["value"] for row in data["indicators"] if row["code"] == code)


def test_kept_figures_equal_a_fresh_read_with_fewer_queries(plaine):
    territory_id = plaine.territory.pk
    with CaptureQueriesContext(connection) as first:
        kept = shown(territory_id)
    assert kept == fresh(territory_id)
    assert kept["volumes"]["meals_distributed"] == 36 * 120
    with CaptureQueriesContext(connection) as second:
        assert shown(territory_id) == kept
    # Kept: the cost inputs are not read again, the roll-ups only for their version.
    assert len(second.captured_queries) < len(first.captured_queries)
    assert any("costing_kitchencostinput" in query["sql"] for query in first.captured_queries)
    assert not any("costing_kitchencostinput" in query["sql"] for query in second.captured_queries)
    with translation.override("en"):
        english = shown(territory_id)
        assert english == fresh(territory_id)
        assert english["tables"]["weekly"]["title"] == "Activity per week"


def test_a_rollup_changed_added_or_moved_is_seen_at_once(plaine):
    territory_id = plaine.territory.pk
    shown(territory_id)
    first_day = datetime.date(2025, 1, 6)
    # Written by hand, the version bumped as the roll-ups' writers bump it (costing.versions).
    DailyRollup.objects.filter(partnership=plaine.partnership, day=first_day).update(meals_distributed=100)
    bump_days(territory_id, [first_day])
    after = shown(territory_id)
    assert week_of(after, first_day)["meals_distributed"] == 2 * 120 + 100
    assert after == fresh(territory_id)

    DailyRollupFactory(
        partnership=plaine.partnership, day=datetime.date(2025, 1, 7), distributions=1, meals_distributed=7
    )
    bump_days(territory_id, [datetime.date(2025, 1, 7)])
    assert week_of(shown(territory_id), first_day)["meals_distributed"] == 2 * 120 + 100 + 7

    # The same meals moved to a day of another week: every total is the same, the weeks are not.
    moved = datetime.date(2025, 1, 14)
    added = DailyRollup.objects.filter(partnership=plaine.partnership, day=datetime.date(2025, 1, 7))
    added.update(day=moved)
    bump_days(territory_id, [datetime.date(2025, 1, 7), moved])
    after = shown(territory_id)
    assert week_of(after, first_day)["meals_distributed"] == 2 * 120 + 100
    assert week_of(after, datetime.date(2025, 1, 13))["meals_distributed"] == 3 * 120 + 7
    assert after == fresh(territory_id)


def test_a_refreshed_cost_input_is_seen_at_once(plaine):
    territory_id = plaine.territory.pk
    before = shown(territory_id)
    march = datetime.date(2025, 3, 1)
    AssociationCost.objects.filter(association=plaine.association, month=march).update(
        premises_cost=Decimal("5000")
    )
    # What saving an input sets off on commit (costing.services.cost_input_saved).
    cost_services.monthly_cost_refresh(territory_id=territory_id, month=march)
    after = shown(territory_id)
    total = {row["key"]: row["value"] for row in after["costs"]}["total_cost"]
    assert Decimal(total) > Decimal({row["key"]: row["value"] for row in before["costs"]}["total_cost"])
    assert after == fresh(territory_id)


def test_journal_and_survey_answers_are_read_on_every_request(plaine):
    territory = plaine.territory
    before = shown(territory.pk)
    JournalEntryFactory(territory=territory, observed_on=datetime.date(2025, 3, 3))
    survey = SurveyFactory(territory=territory)
    SurveyQuestionFactory(survey=survey)
    SurveyResponseFactory(survey=survey, answered_on=datetime.date(2025, 3, 4), answers={"satisfaction": 5})
    after = shown(territory.pk)
    assert indicator(after, "journal_entries") == indicator(before, "journal_entries") + 1
    assert after == fresh(territory.pk)
