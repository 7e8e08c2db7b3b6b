"""Celery tasks of the roll-ups: thin wrappers around ``costing.rollups``."""

import datetime
import logging
from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from config.celery import delay_or_log
from territories.models import Territory

from . import rollups, services

logger = logging.getLogger(__name__)

# Days the nightly rebuild covers: use-by dates are a few days, so a batch's "expired" flag
# and late corrections settle within this window.
NIGHTLY_DAYS = 7


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=300, max_retries=8)
def rollup_territory_day(territory_id: int, day: str) -> int:
    """Recomputes the day, then the month's frozen cost figures that read it.

    One transaction: a worker killed mid-way leaves both as they were, and the message, acked
    only at the end (``acks_late``), is delivered again and redone from the start.
    """
    on = datetime.date.fromisoformat(day)
    with transaction.atomic():
        rows = rollups.rollup_territory_day(territory_id=territory_id, day=on)
        services.monthly_cost_refresh(territory_id=territory_id, month=on.replace(day=1))
    return rows


@shared_task
def rebuild_recent_rollups() -> int:
    until = timezone.localdate()
    since = until - datetime.timedelta(days=NIGHTLY_DAYS - 1)
    territory_ids = Territory.objects.all_territories().values_list("pk", flat=True)
    return rollups.rebuild(territory_ids=territory_ids, since=since, until=until)


def enqueue_rollups(territory_id: int, days: set[datetime.date]) -> None:
    """After the current transaction commits, recompute the territory-days a write touched.

    Days are gathered per connection, so an import of many records queues each
    territory-day once. A broker that is down must not fail the user's write, which is
    already committed: the nightly rebuild catches the roll-ups up.
    """
    connection = transaction.get_connection()
    pending: set[tuple[int, datetime.date]] | None = connection.__dict__.get("passerelle_pending_rollups")
    if pending is None or not any(
        isinstance(callback, partial) and callback.func is send_pending and callback.args[0] is pending
        for _savepoints, callback, _robust in connection.run_on_commit
    ):
        # No callback of ours waits: the transaction that gathered these days committed (and
        # sent them) or rolled back (and they must not go out with the next one's).
        pending = connection.__dict__["passerelle_pending_rollups"] = set()
    pending.update((territory_id, day) for day in days)
    transaction.on_commit(partial(send_pending, pending))


def send_pending(pending: set[tuple[int, datetime.date]]) -> None:
    while pending:
        territory_id, day = pending.pop()
        delay_or_log(rollup_territory_day, territory_id, day.isoformat())
