"""Stale roll-up days: the database, not the broker, holds the roll-ups that are owed.

- ``stale_days_mark``: a write that changes a territory-day's records marks the day, in the
  write's own transaction (``costing.tasks.enqueue_rollups`` does it before queuing the
  roll-up on commit, the fast path).
- ``stale_day_rebuild`` (the roll-up task's work): reads the day's mark, rebuilds the day and
  its month's cost figures, and clears the mark it read, in one transaction. A write committed
  meanwhile has moved ``marked_at``: its mark stays, and the day is rebuilt again.
- ``stale_days_sweep`` (beat, every minute): sends again each mark older than
  ``PASSERELLE_RESEND_AFTER_SECONDS``, whatever the day's date, so a message lost with the
  broker delays a figure by minutes, never until someone rebuilds by hand.

Running the sweep twice in a row sends nothing more: a sent mark waits as long again.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.celery import delay_or_log

from . import rollups, services, versions
from .models import StaleDay

logger = logging.getLogger(__name__)


def stale_days_mark(*, territory_id: int, days: Iterable[datetime.date]) -> None:
    """Marks territory-days as owing a rebuild (a new mark, or a later ``marked_at``)."""
    now = timezone.now()
    days = sorted(set(days))
    # The roll-up version first (the dashboards say the day is being updated), as every writer.
    versions.bump_days(territory_id, days)
    # In date order, so that two writes marking overlapping days lock the rows in the same order.
    marks = [StaleDay(territory_id=territory_id, day=day, marked_at=now) for day in days]
    StaleDay.objects.bulk_create(
        marks, update_conflicts=True, unique_fields=["territory", "day"], update_fields=["marked_at"]
    )


def stale_day_rebuild(*, territory_id: int, day: datetime.date) -> int:
    """Rebuilds a territory-day and its month's cost figures, and clears the day's mark unless a
    write marked it again meanwhile; one transaction, which bumps the roll-up version (the
    roll-up does, first). Returns the day's number of roll-up rows."""
    with transaction.atomic():
        marked_at = (
            StaleDay.objects.all_territories()
            .filter(territory_id=territory_id, day=day)
            .values_list("marked_at", flat=True)
            .first()
        )
        rows = rollups.rollup_territory_day(territory_id=territory_id, day=day)
        services.monthly_cost_refresh(territory_id=territory_id, month=day.replace(day=1))
        if marked_at is not None:
            StaleDay.objects.all_territories().filter(
                territory_id=territory_id, day=day, marked_at=marked_at
            ).delete()
    return rows


def send_rollup(territory_id: int, day: datetime.date) -> bool:
    from .tasks import rollup_territory_day

    return delay_or_log(rollup_territory_day, territory_id, day.isoformat())


def stale_days_sweep() -> int:
    """Sends again every mark left longer than the resend delay (and not sent within it);
    stops at the first message the broker refuses. Returns the number sent."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.PASSERELLE_RESEND_AFTER_SECONDS)
    due = (
        StaleDay.objects.all_territories()
        .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=cutoff), marked_at__lt=cutoff)
        .order_by("marked_at", "pk")
        .values_list("pk", "territory_id", "day")
    )
    sent = 0
    for pk, territory_id, day in due:
        if not send_rollup(territory_id, day):
            break  # the broker is down: the next pass tries again
        StaleDay.objects.all_territories().filter(pk=pk).update(sent_at=now)
        sent += 1
    if sent:
        logger.info("Stale roll-up days sent again: %s", sent)
    return sent
