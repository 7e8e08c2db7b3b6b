"""Celery tasks of the associations: thin wrappers around the duty services."""

from celery import shared_task
from django.utils import timezone

from . import duties


@shared_task
def send_habilitation_alerts() -> int:
    return duties.habilitation_alerts_send(today=timezone.localdate())
