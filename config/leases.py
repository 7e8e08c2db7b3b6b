"""Work held in rows (reports, imports): a sweeper drives their state, a lease proves a worker lives.

The broker only carries a row's id; the row says what is left to do (docs/architecture.md,
"Pending work"):

- ``pending``: asked, not taken. ``sent_at`` is when its message last went to the broker (None
  when the broker could not be reached). The sweeper sends it again once ``sent_at`` is older
  than ``PASSERELLE_RESEND_AFTER_SECONDS`` (or None).
- ``running``: a worker claimed it (``lease_claim``) and holds a lease until
  ``lease_expires_at``, which it renews from a thread while it works (``lease_kept``), so the
  lease lapses only when the worker stops (killed, machine gone). The sweeper sets a row whose
  lease lapsed back to ``pending`` and sends it again, or to ``failed`` with the reason once it
  was attempted ``PASSERELLE_MAX_ATTEMPTS`` times. A user may retry it as soon as the lease lapsed.
- A worker stores its outcome only while it still holds the row (``lease_finish``: same
  attempt, still running), so a worker that lost its lease (and was replaced) writes nothing.

A duplicate message (the sweeper's and the broker's own redelivery) finds the row taken or done
and does nothing: claiming is one conditional update.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

PENDING = "pending"
RUNNING = "running"
FAILED = "failed"


class LeasedWork(models.Model):
    """The fields of a row of work a sweeper drives (see the module's docstring)."""

    sent_at = models.DateTimeField(gettext_lazy("envoyé au calcul le"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(gettext_lazy("tentatives"), default=0)
    lease_expires_at = models.DateTimeField(gettext_lazy("bail du calcul jusqu'au"), null=True, blank=True)

    class Meta:
        abstract = True


# A concrete subclass of ``LeasedWork`` with ``status`` (and ``finished_at``): the functions below
# filter on fields the abstract class does not declare.
WorkModel = Any


def lease_duration() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PASSERELLE_LEASE_SECONDS)


def resend_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PASSERELLE_RESEND_AFTER_SECONDS)


def lease_claim(model: WorkModel, pk: int, **fields: Any) -> int | None:
    """Takes a pending row, or a running one whose lease lapsed; returns this attempt's number,
    or None when the row is done, failed or held by a live worker (a duplicate message)."""
    now = timezone.now()
    claimable = Q(status=PENDING) | Q(status=RUNNING, lease_expires_at__lt=now)
    claimed = model._default_manager.filter(claimable, pk=pk).update(
        status=RUNNING, attempts=F("attempts") + 1, lease_expires_at=now + lease_duration(), **fields
    )
    if not claimed:
        return None
    return model._default_manager.filter(pk=pk).values_list("attempts", flat=True).get()


def held(model: WorkModel, pk: int, attempt: int) -> models.QuerySet:
    """The row, as long as this attempt still holds it."""
    return model._default_manager.filter(pk=pk, status=RUNNING, attempts=attempt)


def lease_renew(model: WorkModel, pk: int, attempt: int, **fields: Any) -> bool:
    """Extends the lease (and writes ``fields``, e.g. the progress); False when it was lost."""
    return bool(held(model, pk, attempt).update(lease_expires_at=timezone.now() + lease_duration(), **fields))


def lease_finish(model: WorkModel, pk: int, attempt: int, **fields: Any) -> bool:
    """Stores the outcome if this attempt still holds the row; False when another took it."""
    return bool(held(model, pk, attempt).update(lease_expires_at=None, **fields))


@contextmanager
def lease_kept(model: WorkModel, pk: int, attempt: int) -> Iterator[None]:
    """Renews the lease from a thread every third of its length while the block runs, so a long
    step (a PDF being rendered, a large file loaded) keeps it, and a dead worker does not."""
    stop = threading.Event()
    interval = settings.PASSERELLE_LEASE_SECONDS / 3

    def renew() -> None:
        try:
            while not stop.wait(interval):
                lease_renew(model, pk, attempt)
        except Exception:  # a renewal that fails lets the lease lapse: the sweeper takes over
            logger.warning("Lease of %s %s not renewed", model.__name__, pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=renew, name=f"lease-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def queued_note() -> str:
    return _(
        "Le service de calcul est momentanément injoignable : la demande est enregistrée et sera "
        "traitée automatiquement dès son retour, sans rien relancer."
    )


def sent(model: WorkModel, pk: int, send: Callable[[int], bool], note_field: str) -> bool:
    """Sends a pending row's message and records when; when the broker cannot be reached,
    ``sent_at`` stays empty (the sweeper sends it again) and ``note_field`` says it is queued.
    In-process (no broker), a view may keep the work for after its response
    (``config.celery.work_after_response``)."""
    from config.celery import kept_for_after_response

    ok = kept_for_after_response(lambda: send(pk)) or send(pk)
    model._default_manager.filter(pk=pk, status=PENDING).update(
        sent_at=timezone.now() if ok else None, **{note_field: "" if ok else queued_note()}
    )
    return ok


def may_retry(row: Any, now: datetime.datetime | None = None) -> bool:
    """A failed row; a running one whose lease lapsed; a pending one not taken in time."""
    now = now or timezone.now()
    if row.status == FAILED:
        return True
    if row.status == RUNNING:
        return row.lease_expires_at is None or row.lease_expires_at < now
    if row.status == PENDING:
        return row.sent_at is None or row.sent_at < now - resend_after()
    return False


def sweep(
    model: WorkModel, *, send: Callable[[int], bool], reason_field: str, **extra_failed: Any
) -> dict[str, int]:
    """One pass of the sweeper over a model's rows; running it twice in a row changes nothing more.

    Lapsed leases first (back to pending, or failed after the last attempt, with the reason in
    ``reason_field``), then every pending row not sent recently is sent again."""
    now = timezone.now()
    manager = model._default_manager
    lapsed = manager.filter(status=RUNNING, lease_expires_at__lt=now)
    most = settings.PASSERELLE_MAX_ATTEMPTS
    failed = lapsed.filter(attempts__gte=most).update(
        status=FAILED,
        lease_expires_at=None,
        finished_at=now,
        **{
            reason_field: _(
                "Le calcul s'est interrompu %(count)s fois (processus de calcul arrêté). "
                "Vous pouvez le relancer ; si l'échec se répète, signalez-le."
            )
            % {"count": most}
        },
        **extra_failed,
    )
    requeued = lapsed.filter(attempts__lt=most).update(status=PENDING, lease_expires_at=None, sent_at=None)
    due = manager.filter(Q(sent_at__isnull=True) | Q(sent_at__lt=now - resend_after()), status=PENDING)
    resent = 0
    for pk in due.order_by("pk").values_list("pk", flat=True):
        if not sent(model, pk, send, reason_field):
            break  # the broker is down: the rest waits for the next pass
        resent += 1
    if failed or requeued or resent:
        logger.info(
            "%s swept: %s failed, %s requeued, %s sent again", model.__name__, failed, requeued, resent
        )
    return {"failed": failed, "requeued": requeued, "resent": resent}
