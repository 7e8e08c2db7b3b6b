"""The previous quarter's reports, already built when the demo starts: a DRIHL report for each
territory, a Fondation Carasso report for the two territories it funds, and the synthesis of
all. Each is built by ``evaluation.reports.report_build`` (the work the report task does), so
its figures are frozen and its PDF exists; a report already there for the same kind, territory
and period is kept as it is (built again only if it failed or was never taken)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from evaluation import reports
from evaluation.models import Report
from territories.models import Territory

from .costs import add_months

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CARASSO_TERRITORIES = ("plaine-commune", "vitry-sur-seine")


def previous_quarter(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last whole calendar quarter before ``today``."""
    start = datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    previous = add_months(start, -3)
    return previous, start - datetime.timedelta(days=1)


def wanted(territories: dict[str, Territory]) -> list[tuple[str, Territory | None]]:
    kinds: list[tuple[str, Territory | None]] = [(Report.Kind.DRIHL, t) for t in territories.values()]
    kinds += [(Report.Kind.CARASSO, territories[slug]) for slug in CARASSO_TERRITORIES if slug in territories]
    return [*kinds, (Report.Kind.SYNTHESIS, None)]


def seed_reports(
    *, territories: dict[str, Territory], evaluator: User, today: datetime.date, counts: Any
) -> list[Report]:
    start, end = previous_quarter(today)
    built = []
    for kind, territory in wanted(territories):
        report = (
            Report.objects.all_territories()
            .filter(kind=kind, territory=territory, period_start=start, period_end=end)
            .order_by("pk")
            .first()
        )
        if report is None:
            report = Report(
                kind=kind, territory=territory, period_start=start, period_end=end, requested_by=evaluator
            )
            report.full_clean()
            report.save()
            counts[Report._meta.label] += 1
        elif report.status in (Report.Status.DONE, Report.Status.RUNNING):
            built.append(report)  # built, or being built by a worker that holds it
            continue
        elif report.status == Report.Status.FAILED:
            Report.objects.filter(pk=report.pk).update(status=Report.Status.PENDING, progress=0)
        built.append(reports.report_build(report_id=report.pk))
    return built
