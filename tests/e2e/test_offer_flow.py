"""A surplus offer in a real browser: the kitchen offers it, a volunteer of another association
(the kitchen's second donation convention) accepts it on a phone, confirms the pickup and
records the distribution; the offer's page passes axe-core on the phone."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect

from meals.models import Batch, Distribution, Offer, Pickup
from territories.roles import Role
from tests.factories import AssociationFactory, DistributionSiteFactory, PartnershipFactory, member

from .conftest import BLOCKING_IMPACTS, PHONE, World, axe_violations, log_in, screenshot

LOT = "L-OFFRE-E2E"


def test_a_kitchen_offers_and_another_association_takes_it_on_a_phone(new_page, world: World, axe_source):
    # A second association holding a signed donation convention with the kitchen.
    other = AssociationFactory(territory=world.territory, name="Épicerie solidaire du Canal")
    PartnershipFactory(territory=world.territory, kitchen=world.kitchen, association=other)
    site = DistributionSiteFactory(association=other, name="Local du Canal")
    volunteer = member(Role.VOLUNTEER, world.territory, association=other)

    kitchen = new_page()
    log_in(kitchen, world.users[Role.KITCHEN_MANAGER])
    kitchen.goto("/offres/nouvelle/")
    expect(kitchen.get_by_role("heading", level=1)).to_have_text("Proposer un excédent")
    kitchen.get_by_label("Nombre de repas").fill("60")
    kitchen.get_by_label("Température au départ (°C)").fill("2,4")
    kitchen.get_by_label("Numéro de lot").fill(LOT)
    kitchen.get_by_label("Lait", exact=True).check()
    screenshot(kitchen, "kitchen-manager-offer-create")
    kitchen.get_by_role("button", name="Envoyer l'offre").click()
    expect(kitchen.locator(".messages")).to_contain_text("Offre envoyée à 2 association(s)")
    offer = Offer.objects.get(lot_number=LOT)
    assert (offer.status, offer.meals_count, offer.recipients.count()) == ("open", 60, 2)

    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(phone, volunteer)
    expect(phone.get_by_role("heading", level=1)).to_have_text("À collecter")
    card = phone.locator(".card").filter(has_text="60 repas offerts")
    expect(card).to_contain_text(LOT)
    screenshot(phone, "volunteer-open-offers")
    card.get_by_role("link", name=re.compile("^Répondre à l'offre")).click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text(f"Offre {LOT}")
    blocking = [v for v in axe_violations(phone, axe_source) if v["impact"] in BLOCKING_IMPACTS]
    assert blocking == [], blocking
    screenshot(phone, "volunteer-offer-detail")
    phone.get_by_role("button", name="Accepter l'offre").click()
    expect(phone.locator(".messages")).to_contain_text(f"Offre acceptée : le lot {LOT} (60 repas)")
    batch = Batch.objects.get(lot_number=LOT)
    assert (batch.association, batch.status) == (other, "ready")

    phone.get_by_role("link", name="Confirmer la collecte").click()
    phone.get_by_label("Température à réception (°C)").fill("2,9")
    phone.get_by_label("Véhicule de l'association").check()
    phone.get_by_role("button", name="Confirmer la collecte").click()
    expect(phone.locator(".messages")).to_contain_text("Collecte confirmée : 60 repas reçus.")
    assert Pickup.objects.get(batch=batch).temperature_c == Decimal("2.9")

    phone.get_by_role("link", name="Enregistrer une distribution").click()
    phone.get_by_label("Personnes servies").fill("55")
    phone.get_by_label("Température à la distribution (°C)").fill("2,7")
    phone.get_by_role("button", name="Enregistrer la distribution").click()
    expect(phone.locator(".messages")).to_contain_text(
        "Distribution enregistrée : 60 repas distribués à 55 personnes."
    )
    distribution = Distribution.objects.get(batch=batch)
    assert (distribution.site, distribution.meals_distributed) == (site, 60)

    # The kitchen sees who took it.
    kitchen.goto(f"/offres/{offer.pk}/")
    expect(kitchen.get_by_role("heading", level=1)).to_contain_text("Acceptée")
    expect(kitchen.get_by_text("Épicerie solidaire du Canal — a accepté")).to_be_visible()
