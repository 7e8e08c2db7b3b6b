"""The demo's offers, round and calendar feed (territories/demo/offers.py)."""

from __future__ import annotations

import re
from collections import Counter

import icalendar
import pytest
from django.test import Client

from meals.models import Batch, Offer, RoundSlot

from .test_seed_demo import clock, seed  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

FLOW_DAYS = "7"


@pytest.mark.usefixtures("clock")
def test_the_demo_has_offers_of_every_fate_a_round_and_a_working_calendar():
    output = seed("--days", FLOW_DAYS)
    offers = Offer.objects.order_by("lot_number")
    assert [offer.status for offer in offers] == ["open", "accepted", "open", "expired"]
    declined = offers[2].recipients.get(declined_at__isnull=False)
    assert declined.association.name == "Les Restaurants du Cœur (Seine-Saint-Denis)"
    assert {row.association.name for row in offers[0].recipients.all()} == {
        "Les Restaurants du Cœur (Seine-Saint-Denis)",
        "Épicerie solidaire Le Panier dionysien",
    }
    assert Batch.objects.get(pk=offers[1].batch_id).status == "ready"

    slots = RoundSlot.objects.filter(status="planned")
    covered = Counter(slot.volunteer_id is not None for slot in slots)
    assert covered[True] > 0 and covered[False] > 0

    url = re.search(r"agenda du bénévole de démonstration : (\S+)", output)[1]  # type: ignore[index]
    response = Client().get(url.split("8000", 1)[-1])
    assert response.status_code == 200
    uids = [str(event["uid"]) for event in icalendar.Calendar.from_ical(response.content).walk("VEVENT")]
    assert f"offre-{offers[1].pk}@passerelle" in uids
    assert sum(uid.startswith("creneau-") for uid in uids) == covered[True]

    # A second run adds nothing.
    before = (Offer.objects.count(), RoundSlot.objects.count(), Batch.objects.count())
    seed("--days", FLOW_DAYS)
    assert (Offer.objects.count(), RoundSlot.objects.count(), Batch.objects.count()) == before
