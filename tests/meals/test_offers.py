"""Surplus offers: who receives them, the response deadline, the first acceptance winning, the
declines and the expiry (meals.offers)."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from associations.models import Partnership
from meals import food_safety
from meals.models import Batch, Offer
from meals.offers import services
from territories.roles import Role
from tests.conftest import needs_postgresql
from tests.factories import AssociationFactory, PartnershipFactory, member

from .offer_world import KITCHEN_AT, OfferWorld

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def offer_now(world: OfferWorld, **change) -> dict:
    response = client_for(world.kitchen_user).post("/api/v1/offers/", world.payload(**change), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def recipients_of(offer: dict) -> set[str]:
    return {row["association_name"] for row in offer["recipients"]}


def test_an_offer_reaches_only_the_associations_with_a_signed_donation_convention(
    django_capture_on_commit_callbacks,
):
    world = OfferWorld()
    world.donor_to("bravo")
    world.donor_to("supply", mode=Partnership.Mode.DEDICATED)  # a supply agreement only
    world.donor_to("unsigned", signed=False)  # active on paper, its convention not signed
    world.donor_to("draft", status=Partnership.Status.DRAFT)
    world.donor_to("ended", status=Partnership.Status.ENDED)
    unhabilitated = world.donor_to("nohab")
    unhabilitated.association.habilitation = "none"
    unhabilitated.association.save()
    # Another kitchen's convention in the same territory, and another territory.
    elsewhere = PartnershipFactory(territory=world.territory)
    outsider = world.volunteer(elsewhere.association, "elsewhere")
    far_association = AssociationFactory()
    far = member(Role.VOLUNTEER, far_association.territory, association=far_association)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        offer = offer_now(world)

    assert recipients_of(offer) == {"Association Alpha", "Association Bravo"}
    told = sorted(address for message in mail.outbox for address in message.to)
    assert told == ["alpha@exemple.fr", "bravo@exemple.fr"]
    assert "80 repas offerts par" in mail.outbox[0].subject
    # Nobody else sees it, in the list or by its id, nor can accept or decline it.
    for name in ("supply", "unsigned", "draft", "ended", "nohab"):
        user = world.volunteers[name]
        assert client_for(user).get("/api/v1/offers/").json()["results"] == []
        assert client_for(user).get(f"/api/v1/offers/{offer['id']}/").status_code == 404
        assert client_for(user).post(f"/api/v1/offers/{offer['id']}/accept/", {}).status_code == 404
        assert (
            client_for(user).post(f"/api/v1/offers/{offer['id']}/decline/", {"reason": "x"}).status_code
            == 404
        )
    for user in (outsider, far):
        assert client_for(user).get(f"/api/v1/offers/{offer['id']}/").status_code == 404
        assert client_for(user).post(f"/api/v1/offers/{offer['id']}/accept/", {}).status_code == 404
    assert Offer.objects.get(pk=offer["id"]).status == "open"
    listed = client_for(world.volunteers["bravo"]).get("/api/v1/offers/?status=open").json()["results"]
    assert [row["id"] for row in listed] == [offer["id"]]
    # An association reads its own answer only; the kitchen reads every recipient's.
    assert recipients_of(listed[0]) == {"Association Bravo"}


def test_the_radius_keeps_the_associations_whose_site_is_within_it():
    """One degree of latitude is 2πR/360 = 111.195 km (R = 6371.0088 km): with a radius of 111 km,
    a site 0.998° north (110.97 km) is in, one 1° north (111.195 km) is out."""
    world = OfferWorld(
        kitchen__latitude=KITCHEN_AT[0], kitchen__longitude=KITCHEN_AT[1], kitchen__offer_radius_km=111
    )
    lat, lon = KITCHEN_AT
    world.donor_to("inside", at=(lat + Decimal("0.998"), lon))
    world.donor_to("outside", at=(lat + Decimal("1.000"), lon))
    world.donor_to("unplaced", at=None)  # a site without coordinates cannot be placed
    offer = offer_now(world)
    assert recipients_of(offer) == {"Association Alpha", "Association Inside"}
    assert client_for(world.volunteers["outside"]).get(f"/api/v1/offers/{offer['id']}/").status_code == 404


def test_the_deadline_is_two_hours_by_default_and_never_after_the_last_possible_pickup():
    world = OfferWorld()
    before = timezone.now()
    offer = Offer.objects.get(pk=offer_now(world)["id"])
    assert (
        before + datetime.timedelta(hours=2)
        <= offer.respond_by
        <= timezone.now() + datetime.timedelta(hours=2)
    )

    # Use-by date in three days: it ends at midnight after it, Paris time; the donation is
    # handed over with 48 hours left, so the last pickup is two days from now at midnight.
    use_by = datetime.date.today() + datetime.timedelta(days=3)
    latest = food_safety.end_of_use_by(use_by) - datetime.timedelta(hours=48)
    response = client_for(world.kitchen_user).post(
        "/api/v1/offers/",
        world.payload(lot_number="OFFRE-2", respond_by=(latest + datetime.timedelta(minutes=1)).isoformat()),
        format="json",
    )
    assert response.status_code == 400
    assert "D541-310" in response.json()["respond_by"][0]
    assert Offer.objects.filter(lot_number="OFFRE-2").count() == 0
    at_limit = offer_now(world, lot_number="OFFRE-3", respond_by=latest.isoformat())
    assert Offer.objects.get(pk=at_limit["id"]).respond_by == latest


def test_bad_input_answers_400_and_writes_nothing():
    world = OfferWorld()
    kitchen = client_for(world.kitchen_user)
    cases = {
        "dispatch_temperature_c": {"dispatch_temperature_c": "3.1"},
        "allergens": {"allergens": []},
        "meals_count": {"meals_count": 9000},  # over the kitchen's capacity of 8000
        "use_by_date": {"use_by_date": str(datetime.date.today() + datetime.timedelta(days=4))},
    }
    for field, change in cases.items():
        response = kitchen.post("/api/v1/offers/", world.payload(**change), format="json")
        assert response.status_code == 400, (field, response.json())
        assert field in response.json(), (field, response.json())
    assert Offer.objects.count() == 0
    # Nobody to offer to: the convention ended.
    Partnership.objects.update(status=Partnership.Status.ENDED)
    response = kitchen.post("/api/v1/offers/", world.payload(), format="json")
    assert response.status_code == 400
    assert "Aucune association" in response.json()["kitchen"][0]


def test_only_the_kitchen_manager_offers():
    world = OfferWorld()
    for user in (world.volunteers["alpha"], member(Role.KITCHEN_MANAGER, world.territory)):
        assert client_for(user).post("/api/v1/offers/", world.payload(), format="json").status_code == 403
    assert Offer.objects.count() == 0


def test_the_first_acceptance_gets_the_batch_and_the_others_are_told(django_capture_on_commit_callbacks):
    world = OfferWorld()
    bravo = world.donor_to("bravo")
    offer = offer_now(world)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.volunteers["bravo"]).post(f"/api/v1/offers/{offer['id']}/accept/", {})
    assert response.status_code == 200, response.json()
    batch = Batch.objects.get(lot_number="OFFRE-1")
    assert response.json()["batch"] == batch.pk
    assert (batch.partnership, batch.association, batch.kind, batch.status, batch.meals_count) == (
        bravo,
        bravo.association,
        "surplus",
        "ready",
        80,
    )
    assert (batch.created_by, batch.allergens, batch.dishes) == (
        world.kitchen_user,
        ["milk"],
        "Hachis parmentier, salade",
    )

    late = client_for(world.volunteers["alpha"]).post(f"/api/v1/offers/{offer['id']}/accept/", {})
    assert late.status_code == 409
    assert late.json()["detail"].startswith("Cette offre a déjà été acceptée par une autre association")
    assert Batch.objects.filter(lot_number="OFFRE-1").count() == 1

    by_address = {address: message for message in mail.outbox for address in message.to}
    assert "a été prise" in by_address["alpha@exemple.fr"].subject
    assert "est acceptée par Association Bravo" in by_address["cuisine@exemple.fr"].subject
    assert "prêt à collecter" in by_address["bravo@exemple.fr"].subject  # the batch's usual notice


def test_a_decline_needs_its_reason_and_counts_once():
    world = OfferWorld()
    world.donor_to("bravo")
    offer = offer_now(world)
    alpha = client_for(world.volunteers["alpha"])
    url = f"/api/v1/offers/{offer['id']}/decline/"
    blank = alpha.post(url, {"reason": "  "}, format="json")
    assert blank.status_code == 400
    assert blank.json() == {"reason": ["Indiquez le motif du refus."]}
    assert alpha.post(url, {"reason": "Pas de bénévole disponible"}, format="json").status_code == 200
    again = alpha.post(url, {"reason": "Toujours personne"}, format="json")
    assert again.status_code == 409
    kitchen_view = client_for(world.kitchen_user).get(f"/api/v1/offers/{offer['id']}/").json()
    reasons = {row["association_name"]: row["decline_reason"] for row in kitchen_view["recipients"]}
    assert reasons == {"Association Alpha": "Pas de bénévole disponible", "Association Bravo": ""}
    # Still open to the other association.
    assert (
        client_for(world.volunteers["bravo"]).post(f"/api/v1/offers/{offer['id']}/accept/", {}).status_code
        == 200
    )
    assert (
        client_for(world.volunteers["bravo"]).post(url, {"reason": "Trop tard"}, format="json").status_code
        == 409
    )


def test_the_expiry_closes_an_offer_once_and_never_an_accepted_one(django_capture_on_commit_callbacks):
    world = OfferWorld()
    world.donor_to("bravo")
    lapsed = offer_now(world, lot_number="OFFRE-A")
    taken = offer_now(world, lot_number="OFFRE-B")
    waiting = offer_now(world, lot_number="OFFRE-C")
    assert (
        client_for(world.volunteers["bravo"]).post(f"/api/v1/offers/{taken['id']}/accept/", {}).status_code
        == 200
    )
    past = timezone.now() - datetime.timedelta(minutes=1)
    Offer.objects.filter(pk__in=[lapsed["id"], taken["id"]]).update(respond_by=past)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.offers_expire() == 1
        assert services.offers_expire() == 0

    statuses = dict(Offer.objects.values_list("lot_number", "status"))
    assert statuses == {"OFFRE-A": "expired", "OFFRE-B": "accepted", "OFFRE-C": "open"}
    assert [message.to for message in mail.outbox] == [["cuisine@exemple.fr"]]
    assert "n'a pas trouvé preneur" in mail.outbox[0].subject
    assert "80 repas sont comptés comme offerts, non pris" in mail.outbox[0].body
    # Past its deadline nobody can take it, whether or not the task has run yet.
    Offer.objects.filter(pk=waiting["id"]).update(respond_by=past)
    response = client_for(world.volunteers["alpha"]).post(f"/api/v1/offers/{waiting['id']}/accept/", {})
    assert response.status_code == 409
    assert "Le délai de réponse de cette offre est passé" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_acceptances_make_one_batch():
    needs_postgresql(
        "row locking under concurrent transactions is what is under test; CI runs this on PostgreSQL"
    )
    world = OfferWorld()
    for number in range(19):
        world.donor_to(f"asso{number:02d}")
    offer = offer_now(world)
    assert len(offer["recipients"]) == 20
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    bodies: list[dict] = []

    def accept(user):
        try:
            client = client_for(user)
            barrier.wait()
            response = client.post(f"/api/v1/offers/{offer['id']}/accept/", {})
            statuses.append(response.status_code)
            bodies.append(response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(user,)) for user in world.volunteers.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [409] * 19
    assert Batch.objects.filter(lot_number="OFFRE-1").count() == 1
    stored = Offer.objects.get(pk=offer["id"])
    winner = next(body for status, body in zip(statuses, bodies, strict=True) if status == 200)
    assert (stored.status, stored.batch_id) == ("accepted", winner["batch"])
    assert Batch.objects.get(pk=stored.batch_id).association_id == stored.accepted_association_id
