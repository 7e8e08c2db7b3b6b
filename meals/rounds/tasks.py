"""Celery tasks of the rounds: thin wrappers around the planning, the reminders and the alerts."""

from celery import shared_task

from . import notifications


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_slot(slot_id: int, kind: str) -> int:
    return notifications.slot_notify(slot_id=slot_id, kind=kind)


@shared_task
def generate_round_slots() -> dict[str, int]:
    from .services import slots_generate

    return slots_generate()


@shared_task
def send_round_reminders() -> int:
    from .services import reminders_send

    return reminders_send()


@shared_task
def send_round_alerts() -> int:
    from .services import uncovered_alerts_send

    return uncovered_alerts_send()
