"""Pickup rounds: slots planned from a weekly schedule (idempotent, across a changed schedule
and closures), sign-ups, and the reminders and alerts sent once per slot and threshold."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.core import mail
from django.test import Client

from kitchens.models import Closure
from meals import food_safety
from meals.calendars import feeds
from meals.models import RoundSchedule, RoundSlot
from meals.rounds import services
from territories.exceptions import Conflict
from territories.roles import Role
from tests.factories import member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

# A Monday: four weeks from it hold 12 Mondays, Wednesdays and Fridays.
MONDAY = datetime.date(2030, 3, 4)


@pytest.fixture
def scene():
    scene = Scene()
    scene.volunteer.email = "benevole@exemple.fr"
    scene.volunteer.save()
    scene.schedule = RoundSchedule.objects.create(
        territory=scene.territory,
        partnership=scene.partnership,
        weekdays=["mon", "wed", "fri"],
        window_start=datetime.time(11, 30),
        window_end=datetime.time(12, 30),
        expected_meals=60,
        site=scene.site,
    )
    return scene


def planned(scene) -> list[tuple[datetime.date, str, int]]:
    return list(
        RoundSlot.objects.filter(schedule=scene.schedule, status="planned")
        .order_by("date")
        .values_list("date", "window_start", "expected_meals")
    )


def test_slot_generation_is_idempotent_across_runs_a_changed_schedule_and_closures(scene):
    assert services.slots_generate(today=MONDAY) == {"created": 12, "updated": 0, "cancelled": 0}
    assert services.slots_generate(today=MONDAY) == {"created": 0, "updated": 0, "cancelled": 0}
    assert [day.strftime("%a") for day, _, _ in planned(scene)[:3]] == ["Mon", "Wed", "Fri"]

    # Mondays and Thursdays from now on, later and with more meals.
    RoundSchedule.objects.filter(pk=scene.schedule.pk).update(
        weekdays=["mon", "thu"],
        window_start=datetime.time(12, 0),
        window_end=datetime.time(13, 0),
        expected_meals=80,
    )
    assert services.slots_generate(today=MONDAY) == {"created": 4, "updated": 4, "cancelled": 8}
    assert services.slots_generate(today=MONDAY) == {"created": 0, "updated": 0, "cancelled": 0}
    rows = planned(scene)
    assert len(rows) == 8
    assert {day.strftime("%a") for day, _, _ in rows} == {"Mon", "Thu"}
    assert {(start, meals) for _, start, meals in rows} == {(datetime.time(12, 0), 80)}
    assert RoundSlot.objects.filter(schedule=scene.schedule).count() == 16  # 8 cancelled kept

    # A school holiday over the second week cancels its Monday and Thursday, with the reason.
    Closure.objects.create(
        territory=scene.territory,
        kind=Closure.Kind.SCHOOL_HOLIDAY,
        label="Vacances d'hiver",
        starts_on=MONDAY + datetime.timedelta(days=7),
        ends_on=MONDAY + datetime.timedelta(days=13),
    )
    assert services.slots_generate(today=MONDAY) == {"created": 0, "updated": 0, "cancelled": 2}
    assert services.slots_generate(today=MONDAY) == {"created": 0, "updated": 0, "cancelled": 0}
    off = RoundSlot.objects.get(schedule=scene.schedule, date=MONDAY + datetime.timedelta(days=7))
    assert (off.status, off.cancel_reason) == ("cancelled", "Cuisine fermée ou vacances scolaires.")


def slot_on(scene, day: datetime.date, **fields) -> RoundSlot:
    return RoundSlot.objects.create(
        territory=scene.territory,
        schedule=scene.schedule,
        partnership=scene.partnership,
        association=scene.partnership.association,
        kitchen=scene.partnership.kitchen,
        date=day,
        window_start=datetime.time(12, 0),
        window_end=datetime.time(13, 0),
        expected_meals=60,
        site=scene.site,
        **fields,
    )


def test_one_volunteer_per_slot_and_the_coordinator_assigns(scene):
    slot = slot_on(scene, food_safety.today() + datetime.timedelta(days=5))
    other = member(Role.VOLUNTEER, scene.territory, association=scene.partnership.association)
    services.slot_sign_up(slot=slot, by=scene.volunteer)
    with pytest.raises(Conflict, match="Un autre bénévole s'est inscrit"):
        services.slot_sign_up(slot=slot, by=other)
    services.slot_withdraw(slot=slot, by=scene.volunteer)
    coordinator = member(
        Role.ASSOCIATION_COORDINATOR, scene.territory, association=scene.partnership.association
    )
    client = Client()
    client.force_login(coordinator)
    client.post(f"/tournees/{slot.pk}/affectation/", {"volunteer": other.pk})
    slot.refresh_from_db()
    assert slot.volunteer == other
    outsider = member(Role.VOLUNTEER, scene.territory)
    client.force_login(outsider)
    assert client.post(f"/tournees/{slot.pk}/inscription/").status_code == 404
    slot.refresh_from_db()
    assert slot.volunteer == other


def test_the_reminder_goes_once_the_day_before(scene, django_capture_on_commit_callbacks):
    now = datetime.datetime(2030, 3, 4, 18, 0, tzinfo=food_safety.TERRITORY_TZ)
    slot_on(scene, datetime.date(2030, 3, 5), volunteer=scene.volunteer)
    slot_on(scene, datetime.date(2030, 3, 6), volunteer=scene.volunteer)  # the day after: not yet
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(now=now) == 1
        assert services.reminders_send(now=now) == 0
    assert [message.to for message in mail.outbox] == [["benevole@exemple.fr"]]
    assert mail.outbox[0].subject == "Passerelle : votre collecte de demain (12:00)"


def test_alerts_of_a_slot_with_nobody_go_once_per_threshold(scene, django_capture_on_commit_callbacks):
    coordinator = member(
        Role.ASSOCIATION_COORDINATOR, scene.territory, association=scene.partnership.association
    )
    coordinator.email = "coordination@exemple.fr"
    coordinator.save()
    authority = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    authority.email = "ccas@exemple.fr"
    authority.save()
    slot = slot_on(scene, datetime.date(2030, 3, 7))
    start = datetime.datetime(2030, 3, 7, 12, 0, tzinfo=food_safety.TERRITORY_TZ)
    minute = datetime.timedelta(minutes=1)
    sent = []
    zero = datetime.timedelta(0)
    # 48 h and a minute before, 48 h (twice), 24 h and a minute, 24 h, 2 h.
    steps = [(48, minute), (48, zero), (48, zero), (24, minute), (24, zero), (2, zero)]
    with django_capture_on_commit_callbacks(execute=True):
        for hours_before, extra in steps:
            sent.append(
                services.uncovered_alerts_send(now=start - datetime.timedelta(hours=hours_before) - extra)
            )
    assert sent == [0, 1, 0, 0, 1, 0]
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["coordination@exemple.fr"], "Passerelle : personne pour la collecte du 07/03/2030 (48 h avant)"),
        (["ccas@exemple.fr"], "Passerelle : personne pour la collecte du 07/03/2030 (24 h avant)"),
    ]
    slot.refresh_from_db()
    assert slot.alerted_48h_at is not None and slot.alerted_24h_at is not None


def test_the_day_batch_is_attached_and_the_volunteer_told(scene, django_capture_on_commit_callbacks):
    slot = slot_on(scene, scene.today, volunteer=scene.volunteer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        batch = scene.batch(lot_number="TOURNEE-1", meals_count=60)
    slot.refresh_from_db()
    assert slot.batch == batch
    subjects = [message.subject for message in mail.outbox if message.to == ["benevole@exemple.fr"]]
    assert f"Passerelle : le lot de votre collecte du {scene.today:%d/%m/%Y} est déclaré" in subjects


def test_the_volunteer_calendar_shows_their_slots_only(scene):
    mine = slot_on(scene, scene.today + datetime.timedelta(days=3), volunteer=scene.volunteer)
    slot_on(scene, scene.today + datetime.timedelta(days=4))  # nobody yet: not in the volunteer's
    feed = feeds.feed_of(user=scene.volunteer)
    response = Client().get(f"/calendrier/{feed.token}.ics")
    events = list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))
    assert [str(event["uid"]) for event in events] == [f"creneau-{mine.pk}@passerelle"]
    assert events[0].decoded("dtstart") == datetime.datetime.combine(
        mine.date, datetime.time(12, 0), food_safety.TERRITORY_TZ
    )
    association_feed = feeds.feed_of(association=scene.partnership.association)
    response = Client().get(f"/calendrier/{association_feed.token}.ics")
    assert len(list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))) == 2
