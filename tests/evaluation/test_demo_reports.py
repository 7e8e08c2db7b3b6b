"""Every report kind the demo builds, read back from its PDF: a cost is printed with its
completeness (no "0,00 €" where an input is missing), the reference values printed are those
the figures used, and the figures of "collected on time" agree.

The demo is seeded once for the module with the clock on Sunday 6 December 2026: the pilot year
runs from December 2025 to November 2026, Grand Paris Sud lacks a kitchen's inputs for
September and October 2026, and the seed builds the previous quarter's reports (July to
September 2026): a DRIHL report per territory, a Carasso report for the two territories the
foundation funds, and a synthesis.
"""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone, translation
from pypdf import PdfReader

from config.celery import app as celery_app
from costing import display
from costing.models import DailyRollup, ReferenceValue
from costing.selectors import reference_in_force
from costing.services import last_of_month, months_of
from evaluation import reports
from evaluation.models import Report
from evaluation.rates import on_time_share

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 6, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
ZERO_EUROS = re.compile(r"(?<![\d ,.])0,00 €")


def flat(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


@pytest.fixture(scope="module")
def demo_reports(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo seeded once (clock on ``NOW``), its reports and their PDFs read back; the
    database is emptied after."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    with (
        pytest.MonkeyPatch.context() as patch,
        override_settings(
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        django_db_blocker.unblock(),
    ):
        patch.setattr(timezone, "now", lambda: NOW.astimezone(datetime.UTC))
        try:
            call_command("seed_demo", stdout=io.StringIO())
            built = list(Report.objects.filter(status=Report.Status.DONE).order_by("kind", "pk"))
            texts = {}
            for report in built:
                with reports.report_pdf_file(report) as handle:
                    pages = PdfReader(io.BytesIO(handle.read())).pages
                texts[report.pk] = flat("\n".join(page.extract_text() for page in pages))
            yield built, texts
        finally:
            call_command("flush", interactive=False, verbosity=0)
            celery_app.conf.task_always_eager = eager


def test_every_report_kind_was_built(demo_reports):
    built, _texts = demo_reports
    assert {report.kind for report in built} == {"drihl", "carasso", "synthesis"}


def test_costs_are_printed_with_their_completeness(demo_reports):
    built, texts = demo_reports
    incomplete = 0
    for report in built:
        text = texts[report.pk]
        for figure in report.figures["costs"]:
            if not figure["applicable"]:
                continue
            with translation.override("fr"):
                printed = flat(
                    display.figure_text(
                        figure["value"],
                        unit=figure["unit"],
                        complete=figure["complete"],
                        bound=display.is_bound(figure["key"]),
                    )
                )
            assert f"{figure['label']} {printed}" in text, (report.kind, report.territory, figure["key"])
            if not figure["complete"]:
                incomplete += 1
                assert printed.startswith(("au moins", "inconnu")), (report.pk, figure)
        if report.figures["missing"]:
            assert not ZERO_EUROS.search(text), (report.kind, report.territory)
    # Grand Paris Sud's September is missing: its reports and the synthesis have lower bounds.
    assert incomplete > 0


def test_the_reference_values_printed_are_those_the_figures_used(demo_reports):
    built, texts = demo_reports
    every = list(ReferenceValue.objects.all_territories())
    labels = {code: str(code.label) for code in ReferenceValue.Code}
    for report in built:
        cost_months = months_of(report.period_start, report.period_end)
        cost_end = last_of_month(cost_months[-1])
        printed = report.figures["references"]
        assert printed, report.pk
        for row in printed:
            if row["code"] == ReferenceValue.Code.VOLUNTEER_HOUR:
                in_force = {
                    reference_in_force(every, row["code"], last_of_month(month)) for month in cost_months
                }
                assert row["value"] in {str(reference.value) for reference in in_force if reference}
            else:
                reference = reference_in_force(every, row["code"], cost_end)
                assert reference is not None and row["value"] == str(reference.value), (report.pk, row)
            with translation.override("fr"):
                value = flat(display.number_text(Decimal(row["value"]), 2))
            assert f"{row['label']} {value}" in texts[report.pk], (report.pk, row)
        used = {row["code"] for row in printed}
        for code, label in labels.items():
            if code not in used:
                assert f"{label} " not in texts[report.pk].split("Valeurs de référence utilisées")[-1], code


def test_the_figures_of_collected_on_time_agree(demo_reports):
    built, texts = demo_reports
    for report in built:
        rows = DailyRollup.objects.all_territories().filter(
            day__gte=report.period_start, day__lte=report.period_end
        )
        if report.territory_id:
            rows = rows.filter(territory_id=report.territory_id)
        sums = rows.aggregate(
            on_time=Sum("pickups_on_time"), pickups=Sum("pickups"), expired=Sum("batches_expired")
        )
        expected = on_time_share(
            pickups_on_time=sums["on_time"] or 0,
            pickups=sums["pickups"] or 0,
            batches_expired=sums["expired"] or 0,
        )
        indicator = next(
            row for row in report.figures["indicators"] if row["code"] == "pickups_on_time_share"
        )
        assert indicator["value"] == report.figures["volumes"]["pickups_on_time_share"] == str(expected)
        assert expected is not None, report.pk  # every demo quarter has pickups
        with translation.override("fr"):
            share = display.number_text(expected, 1)
        assert f"Part des lots collectés à temps {flat(share)} %" in texts[report.pk]
        for month in report.figures["tables"]["temperature"]["rows"]:
            start = datetime.date.fromisoformat(month["month"])
            month_rows = rows.filter(day__gte=start, day__lte=last_of_month(start)).aggregate(
                on_time=Sum("pickups_on_time"), pickups=Sum("pickups"), expired=Sum("batches_expired")
            )
            month_share = on_time_share(
                pickups_on_time=month_rows["on_time"] or 0,
                pickups=month_rows["pickups"] or 0,
                batches_expired=month_rows["expired"] or 0,
            )
            assert month["pickups_on_time_share"] == (None if month_share is None else str(month_share))
