"""A report is written in the language it was asked in: its PDF (read back with pypdf), its charts,
its tables and their CSV exports.

The language comes with the request (``Accept-Language`` or the language chosen on the site, or
``"language"`` in the API's body) and is stored with the report, so the PDF drawn again later, or
by a worker with no request, is in the same language. A French report is unchanged.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from associations.models import Association
from costing.models import ReferenceValue
from evaluation.models import JournalEntry, Report
from kitchens.models import Kitchen
from territories.models import Authority, Territory
from territories.roles import Role
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import member
from tests.test_english_pages import french_in

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


@pytest.fixture
def world():
    """The pilot territory of the report tests, its names and notes made neutral (so that a
    French word in the English report can only come from the report itself)."""
    references()
    ReferenceValue.objects.update(source="Reference study")
    plaine = pilot("Alder Vale", "alder-vale")
    Territory.objects.filter(pk=plaine.territory.pk).update(region="Region One")
    Kitchen.objects.filter(pk=plaine.kitchen.pk).update(name="Birch Works")
    Association.objects.filter(pk=plaine.association.pk).update(name="Cedar Aid")
    Authority.objects.filter(pk=plaine.authority.pk).update(name="Alder Council")
    for entry, (title, text) in zip(
        JournalEntry.objects.order_by("observed_on"),
        [
            ("Van broken down", "Two pickups made by car."),
            ("Council lends a cold room", "Signed in February."),
        ],
        strict=True,
    ):
        JournalEntry.objects.filter(pk=entry.pk).update(title=title, text=text)
    return plaine, member(Role.EVALUATOR)


def ask(
    client, django_capture_on_commit_callbacks, language_header: str, build: bool = True, **payload
) -> dict:
    """Asks a report through the API; ``build``: built in-process once the request commits."""
    data = {"kind": "drihl", "period_start": str(START), "period_end": str(END), **payload}
    with django_capture_on_commit_callbacks(execute=build):
        response = client.post(
            reverse("api:report-list"), data, format="json", HTTP_ACCEPT_LANGUAGE=language_header
        )
    assert response.status_code == 202, response.json()
    return response.json()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_a_report_asked_in_english_is_written_in_english(world, django_capture_on_commit_callbacks):
    plaine, evaluator = world
    client = client_for(evaluator)
    body = ask(client, django_capture_on_commit_callbacks, "en", territory=plaine.territory.pk)
    assert body["language"] == "en"
    report = Report.objects.get(pk=body["id"])
    assert (report.language, report.status) == ("en", "done")

    download = client.get(reverse("api:report-download", kwargs={"pk": report.pk}))
    text = pdf_text(b"".join(download.streaming_content))
    # Dates written out the English way (no "1er"), numbers with a decimal point.
    assert "Period from 1 January 2025 to 31 March 2025" in text
    assert "Costs cover the whole months from 1 January 2025 to 31 March 2025" in text
    assert "Meals distributed 4,320" in text  # 36 days of 120 meals
    positions = [
        text.index(title)
        for title in (
            "1. Context",
            "2. Actors",
            "3. Activity",
            "4. Costs and funding secured",
            "5. Results against the objectives",
            "6. Quality, food safety and losses",
            "7. Difficulties met and next steps",
            "8. Sources and method",
        )
    ]
    assert positions == sorted(positions)
    # The charts' titles, legends and axes in English.
    for chart_text in (
        "Meals distributed and visits (people served), by week",
        "Full cost per meal distributed, per month",
        "Pickups received within the temperature bounds, by month",
        "Meals lost and loss rate, by month",
        "Complete month",
        "Week of",
        "€ per meal",
    ):
        assert chart_text in text, chart_text
    assert "€/meal" in text and "€/repas" not in text
    for french in ("1er", "Période", "repas distribués", "Sources et méthode", "au moins", "inconnu"):
        assert french not in text, french

    # Its tables too, and their CSV as an English spreadsheet reads it.
    export = client.get(
        reverse("api:report-export", kwargs={"pk": report.pk}), {"table": "weekly", "format": "csv"}
    )
    rows = list(
        csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")), delimiter=",")
    )
    assert rows[0][:3] == ["Week of", "Meals distributed", "Visits (people served)"]
    # The week of Monday 30 December holds no day of the period; ISO dates, read the same everywhere.
    assert [rows[1][:2], rows[2][:2]] == [["2024-12-30", "0"], ["2025-01-06", "360"]]
    costs = client.get(
        reverse("api:report-export", kwargs={"pk": report.pk}), {"table": "monthly_costs", "format": "csv"}
    )
    lines = b"".join(costs.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Month,") and "," in lines[1] and ";" not in lines[1]
    assert re.search(r",\d+\.\d\d$", lines[1]), lines[1]  # a cost with a decimal point


def test_the_body_s_language_wins_and_a_french_request_stays_french(
    world, django_capture_on_commit_callbacks
):
    plaine, evaluator = world
    client = client_for(evaluator)
    asked = [
        ask(
            client,
            django_capture_on_commit_callbacks,
            "fr",
            False,
            territory=plaine.territory.pk,
            language="en",
        ),
        ask(client, django_capture_on_commit_callbacks, "fr", False, territory=plaine.territory.pk),
        ask(
            client, django_capture_on_commit_callbacks, "en-GB,en;q=0.8", False, territory=plaine.territory.pk
        ),
        ask(client, django_capture_on_commit_callbacks, "de", False, territory=plaine.territory.pk),
    ]
    assert [body["language"] for body in asked] == ["en", "fr", "en", "fr"]
    assert list(Report.objects.order_by("pk").values_list("language", flat=True)) == ["en", "fr", "en", "fr"]


def test_an_unknown_language_is_refused_with_its_field(world):
    plaine, evaluator = world
    response = client_for(evaluator).post(
        reverse("api:report-list"),
        {"kind": "drihl", "territory": plaine.territory.pk, "period_start": str(START),
         "period_end": str(END), "language": "de"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400 and "language" in response.json()


def test_a_report_asked_from_the_english_page_is_written_in_english(
    world, django_capture_on_commit_callbacks
):
    plaine, evaluator = world
    client = Client()  # a browser's form, not the API's JSON
    client.force_login(evaluator)
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("territory-reports", kwargs={"pk": plaine.territory.pk}),
            {"kind": "drihl", "territory": plaine.territory.pk, "period_start": START, "period_end": END},
        )
    assert response.status_code == 302, re.findall(r"error[^<]*<[^<]*<[^<]*", response.content.decode())
    report = Report.objects.get()
    assert (report.language, report.status) == ("en", "pending")
    page = client.get(reverse("report-detail", kwargs={"pk": report.pk})).content.decode()
    assert not french_in(re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1]))


@pytest.mark.parametrize("kind", ["drihl", "carasso"])
def test_the_funder_reports_in_english_hold_no_french_word(world, django_capture_on_commit_callbacks, kind):
    """Every section of the funders' reports (reach, money, capacity, EGalim, replication, the
    beneficiaries' voice) read back from the PDF against the word list of the English page walk."""
    plaine, evaluator = world
    client = client_for(evaluator)
    body = ask(client, django_capture_on_commit_callbacks, "en", kind=kind, territory=plaine.territory.pk)
    report = Report.objects.get(pk=body["id"])
    assert (report.language, report.status) == ("en", "done")
    download = client.get(reverse("api:report-download", kwargs={"pk": report.pk}))
    text = pdf_text(b"".join(download.streaming_content))
    assert not french_in(text), french_in(text)
