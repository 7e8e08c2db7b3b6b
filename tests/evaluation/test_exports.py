"""Exports: every table of a report as CSV (streamed) and XLSX, from the figures it printed."""

from __future__ import annotations

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from evaluation import figures as figures_module
from evaluation import reports
from evaluation.models import JournalEntry, Report
from territories.roles import Role
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import DailyRollupFactory, ReportFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def export(client, report, table, file_format, route="api:report-export"):
    url = reverse(route, kwargs={"pk": report.pk})
    return client.get(url, {"table": table, "format": file_format})


def csv_rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


@pytest.fixture
def built():
    references()
    plaine = pilot()
    JournalEntry.objects.create(
        territory=plaine.territory,
        author=UserFactory(),
        category="logistics",
        observed_on=datetime.date(2025, 3, 3),
        nature="obstacle",
        title='=HYPERLINK("http://example.com","clic")',
        text="-2+3",
        shared_with_funders=True,
    )
    evaluator = member(Role.EVALUATOR)
    report = Report.objects.create(
        kind="drihl", territory=plaine.territory, period_start=START, period_end=END, requested_by=evaluator
    )
    report = reports.report_build(report_id=report.pk)
    assert report.status == "done", report.message
    return plaine, report, evaluator


def test_every_table_of_a_report_exports_as_csv_and_xlsx(built):
    _, report, evaluator = built
    client = client_for(evaluator)
    tables = report.figures["tables"]
    assert set(tables) >= {
        "weekly", "activity", "monthly_costs", "temperature", "losses", "costs",
        "indicators", "actors", "objectives", "fundings", "journal",
    }  # fmt: skip
    for name, table in tables.items():
        response = export(client, report, name, "csv")
        assert response.status_code == 200, name
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f'filename="rapport-{report.pk}-{name}.csv"' in response["Content-Disposition"]
        rows = csv_rows(response)
        assert len(rows) == len(table["rows"]) + 1
        assert rows[0][0].startswith(table["columns"][0]["label"])

        response = export(client, report, name, "xlsx")
        assert response.status_code == 200, name
        workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
        sheet = workbook.worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        assert len(values) == len(table["rows"]) + 1
        assert values[0][0].startswith(table["columns"][0]["label"])


def test_the_numbers_are_those_the_report_printed_not_the_live_ones(built):
    plaine, report, evaluator = built
    client = client_for(evaluator)
    DailyRollupFactory(partnership=plaine.partnership, day=datetime.date(2025, 1, 2), meals_distributed=500)
    rows = csv_rows(export(client, report, "activity", "csv"))
    assert rows[0][:5] == [
        "Mois",
        "Repas dédiés produits",
        "Repas d'excédents donnés",
        "Repas collectés",
        "Repas distribués",
    ]
    assert [row[0] for row in rows[1:]] == ["2025-01", "2025-02", "2025-03"]
    assert sum(int(row[4]) for row in rows[1:]) == 36 * 120  # not + 500
    # Decimals with a comma in CSV; real numbers and dates in XLSX.
    costs = csv_rows(export(client, report, "monthly_costs", "csv"))
    assert costs[0][2] == "Coût complet par repas (€)"
    assert "," in costs[1][2] and "." not in costs[1][2]
    response = export(client, report, "monthly_costs", "xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    month, meals, per_meal = (cell.value for cell in sheet[2])
    assert month == datetime.datetime(2025, 1, 1)
    assert isinstance(meals, int) and isinstance(per_meal, float)
    frozen = report.figures["tables"]["monthly_costs"]["rows"][0]["full_cost_per_meal"]
    assert Decimal(str(per_meal)) == Decimal(frozen)  # complete: a number


def test_text_never_becomes_a_formula(built):
    _, report, evaluator = built
    client = client_for(evaluator)
    rows = csv_rows(export(client, report, "journal", "csv"))
    titles = [row[4] for row in rows[1:]]
    assert '\'=HYPERLINK("http://example.com","clic")' in titles
    assert "'-2+3" in [row[5] for row in rows[1:]]
    response = export(client, report, "journal", "xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if str(cell.value).startswith("=")]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_bad_requests_and_reports_not_ready(built):
    plaine, report, evaluator = built
    client = client_for(evaluator)
    response = export(client, report, "nope", "csv")
    assert response.status_code == 400
    assert "table" in response.json()
    assert export(client, report, "weekly", "").status_code == 400
    assert export(client, report, "weekly", "pdf").status_code == 404  # no such format
    assert export(client, report, "nope", "csv", route="report-export").status_code == 400
    pending = ReportFactory(territory=plaine.territory, status="pending", figures={}, pdf="")
    assert export(client, pending, "weekly", "csv").status_code == 404
    assert export(client, pending, "weekly", "csv", route="report-export").status_code == 404


def test_exports_are_scoped_like_the_report(built):
    plaine, report, _ = built
    other = pilot("Est Ensemble", "est-ensemble")
    outsider = member(Role.FUNDER, funded=[other.territory])
    insider = member(Role.FUNDER, funded=[plaine.territory])
    for route in ("api:report-export", "report-export"):
        assert export(client_for(outsider), report, "weekly", "csv", route=route).status_code == 404
        assert export(client_for(insider), report, "weekly", "xlsx", route=route).status_code == 200


def test_the_browser_page_links_every_table(built):
    _, report, evaluator = built
    html = client_for(evaluator).get(reverse("report-detail", kwargs={"pk": report.pk})).content.decode()
    base = reverse("report-export", kwargs={"pk": report.pk})
    for name in report.figures["tables"]:
        assert f"{base}?table={name}&amp;format=csv" in html
        assert f"{base}?table={name}&amp;format=xlsx" in html


def test_each_missing_input_is_stored_once_and_exported_as_its_own_table():
    references()
    bare = pilot("Grand Orly", "grand-orly", costs=False)
    evaluator = member(Role.EVALUATOR)
    report = Report.objects.create(
        kind="drihl", territory=bare.territory, period_start=START, period_end=END, requested_by=evaluator
    )
    report = reports.report_build(report_id=report.pk)
    assert report.status == "done", report.message
    figures = report.figures
    missing = figures["missing"]
    assert "Cuisine centrale de Grand Orly, 01/2025 : coûts de la cuisine non saisis" in missing
    stored = json.dumps(figures, ensure_ascii=False)
    for item in missing:
        assert stored.count(json.dumps(item, ensure_ascii=False)) == 1, item

    # Each figure and indicator says how many inputs it lacks: as many as the live dashboard lists.
    live = figures_module.dashboard_figures(territory_id=bare.territory.pk, start=START, end=END)
    listed = {row["key"]: len(row["missing"]) for row in live["costs"]}
    counted = {row["key"]: row["missing_count"] for row in figures["costs"]}
    assert counted == listed and counted["total_cost"] > 0
    assert all("missing" not in row for row in figures["costs"] + figures["indicators"])
    listed = {row["code"]: len(row["missing"]) for row in live["indicators"]}
    assert {row["code"]: row["missing_count"] for row in figures["indicators"]} == listed
    costs = csv_rows(export(client_for(evaluator), report, "costs", "csv"))
    assert costs[0][-1] == "Données manquantes"
    total = next(row for row in costs if row[0] == "Coût total (hors bénévolat)")
    assert total[-1] == str(counted["total_cost"]) and total[-2] == "non"

    client = client_for(evaluator)
    rows = csv_rows(export(client, report, "missing", "csv"))
    assert rows == [["Donnée manquante"], *([item] for item in missing)]
    response = export(client, report, "missing", "xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(values_only=True)][1:] == missing
    links = client.get(reverse("api:report-detail", kwargs={"pk": report.pk})).json()["tables"]
    assert "missing" in [link["name"] for link in links]
