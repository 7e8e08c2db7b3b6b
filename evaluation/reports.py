"""Reports for funders: figures computed once and frozen, then charts → HTML → PDF.

``report_build`` is the Celery task's work. It claims the report (``running``), computes every
figure once (``evaluation.figures.report_figures``: roll-ups → pandas tables), renders the
document from those figures alone (``report_render``: SVG charts → HTML template → WeasyPrint
PDF) and stores the PDF and the figures together (``done``). Progress is written in small
updates of their own, outside any transaction, so a poller sees it move. Any error leaves the
report ``failed`` with a French message; it can then be asked again (``report_retry``), which
computes its figures anew.

The report row, not the broker, holds the work (``config.leases``): a worker claims it with a
lease it renews while it builds; ``report_sweep`` (beat) sends a pending report again when its
message was lost, and takes a report back from a worker that stopped renewing its lease.

The document is a pure function of the stored figures: the charts are drawn with a fixed hash
salt and no date, the template prints no clock, and the PDF's metadata (creation date,
identifier) come from the figures. Rendering ``Report.figures`` again gives the same bytes,
so a report downloaded again next year is the same document (``report_pdf_file`` rebuilds a
lost file that way).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config import leases
from config.pdf import render_pdf
from territories import bounds
from territories.models import Territory
from territories.scoping import memberships_of

from . import figures as figures_module
from .charts import charts_of
from .models import Report

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# The longest period a report covers (its monthly cost table is computed month by month).
MAX_MONTHS = bounds.PERIOD_MAX_MONTHS

TEMPLATES = {
    Report.Kind.DRIHL: "evaluation/reports/pdf/drihl.html",
    Report.Kind.CARASSO: "evaluation/reports/pdf/carasso.html",
    Report.Kind.SYNTHESIS: "evaluation/reports/pdf/synthesis.html",
}


class ReportNotRetryable(Exception):
    """Only a failed report, or one lost on its way (``config.leases.may_retry``), is asked again."""


# --- Who may ask -----------------------------------------------------------------------------


def may_request_reports(user: Any) -> bool:
    """Whether a user's role lets them ask for reports (evaluators: ``Report.change_rule``)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(Report.change_rule(membership) is not None for membership in memberships_of(user))


def may_retry(report: Report, now: datetime.datetime | None = None) -> bool:
    """Failed, or lost on its way: its worker's lease lapsed, or it was not taken in time."""
    return leases.may_retry(report, now)


# --- Asking ----------------------------------------------------------------------------------


def send_build(report_id: int) -> bool:
    from config.celery import delay_or_log

    from .tasks import build_report

    return delay_or_log(build_report, report_id)


def enqueue(report_id: int) -> None:
    """Queues the build once the current transaction commits; with the broker down the report
    says it is queued, and the sweeper sends it once the broker is back."""
    transaction.on_commit(lambda: leases.sent(Report, report_id, send_build, "message"))


def report_sweep() -> dict[str, int]:
    """Sends lost reports again and takes them back from stopped workers (the beat task's work)."""
    return leases.sweep(Report, send=send_build, reason_field="message")


def report_language(language: str | None) -> str:
    """One of the site's languages ("en-gb" is written in English; anything else in French)."""
    try:
        code = translation.get_supported_language_variant(language or "fr")
    except LookupError:
        return "fr"
    short = code.split("-")[0]
    return short if short in {known for known, _name in settings.LANGUAGES} else "fr"


def report_request(
    *,
    kind: str,
    territory: Territory | None,
    period_start: datetime.date,
    period_end: datetime.date,
    by: User,
    language: str | None = None,
) -> Report:
    """A new report, validated by the model's rules and queued; callers check the role and scope.

    ``language``: the one it is written in, by default the active one (the request's)."""
    report = Report(
        kind=kind,
        territory=territory,
        period_start=period_start,
        period_end=period_end,
        requested_by=by,
        language=report_language(language or translation.get_language()),
    )
    report.full_clean()
    with transaction.atomic():
        report.save()
        enqueue(report.pk)
    return report


def report_retry(*, report: Report) -> Report:
    """Asks a failed (or lost) report again, under the same id; its figures are computed anew."""
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if not may_retry(locked):
            raise ReportNotRetryable(_("Seul un rapport en échec peut être relancé."))
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.PENDING,
            progress=0,
            message="",
            figures={},
            requested_at=timezone.now(),
            finished_at=None,
            attempts=0,
            lease_expires_at=None,
            sent_at=None,
        )
        enqueue(report.pk)
    report.refresh_from_db()
    return report


# --- Building --------------------------------------------------------------------------------


def territory_ids_of(report: Report) -> list[int]:
    if report.territory_id:
        return [report.territory_id]
    return list(Territory.objects.all_territories().order_by("name").values_list("pk", flat=True))


def set_progress(report_id: int, percent: int, attempt: int) -> None:
    """Writes the progress and renews the lease, as long as this attempt holds the report."""
    leases.lease_renew(Report, report_id, attempt, progress=percent)


def report_build(*, report_id: int) -> Report:
    """Builds a report (the task's work): figures once, then the PDF from them; the outcome is stored.

    The report is claimed under a lease, renewed while it builds; each progress step renews it
    too. A build that lost its lease (taken back by the sweeper, given to another worker)
    stores nothing."""
    attempt = leases.lease_claim(Report, report_id, progress=5, message="")
    # The figures are left unread, before and after: a national synthesis stores some 30 MiB of
    # them, which would be read back for nothing (they load if a caller reads them).
    report = Report.objects.select_related("territory").defer("figures").get(pk=report_id)
    if attempt is None:
        return report  # a duplicate delivery: the report is done, failed, or built by a live worker

    def progress(percent: int) -> None:
        set_progress(report_id, percent, attempt)

    with leases.lease_kept(Report, report_id, attempt):
        try:
            with translation.override(report.language), garbage_collector_tuned_for_report():
                frozen = figures_module.report_figures(
                    kind=report.kind,
                    territory_ids=territory_ids_of(report),
                    start=report.period_start,
                    end=report.period_end,
                    progress=progress,
                )
            pdf = report_render(report=report, figures=frozen, progress=progress)
            report.pdf.save(file_name(report), ContentFile(pdf), save=False)
            leases.lease_finish(
                Report,
                report_id,
                attempt,
                status=Report.Status.DONE,
                progress=100,
                figures=frozen,
                pdf=report.pdf.name,
                message="",
                finished_at=timezone.now(),
            )
        except Exception as error:
            logger.exception("Report %s could not be built", report_id)
            with translation.override(report.language):
                message = failure_message(error)
            leases.lease_finish(
                Report,
                report_id,
                attempt,
                status=Report.Status.FAILED,
                message=message,
                finished_at=timezone.now(),
            )
    return Report.objects.select_related("territory").defer("figures").get(pk=report_id)


def failure_message(error: Exception) -> str:
    # An OSError's text names paths on the server: the reason alone is shown.
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    detail = f"{type(error).__name__} : {reason}"[:300]
    return _(
        "La construction du rapport a échoué (%(detail)s). Aucune donnée n'a été modifiée : "
        "vous pouvez relancer le rapport. Si l'échec se répète, signalez-le avec ce message."
    ) % {"detail": detail}


def file_name(report: Report) -> str:
    return f"rapport-{report.kind}-{report.pk}.pdf"


# --- Rendering -------------------------------------------------------------------------------


def document_title(report: Report, figures: dict[str, Any]) -> str:
    names = ", ".join(territory["name"] for territory in figures["territories"])
    where = names if report.territory_id else _("tous les territoires")
    return f"{Report.Kind(report.kind).label} — {where}"


def report_html(*, report: Report, figures: dict[str, Any]) -> str:
    """The HTML a report's PDF is made from (charts inline, stylesheet inline), from its figures
    alone, in the language the report was asked in."""
    with translation.override(report.language):
        charts = charts_of(figures)
        context = {
            "report": report,
            "kind": report.kind,
            "kind_label": str(Report.Kind(report.kind).label),
            "title": document_title(report, figures),
            "figures": figures,
            "tables": figures["tables"],
            "charts": charts,
            "period_start": datetime.date.fromisoformat(figures["period"]["start"]),
            "period_end": datetime.date.fromisoformat(figures["period"]["end"]),
            "cost_start": datetime.date.fromisoformat(figures["cost_period"]["start"]),
            "cost_end": datetime.date.fromisoformat(figures["cost_period"]["end"]),
            "built_on": datetime.date.fromisoformat(figures["built_on"]),
            "synthesis": report.kind == Report.Kind.SYNTHESIS,
        }
        return render_to_string(TEMPLATES[Report.Kind(report.kind)], context)


def pdf_identifier(report: Report, figures: dict[str, Any]) -> bytes:
    """The PDF's identifier, derived from the figures (no random part, so the bytes repeat)."""
    digest = hashlib.sha256(
        json.dumps(figures, sort_keys=True, ensure_ascii=False).encode() + report.kind.encode()
    )
    return digest.hexdigest()[:32].encode()


# fontTools writes the time of saving into each font subset WeasyPrint embeds (the 'modified'
# date of its 'head' table) unless SOURCE_DATE_EPOCH fixes it: ``config.pdf`` sets it.


# Generation thresholds while a report is built: its figures (hundreds of thousands of rows,
# partial sums and figures for a national synthesis) and WeasyPrint's box tree (millions of
# container objects) all live until the report is stored, so the default thresholds (2000, 10,
# 10) keep promoting and rescanning them; with these, a full collection comes a hundred times
# less often.
REPORT_GC_THRESHOLDS = (50_000, 20, 100)


@contextlib.contextmanager
def garbage_collector_tuned_for_report() -> Iterator[None]:
    """Keeps the cyclic garbage collector from rescanning, again and again, objects that live.

    Two kinds: the worker's own (some 200,000 objects of Django, pandas, matplotlib, and the
    figures when a render starts), frozen so that no collection walks them; and those the
    figures or the render build (rows, the box tree), collected less often by raising the
    generation thresholds. The garbage they make is still collected, and the thresholds and the
    frozen objects are put back afterwards. The same figures and bytes; see docs/benchmarks.md
    for the time it saves. Another thread meanwhile is no worse off: both settings only change
    when collections run. Nested (a render within a build), the inner one's exit unfreezes all.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*REPORT_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def report_render(*, report: Report, figures: dict[str, Any], progress: Any = None) -> bytes:
    """The PDF of a report, from its figures alone: the same figures give the same bytes."""
    html = report_html(report=report, figures=figures)
    if progress:
        progress(80)
    with garbage_collector_tuned_for_report():
        pdf = render_pdf(html, identifier=pdf_identifier(report, figures))
    if progress:
        progress(95)
    return pdf


def report_pdf_file(report: Report) -> Any:
    """The stored PDF of a done report, opened for reading; a lost file is rendered again from the
    frozen figures (the same bytes) and stored anew."""
    if report.status != Report.Status.DONE or not report.figures:
        raise FileNotFoundError(report.pk)
    stored = open_stored_pdf(report)
    if stored is not None:
        return stored
    logger.warning("The PDF of report %s is missing: rendered again from its figures.", report.pk)
    # One request renders it; the others wait on the row's lock, then read what it stored.
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        stored = open_stored_pdf(locked)
        if stored is not None:
            return stored
        pdf = report_render(report=locked, figures=report.figures)
        locked.pdf.save(file_name(locked), ContentFile(pdf), save=False)
        Report.objects.filter(pk=report.pk).update(pdf=locked.pdf.name)
    report.pdf = locked.pdf
    return locked.pdf.open("rb")


def open_stored_pdf(report: Report) -> Any:
    """The report's stored PDF opened for reading, or None when it has none or its file is gone."""
    if not report.pdf:
        return None
    try:
        return report.pdf.open("rb")
    except FileNotFoundError:
        return None
