"""The offers' pages: the kitchen's form, an association's answer, and the open offers on top of
"À collecter"."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from meals.models import Batch, Offer
from meals.offers import services

from .offer_world import OfferWorld

pytestmark = pytest.mark.django_db


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(world: OfferWorld, **change) -> dict:
    today = datetime.date.today()
    return {
        "kitchen": world.kitchen.pk,
        "production_date": str(today),
        "service": "lunch",
        "meals_count": "45",
        "liaison": "cold",
        "lot_number": "PAGE-1",
        "use_by_date": str(today + datetime.timedelta(days=2)),
        "dispatch_temperature_c": "2,5",
        "allergens": ["gluten"],
        **change,
    }


def test_the_kitchen_offers_from_its_page_and_bad_input_is_a_form_error():
    world = OfferWorld()
    world.donor_to("bravo")
    kitchen = logged(world.kitchen_user)
    page = kitchen.get("/offres/nouvelle/")
    assert page.status_code == 200
    assert f"Cuisine : {world.kitchen.name}" in page.content.decode()

    refused = kitchen.post("/offres/nouvelle/", form_data(world, dispatch_temperature_c="4"))
    assert refused.status_code == 200
    assert "ne peuvent pas être offerts" in refused.content.decode()
    assert Offer.objects.count() == 0

    sent = kitchen.post("/offres/nouvelle/", form_data(world), follow=True)
    offer = Offer.objects.get()
    assert sent.redirect_chain[-1][0] == f"/offres/{offer.pk}/"
    assert "Offre envoyée à 2 association(s)" in sent.content.decode()
    assert logged(world.volunteers["alpha"]).get("/offres/nouvelle/").status_code == 403


def test_open_offers_come_first_on_the_page_to_collect_and_are_answered_there():
    world = OfferWorld()
    world.donor_to("bravo")
    offer = services.offer_create(
        kitchen=world.kitchen,
        by=world.kitchen_user,
        production_date=datetime.date.today(),
        meals_count=45,
        liaison="cold",
        lot_number="PAGE-2",
        use_by_date=datetime.date.today() + datetime.timedelta(days=2),
        dispatch_temperature_c=2,
        allergens=["gluten"],
    )
    alpha, bravo = logged(world.volunteers["alpha"]), logged(world.volunteers["bravo"])
    todo = alpha.get("/collectes/").content.decode()
    assert "Offres ouvertes" in todo and "PAGE-2" in todo and "45 repas offerts" in todo

    blank = alpha.post(f"/offres/{offer.pk}/decliner/", {"reason": ""})
    assert blank.status_code == 200
    assert "Indiquez le motif du refus." in blank.content.decode()
    declined = alpha.post(f"/offres/{offer.pk}/decliner/", {"reason": "Camion en panne"}, follow=True)
    assert "Offre déclinée" in declined.content.decode()

    accepted = bravo.post(f"/offres/{offer.pk}/accepter/", follow=True)
    batch = Batch.objects.get(lot_number="PAGE-2")
    assert accepted.redirect_chain[-1][0] == f"/lots/{batch.pk}/"
    assert "Offre acceptée : le lot PAGE-2 (45 repas)" in accepted.content.decode()

    late = alpha.post(f"/offres/{offer.pk}/accepter/", follow=True)
    assert "déjà été acceptée par une autre association" in late.content.decode()
    assert Batch.objects.filter(lot_number="PAGE-2").count() == 1
    assert "Offres ouvertes" not in alpha.get("/collectes/").content.decode()
    kitchen_page = logged(world.kitchen_user).get(f"/offres/{offer.pk}/").content.decode()
    assert "a décliné : Camion en panne" in kitchen_page
    assert "Association Bravo — a accepté" in kitchen_page
