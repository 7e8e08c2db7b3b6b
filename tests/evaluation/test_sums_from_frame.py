"""A report's indicators take the sums per partnership from the roll-up frame it has already
read, instead of reading the roll-ups again: the same sums, and the same indicators, as the
grouped read (``rollup_sums_by``) gives."""

from __future__ import annotations

import datetime

import pytest

from costing import rollups
from costing.selectors import RollupFrames, cost_data
from costing.services import cost_report
from evaluation.indicators import flow_parts, rollup_sums_by, rollup_sums_of_frame
from meals.management.commands import generate_scale
from territories.models import Territory
from tests.test_generate_scale import frequent_outcomes  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

DAYS = 40


@pytest.fixture
def territories(frequent_outcomes):  # noqa: F811 - the imported fixture
    generate_scale.generate(
        territories=2, days=DAYS, seed=11, kitchens_per_territory=2, associations_per_territory=4
    )
    ids = list(Territory.objects.all_territories().order_by("pk").values_list("pk", flat=True))
    today = datetime.date.today()
    rollups.rebuild(territory_ids=ids, since=today - datetime.timedelta(days=DAYS - 1), until=today)
    return ids


def test_the_sums_per_partnership_of_the_frame_are_those_of_the_roll_ups(territories):
    today = datetime.date.today()
    # Days that cut months in two, as a dashboard's period may.
    start, end = today - datetime.timedelta(days=DAYS - 5), today - datetime.timedelta(days=3)
    frame = RollupFrames(territories)(territory_ids=territories, start=start, end=end)

    from_frame = rollup_sums_of_frame(frame)
    read = rollup_sums_by(territory_ids=territories, start=start, end=end, split=False)[None]

    assert from_frame == read
    assert len(read.partnerships) > 5 and read.totals["meals_distributed"] > 0
    assert [type(value) for value in from_frame.totals.values()] == [
        type(value) for value in read.totals.values()
    ]


def test_the_indicators_from_the_frame_are_those_read_from_the_roll_ups(territories):
    today = datetime.date.today()
    start, end = today - datetime.timedelta(days=DAYS - 1), today
    frames = RollupFrames(territories)
    data = cost_data(territory_ids=territories, start=start, end=end, read_frame=frames)
    cost = cost_report(data)
    frame = frames(territory_ids=territories, start=start, end=end)

    def parts(**frame_given):
        return flow_parts(
            territory_ids=territories, start=start, end=end, split=False, data=data, cost=cost, **frame_given
        )[None]

    assert parts(frame=frame) == parts()
    assert (
        rollup_sums_of_frame(frame.iloc[0:0])
        == rollup_sums_by(
            territory_ids=territories,
            start=today + datetime.timedelta(days=1),
            end=today + datetime.timedelta(days=2),
            split=False,
        )[None]
    )
