"""The Celery application: tasks run eagerly in-process unless CELERY_BROKER_URL is set."""

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("passerelle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def delay_or_log(task, *args) -> bool:
    """Queues a task and says whether the broker took it.

    With the broker down the caller's committed work stands and the miss is logged: the rows
    that hold pending work (stale roll-up days, reports, imports) are sent again by the
    sweepers once the broker is back (docs/architecture.md); a missed email is only logged.
    """
    try:
        task.delay(*args)
    except Exception:
        logging.getLogger(__name__).warning(
            "Task %s%s not queued: broker unreachable.", task.name, args, exc_info=True
        )
        return False
    return True
