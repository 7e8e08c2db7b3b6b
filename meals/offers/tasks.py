"""Celery tasks of the offers: thin wrappers around their notifications and their expiry."""

from celery import shared_task

from . import notifications


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_offer_made(offer_id: int) -> int:
    return notifications.offer_made_notify(offer_id=offer_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_offer_taken(offer_id: int) -> int:
    return notifications.offer_taken_notify(offer_id=offer_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_offer_expired(offer_id: int) -> int:
    return notifications.offer_expired_notify(offer_id=offer_id)


@shared_task
def expire_offers() -> int:
    from .services import offers_expire

    return offers_expire()
