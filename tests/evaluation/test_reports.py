"""Reports: asked through the API, built by the task, read back from the PDF, frozen, retried.

The PDF is really rendered (WeasyPrint) and read back with pypdf: it names the territory and
the period, prints the meals distributed and the full cost per meal that the indicators give,
and holds its charts (drawn as vector forms). Rendering the stored figures again gives the same
bytes, even after the live data changed.
"""

from __future__ import annotations

import datetime
import gc
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation
from pypdf import PdfReader
from rest_framework.test import APIClient

from evaluation import reports, tasks
from evaluation.indicators import compute_indicators
from evaluation.models import Report
from territories.roles import Role
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import DailyRollupFactory, ReportFactory, member

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def french(value, decimals: int) -> str:
    with translation.override("fr"):
        text = formats.number_format(Decimal(value), decimals, use_l10n=True, force_grouping=True)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def chart_forms(data: bytes) -> int:
    """Form XObjects drawn on the pages: WeasyPrint draws each inline SVG chart as vector forms."""
    reader = PdfReader(io.BytesIO(data))
    forms = 0
    for page in reader.pages:
        objects = page["/Resources"].get("/XObject") or {}
        forms += sum(1 for item in objects.values() if item.get_object().get("/Subtype") == "/Form")
    return forms


def ask(client, django_capture_on_commit_callbacks, **payload):
    data = {"kind": "drihl", "period_start": str(START), "period_end": str(END), **payload}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("api:report-list"), data, format="json")
    return response


@pytest.fixture
def world():
    references()
    plaine = pilot()
    other = pilot("Est Ensemble", "est-ensemble")
    return plaine, other, member(Role.EVALUATOR)


def test_a_drihl_report_prints_the_indicators_figures_and_its_charts(
    world, django_capture_on_commit_callbacks
):
    plaine, _, evaluator = world
    client = client_for(evaluator)
    response = ask(client, django_capture_on_commit_callbacks, territory=plaine.territory.pk)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert set(body) >= {"id", "status", "progress"}
    assert response["Location"] == reverse("api:report-detail", kwargs={"pk": body["id"]})

    status = client.get(reverse("api:report-detail", kwargs={"pk": body["id"]})).json()
    assert (status["status"], status["progress"], status["message"]) == ("done", 100, "")
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    pdf = b"".join(download.streaming_content)
    text = pdf_text(pdf)

    indicators = compute_indicators(territory_ids=[plaine.territory.pk], start=START, end=END)
    meals = indicators.get("meals_distributed").value
    full_cost = indicators.get("full_cost_per_meal")
    assert meals == 36 * 120 and full_cost.complete
    assert "Plaine Commune" in text
    assert "du 1er janvier 2025 au 31 mars 2025" in text
    assert f"Repas distribués {french(meals, 0)}" in text
    assert f"Coût complet par repas distribué {french(full_cost.value, 2)} €/repas" in text
    # The report's sections, in the order of an activity report for the Plan de relance.
    positions = [
        text.index(title)
        for title in (
            "1. Contexte",
            "2. Acteurs",
            "3. Activité",
            "4. Coûts et financements mobilisés",
            "5. Résultats au regard des objectifs",
            "6. Qualité, sécurité sanitaire et pertes",
            "7. Difficultés rencontrées et prochaines étapes",
            "8. Sources et méthode",
        )
    ]
    assert positions == sorted(positions)
    assert "Camion frigorifique en panne" in text  # an obstacle of the journal
    assert "Convention signée avec le CCAS" in text  # a lever
    assert "DRIHL (France Relance)" in text and "36 500,00 €" in text  # the funding used
    # The charts: drawn as vector forms, with their text (legends, axes) kept as text.
    assert chart_forms(pdf) >= 4
    for legend in ("Repas distribués", "Passages (personnes servies)", "Mois complet", "Semaine du"):
        assert legend in text
    # The figures it printed are stored with it.
    report = Report.objects.get(pk=body["id"])
    assert report.figures["volumes"]["meals_distributed"] == meals
    assert next(f for f in report.figures["costs"] if f["key"] == "full_cost_per_meal")["value"] == str(
        full_cost.value
    )


def test_the_same_figures_give_the_same_document_even_after_the_data_changed(
    world, django_capture_on_commit_callbacks
):
    plaine, _, evaluator = world
    body = ask(
        client_for(evaluator), django_capture_on_commit_callbacks, territory=plaine.territory.pk
    ).json()
    report = Report.objects.get(pk=body["id"])
    with report.pdf.open("rb") as handle:
        stored = handle.read()
    # New records arrive for the period after the report was built.
    DailyRollupFactory(partnership=plaine.partnership, day=datetime.date(2025, 3, 31), meals_distributed=999)

    again = reports.report_render(report=report, figures=report.figures)
    assert again == stored
    # The PDF's dates are the report's, from its figures, not the moment of rendering.
    metadata = PdfReader(io.BytesIO(stored)).metadata
    built_on = datetime.date.fromisoformat(report.figures["built_on"])
    assert metadata.creation_date.date() == metadata.modification_date.date() == built_on
    # A lost file is rendered again from the figures, identical.
    report.pdf.storage.delete(report.pdf.name)
    response = client_for(evaluator).get(reverse("api:report-download", kwargs={"pk": report.pk}))
    assert b"".join(response.streaming_content) == stored
    # A new report of the same period counts the new meals: a different document.
    fresh = ask(
        client_for(evaluator), django_capture_on_commit_callbacks, territory=plaine.territory.pk
    ).json()
    fresh_report = Report.objects.get(pk=fresh["id"])
    assert fresh_report.figures["volumes"]["meals_distributed"] == 36 * 120 + 999
    assert report.figures["volumes"]["meals_distributed"] == 36 * 120


def test_a_build_and_a_render_leave_the_garbage_collector_as_they_found_it(
    world, django_capture_on_commit_callbacks
):
    # A worker builds report after report: the thresholds raised and the objects frozen for the
    # figures and the render must come back, after a failed render too, or the worker's memory
    # would stop being collected as it should.
    plaine, _, evaluator = world
    thresholds = gc.get_threshold()
    body = ask(
        client_for(evaluator), django_capture_on_commit_callbacks, territory=plaine.territory.pk
    ).json()
    report = Report.objects.get(pk=body["id"])
    assert report.status == Report.Status.DONE
    assert gc.get_threshold() == thresholds  # after a build: its figures, then its render
    assert gc.get_freeze_count() == 0
    with report.pdf.open("rb") as handle:
        assert reports.report_render(report=report, figures=report.figures) == handle.read()
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), reports.garbage_collector_tuned_for_report():
        assert gc.get_threshold() == reports.REPORT_GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        raise RuntimeError("the render failed")
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


def test_progress_is_written_step_by_step(world, monkeypatch):
    plaine, _, evaluator = world
    report = Report.objects.create(
        kind="carasso", territory=plaine.territory, period_start=START, period_end=END, requested_by=evaluator
    )
    seen: list[tuple[str, int]] = []
    original = reports.set_progress

    def record(report_id: int, percent: int, attempt: int) -> None:
        original(report_id, percent, attempt)
        row = Report.objects.get(pk=report_id)
        seen.append((row.status, row.progress))

    monkeypatch.setattr(reports, "set_progress", record)
    built = tasks.build_report.delay(report.pk).get()
    assert built == "done"
    assert [progress for _, progress in seen] == sorted(progress for _, progress in seen)
    assert len(seen) >= 5 and all(status == "running" for status, _ in seen)
    report.refresh_from_db()
    assert (report.status, report.progress) == ("done", 100)
    assert report.finished_at is not None


def test_a_failed_build_is_stored_with_a_message_and_can_be_asked_again(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    plaine, _, evaluator = world
    client = client_for(evaluator)

    def crash(**kwargs):
        raise RuntimeError("moteur PDF indisponible")

    monkeypatch.setattr(reports, "report_render", crash)  # stands in for a crash of the renderer
    body = ask(client, django_capture_on_commit_callbacks, territory=plaine.territory.pk).json()
    url = reverse("api:report-detail", kwargs={"pk": body["id"]})
    status = client.get(url).json()
    assert status["status"] == "failed"
    assert "La construction du rapport a échoué" in status["message"]
    assert "moteur PDF indisponible" in status["message"]
    assert status["download_url"] is None
    assert client.get(reverse("api:report-download", kwargs={"pk": body["id"]})).status_code == 404
    assert Report.objects.get(pk=body["id"]).figures == {}  # nothing printed, nothing frozen

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("api:report-retry", kwargs={"pk": body["id"]}))
    assert response.status_code == 202
    status = client.get(url).json()
    assert (status["status"], status["progress"], status["message"]) == ("done", 100, "")
    # A done report is not asked again.
    assert client.post(reverse("api:report-retry", kwargs={"pk": body["id"]})).status_code == 409


def test_a_report_lost_on_its_way_can_be_asked_again_once_its_lease_or_its_wait_has_run_out(
    settings, django_capture_on_commit_callbacks
):
    """Pending: retryable once its message is older than the resend delay (180 s here); running:
    as soon as its worker's lease has expired. Each at the limit and one step past it."""
    settings.PASSERELLE_RESEND_AFTER_SECONDS = 180
    now = timezone.now()
    report = ReportFactory(status="pending", progress=0, figures={}, pdf="", sent_at=now)
    assert not reports.may_retry(report, now)
    with pytest.raises(reports.ReportNotRetryable):
        reports.report_retry(report=report)
    report.sent_at = now - datetime.timedelta(seconds=180)
    assert not reports.may_retry(report, now)
    report.sent_at = now - datetime.timedelta(seconds=181)
    assert reports.may_retry(report, now)
    report.sent_at = None  # the broker was down when it was asked
    assert reports.may_retry(report, now)

    running = ReportFactory(status="running", progress=60, figures={}, pdf="", lease_expires_at=now)
    assert not reports.may_retry(running, now)
    assert reports.may_retry(running, now + datetime.timedelta(seconds=1))
    Report.objects.filter(pk=running.pk).update(lease_expires_at=now - datetime.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        retried = reports.report_retry(report=running)
    retried.refresh_from_db()
    assert (retried.status, retried.attempts, retried.lease_expires_at) == ("done", 1, None)


def test_a_duplicate_delivery_of_the_task_changes_nothing(world, django_capture_on_commit_callbacks):
    plaine, _, evaluator = world
    body = ask(
        client_for(evaluator), django_capture_on_commit_callbacks, territory=plaine.territory.pk
    ).json()
    before = Report.objects.filter(pk=body["id"]).values().get()
    assert tasks.build_report.delay(body["id"]).get() == "done"
    assert Report.objects.filter(pk=body["id"]).values().get() == before


@pytest.mark.parametrize("role", [Role.AUTHORITY_COORDINATOR, Role.KITCHEN_MANAGER, Role.FUNDER])
def test_only_evaluators_ask_for_reports(world, role):
    plaine, _, _ = world
    user = member(role, None if role == Role.FUNDER else plaine.territory, funded=[plaine.territory])
    response = client_for(user).post(
        reverse("api:report-list"),
        {
            "kind": "drihl",
            "territory": plaine.territory.pk,
            "period_start": str(START),
            "period_end": str(END),
        },
        format="json",
    )
    assert response.status_code == 403
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"territory": 999999}, "territory"),
        ({"kind": "synthesis", "territory": "TERRITORY"}, "territory"),
        ({"kind": "drihl"}, "territory"),
        ({"territory": "TERRITORY", "period_end": "2024-12-01"}, "period_end"),
        ({"territory": "TERRITORY", "period_start": "2022-01-01"}, "period_end"),
        ({"territory": "TERRITORY", "kind": "annual"}, "kind"),
    ],
)
def test_a_bad_request_answers_400_on_its_field(world, payload, field):
    plaine, _, evaluator = world
    if payload.get("territory") == "TERRITORY":
        payload = {**payload, "territory": plaine.territory.pk}
    data = {"kind": "drihl", "period_start": str(START), "period_end": str(END), **payload}
    response = client_for(evaluator).post(reverse("api:report-list"), data, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Report.objects.exists()


def test_a_funder_reaches_only_the_reports_of_its_territories_and_no_synthesis(world):
    plaine, other, evaluator = world
    funder = member(Role.FUNDER, funded=[plaine.territory])
    own = ReportFactory(territory=plaine.territory, requested_by=evaluator)
    foreign = ReportFactory(territory=other.territory, requested_by=evaluator)
    synthesis = ReportFactory(kind="synthesis", territory=None, requested_by=evaluator)
    client = client_for(funder)
    assert client.get(reverse("api:report-download", kwargs={"pk": own.pk})).status_code == 200
    for report in (foreign, synthesis):
        for route in ("api:report-detail", "api:report-download", "report-detail", "report-download"):
            assert client.get(reverse(route, kwargs={"pk": report.pk})).status_code == 404, route
    listed = {row["id"] for row in client.get(reverse("api:report-list")).json()["results"]}
    assert listed == {own.pk}
    page = client.get(reverse("report-list")).content.decode()
    assert reverse("report-detail", kwargs={"pk": own.pk}) in page
    assert reverse("report-detail", kwargs={"pk": synthesis.pk}) not in page


def test_download_is_404_until_the_report_is_done(world):
    plaine, _, evaluator = world
    pending = ReportFactory(territory=plaine.territory, status="pending", progress=0, figures={}, pdf="")
    client = client_for(evaluator)
    for route in ("api:report-download", "report-download"):
        assert client.get(reverse(route, kwargs={"pk": pending.pk})).status_code == 404
    assert client.get(reverse("api:report-detail", kwargs={"pk": pending.pk})).json()["download_url"] is None


def test_carasso_report_puts_impact_first(world, django_capture_on_commit_callbacks):
    plaine, _, evaluator = world
    body = ask(
        client_for(evaluator),
        django_capture_on_commit_callbacks,
        kind="carasso",
        territory=plaine.territory.pk,
    ).json()
    report = Report.objects.get(pk=body["id"])
    assert report.status == "done", report.message
    with report.pdf.open("rb") as handle:
        text = pdf_text(handle.read())
    assert "Fondation Carasso" in text and "Plaine Commune" in text
    social = text.index("1. Impact social")
    environment = text.index("2. Impact environnemental et alimentation durable")
    costs = text.index("Coût d'un repas et modèle économique")
    assert social < environment < costs
    assert "Gaspillage alimentaire évité" in text or "gaspillage" in text.lower()


def test_a_synthesis_compares_every_territory(world, django_capture_on_commit_callbacks):
    _, _, evaluator = world
    body = ask(client_for(evaluator), django_capture_on_commit_callbacks, kind="synthesis").json()
    report = Report.objects.get(pk=body["id"])
    assert report.status == "done", report.message
    assert report.territory is None
    with report.pdf.open("rb") as handle:
        data = handle.read()
    text = pdf_text(data)
    assert "Les territoires côte à côte" in text
    assert "Plaine Commune" in text and "Est Ensemble" in text
    assert "Coût complet par repas distribué, par territoire" in text
    rows = {row["territory"]: row for row in report.figures["tables"]["comparison"]["rows"]}
    assert rows["Plaine Commune"]["meals_distributed"] == 36 * 120
    assert chart_forms(data) >= 6


def test_evaluator_asks_for_a_report_from_the_territory_page_and_follows_it(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    plaine, _, evaluator = world
    client = client_for(evaluator)
    page = client.get(reverse("territory-reports", kwargs={"pk": plaine.territory.pk}))
    assert page.status_code == 200 and "Demander le rapport" in page.content.decode()
    # Queued but not built yet: the status page follows the build with a script of our own origin
    # (no inline script, no timed refresh) and offers a link to refresh by hand.
    monkeypatch.setattr(reports, "enqueue", lambda report_id: None)
    response = client.post(
        reverse("territory-reports", kwargs={"pk": plaine.territory.pk}),
        {
            "kind": "drihl",
            "territory": plaine.territory.pk,
            "period_start": str(START),
            "period_end": str(END),
        },
        format="multipart",
    )
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "report-detail", kwargs={"pk": report.pk}
    )
    detail = client.get(response["Location"]).content.decode()
    status_url = reverse("api:report-detail", kwargs={"pk": report.pk})
    assert f'data-report-status="{status_url}"' in detail
    assert '<progress id="avancement" max="100" value="0">' in detail
    assert re.findall(r"<script\b[^>]*>", detail) == ['<script src="/static/js/report-progress.js" defer>']
    assert "http-equiv" not in detail and "style=" not in detail
    assert client.get(status_url).json()["status"] == "pending"  # what the script reads
    # Built: a download button and the exports of its tables, and nothing following any more.
    reports.report_build(report_id=report.pk)
    detail = client.get(response["Location"]).content.decode()
    assert "<script" not in detail
    assert reverse("report-download", kwargs={"pk": report.pk}) in detail
    assert f"{reverse('report-export', kwargs={'pk': report.pk})}?table=weekly&amp;format=xlsx" in detail


def test_the_report_pages_offer_no_form_to_other_roles_and_refuse_their_posts(world):
    plaine, _, _ = world
    coordinator = member(Role.AUTHORITY_COORDINATOR, plaine.territory)
    client = client_for(coordinator)
    page = client.get(reverse("territory-reports", kwargs={"pk": plaine.territory.pk})).content.decode()
    assert "Demander le rapport" not in page
    payload = {
        "kind": "drihl",
        "territory": plaine.territory.pk,
        "period_start": str(START),
        "period_end": str(END),
    }
    assert (
        client.post(reverse("territory-reports", kwargs={"pk": plaine.territory.pk}), payload).status_code
        == 403
    )
    assert (
        client.post(reverse("report-list"), {**payload, "kind": "synthesis", "territory": ""}).status_code
        == 403
    )
    assert not Report.objects.exists()


def test_the_browser_form_checks_the_period(world):
    _, _, evaluator = world
    response = client_for(evaluator).post(
        reverse("report-list"),
        {"kind": "synthesis", "territory": "", "period_start": str(END), "period_end": str(START)},
        format="multipart",
    )
    assert response.status_code == 400
    assert "La fin de la période précède son début." in response.content.decode()
    assert not Report.objects.exists()
