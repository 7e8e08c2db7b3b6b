"""Offers and rounds in the demo (first territory, Plaine Commune).

- Four offers of the Saint-Denis kitchen to its two donation conventions (the Restaurants du Cœur
  and the Panier dionysien), made by the demo kitchen manager on the seeding day: one open, one
  accepted by the demo volunteer (its batch waits under "À collecter"), one declined by the
  volunteer with the reason (still open to the other association), one whose deadline passed,
  expired by ``offers_expire``.
- A round on the supply agreement of the same pair: Monday to Friday, 10:00 to 11:00, the
  convention's daily meals to its first site; slots planned four weeks ahead by
  ``slots_generate``, the demo volunteer signed up for three days out of four, so that some slots
  have nobody.
- The demo volunteer's calendar feed, whose address the command prints.

Idempotent: an offer is found again by its lot number, the schedule by its partnership, the slots
by their day, and the sign-ups keep their volunteer. No e-mail is sent while seeding."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from associations.models import DistributionSite, Partnership
from kitchens.models import Kitchen
from meals.calendars import feeds
from meals.models import Offer, RoundSchedule, RoundSlot
from meals.offers import services as offers
from meals.rounds import services as rounds
from territories.models import Membership, Territory
from territories.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TERRITORY = "plaine-commune"
KITCHEN = "Cuisine centrale de Saint-Denis"
# (suffix of the lot, meals, what becomes of it)
OFFERS = (("1", 80, "open"), ("2", 120, "accepted"), ("3", 60, "declined"), ("4", 45, "expired"))
DECLINE_REASON = "Pas de bénévole disponible avant la fermeture du local."


def demo_user(territory: Territory, role: str) -> User:
    membership = (
        Membership.objects.filter(territory=territory, role=role).select_related("user").order_by("pk")
    )
    return membership.first().user  # type: ignore[union-attr]


def seed_offers_and_rounds(
    *, territories: dict[str, Territory], today: datetime.date, counts: Counter[str]
) -> str:
    """Seeds what the module says; returns the demo volunteer's calendar address."""
    territory = territories[TERRITORY]
    kitchen = Kitchen.objects.get(territory=territory, name=KITCHEN)
    manager = demo_user(territory, Role.KITCHEN_MANAGER)
    volunteer = demo_user(territory, Role.VOLUNTEER)
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
        transaction.atomic(),
    ):
        for suffix, meals, fate in OFFERS:
            seed_offer(kitchen, manager, volunteer, today, suffix, meals, fate, counts)
        offers.offers_expire()
        seed_round(kitchen, volunteer, today, counts)
    return feeds.feed_url(feeds.feed_of(user=volunteer))


def seed_offer(
    kitchen: Kitchen,
    manager: User,
    volunteer: User,
    today: datetime.date,
    suffix: str,
    meals: int,
    fate: str,
    counts: Counter[str],
) -> None:
    lot = f"SDN-OFFRE-{today:%Y%m%d}-{suffix}"
    if Offer.objects.filter(kitchen=kitchen, lot_number=lot).exists():
        return
    offer = offers.offer_create(
        kitchen=kitchen,
        by=manager,
        production_date=today,
        meals_count=meals,
        liaison="cold",
        lot_number=lot,
        use_by_date=today + datetime.timedelta(days=3),
        dispatch_temperature_c=Decimal("2.5"),
        components=["main", "side"],
        allergens=["milk", "gluten"],
        dishes="Lasagnes de légumes, salade verte",
    )
    counts[Offer._meta.label] += 1
    if fate == "accepted":
        offers.offer_accept(offer=offer, by=volunteer)
    elif fate == "declined":
        offers.offer_decline(offer=offer, by=volunteer, reason=DECLINE_REASON)
    elif fate == "expired":
        # Offered three hours ago with the usual two hours to answer: its deadline has passed.
        Offer.objects.filter(pk=offer.pk).update(respond_by=timezone.now() - datetime.timedelta(hours=1))


def seed_round(kitchen: Kitchen, volunteer: User, today: datetime.date, counts: Counter[str]) -> None:
    association = Membership.objects.get(user=volunteer, role=Role.VOLUNTEER).association
    supply = Partnership.objects.get(
        kitchen=kitchen, association=association, mode=Partnership.Mode.DEDICATED
    )
    site = DistributionSite.objects.filter(association=association).order_by("pk").first()
    _, created = RoundSchedule.objects.get_or_create(
        partnership=supply,
        defaults={
            "territory": kitchen.territory,
            "weekdays": ["mon", "tue", "wed", "thu", "fri"],
            "window_start": datetime.time(10, 0),
            "window_end": datetime.time(11, 0),
            "expected_meals": supply.planned_meals_per_week // max(supply.production_days_per_week, 1),
            "site": site,
        },
    )
    counts[RoundSchedule._meta.label] += int(created)
    before = RoundSlot.objects.filter(partnership=supply).count()
    rounds.slots_generate(today=today)
    counts[RoundSlot._meta.label] += RoundSlot.objects.filter(partnership=supply).count() - before
    # The volunteer takes three slots out of four; the fourth has nobody (alerts at 48 and 24 hours).
    free = RoundSlot.objects.filter(
        partnership=supply, status=RoundSlot.Status.PLANNED, date__gte=today
    ).order_by("date")
    for number, slot in enumerate(free):
        if (
            number % 4 != 3
            and slot.volunteer_id is None
            and slot.reminded_at is None
            and slot.alerted_48h_at is None
        ):
            RoundSlot.objects.filter(pk=slot.pk, volunteer__isnull=True).update(volunteer=volunteer)
