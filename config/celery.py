"""The Celery application: tasks run eagerly in-process unless CELERY_BROKER_URL is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("passerelle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def delay_or_log(task, *args) -> None:
    """Queues a task; with the broker down the caller's committed work stands and the miss is logged.

    Roll-ups are caught up by the nightly rebuild; a missed email is only logged.
    """
    import logging

    try:
        task.delay(*args)
    except Exception:
        logging.getLogger(__name__).warning(
            "Task %s%s not queued: broker unreachable.", task.name, args, exc_info=True
        )
