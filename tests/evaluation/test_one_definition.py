"""Each rate of the meal flow has one definition (``evaluation.rates``), and every place that
shows it shows the same value: the dashboard page, the DRIHL report's PDF (read back), its CSV
and XLSX exports, and the indicators API. Worked out by hand on two days of January 2025:

- day 1: 4 pickups (3 on time, 2 breaching the temperature at receipt), 300 meals distributed
  during 240 visits, 10 meals discarded, 5 short;
- day 2: 3 pickups (all on time) and 1 batch nobody collected before its use-by date, 200 meals
  distributed during 160 visits, 20 meals expired, 5 recalled.

Over the month:

- collected on time = 6 ÷ (7 pickups + 1 expired) = 75,0 % (÷ the pickups alone: 85,7 %);
- temperature compliance = (7 - 2) ÷ 7 = 71,4 %;
- loss rate = (10 + 5 + 20 + 5) ÷ (500 + 40) = 7,4 % (÷ the meals distributed alone: 8,0 %);
- meals per visit = 500 ÷ 400 = 1,25.

A change to any of these formulas in ``evaluation.rates`` (or ``costing.losses``) fails the
test at every place at once; a place that computed a rate itself would fail alone.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from evaluation import reports
from evaluation.models import Report
from territories.roles import Role
from tests.factories import DailyRollupFactory, PartnershipFactory, member

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 1, 1), datetime.date(2025, 1, 31)

# Each rate worked out by hand above, as the API writes it and as a French page prints it.
EXPECTED = {
    "pickups_on_time_share": (Decimal("75.0"), "75,0 %"),
    "temperature_compliance_share": (Decimal("71.4"), "71,4 %"),
    "loss_rate": (Decimal("7.4"), "7,4 %"),
    "meals_per_person": (Decimal("1.25"), "1,25"),
}
# The values a second definition would give (the pickups alone, the meals distributed alone).
OTHER_DEFINITIONS = ["85,7", "8,0 %"]


@pytest.fixture
def scenario():
    cache.clear()
    partnership = PartnershipFactory(starts_on=datetime.date(2024, 9, 1))
    DailyRollupFactory(
        partnership=partnership,
        day=datetime.date(2025, 1, 6),
        batches=4,
        meals_produced_surplus=320,
        pickups=4,
        pickups_on_time=3,
        receipt_breaches=2,
        meals_picked_up=315,
        distributions=2,
        meals_distributed=300,
        people_served=240,
        meals_discarded=10,
        meals_short=5,
    )
    DailyRollupFactory(
        partnership=partnership,
        day=datetime.date(2025, 1, 8),
        batches=4,
        meals_produced_surplus=225,
        pickups=3,
        pickups_on_time=3,
        batches_expired=1,
        meals_picked_up=205,
        distributions=1,
        meals_distributed=200,
        people_served=160,
        meals_expired=20,
        meals_recalled=5,
        batches_recalled=1,
    )
    return partnership.territory, member(Role.EVALUATOR)


def flat(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def built_report(territory, evaluator) -> Report:
    report = Report.objects.create(
        kind="drihl", territory=territory, period_start=START, period_end=END, requested_by=evaluator
    )
    report = reports.report_build(report_id=report.pk)
    assert report.status == "done", report.message
    return report


def test_the_api_gives_each_rate_worked_out_by_hand(scenario):
    territory, evaluator = scenario
    response = client_for(evaluator).get(
        "/api/v1/indicators/", {"territory": territory.pk, "start": START, "end": END}
    )
    assert response.status_code == 200
    values = {row["code"]: row["value"] for row in response.json()["territories"][0]["indicators"]}
    for code, (value, _printed) in EXPECTED.items():
        assert Decimal(values[code]) == value, code


def test_the_dashboard_shows_the_same_rates(scenario):
    territory, evaluator = scenario
    url = reverse("territory-dashboard", kwargs={"pk": territory.pk})
    response = client_for(evaluator).get(url, {"start": START, "end": END})
    assert response.status_code == 200
    html = response.content.decode()
    text = flat(unescape(re.sub(r"<[^>]+>", " ", html)))
    # The headline and the monthly tables, then the same rates among the indicators by question.
    assert "Taux de perte 7,4 %" in text
    assert "Collectes dans les limites de température 71,4 %" in text
    assert text.count("7,4 %") >= 2 and text.count("71,4 %") >= 2 and "75,0 %" in text
    assert "1,25" in text
    for other in OTHER_DEFINITIONS:
        assert other not in text


def test_the_pdf_and_its_exports_show_the_same_rates(scenario):
    territory, evaluator = scenario
    report = built_report(territory, evaluator)
    text = flat(
        "\n".join(
            page.extract_text()
            for page in PdfReader(io.BytesIO(reports.report_pdf_file(report).read())).pages
        )
    )
    for _code, (_value, printed) in EXPECTED.items():
        assert printed in text, printed
    for other in OTHER_DEFINITIONS:
        assert other not in text

    tables = report.figures["tables"]
    assert [row["pickups_on_time_share"] for row in tables["temperature"]["rows"]] == ["75.0"]
    assert [row["pickups_within_share"] for row in tables["temperature"]["rows"]] == ["71.4"]
    assert [row["loss_rate"] for row in tables["losses"]["rows"]] == ["7.4"]
    volumes = report.figures["volumes"]
    assert (volumes["pickups_on_time_share"], volumes["temperature_compliance"]) == ("75.0", "71.4")
    assert (volumes["loss_rate"], volumes["meals_per_person"]) == ("7.4", "1.25")

    client = client_for(evaluator)
    url = reverse("api:report-export", kwargs={"pk": report.pk})

    def csv_table(name: str) -> list[dict[str, str]]:
        response = client.get(url, {"table": name, "format": "csv"})
        assert response.status_code == 200
        content = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
        return list(csv.DictReader(io.StringIO(content), delimiter=";"))

    def xlsx_table(name: str) -> list[dict[str, object]]:
        response = client.get(url, {"table": name, "format": "xlsx"})
        assert response.status_code == 200
        sheet = load_workbook(
            io.BytesIO(
                b"".join(response.streaming_content)
                if hasattr(response, "streaming_content")
                else response.content
            )
        ).active
        rows = list(sheet.iter_rows(values_only=True))
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]

    temperature = csv_table("temperature")[0]
    assert temperature["Part des lots collectés à temps (%)"] == "75,0"
    assert temperature["Part des collectes dans les limites (%)"] == "71,4"
    assert csv_table("losses")[0]["Taux de perte (%)"] == "7,4"
    indicators = {row["Code"]: row["Valeur"] for row in csv_table("indicators")}
    for code, (value, _printed) in EXPECTED.items():
        assert indicators[code] == str(value).replace(".", ","), code

    temperature_x = xlsx_table("temperature")[0]
    assert Decimal(str(temperature_x["Part des lots collectés à temps (%)"])) == Decimal("75.0")
    assert Decimal(str(xlsx_table("losses")[0]["Taux de perte (%)"])) == Decimal("7.4")
    indicators_x = {row["Code"]: row["Valeur"] for row in xlsx_table("indicators")}
    for code, (value, _printed) in EXPECTED.items():
        assert Decimal(str(indicators_x[code])) == value, code
