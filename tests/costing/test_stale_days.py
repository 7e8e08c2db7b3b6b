"""Stale roll-up days (``costing.pending``): marked by the write, cleared by the rebuild that read
the mark, swept when left behind, whatever their date; dashboards say when figures are owed.

These tests' transactions never commit, so no roll-up is queued on commit: each mark stays as
it would when the broker lost the message."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from costing import pending, rollups
from costing.models import DailyRollup, MonthlyCost, StaleDay
from territories.roles import Role
from tests.factories import member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = TODAY - datetime.timedelta(days=30)


def batch_on(scene: Scene, day: datetime.date, meals: int, lot: str):
    return scene.batch(
        production_date=day,
        use_by_date=day + datetime.timedelta(days=3),
        meals_count=meals,
        lot_number=lot,
        declared_on=day,  # a batch of the past, declared on its day
    )


def marked(scene: Scene) -> set[datetime.date]:
    return set(
        StaleDay.objects.all_territories().filter(territory=scene.territory).values_list("day", flat=True)
    )


def surplus_on(scene: Scene, day: datetime.date) -> int | None:
    row = DailyRollup.objects.all_territories().filter(territory=scene.territory, day=day).first()
    # The batches written here are never collected and past their use-by date: their meals
    # count as left uncollected (``meals_expired``), not as donated surplus.
    return row.meals_produced_surplus + row.meals_expired if row else None


def test_a_write_marks_its_day_in_its_own_transaction(scene):
    batch_on(scene, DAY, 70, "L-1")
    assert marked(scene) == {DAY}
    assert surplus_on(scene, DAY) is None  # its roll-up was never run: the mark is what is left

    with pytest.raises(RuntimeError), transaction.atomic():
        batch_on(scene, DAY - datetime.timedelta(days=1), 20, "L-2")
        raise RuntimeError("the write fails after its batch")
    assert marked(scene) == {DAY}  # the mark went with the rolled-back write


def test_the_rebuild_clears_the_mark_it_read(scene):
    batch_on(scene, DAY, 70, "L-1")
    assert pending.stale_day_rebuild(territory_id=scene.territory.pk, day=DAY) == 1
    assert surplus_on(scene, DAY) == 70
    assert marked(scene) == set()
    assert (
        MonthlyCost.objects.all_territories()
        .filter(territory=scene.territory, month=DAY.replace(day=1))
        .exists()
    )


def test_a_write_during_the_rebuild_keeps_its_mark(scene, monkeypatch):
    """A write that commits while the day is being rebuilt moves the mark's time: the rebuild
    leaves that mark, so the day is rebuilt again with the write's records."""
    batch_on(scene, DAY, 70, "L-1")
    rebuild = rollups.rollup_territory_day

    def rebuild_while_a_write_marks_the_day(**day):
        rows = rebuild(**day)
        pending.stale_days_mark(territory_id=scene.territory.pk, days=[DAY])  # the other write's mark
        return rows

    monkeypatch.setattr(rollups, "rollup_territory_day", rebuild_while_a_write_marks_the_day)
    pending.stale_day_rebuild(territory_id=scene.territory.pk, day=DAY)
    assert marked(scene) == {DAY}


def test_the_sweep_sends_marks_past_the_delay_whatever_their_date(scene, settings, monkeypatch):
    """Past the delay (180 s), one second past it; within it, one second short: only the first
    is sent (tasks run in-process here, so sending rebuilds). A day a year back is swept as well
    as a recent one; the nightly rebuild covers the last 7 days only. A second sweep sends nothing.
    The clock is held still: the rebuild run by the first sweep takes its time, and the one
    second short must stay short whatever the machine's load."""
    settings.PASSERELLE_RESEND_AFTER_SECONDS = 180
    year_ago = TODAY - datetime.timedelta(days=365)
    batch_on(scene, year_ago, 33, "L-old")
    batch_on(scene, DAY, 44, "L-recent")
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    StaleDay.objects.all_territories().filter(day=year_ago).update(
        marked_at=now - datetime.timedelta(seconds=181)
    )
    StaleDay.objects.all_territories().filter(day=DAY).update(marked_at=now - datetime.timedelta(seconds=179))

    assert pending.stale_days_sweep() == 1
    assert (surplus_on(scene, year_ago), surplus_on(scene, DAY)) == (33, None)
    assert marked(scene) == {DAY}
    assert pending.stale_days_sweep() == 0
    assert marked(scene) == {DAY}


def test_the_dashboard_says_when_its_figures_are_being_updated(client, scene):
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    url = reverse("territory-dashboard", kwargs={"pk": scene.territory.pk})
    period = {"start": str(DAY.replace(day=1)), "end": str(TODAY)}
    batch_on(scene, DAY, 70, "L-1")
    batch_on(scene, DAY + datetime.timedelta(days=1), 70, "L-2")
    assert (
        "Chiffres en cours de mise à jour : 2 journées de la période"
        in client.get(url, period).content.decode()
    )
    outside = {"start": str(DAY + datetime.timedelta(days=2)), "end": str(TODAY)}
    assert "Chiffres en cours de mise à jour" not in client.get(url, outside).content.decode()

    pending.stale_day_rebuild(territory_id=scene.territory.pk, day=DAY)
    assert (
        "Chiffres en cours de mise à jour : 1 journée de la période"
        in client.get(url, period).content.decode()
    )
    pending.stale_day_rebuild(territory_id=scene.territory.pk, day=DAY + datetime.timedelta(days=1))
    assert "Chiffres en cours de mise à jour" not in client.get(url, period).content.decode()
