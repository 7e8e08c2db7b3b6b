"""Celery tasks of the roll-ups: thin wrappers around ``costing.rollups``."""

import datetime
import logging
from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from territories.models import Territory

from . import pending, rollups, versions
from .models import StaleDay

logger = logging.getLogger(__name__)

# Days the nightly rebuild covers: use-by dates are a few days, so a batch's "expired" flag
# and late corrections settle within this window.
NIGHTLY_DAYS = 7


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=300, max_retries=8)
def rollup_territory_day(territory_id: int, day: str) -> int:
    """Recomputes the day, then the month's frozen cost figures that read it, and clears the day's
    stale mark (``costing.pending.stale_day_rebuild``).

    One transaction: a worker killed mid-way leaves both as they were, and the message, acked
    only at the end (``acks_late``), is delivered again and redone from the start; the day's
    mark, left in place, is swept again in any case.
    """
    return pending.stale_day_rebuild(territory_id=territory_id, day=datetime.date.fromisoformat(day))


@shared_task
def rebuild_recent_rollups() -> int:
    until = timezone.localdate()
    since = until - datetime.timedelta(days=NIGHTLY_DAYS - 1)
    territory_ids = Territory.objects.all_territories().values_list("pk", flat=True)
    return rollups.rebuild(territory_ids=territory_ids, since=since, until=until)


@shared_task
def sweep_stale_days() -> int:
    return pending.stale_days_sweep()


def enqueue_rollups(territory_id: int, days: set[datetime.date]) -> None:
    """Marks the territory-days a write touched as stale, now, in the write's transaction; after
    it commits, queues their roll-ups (the fast path).

    Days are gathered per connection, so an import of many records queues each
    territory-day once. A broker that is down must not fail the user's write, which is
    already committed: the marks stay, and the sweeper sends them once the broker is back.
    """
    pending.stale_days_mark(territory_id=territory_id, days=days)
    connection = transaction.get_connection()
    waiting: set[tuple[int, datetime.date]] | None = connection.__dict__.get("passerelle_pending_rollups")
    if waiting is None or not any(
        isinstance(callback, partial) and callback.func is send_pending and callback.args[0] is waiting
        for _savepoints, callback, _robust in connection.run_on_commit
    ):
        # No callback of ours waits: the transaction that gathered these days committed (and
        # sent them) or rolled back (and they must not go out with the next one's).
        waiting = connection.__dict__["passerelle_pending_rollups"] = set()
    waiting.update((territory_id, day) for day in days)
    transaction.on_commit(partial(send_pending, waiting))


def send_pending(waiting: set[tuple[int, datetime.date]]) -> None:
    while waiting:
        territory_id, day = waiting.pop()
        if not pending.send_rollup(territory_id, day):
            # The broker is down: the other days are marked too and wait for the sweeper,
            # rather than each making the user's request wait for its own timeout.
            waiting.clear()


def discard_pending_rollups() -> None:
    """Forgets the territory-days gathered in the current transaction, and their stale marks, for
    a caller that rebuilds them itself in one statement once it is done (the demo seed rebuilds
    its whole range with ``rollups.rebuild``)."""
    waiting = transaction.get_connection().__dict__.get("passerelle_pending_rollups")
    if waiting:
        days: dict[int, list[datetime.date]] = {}
        for territory_id, day in waiting:
            days.setdefault(territory_id, []).append(day)
        for territory_id, territory_days in days.items():
            versions.bump_days(territory_id, territory_days)
            StaleDay.objects.all_territories().filter(
                territory_id=territory_id, day__in=territory_days
            ).delete()
        waiting.clear()
