"""Celery tasks of the meal flow: thin wrappers around the notification services."""

from celery import shared_task
from django.utils import timezone

from . import imports, notifications


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
    return imports.record_import_run(import_id=import_id).status


@shared_task
def sweep_record_imports() -> dict[str, int]:
    return imports.record_import_sweep()
