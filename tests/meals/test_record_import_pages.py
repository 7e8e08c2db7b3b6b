"""Uploading a CSV of past records from the browser; the import runs as a task."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from meals import import_format, imports
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
    assert "Import terminé ; enregistrés : 2 lots, 0 collecte et 0 distribution." in response.content.decode()
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


def test_the_page_explains_the_format_and_offers_a_template(client, scene, coordinator):
    client.force_login(coordinator)
    html = client.get(reverse("record-import", kwargs={"pk": scene.territory.pk})).content.decode()
    assert "docs/import.md" not in html
    # Every column the importer reads is explained on the page, once, with when it is needed.
    assert sorted(item.column for item in import_format.FORMAT) == sorted(imports.COLUMNS)
    for item in import_format.FORMAT:
        assert html.count(f"<code>{item.column}</code>") == 1, item.column
    assert (
        "<code>dispatch_temperature_c</code></th>\n"
        '              <td data-label="Obligatoire">obligatoire</td>' in html
    )
    assert "<code>gluten, crustaceans, eggs" in html  # the allergens' codes
    assert f'href="{reverse("record-import-template")}" download>Télécharger le modèle CSV' in html


def test_the_template_csv_loads_once_given_this_territorys_numbers(client, scene, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("record-import-template"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith(
        "\ufeffpartnership;kind;production_date;meals_count;liaison;lot_number;use_by_date;"
    )
    lines = text.lstrip("\ufeff").splitlines()
    assert len(lines) == 3
    # The examples' numbers and days made this scene's: the file loads as it is.
    day = datetime.date.today() - datetime.timedelta(days=10)
    header, first, second = (line.split(";") for line in lines)
    swaps = {
        "partnership": {"12": str(scene.partnership.pk), "13": str(scene.supply.pk)},
        "site": {"7": str(scene.site.pk)},
    }
    days = {
        "10/04/2025": day,
        "11/04/2025": day + datetime.timedelta(days=1),
        "13/04/2025": day + datetime.timedelta(days=3),
        "14/04/2025": day + datetime.timedelta(days=4),
    }
    rows = []
    for cells in (first, second):
        values = []
        for column, value in zip(header, cells, strict=True):
            value = swaps.get(column, {}).get(value, value)
            for old, new in days.items():
                value = value.replace(old, f"{new:%d/%m/%Y}")
            values.append(value)
        rows.append(";".join(values))
    file = SimpleUploadedFile("modele.csv", "\n".join([";".join(header), *rows]).encode())
    report = imports.import_records(file=file, territory=scene.territory, by=coordinator)
    assert report.ok, report.as_text()
    assert report.counts == {"batches": 2, "pickups": 2, "distributions": 1}


def test_an_import_delivered_twice_is_loaded_once(scene, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record_import = imports.record_import_request(
            territory=scene.territory, file=csv_upload(scene, "2,0"), by=coordinator
        )
    record_import.refresh_from_db()
    assert record_import.status == "done"
    again = imports.record_import_run(import_id=record_import.pk)  # the same message, delivered again
    assert (again.status, again.counts) == ("done", {"batches": 1, "pickups": 0, "distributions": 0})
    assert Batch.objects.count() == 1


def test_an_import_whose_file_is_gone_fails_with_its_reason(scene, coordinator):
    lost = RecordImport.objects.create(
        territory=scene.territory, file="imports/perdu.csv", uploaded_by=coordinator
    )
    with pytest.raises(FileNotFoundError):
        imports.record_import_run(import_id=lost.pk)
    lost.refresh_from_db()
    assert lost.status == "failed"
    assert lost.report.startswith("L'import a échoué pour une raison technique : ")
    assert Batch.objects.count() == 0
