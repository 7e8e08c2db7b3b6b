"""The roll-up task on a real Celery worker and a real Redis broker, and concurrent runs on PostgreSQL."""

import datetime
import threading

import pytest
from django.db import connections

from costing import rollups, tasks
from costing.models import DailyRollup
from tests.conftest import needs_postgresql, wait_for
from tests.scenes import Scene

pytestmark = pytest.mark.django_db(transaction=True)

YESTERDAY = datetime.date.today() - datetime.timedelta(days=1)


def rows_of(territory):
    return sorted(
        DailyRollup.objects.filter(territory=territory).values_list("partnership_id", *rollups.SUMMED_FIELDS)
    )


def test_a_real_worker_runs_the_rollup_task(real_worker):
    scene = Scene()
    scene.batch(production_date=YESTERDAY, meals_count=75)
    DailyRollup.objects.all().delete()

    tasks.rollup_territory_day.delay(scene.territory.pk, YESTERDAY.isoformat())

    row = wait_for(lambda: DailyRollup.objects.filter(territory=scene.territory, day=YESTERDAY).first())
    assert row.meals_produced_surplus == 75


def test_concurrent_rollups_of_one_day_give_the_same_rows():
    needs_postgresql("concurrent upserts are what is under test; CI runs this on PostgreSQL")
    scene = Scene()
    for number in range(3):
        scene.batch(production_date=YESTERDAY, meals_count=20 + number, lot_number=f"C{number}")
    rollups.rollup_territory_day(territory_id=scene.territory.pk, day=YESTERDAY)
    expected = rows_of(scene.territory)
    DailyRollup.objects.all().delete()

    barrier = threading.Barrier(4)
    failures: list[Exception] = []

    def run():
        try:
            barrier.wait()
            rollups.rollup_territory_day(territory_id=scene.territory.pk, day=YESTERDAY)
        except Exception as error:  # collected for the assertion below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert rows_of(scene.territory) == expected
