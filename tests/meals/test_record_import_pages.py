"""Uploading a CSV of past records from the browser; the import runs as a task."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from meals.models import Batch, RecordImport
from territories.roles import Role
from tests.factories import TerritoryFactory, member

pytestmark = pytest.mark.django_db

HEADER = (
    "partnership;kind;production_date;meals_count;liaison;lot_number;use_by_date;dispatch_temperature_c"
    ";allergens"
)


def csv_upload(scene, *temperatures: str) -> SimpleUploadedFile:
    # Batches without their pickup are left ready: their use-by date must not have passed.
    day = datetime.date.today()
    lines = [HEADER] + [
        f"{scene.partnership.pk};surplus;{day};40;cold;L-{n};{day + datetime.timedelta(days=2)};"
        f"{temperature};aucun"
        for n, temperature in enumerate(temperatures)
    ]
    return SimpleUploadedFile("historique.csv", "\n".join(lines).encode(), content_type="text/csv")


@pytest.fixture
def coordinator(scene):
    return member(Role.AUTHORITY_COORDINATOR, scene.territory)


def upload(client, scene, file, django_capture_on_commit_callbacks):
    """Posts the file, lets the queued import run (as after the request's commit), then opens its page."""
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(reverse("record-import", kwargs={"pk": scene.territory.pk}), {"file": file})
    assert posted.status_code == 302
    return client.get(posted.url)


def test_a_good_file_is_loaded_and_the_page_reports_it(
    client, scene, coordinator, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    response = upload(client, scene, csv_upload(scene, "2,0", "1,5"), django_capture_on_commit_callbacks)

    record_import = RecordImport.objects.get()
    assert response.request["PATH_INFO"] == reverse("record-import-detail", kwargs={"pk": record_import.pk})
    assert record_import.status == "done"
    assert record_import.counts == {"batches": 2, "pickups": 0, "distributions": 0}
    assert "Import terminé : 2 lots" in response.content.decode()
    assert Batch.objects.filter(territory=scene.territory).count() == 2


def test_a_file_with_a_bad_line_is_refused_whole(
    client, scene, coordinator, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    response = upload(client, scene, csv_upload(scene, "2,0", "9,0"), django_capture_on_commit_callbacks)

    body = response.content.decode()
    assert RecordImport.objects.get().status == "refused"
    assert "rien n&#x27;a été enregistré" in body
    assert "ligne 3, dispatch_temperature_c" in body
    assert Batch.objects.count() == 0


def test_the_page_refreshes_itself_while_the_import_runs(client, scene, coordinator):
    client.force_login(coordinator)
    running = RecordImport.objects.create(
        territory=scene.territory, file="imports/x.csv", uploaded_by=coordinator
    )
    body = client.get(reverse("record-import-detail", kwargs={"pk": running.pk})).content.decode()
    # Followed by a script of our own origin (no timed refresh), or by hand without it.
    assert '<script src="/static/js/status-follow.js" defer>' in body
    assert 'data-follow-status="pending"' in body
    assert "http-equiv" not in body
    assert "<progress" in body and "Actualiser la page" in body


def test_only_a_csv_within_the_size_limit_is_accepted(client, scene, coordinator):
    client.force_login(coordinator)
    url = reverse("record-import", kwargs={"pk": scene.territory.pk})
    pdf = SimpleUploadedFile("historique.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = client.post(url, {"file": pdf})
    assert response.status_code == 200
    assert "Déposez un fichier .csv" in response.content.decode()
    assert RecordImport.objects.count() == 0


@pytest.mark.parametrize("role", [Role.KITCHEN_MANAGER, Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR])
def test_other_roles_cannot_upload(client, scene, role):
    client.force_login(member(role, scene.territory))
    response = client.post(
        reverse("record-import", kwargs={"pk": scene.territory.pk}), {"file": csv_upload(scene, "2,0")}
    )
    assert response.status_code == 403
    assert RecordImport.objects.count() == 0


def test_a_coordinator_cannot_upload_into_another_territory(client, scene):
    client.force_login(member(Role.AUTHORITY_COORDINATOR, TerritoryFactory()))
    response = client.post(
        reverse("record-import", kwargs={"pk": scene.territory.pk}), {"file": csv_upload(scene, "2,0")}
    )
    assert response.status_code == 404
    assert RecordImport.objects.count() == 0
