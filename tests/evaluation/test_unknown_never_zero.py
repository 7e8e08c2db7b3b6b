# ruff: noqa: RUF002, RUF003 - the worked example is written with the signs × and ÷
"""A missing input is never a zero, wherever a cost is printed: pages, charts, PDFs, exports.

Two territories over January 2025 (12 days of activity, Monday, Wednesday and Friday from the
6th: one pickup of 125 meals and 120 meals distributed a day):

- "Plaine Commune" has no cost input at all, no rate, no funding, no reference value, and its
  pickups have neither a recorded cost nor a rate: no part of any cost is known, so every cost
  reads "inconnu" ("unknown"), never "0,00 €";
- "Est Ensemble" has only its transport known (a recorded 12,50 € a pickup: 12 × 12,50 = 150,00 €)
  and no kitchen, association or coordination input: its total cost is "au moins 150,00 €" and
  its full cost per meal "au moins" 150,00 ÷ (12 × 120) = 0,104… → 0,10 €.

The PDFs are really rendered and read back with pypdf; the charts are the SVG the pages and the
PDFs embed; the exports are the CSV and XLSX a reader downloads.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from costing.models import DailyRollup, Funding
from costing.services import territory_cost
from evaluation import reports
from evaluation.charts import charts_of
from evaluation.models import Report
from territories.roles import Role
from tests.evaluation.reporting import pilot
from tests.factories import member

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 1, 1), datetime.date(2025, 1, 31)
PERIOD = {"start": str(START), "end": str(END)}
# A sum of money as printed, with the words that make it a lower bound when there are any (the
# last tick of a chart's axis followed by the axis' title "€ par repas", "€ per meal", is a scale, not a sum).
MONEY = re.compile(
    r"(?:(au moins|at least|≥) )?(?<![\d/.,])(-?\d{1,3}(?:[ ,]\d{3})*(?:[.,]\d+)?) ?€(?! par repas| per meal)"
)
ZERO_EUROS = re.compile(r"(?<![\d ,.])0,00 €")


def flat(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def amounts(text: str) -> list[tuple[str, str]]:
    """Every sum of money in a text: (the bound's words or "", the number)."""
    return [(bound or "", number) for bound, number in MONEY.findall(flat(text))]


def plain_amounts(text: str) -> list[str]:
    return [number for bound, number in amounts(text) if not bound]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return flat("\n".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def world():
    nothing = pilot(costs=False)
    DailyRollup.objects.filter(territory=nothing.territory).update(
        transport_cost=Decimal(0), pickups_without_cost=1
    )
    partial = pilot("Est Ensemble", "est-ensemble", costs=False)
    Funding.objects.all_territories().delete()
    return nothing, partial, member(Role.EVALUATOR)


def build(kind: str, territory, evaluator, language: str = "fr") -> Report:
    report = Report.objects.create(
        kind=kind,
        territory=territory,
        period_start=START,
        period_end=END,
        requested_by=evaluator,
        language=language,
    )
    report = reports.report_build(report_id=report.pk)
    assert report.status == "done", report.message
    return report


def test_with_every_input_missing_the_cost_method_knows_no_part():
    nothing = pilot(costs=False)
    DailyRollup.objects.filter(territory=nothing.territory).update(
        transport_cost=Decimal(0), pickups_without_cost=1
    )
    cost = territory_cost(territory_ids=[nothing.territory.pk], start=START, end=END)
    transport = cost.figure("transport_cost")
    # 12 pickups with neither a recorded cost nor a rate: unknown, not a known zero.
    assert transport.value is None and not transport.complete
    assert cost.figure("total_cost").value is None
    assert cost.figure("full_cost_per_meal").value is None


def test_the_partial_territory_is_a_lower_bound_worked_out_by_hand(world):
    _nothing, partial, _evaluator = world
    cost = territory_cost(territory_ids=[partial.territory.pk], start=START, end=END)
    assert cost.figure("transport_cost").value == Decimal("150.00") and cost.figure("transport_cost").complete
    assert cost.figure("total_cost").value == Decimal("150.00") and not cost.figure("total_cost").complete
    assert cost.figure("full_cost_per_meal").value == Decimal("0.10")  # 150 ÷ 1 440


@pytest.mark.parametrize("kind", ["drihl", "carasso"])
def test_no_pdf_prints_an_unknown_cost_as_a_number(world, kind):
    nothing, partial, evaluator = world
    text = pdf_text(reports.report_pdf_file(build(kind, nothing.territory, evaluator)).read())
    assert plain_amounts(text) == [] and amounts(text) == []  # no sum of money is known
    assert "Coût complet par repas distribué inconnu" in text
    assert "Coût total (hors bénévolat) inconnu" in text
    assert not ZERO_EUROS.search(text)

    text = pdf_text(reports.report_pdf_file(build(kind, partial.territory, evaluator)).read())
    assert "Coût complet par repas distribué au moins 0,10 €/repas" in text
    assert "Coût total (hors bénévolat) au moins 150,00 €" in text
    # The only plain sum is the transport, complete: every pickup's cost was recorded.
    assert set(plain_amounts(text)) == {"150,00"}
    assert "Transport 150,00 €" in text


def test_the_synthesis_tables_charts_pdf_and_exports_carry_the_completeness(world, client):
    _nothing, _partial, evaluator = world
    report = build("synthesis", None, evaluator)
    tables = report.figures["tables"]

    # The comparison: the cost with its completeness in one cell, no yes/no column.
    comparison = tables["comparison"]
    assert "full_cost_complete" not in [column["key"] for column in comparison["columns"]]
    text = pdf_text(reports.report_pdf_file(report).read())
    # Territory, meals distributed, visits, meals per visit, dedicated, surplus, then the cost.
    assert "Est Ensemble 1 440 1 200 1,20 0 1 500 ≥ 0,10 €" in text
    assert "Plaine Commune 1 440 1 200 1,20 0 1 500 inconnu" in text
    assert "Coût complet" not in [column["label"] for column in comparison["columns"]]

    # Both territories together: 150,00 € known (half the pickups) for 2 880 meals, 0,052… → 0,05 €.
    assert "janvier 2025 2 880 au moins 0,05 €" in text
    assert "Coût total (hors bénévolat) au moins 150,00 €" in text
    assert not ZERO_EUROS.search(text)
    assert plain_amounts(text) == []

    # The charts (SVG) the PDF and the pages embed.
    charts = charts_of(report.figures)
    cost_chart = flat(charts["comparison_cost"].svg)
    assert "≥ 0,10 €" in cost_chart and "inconnu" in cost_chart
    assert plain_amounts(cost_chart) == []
    assert "au moins 0,10 €" in flat(charts["comparison_cost"].description)
    assert plain_amounts(charts["monthly_costs"].svg) == []

    # Exports: a lower bound or an unknown is written in words, in CSV and in XLSX.
    client.force_login(evaluator)
    url = reverse("report-export", kwargs={"pk": report.pk})
    data = b"".join(client.get(url, {"table": "comparison", "format": "csv"}).streaming_content)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8")[1:]), delimiter=";"))
    cost_column = rows[0].index("Coût complet par repas (€)")
    by_name = {row[0]: row[cost_column] for row in rows[1:]}
    assert by_name == {"Est Ensemble": "au moins 0,10\u00a0€", "Plaine Commune": "inconnu"}
    for table in ("monthly_costs", "costs", "indicators"):
        response = client.get(url, {"table": table, "format": "xlsx"})
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        header = values[0]
        column = next(
            i for i, label in enumerate(header) if str(label).startswith(("Valeur", "Coût complet"))
        )
        complete = header.index("Complet") if "Complet" in header else None
        for row in values[1:]:
            if complete is not None and row[complete] == "oui":
                continue
            # Not a number: every incomplete cost of the synthesis reads "au moins …" or "inconnu".
            assert isinstance(row[column], str), (table, row)


@pytest.mark.parametrize(
    ("language", "unknown", "bound"),
    [("fr", "inconnu", "au moins 0,10 €/repas"), ("en", "unknown", "at least 0.10 €/meal")],
)
def test_dashboards_print_unknown_and_lower_bounds_in_both_languages(world, client, language, unknown, bound):
    nothing, partial, evaluator = world
    client.force_login(evaluator)
    url = reverse("territory-dashboard", kwargs={"pk": nothing.territory.pk})
    page = flat(client.get(url, PERIOD, HTTP_ACCEPT_LANGUAGE=language).content.decode())
    assert plain_amounts(page) == [] and amounts(page) == []
    assert unknown in page

    url = reverse("territory-dashboard", kwargs={"pk": partial.territory.pk})
    page = flat(client.get(url, PERIOD, HTTP_ACCEPT_LANGUAGE=language).content.decode())
    assert bound in page
    assert set(plain_amounts(page)) <= {"150,00", "150.00"}  # the transport, complete

    url = reverse("territory-comparison")
    page = flat(client.get(url, PERIOD, HTTP_ACCEPT_LANGUAGE=language).content.decode())
    assert "≥ 0,10 €" in page or "≥ 0.10 €" in page
    assert plain_amounts(page) == []


def test_an_english_export_writes_the_bound_in_english(world, client):
    """An export is in its report's language, whoever reads it: an English report's bound is
    "at least", a French report's stays "au moins" on an English page."""
    _nothing, _partial, evaluator = world
    english, french = build("synthesis", None, evaluator, "en"), build("synthesis", None, evaluator)
    client.force_login(evaluator)
    texts = []
    for report in (english, french):
        url = reverse("report-export", kwargs={"pk": report.pk})
        response = client.get(url, {"table": "monthly_costs", "format": "csv"}, HTTP_ACCEPT_LANGUAGE="en")
        texts.append(b"".join(response.streaming_content).decode("utf-8"))
    assert "at least 0.05\u00a0€" in texts[0]  # 150,00 € known for 2 880 meals
    assert "au moins 0,05\u00a0€" in texts[1] and "at least" not in texts[1]


@pytest.mark.parametrize(
    ("language", "unknown", "missing"), [("fr", "inconnu", "manquant"), ("en", "unknown", "missing")]
)
def test_the_cost_page_shows_an_unknown_transport_and_no_known_zero(client, language, unknown, missing):
    nothing = pilot(costs=False)
    DailyRollup.objects.filter(territory=nothing.territory).update(
        transport_cost=Decimal(0), pickups_without_cost=1
    )
    client.force_login(member(Role.EVALUATOR))
    url = reverse("territory-costs", kwargs={"pk": nothing.territory.pk})
    page = flat(
        client.get(
            url, {"start": "2025-01", "end": "2025-01"}, HTTP_ACCEPT_LANGUAGE=language
        ).content.decode()
    )
    assert amounts(page) == []
    assert unknown in page
    # The transport's inputs: the cost of the pickups is missing, not 0,00.
    transport_inputs = re.search(r"(?:réel ou estimé|actual or estimated)[^<]*: (<strong>)?([^<]+)", page)
    assert transport_inputs is not None, page[:200]
    assert transport_inputs.group(2).strip().startswith(missing)
