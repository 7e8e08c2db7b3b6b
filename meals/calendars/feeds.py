"""The calendar feeds: who owns which address, what each shows, and the iCalendar text.

- A volunteer's feed shows the offers they accepted (and, with the rounds, the slots they hold).
- An association's feed shows the offers it won (and its rounds' slots).

Events are built with the ``icalendar`` library (RFC 5545); times are written in UTC.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import icalendar
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from territories.roles import Role
from territories.scoping import memberships_of

from ..models import Offer
from .models import CalendarFeed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from associations.models import Association

# How far back a feed reaches: a month of what happened, everything ahead.
PAST = datetime.timedelta(days=31)
PRODID = "-//Passerelle//Agenda des collectes//FR"


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    starts: datetime.datetime
    ends: datetime.datetime
    description: str
    location: str = ""


def offer_events(offers: Iterable[Offer]) -> list[Event]:
    """An accepted offer: from its acceptance to the last moment its association may collect it."""
    events = []
    for offer in offers:
        won = next(
            (row for row in offer.recipients.all() if row.association_id == offer.accepted_association_id),
            None,
        )
        if offer.accepted_at is None or won is None:
            continue
        events.append(
            Event(
                uid=f"offre-{offer.pk}@passerelle",
                summary=_("Collecte : %(meals)s repas de %(kitchen)s (offre acceptée)")
                % {"meals": offer.meals_count, "kitchen": offer.kitchen.name},
                starts=offer.accepted_at,
                ends=max(won.collect_before, offer.accepted_at + datetime.timedelta(minutes=30)),
                description=_("Lot %(lot)s, à consommer jusqu'au %(use_by)s. %(link)s")
                % {
                    "lot": offer.lot_number,
                    "use_by": offer.use_by_date.strftime("%d/%m/%Y"),
                    "link": f"{settings.SITE_URL}{reverse('offer-detail', kwargs={'pk': offer.pk})}",
                },
                location=offer.kitchen.address,
            )
        )
    return events


def accepted_offers(condition: Q) -> list[Offer]:
    since = timezone.now() - PAST
    return list(
        Offer.objects.all_territories()
        .filter(condition, status=Offer.Status.ACCEPTED, accepted_at__gte=since)
        .select_related("kitchen")
        .prefetch_related("recipients")
        .order_by("accepted_at", "pk")
    )


def slot_events(condition: Q) -> list[Event]:
    """A round's planned slot: its pickup window on its day (Paris time)."""
    from ..rounds.models import RoundSlot
    from ..rounds.services import slot_start

    since = timezone.localdate() - PAST
    slots = (
        RoundSlot.objects.all_territories()
        .filter(condition, status=RoundSlot.Status.PLANNED, date__gte=since)
        .select_related("kitchen", "site", "volunteer")
        .order_by("date", "window_start", "pk")
    )
    events = []
    for slot in slots:
        starts = slot_start(slot)
        who = (
            slot.volunteer.get_full_name() or slot.volunteer.get_username()
            if slot.volunteer
            else _("personne")
        )
        events.append(
            Event(
                uid=f"creneau-{slot.pk}@passerelle",
                summary=_("Collecte : %(meals)s repas de %(kitchen)s")
                % {"meals": slot.expected_meals, "kitchen": slot.kitchen.name},
                starts=starts,
                ends=datetime.datetime.combine(slot.date, slot.window_end, starts.tzinfo),
                description=_("Pour %(site)s. Bénévole : %(who)s.") % {"site": slot.site.name, "who": who},
                location=slot.kitchen.address,
            )
        )
    return events


USER_SOURCES: list[Callable[[Any], list[Event]]] = [
    lambda user: offer_events(accepted_offers(Q(accepted_by=user))),
    lambda user: slot_events(Q(volunteer=user)),
]
ASSOCIATION_SOURCES: list[Callable[[Any], list[Event]]] = [
    lambda association: offer_events(accepted_offers(Q(accepted_association=association))),
    lambda association: slot_events(Q(association=association)),
]


def feed_events(feed: CalendarFeed) -> list[Event]:
    sources = USER_SOURCES if feed.user_id else ASSOCIATION_SOURCES
    owner: Any = feed.user if feed.user_id else feed.association
    events = [event for source in sources for event in source(owner)]
    return sorted(events, key=lambda event: (event.starts, event.uid))


def feed_ics(feed: CalendarFeed) -> bytes:
    """The feed as an iCalendar document."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", str(feed_name(feed)))
    stamp = timezone.now().astimezone(datetime.UTC)
    for item in feed_events(feed):
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.starts.astimezone(datetime.UTC))
        event.add("dtend", item.ends.astimezone(datetime.UTC))
        event.add("summary", item.summary)
        event.add("description", item.description)
        if item.location:
            event.add("location", item.location)
        calendar.add_component(event)
    return calendar.to_ical()


def feed_name(feed: CalendarFeed) -> str:
    if feed.user_id:
        return _("Passerelle — mes collectes")
    return _("Passerelle — collectes de %(association)s") % {"association": str(feed.association)}


def live_feed(token: str) -> CalendarFeed | None:
    """The feed of a token still in use, or ``None`` (an unknown or revoked address: 404)."""
    return (
        CalendarFeed.objects.select_related("user", "association")
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )


def managed_associations(user: User) -> list[Association]:
    """The associations whose feed the user manages: those they coordinate."""
    from associations.models import Association

    ids = [
        membership.association_id
        for membership in memberships_of(user)
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id
    ]
    return list(Association.objects.filter(pk__in=ids).order_by("name"))


def feed_of(*, user: User | None = None, association: Association | None = None) -> CalendarFeed:
    """The owner's feed in use, drawn on first use."""
    owner: dict[str, Any] = {"user": user} if user is not None else {"association": association}
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(revoked_at__isnull=True, **owner).first()
        return feed or CalendarFeed.objects.create(**owner)


@transaction.atomic
def feed_revoke(
    *, user: User | None = None, association: Association | None = None, renew: bool
) -> CalendarFeed | None:
    """Revokes the owner's feed in use (its address answers 404 from now on) and, with ``renew``,
    draws a new address."""
    owner: dict[str, Any] = {"user": user} if user is not None else {"association": association}
    CalendarFeed.objects.filter(revoked_at__isnull=True, **owner).update(revoked_at=timezone.now())
    return CalendarFeed.objects.create(**owner) if renew else None


def feed_url(feed: CalendarFeed) -> str:
    return f"{settings.SITE_URL}{reverse('calendar-feed', kwargs={'token': feed.token})}"
