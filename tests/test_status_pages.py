"""Status pages of reports and imports: asking goes straight to the status page, even when
tasks run in-process (the work runs once the response is sent), and the page shows one status,
the true one, with its progress, then the result."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from evaluation.models import Report
from evaluation.views import ReportListView
from meals.models import RecordImport
from meals.views import RecordImportView
from territories.roles import Role
from tests.factories import member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db(transaction=True)

REPORT_STATUSES = ["En attente", "En cours", "Prêt", "Échec"]
IMPORT_STATUSES = ["En attente", "En cours", "Importé", "Refusé", "Échec technique"]


def posted(user, path, data):
    """A POST through the view alone: the response as the server gets it, before it is closed."""
    request = RequestFactory().post(path, data)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def statuses_shown(html, labels):
    """The status labels the page's facts show (the <dd> of "Statut")."""
    facts = html[html.index("<dt>Statut</dt>") :]
    shown = facts[: facts.index("</dd>")]
    return [label for label in labels if f"<strong>{label}</strong>" in shown]


def test_a_report_request_answers_with_its_status_page_before_the_build(client):
    Scene()
    evaluator = member(Role.EVALUATOR)
    path = reverse("report-list")
    data = {"kind": "synthesis", "period_start": "2025-01-01", "period_end": "2025-01-31"}
    response = ReportListView.as_view()(posted(evaluator, path, data))

    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("report-detail", kwargs={"pk": report.pk})
    assert report.status == Report.Status.PENDING  # the response is ready, the build is not run yet

    client.force_login(evaluator)
    waiting = client.get(response["Location"]).content.decode()
    assert statuses_shown(waiting, REPORT_STATUSES) == ["En attente"]
    assert "Le rapport attend son tour" in waiting
    assert '<progress id="avancement" max="100" value="0">' in waiting
    assert '<script src="/static/js/report-progress.js" defer>' in waiting
    assert "Actualiser la page" in waiting  # without JavaScript
    assert "Rapport demandé" not in waiting

    response.close()  # the server has sent the response: the build runs now
    report.refresh_from_db()
    assert report.status == Report.Status.DONE
    ready = client.get(response["Location"]).content.decode()
    assert statuses_shown(ready, REPORT_STATUSES) == ["Prêt"]
    assert "Rapport prêt depuis le" in ready
    assert "en cours de construction" not in ready and "attend son tour" not in ready
    assert "<progress" not in ready and "report-progress.js" not in ready


def test_an_import_answers_with_its_status_page_then_shows_the_refusal_alone(client):
    scene = Scene()
    coordinator = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    day = datetime.date.today()
    content = (
        "partnership;kind;production_date;meals_count;liaison;lot_number;use_by_date;dispatch_temperature_c;allergens\n"
        f"{scene.partnership.pk};surplus;{day};40;cold;L-1;{day + datetime.timedelta(days=2)};9,0;aucun\n"
    )
    path = reverse("record-import", kwargs={"pk": scene.territory.pk})
    upload = SimpleUploadedFile("historique.csv", content.encode(), content_type="text/csv")
    response = RecordImportView.as_view()(posted(coordinator, path, {"file": upload}), pk=scene.territory.pk)

    record_import = RecordImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("record-import-detail", kwargs={"pk": record_import.pk})
    assert record_import.status == RecordImport.Status.PENDING

    client.force_login(coordinator)
    waiting = client.get(response["Location"]).content.decode()
    assert statuses_shown(waiting, IMPORT_STATUSES) == ["En attente"]
    assert "Le fichier attend son tour" in waiting
    assert "<progress aria-label=" in waiting and 'data-follow-status="pending"' in waiting
    assert '<script src="/static/js/status-follow.js" defer>' in waiting
    assert "Actualiser la page" in waiting  # without JavaScript
    assert "l&#x27;import est en cours" not in waiting

    response.close()
    record_import.refresh_from_db()
    assert record_import.status == RecordImport.Status.REFUSED
    refused = client.get(response["Location"]).content.decode()
    assert statuses_shown(refused, IMPORT_STATUSES) == ["Refusé"]
    assert "Le fichier a été refusé" in refused
    assert "en cours" not in refused and "attend son tour" not in refused
    assert "<progress" not in refused and "status-follow.js" not in refused
