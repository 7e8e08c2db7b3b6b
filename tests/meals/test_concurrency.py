"""Two volunteers confirming the same pickup at once, on real PostgreSQL connections."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from meals import services
from meals.models import Batch, Pickup
from territories.exceptions import Conflict
from territories.roles import Role
from tests.factories import member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db(transaction=True)


def confirm_together(batch, volunteers) -> list[object]:
    """Each volunteer confirms in its own thread, hence its own database connection."""
    barrier = threading.Barrier(len(volunteers))
    outcomes: list[object] = []

    def confirm(volunteer):
        try:
            barrier.wait()
            outcomes.append(
                services.pickup_confirm(
                    batch=Batch.objects.get(pk=batch.pk),
                    by=volunteer,
                    meals_received=batch.meals_count,
                    temperature_c=Decimal("2.0"),
                    transport_mode="association_vehicle",
                )
            )
        except Exception as error:  # the outcome is what the test checks
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm, args=(volunteer,)) for volunteer in volunteers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_concurrent_confirmations_make_one_pickup():
    if connection.vendor != "postgresql":
        pytest.skip("row locking is what is under test; CI runs this on PostgreSQL")
    scene = Scene()
    second_volunteer = member(Role.VOLUNTEER, scene.territory, association=scene.partnership.association)
    for round_number in range(5):
        batch = scene.batch(lot_number=f"RACE-{round_number}")
        outcomes = confirm_together(batch, [scene.volunteer, second_volunteer])

        pickups = [outcome for outcome in outcomes if isinstance(outcome, Pickup)]
        conflicts = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
        assert len(pickups) == 1, outcomes
        assert len(conflicts) == 1, outcomes
        assert Pickup.objects.filter(batch=batch).count() == 1
        assert Batch.objects.get(pk=batch.pk).status == "picked_up"
