"""Stored files and deletions: a refused upload stores nothing, replaced and regenerated files
leave no orphan once the cleanup task has run, a missing report PDF is rendered once however
many download it at once, and a record deleted twice answers 404 the second time."""

import datetime
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections
from django.urls import reverse
from rest_framework.test import APIClient

from associations.models import Partnership
from costing.models import DailyRollup
from costing.rollups import compute_territory_day
from evaluation.models import Report
from meals.models import Batch, Distribution
from territories import media
from territories.roles import Role
from territories.tasks import delete_orphan_files
from tests.conftest import needs_postgresql
from tests.factories import ReportFactory, flow, member

PDF = b"%PDF-1.4\n" + b"0" * 1000 + b"\n%%EOF\n"


def stored() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return (
        sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
        if root.exists()
        else []
    )


def upload(name="convention.pdf", data=PDF):
    return ContentFile(data, name=name)


# --- Uploads are checked for the caller's right before a byte is stored -------------------------


@pytest.mark.django_db
def test_a_refused_convention_upload_stores_no_file(api, scene):
    """A kitchen manager may not create partnerships: 403, and nothing in MEDIA_ROOT."""
    api.force_authenticate(scene.kitchen_user)
    payload = {
        "kitchen": scene.partnership.kitchen_id,
        "association": scene.partnership.association_id,
        "mode": "surplus",
        "starts_on": str(datetime.date.today()),
        "planned_meals_per_week": 100,
        "convention_document": upload(),
    }
    before = Partnership.objects.count()
    response = api.post("/api/v1/partnerships/", payload, format="multipart")
    assert response.status_code == 403
    assert Partnership.objects.count() == before
    assert stored() == []


@pytest.mark.django_db
def test_an_allowed_convention_upload_is_stored_and_a_replaced_one_removed(
    api, scene, django_capture_on_commit_callbacks
):
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    url = f"/api/v1/partnerships/{scene.partnership.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            api.patch(url, {"convention_document": upload("v1.pdf")}, format="multipart").status_code == 200
        )
    first = Partnership.objects.get(pk=scene.partnership.pk).convention_document.name
    assert stored() == [first]
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            api.patch(url, {"convention_document": upload("v2.pdf")}, format="multipart").status_code == 200
        )
    second = Partnership.objects.get(pk=scene.partnership.pk).convention_document.name
    assert second != first
    assert stored() == [second]  # the replaced version is gone


@pytest.mark.django_db
def test_a_convention_upload_refused_by_its_bounds_stores_no_file(api, scene):
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    response = api.patch(
        f"/api/v1/partnerships/{scene.partnership.pk}/",
        {"convention_document": upload(), "starts_on": "9999-01-01"},
        format="multipart",
    )
    assert response.status_code == 400
    assert stored() == []


# --- Orphan files are removed by the cleanup task ------------------------------------------------


def age(name: str, hours: float) -> None:
    path = Path(settings.MEDIA_ROOT) / name
    when = (datetime.datetime.now() - datetime.timedelta(hours=hours)).timestamp()
    os.utime(path, (when, when))


@pytest.mark.django_db
def test_the_cleanup_task_removes_orphans_older_than_the_grace_and_keeps_the_rest(scene):
    scene.partnership.convention_document.save("signed.pdf", upload(), save=True)
    report = ReportFactory(territory=scene.territory)
    kept = {scene.partnership.convention_document.name, report.pdf.name}
    old_convention = default_storage.save(f"conventions/{scene.territory.pk}/replaced.pdf", upload())
    old_report = default_storage.save("reports/2025/rapport-drihl-1_old.pdf", upload())
    recent_orphan = default_storage.save("imports/2025/01/in-flight.csv", ContentFile(b"a;b\n"))
    outside = default_storage.save("elsewhere/notes.txt", ContentFile(b"kept"))
    for name in [*kept, old_convention, old_report, outside]:
        age(name, hours=2)
    age(recent_orphan, hours=0.5)  # within the hour of grace: its row may not be committed yet

    assert media.orphan_files() == sorted([old_convention, old_report])
    assert delete_orphan_files.delay().get() == 2
    assert stored() == sorted([*kept, recent_orphan, outside])
    assert delete_orphan_files.delay().get() == 0  # idempotent


@pytest.mark.django_db
def test_a_regenerated_report_leaves_no_orphan_after_the_cleanup(scene):
    report = ReportFactory(territory=scene.territory)
    first = report.pdf.name
    report.pdf.save("rapport.pdf", upload(), save=True)  # built again, stored under a new name
    assert report.pdf.name != first
    for name in stored():
        age(name, hours=2)
    assert media.orphan_files_delete() == [first]
    assert stored() == [report.pdf.name]


# --- A missing report PDF is rendered once, under a lock ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_downloads_of_a_lost_pdf_render_it_once():
    needs_postgresql("the row lock is what is under test; CI runs this on PostgreSQL")
    from evaluation import reports
    from tests.scenes import Scene

    evaluator = member(Role.EVALUATOR)
    scene = Scene()
    flow(scene.partnership, kitchen_user=scene.kitchen_user, volunteer=scene.volunteer, site=scene.site)
    month = datetime.date.today().replace(day=1)
    report = ReportFactory(
        territory=scene.territory, requested_by=evaluator, period_start=month, period_end=month,
        status="pending", figures={}, pdf=None,
    )  # fmt: skip
    report = reports.report_build(report_id=report.pk)
    assert report.status == Report.Status.DONE, report.message
    Path(settings.MEDIA_ROOT, report.pdf.name).unlink()
    assert stored() == []
    url = reverse("report-download", kwargs={"pk": report.pk})
    start = threading.Barrier(10)

    def download(_: int) -> tuple[int, bytes]:
        from django.test import Client

        client = Client()
        client.force_login(evaluator)
        start.wait()
        try:
            response = client.get(url)
            return response.status_code, b"".join(response.streaming_content)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(download, range(10)))
    assert [status for status, _ in results] == [200] * 10
    assert len({body for _, body in results}) == 1 and results[0][1].startswith(b"%PDF-")
    files = [name for name in stored() if name.startswith("reports/")]
    assert len(files) == 1, files
    assert Report.objects.get(pk=report.pk).pdf.name == files[0]


# --- Deleting twice ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_deleting_a_distribution_twice_answers_404_the_second_time(api, scene):
    batch, _pickup, distribution = flow(
        scene.partnership, kitchen_user=scene.kitchen_user, volunteer=scene.volunteer, site=scene.site
    )
    api.force_authenticate(scene.volunteer)
    assert api.delete(f"/api/v1/distributions/{distribution.pk}/").status_code == 204
    assert api.delete(f"/api/v1/distributions/{distribution.pk}/").status_code == 404
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PICKED_UP


@pytest.mark.django_db
def test_the_service_deletes_a_stale_distribution_once(scene):
    from meals import services

    _, _, distribution = flow(
        scene.partnership, kitchen_user=scene.kitchen_user, volunteer=scene.volunteer, site=scene.site
    )
    pk = distribution.pk
    stale = Distribution.objects.get(pk=pk)  # what a second request loaded
    services.distribution_delete(distribution=distribution, by=scene.volunteer)
    with pytest.raises(Distribution.DoesNotExist):
        services.distribution_delete(distribution=stale, by=scene.volunteer)
    assert Distribution.history.filter(id=pk, history_type="-").count() == 1


@pytest.mark.django_db
def test_deleting_a_site_twice_answers_404_the_second_time(api, scene):
    from tests.factories import DistributionSiteFactory

    site = DistributionSiteFactory(association=scene.partnership.association)
    api.force_authenticate(
        member(Role.ASSOCIATION_COORDINATOR, scene.territory, association=scene.partnership.association)
    )
    assert api.delete(f"/api/v1/sites/{site.pk}/").status_code == 204
    assert api.delete(f"/api/v1/sites/{site.pk}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_five_parallel_deletions_of_a_distribution_answer_one_204_and_four_404():
    needs_postgresql("row locking is what is under test; CI runs this on PostgreSQL")
    from tests.scenes import Scene

    scene = Scene()
    batch, pickup, distribution = flow(
        scene.partnership, kitchen_user=scene.kitchen_user, volunteer=scene.volunteer, site=scene.site
    )
    day = distribution.distributed_on
    start = threading.Barrier(5)

    def delete(_: int) -> int:
        client = APIClient()
        client.force_authenticate(scene.volunteer)
        start.wait()
        try:
            return client.delete(f"/api/v1/distributions/{distribution.pk}/").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(5) as pool:
        statuses = sorted(pool.map(delete, range(5)))
    assert statuses == [204, 404, 404, 404, 404]
    assert not Distribution.objects.filter(pk=distribution.pk).exists()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PICKED_UP
    assert Distribution.history.filter(id=distribution.pk, history_type="-").count() == 1
    # The roll-up of the day counts no distribution, and equals a rebuild from the records.
    row = DailyRollup.objects.all_territories().get(partnership=scene.partnership, day=day)
    assert (row.distributions, row.meals_distributed, row.meals_discarded) == (0, 0, 0)
    assert row.meals_picked_up == pickup.meals_received
    (rebuilt,) = compute_territory_day(scene.territory.pk, day)
    for field in (
        "distributions",
        "meals_distributed",
        "meals_discarded",
        "people_served",
        "meals_picked_up",
    ):
        assert getattr(row, field) == getattr(rebuilt, field), field


@pytest.mark.django_db
def test_a_refused_csv_import_stores_no_file(client, scene):
    """Only the territory's authority imports records: a volunteer's upload is refused, unstored."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from meals.models import RecordImport

    client.force_login(scene.volunteer)
    csv = SimpleUploadedFile(
        "records.csv", b"kind;production_date\n" + b"x" * 3_000_000, content_type="text/csv"
    )
    response = client.post(reverse("record-import", kwargs={"pk": scene.territory.pk}), {"file": csv})
    assert response.status_code == 403
    assert not RecordImport.objects.exists()
    assert stored() == []
