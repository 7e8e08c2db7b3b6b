"""Planning the rounds' slots, volunteers signing up, and the reminders and alerts.

- ``schedule_save`` writes a schedule (through the API or the browser's form) and plans the
  slots again in the same transaction: a refused write leaves no slot behind.
- ``slots_generate`` plans each active schedule's slots from today to ``weeks`` ahead: one per
  scheduled weekday on which the partnership is active and its kitchen open (the school holidays
  and closures of ``associations.planning.ClosureCalendar``). A second run changes nothing; after
  a schedule changes, the future slots take its new window, meals and site, and a slot whose day
  left the schedule or fell in a closure is cancelled with the reason (its volunteer is kept,
  so the slot comes back as it was if the day returns).
- ``slot_sign_up`` / ``slot_withdraw`` / ``slot_assign``: one volunteer per slot, by a
  conditional update (two volunteers at once: one gets it, the other a 409).
- ``reminders_send``: the slot's volunteer the day before; ``uncovered_alerts_send``: a slot with
  nobody 48 hours before its window alerts the association's coordinators, 24 hours before the
  territory's authority. Each once per slot and threshold (the ``*_at`` field is set by a
  conditional update before the e-mail is queued).
- ``slot_attach_batch``: the kitchen's batch of the slot's day is attached, its volunteer told.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.models import Partnership, Weekday
from associations.planning import ClosureCalendar
from config.celery import delay_or_log
from territories.exceptions import Conflict
from territories.roles import Role
from territories.scoping import memberships_of

from .. import food_safety
from .models import RoundSchedule, RoundSlot

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..models import Batch

WEEKDAY_CODES = list(Weekday.values)  # Monday first, as date.weekday()
DEFAULT_WEEKS = 4
ALERT_ASSOCIATION = datetime.timedelta(hours=48)
ALERT_AUTHORITY = datetime.timedelta(hours=24)


def slot_start(slot: RoundSlot) -> datetime.datetime:
    return datetime.datetime.combine(slot.date, slot.window_start, food_safety.TERRITORY_TZ)


def running_on(partnership: Partnership, day: datetime.date) -> bool:
    return (
        partnership.status == Partnership.Status.ACTIVE
        and partnership.starts_on <= day
        and (partnership.ends_on is None or day <= partnership.ends_on)
    )


def planned_days(
    schedule: RoundSchedule, start: datetime.date, end: datetime.date, calendar: ClosureCalendar
):
    """Each day of the period the schedule plans, with ``None`` or the reason it is off."""
    partnership = schedule.partnership
    closed = calendar.closed(schedule.territory_id, partnership.kitchen_id)
    day = start
    while day <= end:
        if WEEKDAY_CODES[day.weekday()] in schedule.weekdays and schedule.active:
            if not running_on(partnership, day):
                yield day, _("Le partenariat n'est pas actif ce jour-là.")
            elif any(first <= day <= last for first, last in closed):
                yield day, _("Cuisine fermée ou vacances scolaires.")
            else:
                yield day, None
        day += datetime.timedelta(days=1)


@transaction.atomic
def slots_generate(*, today: datetime.date | None = None, weeks: int = DEFAULT_WEEKS) -> dict[str, int]:
    """Plans (or brings in line with their schedule) the slots of every schedule, ``weeks`` ahead."""
    today = today or food_safety.today()
    end = today + datetime.timedelta(days=7 * weeks - 1)
    calendar = ClosureCalendar.read(territory_ids=None, start=today, end=end)
    counts = {"created": 0, "updated": 0, "cancelled": 0}
    schedules = RoundSchedule.objects.all_territories().select_related("partnership")
    for schedule in schedules:
        existing = {slot.date: slot for slot in schedule.slots.filter(date__gte=today, date__lte=end)}
        wanted: dict[datetime.date, str | None] = dict(planned_days(schedule, today, end, calendar))
        terms = {
            "window_start": schedule.window_start,
            "window_end": schedule.window_end,
            "expected_meals": schedule.expected_meals,
            "site_id": schedule.site_id,
        }
        for day, off in wanted.items():
            slot = existing.get(day)
            state = (
                {"status": RoundSlot.Status.CANCELLED, "cancel_reason": off}
                if off
                else {
                    "status": RoundSlot.Status.PLANNED,
                    "cancel_reason": "",
                }
            )
            if slot is None:
                if off:
                    continue
                RoundSlot.objects.create(
                    territory_id=schedule.territory_id,
                    schedule=schedule,
                    partnership=schedule.partnership,
                    association_id=schedule.partnership.association_id,
                    kitchen_id=schedule.partnership.kitchen_id,
                    date=day,
                    **terms,
                    **state,
                )
                counts["created"] += 1
                continue
            changes = {
                name: value
                for name, value in {**terms, **state}.items()
                if getattr(slot, name) != value and not (off and name in terms)
            }
            if changes:
                RoundSlot.objects.filter(pk=slot.pk).update(**changes)
                counts["cancelled" if off and slot.status != RoundSlot.Status.CANCELLED else "updated"] += 1
        for day, slot in existing.items():
            if day not in wanted and slot.status == RoundSlot.Status.PLANNED:
                RoundSlot.objects.filter(pk=slot.pk).update(
                    status=RoundSlot.Status.CANCELLED,
                    cancel_reason=_("Ce jour ne fait plus partie de la tournée."),
                )
                counts["cancelled"] += 1
    return counts


def schedule_save(save: Callable[[], Any]) -> dict[str, int]:
    """Runs ``save`` (which writes a schedule and checks the writer's scope, raising to refuse)
    then plans the slots, in one transaction; returns the counts of ``slots_generate``."""
    with transaction.atomic():
        save()
        return slots_generate()


def planned_ahead(schedule: RoundSchedule) -> int:
    """The schedule's slots planned from today on (the ones ``slots_generate`` keeps ahead)."""
    return schedule.slots.filter(status=RoundSlot.Status.PLANNED, date__gte=food_safety.today()).count()


def association_ids(user: User) -> set[int]:
    return {
        membership.association_id
        for membership in memberships_of(user)
        if membership.role in (Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR) and membership.association_id
    }


def coordinates(user: User, association_id: int) -> bool:
    return any(
        membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id == association_id
        for membership in memberships_of(user)
    )


def check_open(slot: RoundSlot) -> None:
    if slot.status != RoundSlot.Status.PLANNED:
        raise ValidationError(
            {"slot": _("Ce créneau est annulé : %(reason)s") % {"reason": slot.cancel_reason}}
        )
    if slot.date < food_safety.today():
        raise ValidationError({"slot": _("Ce créneau est passé.")})


@transaction.atomic
def slot_sign_up(*, slot: RoundSlot, by: User) -> RoundSlot:
    """A volunteer of the association takes a free slot; a slot already taken answers 409."""
    if slot.association_id not in association_ids(by):
        raise ValidationError({"slot": _("Ce créneau est celui d'une autre association.")})
    check_open(slot)
    if not RoundSlot.objects.filter(pk=slot.pk, volunteer__isnull=True).update(volunteer=by):
        slot.refresh_from_db()
        if slot.volunteer_id == by.pk:
            raise Conflict(_("Vous êtes déjà inscrit à ce créneau."))
        raise Conflict(_("Un autre bénévole s'est inscrit à ce créneau."))
    slot.refresh_from_db()
    return slot


@transaction.atomic
def slot_withdraw(*, slot: RoundSlot, by: User) -> RoundSlot:
    """The slot's volunteer withdraws (or the coordinator frees the slot); it can be taken again,
    and its alerts count from now on as for any slot with nobody."""
    allowed = slot.volunteer_id == by.pk or coordinates(by, slot.association_id)
    if not allowed:
        raise ValidationError({"slot": _("Seul le bénévole inscrit ou le coordinateur libère ce créneau.")})
    check_open(slot)
    RoundSlot.objects.filter(pk=slot.pk).update(volunteer=None, reminded_at=None)
    slot.refresh_from_db()
    return slot


@transaction.atomic
def slot_assign(*, slot: RoundSlot, by: User, volunteer: Any) -> RoundSlot:
    """The association's coordinator puts one of its volunteers on the slot."""
    if not coordinates(by, slot.association_id):
        raise ValidationError({"volunteer": _("Seul un coordinateur de l'association affecte un bénévole.")})
    if slot.association_id not in association_ids(volunteer):
        raise ValidationError({"volunteer": _("Ce bénévole n'est pas de l'association.")})
    check_open(slot)
    RoundSlot.objects.filter(pk=slot.pk).update(volunteer=volunteer, reminded_at=None)
    slot.refresh_from_db()
    return slot


def once(slot_id: int, field: str, task: Any) -> bool:
    """Marks the slot's reminder or alert as sent (a conditional update) and queues its e-mail on
    commit; ``False`` when it was already sent."""
    with transaction.atomic():
        marked = RoundSlot.objects.filter(pk=slot_id, **{f"{field}__isnull": True}).update(
            **{field: timezone.now()}
        )
        if marked:
            transaction.on_commit(functools.partial(delay_or_log, task, slot_id, field))
    return bool(marked)


def reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Reminds each volunteer of tomorrow's slots (Paris days), once per slot."""
    from .tasks import notify_slot

    now = now or timezone.now()
    tomorrow = food_safety.local_day(now) + datetime.timedelta(days=1)
    due = RoundSlot.objects.all_territories().filter(
        date=tomorrow, status=RoundSlot.Status.PLANNED, volunteer__isnull=False, reminded_at__isnull=True
    )
    return sum(once(pk, "reminded_at", notify_slot) for pk in due.values_list("pk", flat=True))


def uncovered_alerts_send(*, now: datetime.datetime | None = None) -> int:
    """A planned slot with nobody: 48 hours before its window starts the association's
    coordinators are alerted, 24 hours before the territory's authority; once per threshold."""
    from .tasks import notify_slot

    now = now or timezone.now()
    today = food_safety.local_day(now)
    slots = RoundSlot.objects.all_territories().filter(
        status=RoundSlot.Status.PLANNED,
        volunteer__isnull=True,
        date__gte=today,
        date__lte=today + datetime.timedelta(days=3),
    )
    sent = 0
    for slot in slots:
        left = slot_start(slot).astimezone(datetime.UTC) - now.astimezone(datetime.UTC)
        if left <= datetime.timedelta(0):
            continue
        if left <= ALERT_AUTHORITY and slot.alerted_24h_at is None:
            sent += once(slot.pk, "alerted_24h_at", notify_slot)
        if left <= ALERT_ASSOCIATION and slot.alerted_48h_at is None:
            sent += once(slot.pk, "alerted_48h_at", notify_slot)
    return sent


def slot_attach_batch(batch: Batch) -> RoundSlot | None:
    """The kitchen's batch of a slot's day goes with the slot; its volunteer is told (on commit)."""
    from .tasks import notify_slot

    slot = (
        RoundSlot.objects.all_territories()
        .filter(
            partnership_id=batch.partnership_id,
            date=batch.production_date,
            status=RoundSlot.Status.PLANNED,
            batch__isnull=True,
        )
        .first()
    )
    if slot is None:
        return None
    RoundSlot.objects.filter(pk=slot.pk).update(batch=batch)
    if slot.volunteer_id:
        transaction.on_commit(functools.partial(delay_or_log, notify_slot, slot.pk, "batch"))
    return slot
