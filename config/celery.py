"""The Celery application: tasks run eagerly in-process unless CELERY_BROKER_URL is set."""

import functools
import logging
import os
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

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


# In-process work (tasks run eagerly, no broker) that a view keeps for after its response.
_after_response: ContextVar[list[Callable[[], object]] | None] = ContextVar("after_response", default=None)


def kept_for_after_response(work: Callable[[], object]) -> bool:
    """Keeps ``work`` for after the response when tasks run in-process and the current view asked
    for it (``work_after_response``); says whether it was kept (else the caller sends it now)."""
    pending = _after_response.get()
    if pending is None or not app.conf.task_always_eager:
        return False
    pending.append(work)
    return True


def run_quietly(work: Callable[[], object]) -> None:
    try:
        work()
    except Exception:
        # The work stores its own failure (a report or an import says it failed); log it too.
        logging.getLogger(__name__).exception("In-process work after the response failed.")


def work_after_response(view: Callable[..., Any]) -> Callable[..., Any]:
    """Makes a view that asks for a report or an import answer at once when tasks run in-process:
    the work its request queued runs once the response is sent (when the server closes it),
    so the browser gets the status page straight away and follows the progress there, as it
    does with a worker. With a broker nothing changes: the task is queued as usual."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _after_response.set([])
        try:
            response = view(*args, **kwargs)
            pending = _after_response.get() or []
        finally:
            _after_response.reset(token)
        for work in pending:
            # Django runs a response's closers when the server closes it, after the body is sent.
            response._resource_closers.append(functools.partial(run_quietly, work))
        return response

    return wrapper
