"""The offers' and rounds' indicators, on a case worked out by hand."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from evaluation.indicators import compute_indicators
from meals import food_safety
from meals.models import Offer, Pickup, RoundSchedule, RoundSlot
from tests.meals.offer_world import OfferWorld

pytestmark = pytest.mark.django_db


def weekly_schedule(world: OfferWorld, partnership) -> RoundSchedule:
    """A Monday round, 07:00 to 08:00, 40 meals, to the convention's first site."""
    return RoundSchedule.objects.create(
        territory=world.territory,
        partnership=partnership,
        weekdays=["mon"],
        window_start=datetime.time(7, 0),
        window_end=datetime.time(8, 0),
        expected_meals=40,
        site=world.convention.association.sites.first(),
    )


def test_offers_and_rounds_figures(django_capture_on_commit_callbacks):
    from meals.offers import services

    world = OfferWorld()
    today = datetime.date.today()
    made = []
    for number, meals in enumerate((40, 50, 45)):
        made.append(
            services.offer_create(
                kitchen=world.kitchen,
                by=world.kitchen_user,
                production_date=today,
                meals_count=meals,
                liaison="cold",
                lot_number=f"FIG-{number}",
                use_by_date=today + datetime.timedelta(days=3),
                dispatch_temperature_c=Decimal("2"),
                allergens=["milk"],
            )
        )
    # Accepted 30 and 90 minutes after being made: the median is 60 minutes.
    for offer, minutes in ((made[0], 30), (made[1], 90)):
        services.offer_accept(offer=offer, by=world.volunteers["alpha"])
        Offer.objects.filter(pk=offer.pk).update(
            accepted_at=offer.created_at + datetime.timedelta(minutes=minutes)
        )
    # The third expires: its 45 meals were offered, not taken.
    Offer.objects.filter(pk=made[2].pk).update(respond_by=timezone.now() - datetime.timedelta(minutes=1))
    assert services.offers_expire() == 1

    day = today - datetime.timedelta(days=1)
    # Four planned slots yesterday: three with a volunteer (75 %), one alerted at 24 hours, and the
    # one whose batch was collected after its window closed at 08:00.
    site = world.convention.association.sites.first()
    schedule = weekly_schedule(world, world.convention)
    batch = Offer.objects.get(pk=made[0].pk).batch
    slots = []
    for number in range(4):
        slots.append(
            RoundSlot.objects.create(
                territory=world.territory,
                schedule=(
                    schedule if number == 0 else weekly_schedule(world, world.donor_to(f"extra{number}"))
                ),
                partnership=world.convention,
                association=world.convention.association,
                kitchen=world.kitchen,
                date=day,
                window_start=datetime.time(7, 0),
                window_end=datetime.time(8, 0),
                expected_meals=40,
                site=site,
                volunteer=world.volunteers["alpha"] if number < 3 else None,
                alerted_24h_at=timezone.now() if number == 3 else None,
                batch=batch if number == 0 else None,
            )
        )
    # The batch collected at 08:01 (Paris), one minute after the window closed: late. Written
    # directly, dated on the slot's day (the service dates a pickup no earlier than its batch).
    Pickup.objects.create(
        territory=world.territory,
        batch=batch,
        association=world.convention.association,
        picked_up_by=world.volunteers["alpha"],
        picked_up_at=datetime.datetime.combine(day, datetime.time(8, 1), food_safety.TERRITORY_TZ),
        picked_up_on=day,
        meals_received=40,
        temperature_c=Decimal("2"),
        transport_mode="soft",
    )

    result = compute_indicators(territory_ids=[world.territory.pk], start=day, end=today)
    values = {code: result.get(code).value for code in (
        "offers_made", "offers_accepted", "offer_acceptance_median_minutes", "offers_expired_meals",
        "round_slots_covered_share", "round_slots_uncovered_24h", "round_pickups_late",
    )}  # fmt: skip
    assert values == {
        "offers_made": 3,
        "offers_accepted": 2,
        "offer_acceptance_median_minutes": Decimal("60.0"),
        "offers_expired_meals": 45,
        "round_slots_covered_share": Decimal("75.0"),
        "round_slots_uncovered_24h": 1,
        "round_pickups_late": 1,
    }


def test_offers_are_counted_by_the_paris_day_they_were_made_at_the_periods_bounds():
    """An offer made at 00:00 on the first day (Paris) and one at 23:59 on the last day count;
    one at 23:59 the day before and one at 00:00 the day after do not (in winter, 23:00 and
    22:59 UTC). A planned slot counts from the first day to today; a cancelled one never."""
    from meals.offers import services

    world = OfferWorld()
    today = datetime.date.today()
    start, end = today - datetime.timedelta(days=3), today
    paris = food_safety.TERRITORY_TZ
    moments = {
        "before": datetime.datetime.combine(start - datetime.timedelta(days=1), datetime.time(23, 59), paris),
        "first": datetime.datetime.combine(start, datetime.time(0, 0), paris),
        "last": datetime.datetime.combine(end, datetime.time(23, 59), paris),
        "after": datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(0, 0), paris),
    }
    for number, (name, moment) in enumerate(moments.items()):
        offer = services.offer_create(
            kitchen=world.kitchen,
            by=world.kitchen_user,
            production_date=today,
            meals_count=10 + number,
            liaison="cold",
            lot_number=f"BORNE-{name}",
            use_by_date=today + datetime.timedelta(days=3),
            dispatch_temperature_c=Decimal("2"),
            allergens=["milk"],
        )
        # Each expired, with its own count of meals: which of them are counted shows.
        Offer.objects.filter(pk=offer.pk).update(created_at=moment, status=Offer.Status.EXPIRED)

    site = world.convention.association.sites.first()
    for number, (day, status) in enumerate(
        (
            (start - datetime.timedelta(days=1), RoundSlot.Status.PLANNED),
            (start, RoundSlot.Status.PLANNED),
            (today, RoundSlot.Status.PLANNED),
            (today, RoundSlot.Status.CANCELLED),
            (today + datetime.timedelta(days=1), RoundSlot.Status.PLANNED),
        )
    ):
        RoundSlot.objects.create(
            territory=world.territory,
            schedule=weekly_schedule(world, world.donor_to(f"borne{number}")),
            partnership=world.convention,
            association=world.convention.association,
            kitchen=world.kitchen,
            date=day,
            window_start=datetime.time(7, 0),
            window_end=datetime.time(8, 0),
            expected_meals=40,
            site=site,
            status=status,
            volunteer=world.volunteers["alpha"] if day == start else None,
        )

    result = compute_indicators(territory_ids=[world.territory.pk], start=start, end=end)
    assert result.get("offers_made").value == 2
    assert result.get("offers_expired_meals").value == 11 + 12  # the first day's and the last day's
    # Of the two slots counted (the first day's, covered, and today's planned one): 50 %.
    assert result.get("round_slots_covered_share").value == Decimal("50.0")
