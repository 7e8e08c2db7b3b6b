"""Reports and imports under a lease (``config.leases``): claimed once, renewed while the work
runs, taken back by the sweeper from a stopped worker, failed after the last attempt with the
reason, and a worker that lost its lease stores nothing. The real worker killed mid-report is
in ``tests/test_pending_work.py``; here the services, in-process (tasks run eagerly, so a report
or an import the sweeper sends again is built or loaded at once)."""

import datetime
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from config import leases
from evaluation import reports
from evaluation.models import Report
from meals import imports
from meals.models import Batch, RecordImport
from territories.roles import Role
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import ReportFactory, member
from tests.meals.test_record_import_pages import csv_upload

pytestmark = pytest.mark.django_db

SECOND = datetime.timedelta(seconds=1)


def unbuilt(**fields) -> Report:
    references()
    plaine = pilot()
    return ReportFactory(
        territory=plaine.territory,
        period_start=START,
        period_end=END,
        figures={},
        pdf="",
        progress=0,
        **fields,
    )


def test_the_sweeper_takes_reports_back_from_stopped_workers_and_fails_them_after_the_last_attempt(settings):
    """Three attempts at most: a lapsed lease at the second attempt is sent again (and built),
    at the third the report fails with the reason; a live lease is left alone."""
    settings.PASSERELLE_MAX_ATTEMPTS = 3
    now = timezone.now()
    second = unbuilt(status="running", attempts=2, lease_expires_at=now - SECOND)
    third = ReportFactory(status="running", attempts=3, lease_expires_at=now - SECOND, figures={}, pdf="")
    alive = ReportFactory(
        status="running", attempts=1, lease_expires_at=now + 60 * SECOND, figures={}, pdf=""
    )

    assert reports.report_sweep() == {"failed": 1, "requeued": 1, "resent": 1}
    second.refresh_from_db()
    assert (second.status, second.progress, second.attempts, second.lease_expires_at) == (
        "done",
        100,
        3,
        None,
    )
    third.refresh_from_db()
    assert (third.status, third.attempts) == ("failed", 3)
    assert third.message.startswith("Le calcul s'est interrompu 3 fois")
    assert third.finished_at is not None
    alive.refresh_from_db()
    assert (alive.status, alive.attempts) == ("running", 1)
    assert reports.report_sweep() == {"failed": 0, "requeued": 0, "resent": 0}


def test_a_pending_report_is_sent_again_once_the_delay_has_passed(settings):
    settings.PASSERELLE_RESEND_AFTER_SECONDS = 180
    now = timezone.now()
    waiting = unbuilt(status="pending", sent_at=now - 179 * SECOND)
    assert reports.report_sweep()["resent"] == 0
    Report.objects.filter(pk=waiting.pk).update(sent_at=now - 181 * SECOND)
    assert reports.report_sweep()["resent"] == 1
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == ("done", 1)


def test_a_worker_that_lost_its_lease_stores_nothing():
    report = ReportFactory(status="pending", progress=0, figures={}, pdf="")
    first = leases.lease_claim(Report, report.pk)
    assert first == 1
    assert leases.lease_claim(Report, report.pk) is None  # a duplicate message: the lease is held
    Report.objects.filter(pk=report.pk).update(lease_expires_at=timezone.now() - SECOND)
    second = leases.lease_claim(Report, report.pk)  # another worker, once the lease lapsed
    assert second == 2
    assert not leases.lease_renew(Report, report.pk, first, progress=60)
    assert not leases.lease_finish(Report, report.pk, first, status="done", progress=100)
    report.refresh_from_db()
    assert (report.status, report.progress, report.attempts) == ("running", 0, 2)
    assert leases.lease_finish(Report, report.pk, second, status="done", progress=100)


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_the_work_runs_and_lapses_after(settings):
    settings.PASSERELLE_LEASE_SECONDS = 0.6
    report = ReportFactory(status="pending", progress=0, figures={}, pdf="")
    attempt = leases.lease_claim(Report, report.pk)
    with leases.lease_kept(Report, report.pk, attempt):
        time.sleep(1.5)  # more than twice the lease
        assert Report.objects.get(pk=report.pk).lease_expires_at > timezone.now()
    time.sleep(0.8)
    assert Report.objects.get(pk=report.pk).lease_expires_at < timezone.now()


@pytest.fixture
def coordinator(scene):
    return member(Role.AUTHORITY_COORDINATOR, scene.territory)


def test_an_import_whose_worker_stopped_is_loaded_by_the_sweeper(scene, coordinator, settings):
    settings.PASSERELLE_MAX_ATTEMPTS = 3
    lost = RecordImport.objects.create(
        territory=scene.territory, file=csv_upload(scene, "2,0"), uploaded_by=coordinator, status="running",
        attempts=1, lease_expires_at=timezone.now() - SECOND,
    )  # fmt: skip
    assert imports.record_import_sweep() == {"failed": 0, "requeued": 1, "resent": 1}
    lost.refresh_from_db()
    assert (lost.status, lost.attempts, lost.counts["batches"]) == ("done", 2, 1)
    assert Batch.objects.filter(territory=scene.territory).count() == 1


def test_an_interrupted_import_can_be_retried_from_its_page(
    client, scene, coordinator, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    lost = RecordImport.objects.create(
        territory=scene.territory, file=csv_upload(scene, "2,0"), uploaded_by=coordinator, status="running",
        attempts=1, lease_expires_at=timezone.now() + 60 * SECOND,
    )  # fmt: skip
    page = reverse("record-import-detail", kwargs={"pk": lost.pk})
    retry = reverse("record-import-retry", kwargs={"pk": lost.pk})
    assert retry not in client.get(page).content.decode()  # its worker still holds the lease
    client.post(retry)
    assert RecordImport.objects.get(pk=lost.pk).status == "running"

    RecordImport.objects.filter(pk=lost.pk).update(lease_expires_at=timezone.now() - SECOND)
    assert retry in client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry)
    assert response.status_code == 302
    lost.refresh_from_db()
    assert (lost.status, lost.attempts, lost.counts["batches"]) == ("done", 1, 1)
    assert (
        "Import terminé ; enregistrés : 1 lot, 0 collecte et 0 distribution."
        in client.get(page).content.decode()
    )
    assert retry not in client.get(page).content.decode()


def test_only_the_territory_coordinator_retries_an_import(client, scene, coordinator):
    lost = RecordImport.objects.create(
        territory=scene.territory, file=csv_upload(scene, "2,0"), uploaded_by=coordinator, status="failed"
    )
    client.force_login(member(Role.EVALUATOR))
    assert client.post(reverse("record-import-retry", kwargs={"pk": lost.pk})).status_code == 403
    assert RecordImport.objects.get(pk=lost.pk).status == "failed"


def test_a_report_the_broker_did_not_take_says_it_is_queued_and_is_sent_by_the_sweeper(client):
    waiting = unbuilt(status="pending", sent_at=None)
    assert not leases.sent(Report, waiting.pk, lambda report_id: False, "message")  # a broker that refuses
    waiting.refresh_from_db()
    assert waiting.sent_at is None
    assert "sera traitée automatiquement dès son retour" in waiting.message
    client.force_login(member(Role.EVALUATOR))
    page = client.get(reverse("report-detail", kwargs={"pk": waiting.pk})).content.decode()
    assert "sera traitée automatiquement dès son retour" in page
    api = client.get(reverse("api:report-detail", kwargs={"pk": waiting.pk})).json()
    assert (api["status"], api["message"]) == ("pending", waiting.message)

    assert reports.report_sweep()["resent"] == 1  # the broker is back (tasks run in-process here)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.message, waiting.attempts) == ("done", "", 1)


def test_a_retried_import_starts_again_from_nothing_then_loads(
    scene, coordinator, django_capture_on_commit_callbacks
):
    # What the failed attempt left (its report, counts, attempts and lease) is cleared in the
    # retry's transaction, before the import is sent: its page reads "en attente", not the old failure.
    failed = RecordImport.objects.create(
        territory=scene.territory, file=csv_upload(scene, "2,0"), uploaded_by=coordinator, status="failed",
        report="L'import a échoué pour une raison technique : disque plein", rows=3,
        counts={"batches": 2, "pickups": 0, "distributions": 0}, finished_at=timezone.now(), attempts=3,
        lease_expires_at=timezone.now() - SECOND, sent_at=timezone.now() - 60 * SECOND,
    )  # fmt: skip
    with django_capture_on_commit_callbacks() as sends:
        imports.record_import_retry(record_import=failed)
    reset = RecordImport.objects.values(
        "status", "report", "rows", "counts", "finished_at", "attempts", "lease_expires_at", "sent_at"
    ).get(pk=failed.pk)
    assert reset == {
        "status": "pending", "report": "", "rows": 0, "counts": {}, "finished_at": None, "attempts": 0,
        "lease_expires_at": None, "sent_at": None,
    }  # fmt: skip
    assert len(sends) == 1

    sends[0]()  # committed: sent, and loaded at once by the in-process task
    failed.refresh_from_db()
    assert (failed.status, failed.rows, failed.attempts) == ("done", 1, 1)
    assert failed.counts == {"batches": 1, "pickups": 0, "distributions": 0}
    assert failed.finished_at is not None and failed.lease_expires_at is None
    assert Batch.objects.filter(territory=scene.territory).count() == 1


def test_an_import_that_loaded_is_not_retried_and_says_why(client, scene, coordinator):
    done = RecordImport.objects.create(
        territory=scene.territory, file=csv_upload(scene, "2,0"), uploaded_by=coordinator, status="done",
        rows=1, counts={"batches": 1, "pickups": 0, "distributions": 0}, report="Import terminé",
    )  # fmt: skip
    with pytest.raises(imports.ImportNotRetryable) as refusal:
        imports.record_import_retry(record_import=done)
    assert str(refusal.value) == "Seul un import en échec ou interrompu peut être relancé."

    client.force_login(coordinator)
    response = client.post(reverse("record-import-retry", kwargs={"pk": done.pk}), follow=True)
    assert [str(message) for message in response.context["messages"]] == [
        "Seul un import en échec ou interrompu peut être relancé."
    ]
    done.refresh_from_db()
    assert (done.status, done.rows, done.report) == ("done", 1, "Import terminé")
