"""Funders read only the journal entries shared with them: in the journal API, in the reports
addressed to them (the PDF) and in those reports' exports. The synthesis, which only evaluators
read, prints every entry. The rule is written in docs/roles.md."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from evaluation import reports
from evaluation.models import JournalEntry, Report
from territories.roles import Role
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import JournalEntryFactory, TerritoryFactory, UserFactory, member

pytestmark = pytest.mark.django_db

SHARED = ("Camion frigorifique en panne", "Convention signée avec le CCAS")  # from reporting.pilot
WORKING_NOTE = "Tension avec la direction de la cuisine"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def test_the_journal_api_gives_a_funder_the_shared_entries_of_its_territories_only():
    home, away = TerritoryFactory(), TerritoryFactory()
    shared = JournalEntryFactory(territory=home, shared_with_funders=True, title="Partagée")
    note = JournalEntryFactory(territory=home, shared_with_funders=False, title="Note")
    elsewhere = JournalEntryFactory(territory=away, shared_with_funders=True, title="Ailleurs")
    funder = member(Role.FUNDER, funded=[home])
    api = client_for(funder)
    rows = api.get("/api/v1/journal/").json()["results"]
    assert [(row["id"], row["shared_with_funders"]) for row in rows] == [(shared.pk, True)]
    assert api.get(f"/api/v1/journal/{shared.pk}/").status_code == 200
    assert api.get(f"/api/v1/journal/{note.pk}/").status_code == 404
    assert api.get(f"/api/v1/journal/{elsewhere.pk}/").status_code == 404
    assert api.get("/api/v1/journal/?shared_with_funders=false").json()["results"] == []
    # Reading is all: a funder writes nothing, and cannot share a note by itself.
    assert api.patch(f"/api/v1/journal/{shared.pk}/", {"title": "Changé"}).status_code == 403
    assert api.patch(f"/api/v1/journal/{note.pk}/", {"shared_with_funders": True}).status_code == 404
    note.refresh_from_db()
    shared.refresh_from_db()
    assert (note.shared_with_funders, shared.title) == (False, "Partagée")
    # The territory's other members read both.
    manager = member(Role.KITCHEN_MANAGER, home)
    listed = {row["id"] for row in client_for(manager).get("/api/v1/journal/").json()["results"]}
    assert listed == {shared.pk, note.pk}


def test_the_journal_page_shows_a_funder_the_shared_entries_only():
    home = TerritoryFactory()
    JournalEntryFactory(territory=home, shared_with_funders=True, title="Partagée")
    JournalEntryFactory(territory=home, shared_with_funders=False, title=WORKING_NOTE)
    page = client_for(member(Role.FUNDER, funded=[home])).get(reverse("journal-list")).content.decode()
    assert "Partagée" in page
    assert WORKING_NOTE not in page


def test_an_authority_coordinator_shares_an_entry_from_the_form():
    home = TerritoryFactory()
    coordinator = member(Role.AUTHORITY_COORDINATOR, home)
    data = {
        "territory": home.pk,
        "observed_on": "2025-03-12",
        "nature": "lever",
        "category": "logistics",
        "title": "Tournée mutualisée",
        "text": "Les deux associations collectent ensemble le mardi.",
    }
    client = Client()
    client.force_login(coordinator)
    assert client.post(reverse("journal-create"), data).status_code == 302
    assert client.post(reverse("journal-create"), {**data, "shared_with_funders": "on"}).status_code == 302
    assert list(JournalEntry.objects.order_by("pk").values_list("shared_with_funders", flat=True)) == [
        False,
        True,
    ]


@pytest.fixture
def reported():
    references()
    plaine = pilot()
    JournalEntry.objects.create(
        territory=plaine.territory,
        author=UserFactory(),
        observed_on=datetime.date(2025, 2, 14),
        nature="obstacle",
        category="partnership",
        title=WORKING_NOTE,
        text="À ne pas diffuser.",
        shared_with_funders=False,
    )
    evaluator = member(Role.EVALUATOR)
    report = Report.objects.create(
        kind="drihl", territory=plaine.territory, period_start=START, period_end=END, requested_by=evaluator
    )
    report = reports.report_build(report_id=report.pk)
    assert report.status == "done", report.message
    return plaine, report, evaluator


def test_a_funder_reads_only_shared_entries_in_its_report_and_its_exports(reported):
    plaine, report, _evaluator = reported
    funder = client_for(member(Role.FUNDER, funded=[plaine.territory]))
    response = funder.get(reverse("api:report-download", kwargs={"pk": report.pk}))
    assert response.status_code == 200
    text = pdf_text(b"".join(response.streaming_content))
    for title in SHARED:
        assert title in text
    assert WORKING_NOTE not in text

    export = funder.get(
        reverse("api:report-export", kwargs={"pk": report.pk}), {"table": "journal", "format": "csv"}
    )
    assert export.status_code == 200
    body = b"".join(export.streaming_content).decode("utf-8")
    assert WORKING_NOTE not in body
    rows = [line.split(";") for line in body.lstrip("\ufeff").splitlines()[1:]]
    assert sorted(row[4] for row in rows) == sorted(SHARED)
    xlsx = funder.get(
        reverse("api:report-export", kwargs={"pk": report.pk}), {"table": "journal", "format": "xlsx"}
    )
    assert xlsx.status_code == 200
    assert WORKING_NOTE.encode() not in b"".join(xlsx.streaming_content)


def test_the_synthesis_for_evaluators_prints_every_entry(reported):
    _plaine, _report, evaluator = reported
    synthesis = Report.objects.create(
        kind="synthesis", territory=None, period_start=START, period_end=END, requested_by=evaluator
    )
    synthesis = reports.report_build(report_id=synthesis.pk)
    assert synthesis.status == "done", synthesis.message
    titles = {row["title"] for row in synthesis.figures["tables"]["journal"]["rows"]}
    assert titles == {*SHARED, WORKING_NOTE}
