"""Two volunteers confirming the same pickup at once, on real PostgreSQL connections."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from meals import services
from meals.models import Batch, Pickup
from territories.exceptions import Conflict
from territories.roles import Role
from tests.conftest import needs_postgresql
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
    needs_postgresql("row locking is what is under test; CI runs this on PostgreSQL")
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


def test_two_concurrent_declarations_of_one_lot_number_make_one_batch():
    """Both requests pass the check before either writes: the unique constraint refuses the
    second, whose IntegrityError answers the same 400 as the check."""
    needs_postgresql("the unique constraint under concurrent transactions is PostgreSQL's")
    from rest_framework.test import APIClient

    scene = Scene()
    second_manager = member(Role.KITCHEN_MANAGER, scene.territory, kitchen=scene.partnership.kitchen)
    for round_number in range(5):
        lot = f"SDN-CONCURRENT-{round_number}"
        barrier = threading.Barrier(2)
        responses: list[object] = []

        def declare(user, lot=lot, barrier=barrier, responses=responses):
            try:
                client = APIClient()
                client.force_authenticate(user)
                barrier.wait()
                responses.append(
                    client.post("/api/v1/batches/", scene.batch_payload(lot_number=lot), format="json")
                )
            except Exception as error:  # the outcome is what the test checks
                responses.append(error)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=declare, args=(user,)) for user in (scene.kitchen_user, second_manager)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        statuses = sorted(getattr(response, "status_code", response) for response in responses)
        assert statuses == [201, 400], responses
        refused = next(response for response in responses if response.status_code == 400)
        assert refused.json() == {
            "lot_number": [
                f"Le numéro de lot « {lot} » est déjà utilisé par cette cuisine : chaque lot a son numéro."
            ]
        }
        assert Batch.objects.filter(lot_number=lot).count() == 1


def test_a_lot_number_taken_by_a_transaction_not_yet_committed_answers_the_same_400():
    """The second request cannot see the first's batch (not committed): its check passes, its
    insert waits on the unique index, then fails once the first commits. The IntegrityError
    becomes the field error, and nothing of the second request is written."""
    needs_postgresql("the unique constraint under concurrent transactions is PostgreSQL's")
    import time

    from django.db import transaction
    from rest_framework.test import APIClient

    scene = Scene()
    inserted, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def first():
        try:
            with transaction.atomic():
                outcomes["first"] = scene.batch(lot_number="SDN-HELD-1")
                inserted.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def second():
        try:
            inserted.wait(timeout=30)
            client = APIClient()
            client.force_authenticate(scene.kitchen_user)
            outcomes["second"] = client.post(
                "/api/v1/batches/", scene.batch_payload(lot_number="SDN-HELD-1"), format="json"
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inserted.wait(timeout=30)
    time.sleep(1)  # the second request is now waiting on the unique index
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    response = outcomes["second"]
    assert response.status_code == 400, response
    assert "est déjà utilisé par cette cuisine" in response.json()["lot_number"][0]
    assert Batch.objects.filter(lot_number="SDN-HELD-1").count() == 1
    assert Batch.history.filter(lot_number="SDN-HELD-1").count() == 1
