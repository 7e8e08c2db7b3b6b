"""Celery tasks of the meal flow: thin wrappers around the notification services."""

from celery import shared_task
from django.utils import timezone

from . import notifications


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_batch_ready(batch_id: int) -> int:
    return notifications.batch_ready_notify(batch_id=batch_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_batch_recalled(batch_id: int) -> int:
    return notifications.batch_recall_notify(batch_id=batch_id)


@shared_task
def remind_unpicked_batches() -> int:
    return notifications.use_by_reminders_send(today=timezone.localdate())


@shared_task
def run_record_import(import_id: int) -> str:
    from . import imports  # the import reads the API's serializers, which read the services

    return imports.record_import_run(import_id=import_id).status


@shared_task
def sweep_record_imports() -> dict[str, int]:
    from . import imports

    return imports.record_import_sweep()


# The offers' tasks, registered with the app's (Celery discovers ``meals.tasks`` only).
from meals.offers.tasks import (  # noqa: E402
    expire_offers,
    notify_offer_expired,
    notify_offer_made,
    notify_offer_taken,
)
from meals.rounds.tasks import (  # noqa: E402
    generate_round_slots,
    notify_slot,
    send_round_alerts,
    send_round_reminders,
)

__all__ = [
    "expire_offers",
    "generate_round_slots",
    "notify_batch_ready",
    "notify_batch_recalled",
    "notify_offer_expired",
    "notify_offer_made",
    "notify_offer_taken",
    "notify_slot",
    "remind_unpicked_batches",
    "run_record_import",
    "send_round_alerts",
    "send_round_reminders",
    "sweep_record_imports",
]
