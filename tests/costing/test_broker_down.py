"""With the broker unreachable, a pickup is still recorded and the nightly rebuild catches the roll-ups up."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from costing import tasks
from costing.models import DailyRollup
from meals.models import Batch, Pickup
from tests.conftest import needs_postgresql
from tests.scenes import Scene

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CONFIRM_PICKUP = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from meals import services
from meals.models import Batch
batch = Batch.objects.get(pk={batch})
volunteer = get_user_model().objects.get(pk={user})
services.pickup_confirm(batch=batch, by=volunteer, meals_received=batch.meals_count,
                        temperature_c=Decimal("2.5"), transport_mode="association_vehicle")
print("pickup recorded")
"""


def test_pickup_succeeds_with_the_broker_down_and_the_nightly_rebuild_catches_up():
    needs_postgresql("the second process must share the test database, as on PostgreSQL in CI")
    scene = Scene()
    batch = scene.batch(production_date=datetime.date.today(), meals_count=64)
    DailyRollup.objects.all().delete()

    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        # Nothing listens on this port: the broker is down as far as the platform can tell.
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
    }
    script = CONFIRM_PICKUP.format(batch=batch.pk, user=scene.volunteer.pk)
    done = subprocess.run(  # noqa: S603 - our own manage.py with a fixed script
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "pickup recorded" in done.stdout
    assert "not queued: broker unreachable" in done.stderr
    assert Pickup.objects.filter(batch=batch).count() == 1
    assert Batch.objects.get(pk=batch.pk).status == "picked_up"
    assert not DailyRollup.objects.filter(territory=scene.territory).exists()

    tasks.rebuild_recent_rollups()

    row = DailyRollup.objects.get(territory=scene.territory, day=datetime.date.today())
    assert (row.meals_produced_surplus, row.pickups, row.meals_picked_up) == (64, 1, 64)
