"""The meal flow through the API: each rule answers 400 with a French field message and writes nothing."""

import datetime
from decimal import Decimal

import pytest

from meals.models import Batch, Distribution, Pickup
from territories.roles import Role
from tests.factories import member

pytestmark = pytest.mark.django_db


def counts():
    return Batch.objects.count(), Pickup.objects.count(), Distribution.objects.count()


def test_kitchen_manager_declares_a_batch(api, scene):
    api.force_authenticate(scene.kitchen_user)
    response = api.post("/api/v1/batches/", scene.batch_payload())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert body["kitchen"] == scene.partnership.kitchen_id
    assert body["territory"] == scene.territory.pk
    assert body["pickup"] is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"dispatch_temperature_c": "6.5"}, "dispatch_temperature_c", "+3 °C ou moins"),
        ({"liaison": "hot", "dispatch_temperature_c": "55"}, "dispatch_temperature_c", "63 °C ou plus"),
        ({"use_by_date": "2020-01-01"}, "use_by_date", "précède la date de production"),
        ({"meals_count": -4}, "meals_count", "supérieure ou égale"),
        ({"meals_count": 0}, "meals_count", "positif"),
        ({"allergens": ["chocolate"]}, "allergens", "choix valide"),
    ],
)
def test_batch_rules(api, scene, change, field, message):
    api.force_authenticate(scene.kitchen_user)
    before = counts()
    response = api.post("/api/v1/batches/", scene.batch_payload(**change))
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert counts() == before


def test_batch_in_the_future_is_refused(api, scene):
    api.force_authenticate(scene.kitchen_user)
    tomorrow = scene.today + datetime.timedelta(days=1)
    response = api.post(
        "/api/v1/batches/",
        scene.batch_payload(production_date=str(tomorrow), use_by_date=str(tomorrow)),
    )
    assert response.status_code == 400
    assert "futur" in response.json()["production_date"][0]
    assert counts() == (0, 0, 0)


def test_partnership_must_be_active_and_allow_the_kind(api, db):
    from tests.scenes import Scene

    scene = Scene(mode="dedicated", ends_on=datetime.date.today() - datetime.timedelta(days=10))
    api.force_authenticate(scene.kitchen_user)
    response = api.post("/api/v1/batches/", scene.batch_payload(kind="surplus"))
    assert response.status_code == 400
    assert "expiré" in response.json()["partnership"][0]
    assert "ne reçoit que des lots de type « Repas dédiés »" in response.json()["kind"][0]
    assert counts() == (0, 0, 0)


def test_out_of_bounds_batch_can_only_be_recorded_as_discarded(api, scene):
    api.force_authenticate(scene.kitchen_user)
    response = api.post(
        "/api/v1/batches/",
        scene.batch_payload(
            dispatch_temperature_c="7", discard_reason="Panne de la cellule de refroidissement"
        ),
    )
    assert response.status_code == 201
    assert response.json()["status"] == "discarded"


def test_volunteer_cannot_declare_a_batch(api, scene):
    api.force_authenticate(scene.volunteer)
    assert api.post("/api/v1/batches/", scene.batch_payload()).status_code == 403
    assert counts() == (0, 0, 0)


def test_kitchen_manager_of_another_kitchen_cannot_declare_for_this_partnership(api, scene):
    api.force_authenticate(member(Role.KITCHEN_MANAGER, scene.territory))
    assert api.post("/api/v1/batches/", scene.batch_payload()).status_code == 403
    assert counts() == (0, 0, 0)


PICKUP = {
    "meals_received": 150,
    "temperature_c": "2.8",
    "transport_mode": "association_vehicle",
    "refrigerated_vehicle": True,
    "distance_km": "6.5",
    "duration_minutes": 30,
}


def test_volunteer_confirms_a_pickup_once_and_the_second_answers_409(api, scene):
    batch = scene.batch()
    api.force_authenticate(scene.volunteer)
    first = api.post(f"/api/v1/batches/{batch.pk}/pickup/", PICKUP)
    assert first.status_code == 201, first.json()
    assert first.json()["meals_received"] == 150

    second = api.post(f"/api/v1/batches/{batch.pk}/pickup/", PICKUP)
    assert second.status_code == 409
    assert "déjà" in second.json()["detail"]
    assert Pickup.objects.filter(batch=batch).count() == 1
    assert Batch.objects.get(pk=batch.pk).status == "picked_up"


def test_a_pickup_of_99999_9_km_is_the_longest_accepted(api, scene):
    batch = scene.batch()
    api.force_authenticate(scene.volunteer)
    response = api.post(f"/api/v1/batches/{batch.pk}/pickup/", {**PICKUP, "distance_km": "99999.9"})
    assert response.status_code == 201, response.json()
    assert Pickup.objects.get(batch=batch).distance_km == Decimal("99999.9")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"temperature_c": "5.5"}, "temperature_c", "+3 °C ou moins"),
        ({"meals_received": 151}, "meals_received", "ne compte que 150 repas"),
        ({"meals_received": -1}, "meals_received", "supérieure ou égale"),
        ({"distance_km": "-3"}, "distance_km", "supérieure ou égale"),
        ({"distance_km": "100000"}, "distance_km", "pas plus de 5 chiffres avant la virgule"),
        ({"distance_km": "99999.99"}, "distance_km", "chiffre"),
        ({"picked_up_at": "2099-01-01T10:00:00+01:00"}, "picked_up_at", "futur"),
    ],
)
def test_pickup_rules(api, scene, change, field, message):
    batch = scene.batch()
    api.force_authenticate(scene.volunteer)
    response = api.post(f"/api/v1/batches/{batch.pk}/pickup/", {**PICKUP, **change})
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert Pickup.objects.count() == 0
    assert Batch.objects.get(pk=batch.pk).status == "ready"


def test_pickup_out_of_bounds_with_a_reason_records_the_meals_as_discarded(api, scene):
    batch = scene.batch()
    api.force_authenticate(scene.volunteer)
    response = api.post(
        f"/api/v1/batches/{batch.pk}/pickup/",
        {**PICKUP, "temperature_c": "9", "discard_reason": "Glacière restée ouverte"},
    )
    assert response.status_code == 201
    batch.refresh_from_db()
    assert batch.status == "discarded"
    assert batch.discard_reason == "Glacière restée ouverte"


def test_cancelled_batch_cannot_be_picked_up(api, scene):
    batch = scene.batch()
    api.force_authenticate(scene.kitchen_user)
    assert api.post(f"/api/v1/batches/{batch.pk}/cancel/", {"reason": "Menu modifié"}).status_code == 200
    api.force_authenticate(scene.volunteer)
    response = api.post(f"/api/v1/batches/{batch.pk}/pickup/", PICKUP)
    assert response.status_code == 400
    assert "annulé" in response.json()["batch"][0]
    assert Pickup.objects.count() == 0


def test_volunteer_of_another_association_cannot_pick_up(api, scene):
    batch = scene.batch()
    api.force_authenticate(member(Role.VOLUNTEER, scene.territory))
    assert api.post(f"/api/v1/batches/{batch.pk}/pickup/", PICKUP).status_code == 403
    assert Pickup.objects.count() == 0


def distribution_payload(scene, pickup, **change):
    return {
        "pickup": pickup.pk,
        "site": scene.site.pk,
        "distributed_on": str(scene.today),
        "meals_distributed": 140,
        "beneficiaries": 120,
        "households": 45,
        "children": 30,
        "meals_discarded": 10,
        "discard_reason": "Barquettes percées",
        "temperature_c": "2.5",
        **change,
    }


def test_volunteer_records_a_distribution(api, scene):
    pickup = scene.pickup(scene.batch())
    api.force_authenticate(scene.volunteer)
    response = api.post("/api/v1/distributions/", distribution_payload(scene, pickup))
    assert response.status_code == 201, response.json()
    assert Batch.objects.get(pk=pickup.batch_id).status == "distributed"
    listed = api.get(f"/api/v1/distributions/?association={scene.partnership.association_id}").json()
    assert listed["count"] == 1
    assert listed["results"][0]["beneficiaries"] == 120


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"meals_distributed": 145}, "meals_distributed", "dépassent les repas reçus"),
        ({"meals_discarded": 5, "discard_reason": ""}, "discard_reason", "pourquoi"),
        ({"beneficiaries": -2}, "beneficiaries", "supérieure ou égale"),
        ({"households": 200}, "households", "plus de foyers"),
        ({"distributed_on": "2099-05-01"}, "distributed_on", "futur"),
    ],
)
def test_distribution_rules(api, scene, change, field, message):
    pickup = scene.pickup(scene.batch())
    api.force_authenticate(scene.volunteer)
    response = api.post("/api/v1/distributions/", distribution_payload(scene, pickup, **change))
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert Distribution.objects.count() == 0
    assert Batch.objects.get(pk=pickup.batch_id).status == "picked_up"


def test_no_distribution_after_the_use_by_date(api, scene):
    produced = scene.today - datetime.timedelta(days=5)
    batch = scene.past_batch(production_date=produced, use_by_date=produced + datetime.timedelta(days=2))
    pickup = scene.pickup(batch, picked_up_at=scene_datetime(produced))
    api.force_authenticate(scene.volunteer)
    response = api.post("/api/v1/distributions/", distribution_payload(scene, pickup))
    assert response.status_code == 400
    assert "date limite de consommation" in response.json()["distributed_on"][0]
    assert Distribution.objects.count() == 0


def scene_datetime(day):
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(11, 0)))


def test_site_of_another_association_is_refused(api, scene):
    from tests.factories import DistributionSiteFactory

    pickup = scene.pickup(scene.batch())
    foreign_site = DistributionSiteFactory(association__territory=scene.territory)
    api.force_authenticate(scene.volunteer)
    response = api.post("/api/v1/distributions/", distribution_payload(scene, pickup, site=foreign_site.pk))
    assert response.status_code == 400
    assert "n'appartient pas" in response.json()["site"][0]


def test_batch_filters(api, scene):
    scene.batch(kind="surplus")
    scene.past_batch(kind="dedicated", production_date=scene.today - datetime.timedelta(days=3))
    api.force_authenticate(scene.kitchen_user)
    assert api.get("/api/v1/batches/?kind=dedicated").json()["count"] == 1
    assert api.get(f"/api/v1/batches/?produced_after={scene.today}").json()["count"] == 1
    assert api.get("/api/v1/batches/?status=ready").json()["count"] == 2
    assert api.get(f"/api/v1/batches/?partnership={scene.partnership.pk}").json()["count"] == 1
    assert api.get(f"/api/v1/batches/?partnership={scene.supply.pk}").json()["count"] == 1


def test_edited_batch_keeps_its_history(api, scene):
    batch = scene.batch(meals_count=150)
    api.force_authenticate(scene.kitchen_user)
    response = api.patch(f"/api/v1/batches/{batch.pk}/", {"meals_count": 180})
    assert response.status_code == 200, response.json()

    history = list(Batch.objects.get(pk=batch.pk).history.order_by("history_date"))
    assert [record.meals_count for record in history] == [150, 180]
    assert [record.history_type for record in history] == ["+", "~"]
    assert {record.history_user for record in history} == {scene.kitchen_user}
    change = history[1].diff_against(history[0]).changes
    assert [(c.field, c.old, c.new) for c in change] == [("meals_count", 150, 180)]


def test_picked_up_batch_can_no_longer_be_edited(api, scene):
    batch = scene.batch()
    scene.pickup(batch)
    api.force_authenticate(scene.kitchen_user)
    response = api.patch(f"/api/v1/batches/{batch.pk}/", {"meals_count": 10})
    assert response.status_code == 409
    assert Batch.objects.get(pk=batch.pk).meals_count == 150
