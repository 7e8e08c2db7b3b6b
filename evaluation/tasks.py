"""Celery tasks of the evaluation: thin wrappers around the report builder and its sweeper."""

from celery import shared_task

from . import reports


# A build takes seconds; past the soft limit the builder stores the failure with its message.
@shared_task(soft_time_limit=600, time_limit=660)
def build_report(report_id: int) -> str:
    return reports.report_build(report_id=report_id).status


@shared_task
def sweep_reports() -> dict[str, int]:
    return reports.report_sweep()
