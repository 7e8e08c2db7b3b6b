"""Private calendar feeds: parsed with the icalendar library, only the owner's items, 404 once
revoked (meals.calendars)."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.test import Client

from meals.calendars import feeds
from meals.models import CalendarFeed
from meals.offers import services
from territories.roles import Role
from tests.factories import member

from .offer_world import OfferWorld

pytestmark = pytest.mark.django_db


def offered(world: OfferWorld, lot: str):
    return services.offer_create(
        kitchen=world.kitchen,
        by=world.kitchen_user,
        production_date=datetime.date.today(),
        meals_count=40,
        liaison="cold",
        lot_number=lot,
        use_by_date=datetime.date.today() + datetime.timedelta(days=3),
        dispatch_temperature_c=2,
        allergens=["milk"],
    )


def events_at(url: str) -> list[icalendar.Event]:
    response = Client().get(url.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    world = OfferWorld()
    world.donor_to("bravo")
    alpha_offer, bravo_offer = offered(world, "ICS-A"), offered(world, "ICS-B")
    services.offer_accept(offer=alpha_offer, by=world.volunteers["alpha"])
    services.offer_accept(offer=bravo_offer, by=world.volunteers["bravo"])
    offered(world, "ICS-OPEN")  # not accepted: in nobody's calendar
    world.offers = {"alpha": alpha_offer, "bravo": bravo_offer}
    return world


def test_a_volunteer_feed_shows_only_the_offers_they_accepted(world):
    url = feeds.feed_url(feeds.feed_of(user=world.volunteers["alpha"]))
    events = events_at(url)
    offer = world.offers["alpha"]
    offer.refresh_from_db()
    assert [str(event["uid"]) for event in events] == [f"offre-{offer.pk}@passerelle"]
    event = events[0]
    assert str(event["summary"]) == f"Collecte : 40 repas de {world.kitchen.name} (offre acceptée)"
    assert event.decoded("dtstart") == offer.accepted_at.replace(microsecond=0)
    # The last pickup: the use-by date's end (midnight after it, Paris) less 48 hours.
    last = offer.recipients.get(association=offer.accepted_association).collect_before
    assert event.decoded("dtend") == last
    assert "ICS-A" in str(event["description"])


def test_an_association_feed_shows_its_offers_and_not_another_association(world):
    coordinator = member(
        Role.ASSOCIATION_COORDINATOR, world.territory, association=world.convention.association
    )
    page = logged(coordinator).get("/compte/agenda/").content.decode()
    association_feed = CalendarFeed.objects.get(association=world.convention.association)
    assert feeds.feed_url(association_feed) in page
    uids = [str(event["uid"]) for event in events_at(feeds.feed_url(association_feed))]
    assert uids == [f"offre-{world.offers['alpha'].pk}@passerelle"]
    bravo_feed = feeds.feed_of(user=world.volunteers["bravo"])
    assert [str(e["uid"]) for e in events_at(feeds.feed_url(bravo_feed))] == [
        f"offre-{world.offers['bravo'].pk}@passerelle"
    ]
    # A volunteer does not manage the association's address; nobody manages another's.
    assert (
        feeds.feed_url(association_feed)
        not in logged(world.volunteers["alpha"]).get("/compte/agenda/").content.decode()
    )
    other = world.donor_to("charlie").association
    response = logged(coordinator).post("/compte/agenda/", {"association": other.pk})
    assert response.status_code == 404


def test_a_revoked_address_answers_404_and_a_new_one_works(world):
    volunteer = world.volunteers["alpha"]
    old = feeds.feed_of(user=volunteer)
    client = logged(volunteer)
    assert client.post("/compte/agenda/").status_code == 302
    assert Client().get(f"/calendrier/{old.token}.ics").status_code == 404
    new = CalendarFeed.objects.get(user=volunteer, revoked_at__isnull=True)
    assert new.token != old.token
    assert len(events_at(feeds.feed_url(new))) == 1
    assert Client().get("/calendrier/inconnu.ics").status_code == 404
