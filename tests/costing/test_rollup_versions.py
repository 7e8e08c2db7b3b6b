"""Roll-up versions (``costing.versions``): every writer of what the figures read off the
roll-ups bumps its territory-month's counter in its own transaction, the same on SQLite and
PostgreSQL (this file runs on both), and a read after a write shows the new figure, never one
kept in the cache.

These tests' transactions never commit: each roll-up is run here, as the task would run it."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from costing import pending, rollups, services, tasks
from costing.models import RollupVersion
from costing.versions import bump, months_between, versions_of
from evaluation.indicators import side_by_side
from territories.roles import Role
from tests.factories import TerritoryFactory, member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
MONTH = TODAY.replace(day=1)


def version(territory_id: int, month: datetime.date = MONTH) -> int:
    row = RollupVersion.objects.filter(territory_id=territory_id, month=month).first()
    return row.version if row else 0


def test_every_writer_bumps_its_month_in_its_own_transaction(scene: Scene):
    territory_id = scene.territory.pk
    batches = []
    writers = {
        "a write marks its day stale": lambda: batches.append(scene.batch()),
        "the roll-up task rebuilds the day and clears its mark": lambda: pending.stale_day_rebuild(
            territory_id=territory_id, day=TODAY
        ),
        "the roll-up of a territory-day": lambda: rollups.rollup_territory_day(
            territory_id=territory_id, day=TODAY
        ),
        "a rebuild of a range (one statement on PostgreSQL, day by day on SQLite)": lambda: rollups.rebuild(
            territory_ids=[territory_id], since=MONTH, until=TODAY
        ),
        "the month's cost figures refreshed": lambda: services.monthly_cost_refresh(
            territory_id=territory_id, month=MONTH
        ),
        "a cost input saved or deleted": lambda: services.cost_input_saved(
            territory_id=territory_id, month=MONTH
        ),
        "a pickup marks its day stale": lambda: scene.pickup(batches[0]),
    }
    for writer, write in writers.items():
        before = version(territory_id)
        write()
        assert version(territory_id) > before, writer
    other = TerritoryFactory()
    assert version(other.pk) == 0  # another territory's counter is left alone


def test_marks_discarded_by_a_caller_that_rebuilds_itself_bump_too(scene: Scene):
    with transaction.atomic():
        scene.batch()
        before = version(scene.territory.pk)
        tasks.discard_pending_rollups()
        assert version(scene.territory.pk) > before


def test_a_write_rolled_back_leaves_the_version(scene: Scene):
    before = version(scene.territory.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        scene.batch()
        assert version(scene.territory.pk) == before + 1
        raise RuntimeError("the write fails after its batch")
    assert version(scene.territory.pk) == before


def test_a_rebuild_bumps_every_month_of_its_range():
    territories = [TerritoryFactory().pk, TerritoryFactory().pk]
    since, until = datetime.date(2025, 11, 20), datetime.date(2026, 2, 3)
    rollups.rebuild(territory_ids=territories, since=since, until=until)
    months = months_between(since, until)
    assert months == [datetime.date(2025, 11, 1), datetime.date(2025, 12, 1), datetime.date(2026, 1, 1),
                      datetime.date(2026, 2, 1)]  # fmt: skip
    for territory_id in territories:
        # Once per month (PostgreSQL, one statement) or per day (SQLite, day by day).
        assert all(version(territory_id, month) >= 1 for month in months)
        assert version(territory_id, datetime.date(2025, 10, 1)) == 0
        assert version(territory_id, datetime.date(2026, 3, 1)) == 0


def test_the_version_of_a_period_is_the_sum_of_its_months_counters():
    one, two = TerritoryFactory().pk, TerritoryFactory().pk
    january, february, march = (datetime.date(2025, month, 1) for month in (1, 2, 3))
    bump([(one, january), (one, datetime.date(2025, 2, 14)), (one, february), (two, march)])
    # Two bumps of one month in one call count once: a key is bumped once per write.
    assert version(one, january) == 1 and version(one, february) == 1
    bump([(one, february)])
    assert versions_of([one, two], january, datetime.date(2025, 2, 28)) == {one: (2, 3), two: (0, 0)}
    assert versions_of([one, two], march, datetime.date(2025, 3, 31)) == {one: (0, 0), two: (1, 1)}


def surplus_meals(scene: Scene, *, cached: bool) -> str | None:
    [(_territory, indicators)] = side_by_side(
        territories=[scene.territory], start=MONTH, end=TODAY, cached=cached
    )
    value = indicators.get("surplus_meals").value
    return None if value is None else str(value)


def test_a_write_then_a_read_shows_the_new_figure_never_a_kept_one(scene: Scene):
    cache.clear()
    assert surplus_meals(scene, cached=True) == "0"
    for expected in ("150", "300"):
        scene.batch()
        pending.stale_day_rebuild(territory_id=scene.territory.pk, day=TODAY)
        assert surplus_meals(scene, cached=True) == expected == surplus_meals(scene, cached=False)


def test_the_dashboard_says_when_a_day_is_owed_and_when_it_is_done(scene: Scene, client):
    cache.clear()
    client.force_login(member(Role.EVALUATOR))
    url = reverse("territory-dashboard", kwargs={"pk": scene.territory.pk})
    period = {"start": str(MONTH), "end": str(TODAY)}
    notice = "Chiffres en cours de mise à jour : 1 journée de la période"
    assert notice not in client.get(url, period).content.decode()
    scene.batch()  # marked stale, its roll-up not yet run
    assert notice in client.get(url, period).content.decode()
    pending.stale_day_rebuild(territory_id=scene.territory.pk, day=TODAY)
    assert "Chiffres en cours de mise à jour" not in client.get(url, period).content.decode()
