"""The CSV import of past batches, pickups and distributions: loaded whole, or refused whole with a report."""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from meals import imports
from meals.imports import import_records
from meals.models import Batch, Distribution, Pickup
from territories.roles import Role
from tests.factories import DistributionSiteFactory, PartnershipFactory, member

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"

BATCH_HEADER = (
    "partnership,kind,production_date,meals_count,liaison,lot_number,use_by_date,dispatch_temperature_c"
    ",allergens"
)
FULL_HEADER = (
    BATCH_HEADER + ",picked_up_at,meals_received,pickup_temperature_c,transport_mode"
    ",site,distributed_on,meals_distributed,beneficiaries,distribution_temperature_c"
)


@pytest.fixture
def importer(scene):
    return member(Role.AUTHORITY_COORDINATOR, scene.territory)


def fixture(name, scene, *, partnership=None, site=None):
    """A sample file from tests/meals/fixtures/, with the ids of this test's records filled in."""
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    text = text.replace("{partnership}", str((partnership or scene.partnership).pk))
    if "{supply}" in text:
        text = text.replace("{supply}", str(scene.supply.pk))
    text = text.replace("{site}", str((site or scene.site).pk))
    return io.BytesIO(text.encode("utf-8"))


def csv_file(*lines):
    return io.BytesIO("\n".join(lines).encode("utf-8"))


def nothing_written():
    return (
        Batch.objects.count()
        + Pickup.objects.count()
        + Distribution.objects.count()
        + Batch.history.count()
        + Pickup.history.count()
        + Distribution.history.count()
    ) == 0


# Empties the pickup and distribution cells of a full row.
BATCH_ONLY = dict.fromkeys(FULL_HEADER.split(",")[9:], "")


def good_row(scene, day=datetime.date(2025, 6, 2), **change):
    """A full row (batch, pickup, distribution) as FULL_HEADER expects it."""
    values = {
        "partnership": scene.partnership.pk,
        "kind": "surplus",
        "production_date": day.isoformat(),
        "meals_count": 100,
        "liaison": "cold",
        "lot_number": f"L-{day:%m%d}",
        "use_by_date": (day + datetime.timedelta(days=3)).isoformat(),
        "dispatch_temperature_c": "2.0",
        "allergens": "milk",
        "picked_up_at": f"{day.isoformat()} 14:00",
        "meals_received": 100,
        "pickup_temperature_c": "2.5",
        "transport_mode": "association_vehicle",
        "site": scene.site.pk,
        "distributed_on": (day + datetime.timedelta(days=1)).isoformat(),
        "meals_distributed": 90,
        "beneficiaries": 80,
        "distribution_temperature_c": "2.0",
        **change,
    }
    return ",".join(str(values[name]) for name in FULL_HEADER.split(","))


# A good file


def test_good_file_loads_batches_pickups_and_distributions(scene, importer):
    report = import_records(file=fixture("import_good.csv", scene), territory=scene.territory, by=importer)

    assert report.ok, report.as_text()
    assert report.errors == []
    assert report.rows == 4
    assert report.counts == {"batches": 4, "pickups": 3, "distributions": 1}
    assert Batch.objects.filter(territory=scene.territory).count() == 4
    assert Pickup.objects.filter(territory=scene.territory).count() == 3
    assert Distribution.objects.filter(territory=scene.territory).count() == 1
    assert report.as_text() == (
        "Import réussi : 4 lignes ; enregistrés : 4 lots, 3 collectes et 1 distribution."
    )

    statuses = dict(Batch.objects.values_list("lot_number", "status"))
    assert statuses == {
        "L-0303": "picked_up",
        "L-0304": "picked_up",
        "L-0305": "distributed",
        "L-0306": "discarded",
    }
    ready = Batch.objects.get(lot_number="L-0303")  # a past batch comes with its pickup
    assert ready.components == ["main", "side"]
    assert ready.allergens == ["milk", "gluten"]
    assert ready.dispatch_temperature_c == Decimal("2.5")
    assert ready.created_by == importer
    assert ready.kitchen == scene.partnership.kitchen
    discarded = Batch.objects.get(lot_number="L-0306")
    assert discarded.discard_reason == "Camion frigorifique en panne"

    pickup = Pickup.objects.get(batch__lot_number="L-0304")
    # A naive time in the file is Paris time: 14:30 in March is 13:30 UTC.
    assert pickup.picked_up_at == datetime.datetime(2025, 3, 4, 13, 30, tzinfo=datetime.UTC)
    assert pickup.refrigerated_vehicle is True
    assert pickup.distance_km == Decimal("4.2")
    assert pickup.picked_up_by == importer

    distribution = Distribution.objects.get()
    assert distribution.site == scene.site
    assert distribution.batch.service == "dinner"
    assert (distribution.meals_distributed, distribution.meals_discarded) == (55, 3)
    assert (distribution.beneficiaries, distribution.households, distribution.children) == (50, 20, 12)
    assert distribution.discard_reason == "Barquettes abîmées"
    assert distribution.recorded_by == importer
    # The history names the importer as the author.
    assert set(Batch.history.values_list("history_user", flat=True)) == {importer.pk}


def test_semicolons_decimal_commas_french_dates_and_bom(scene, importer):
    report = import_records(
        file=fixture("import_good_semicolon.csv", scene), territory=scene.territory, by=importer
    )

    assert report.ok, report.as_text()
    assert report.counts == {"batches": 3, "pickups": 3, "distributions": 1}
    big = Batch.objects.get(lot_number="L-1004")
    assert big.production_date == datetime.date(2025, 4, 10)
    assert big.use_by_date == datetime.date(2025, 4, 13)
    assert big.meals_count == 1200
    assert big.dispatch_temperature_c == Decimal("2.5")
    assert big.pickup.temperature_c == Decimal("2.8")
    assert big.pickup.distance_km == Decimal("3.4")
    assert big.pickup.refrigerated_vehicle is True
    assert big.pickup.transport_cost == Decimal("12.50")
    distribution = big.distributions.get()
    assert (distribution.meals_distributed, distribution.beneficiaries, distribution.children) == (
        1150,
        900,
        310,
    )
    assert Batch.objects.get(lot_number="L-1104").dispatch_temperature_c == Decimal("-1.5")
    quoted = Batch.objects.get(lot_number="L-1204; bis")
    assert quoted.pickup.refrigerated_vehicle is False
    assert quoted.pickup.transport_cost is None
    assert quoted.pickup.picked_up_on == datetime.date(2025, 4, 12)
    # A date alone is midnight, Paris time.
    assert quoted.pickup.picked_up_at == datetime.datetime(2025, 4, 11, 22, 0, tzinfo=datetime.UTC)


def test_text_file_and_dates_relative_to_today(scene, importer):
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    file = io.StringIO("\n".join([FULL_HEADER, good_row(scene, day=yesterday, distributed_on=yesterday)]))

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert report.ok, report.as_text()
    assert Distribution.objects.get().distributed_on == yesterday


# A file with errors is refused whole


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"dispatch_temperature_c": "8", **BATCH_ONLY}, "dispatch_temperature_c", "+3 °C ou moins"),
        ({"meals_distributed": 105}, "meals_distributed", "restants (100)"),
        ({"pickup_temperature_c": "9"}, "pickup_temperature_c", "+3 °C ou moins"),
        ({"distributed_on": "2025-06-30"}, "distributed_on", "date limite de consommation"),
        ({"production_date": "2023-06-01", "use_by_date": "2023-06-04",
          "picked_up_at": "2023-06-01 14:00", "distributed_on": "2023-06-02"}, "partnership", "pas actif"),
        ({"meals_count": "douze"}, "meals_count", "Un nombre entier valide est requis."),
        ({"production_date": "2025-13-01"}, "production_date", "date attendue"),
        ({"transport_mode": "camion"}, "transport_mode", "n'est pas un choix valide"),
    ],
)  # fmt: skip
def test_one_bad_line_rejects_the_whole_file(scene, importer, change, field, message):
    before, after = datetime.date(2025, 6, 1), datetime.date(2025, 6, 3)
    file = csv_file(FULL_HEADER, good_row(scene, before), good_row(scene, **change), good_row(scene, after))

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert not report.ok
    assert [(line, name) for line, name, _ in report.errors] == [(3, field)]
    assert message in report.errors[0].message
    assert report.counts == {"batches": 0, "pickups": 0, "distributions": 0}
    assert nothing_written()
    assert report.as_text().startswith("Fichier refusé : 1 erreur, rien n'a été enregistré.\nligne 3, ")


def test_a_partnership_of_another_territory_is_never_imported(scene, importer):
    elsewhere = PartnershipFactory()
    file = csv_file(FULL_HEADER, good_row(scene), good_row(scene, partnership=elsewhere.pk))

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert not report.ok
    assert [(line, name) for line, name, _ in report.errors] == [(3, "partnership")]
    assert report.errors[0].message == (
        f"partenariat n° {elsewhere.pk} introuvable dans le territoire « {scene.territory.name} »."
    )
    assert nothing_written()
    assert not Batch.objects.filter(territory=elsewhere.territory).exists()


def test_a_site_of_another_territory_is_refused(scene, importer):
    elsewhere = DistributionSiteFactory()
    file = csv_file(FULL_HEADER, good_row(scene, site=elsewhere.pk))

    report = import_records(file=file, territory=scene.territory, by=importer)

    unknown = f"lieu de distribution n° {elsewhere.pk} introuvable dans le territoire « {scene.territory} »."
    assert report.errors == [imports.LineError(2, "site", unknown)]
    assert nothing_written()


def test_an_unreadable_cell_is_named_by_the_files_column_not_the_apis_field(scene, importer):
    # The pickup's and the distribution's "temperature_c" are two columns of the file.
    row = good_row(scene, pickup_temperature_c="tiède", distribution_temperature_c="froid")

    report = import_records(file=csv_file(FULL_HEADER, row), territory=scene.territory, by=importer)

    assert report.errors == [
        imports.LineError(2, "pickup_temperature_c", "Un nombre valide est requis."),
        imports.LineError(2, "distribution_temperature_c", "Un nombre valide est requis."),
    ]
    assert nothing_written()


def test_a_conflict_is_a_line_error(scene, importer):
    # Discarded at dispatch (out of bounds, with a reason), the batch can no longer be picked up.
    file = csv_file(
        FULL_HEADER + ",discard_reason",
        good_row(
            scene,
            dispatch_temperature_c="7",
            site="",
            distributed_on="",
            meals_distributed="",
            beneficiaries="",
            distribution_temperature_c="",
        )
        + ",Chaîne du froid rompue",
    )

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert [(line, name) for line, name, _ in report.errors] == [(2, "collecte")]
    assert "Écarté" in report.errors[0].message
    assert nothing_written()


def test_several_bad_lines_are_each_reported(scene, importer):
    report = import_records(
        file=fixture("import_bad_lines.csv", scene), territory=scene.territory, by=importer
    )

    assert not report.ok
    assert [(line, name) for line, name, _ in report.errors] == [
        (3, "meals_count"),
        (4, "dispatch_temperature_c"),
        (5, "meals_distributed"),
        (6, "liaison"),
    ]
    text = report.as_text().splitlines()
    assert text[0] == "Fichier refusé : 4 erreurs, rien n'a été enregistré."
    assert text[1] == "ligne 3, meals_count : Un nombre entier valide est requis."
    assert text[4] == "ligne 6, liaison : «\u00a0tiède\u00a0» n'est pas un choix valide."
    assert nothing_written()


def test_a_bad_row_reports_every_bad_cell(scene, importer):
    row = good_row(scene, meals_count="", dispatch_temperature_c="2.55", picked_up_at="hier")

    report = import_records(file=csv_file(FULL_HEADER, row), territory=scene.territory, by=importer)

    assert [(line, name) for line, name, _ in report.errors] == [
        (2, "meals_count"),
        (2, "dispatch_temperature_c"),
        (2, "picked_up_at"),
    ]
    assert [message for _, _, message in report.errors] == [
        "Ce champ est obligatoire.",
        "Assurez-vous qu'il n'y a pas plus de 1\u00a0chiffres après la virgule.",
        "date et heure attendues (AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM)",
    ]


def test_a_distribution_needs_its_pickup_on_the_same_line(scene, importer):
    row = good_row(scene, picked_up_at="", meals_received="", pickup_temperature_c="", transport_mode="")

    report = import_records(file=csv_file(FULL_HEADER, row), territory=scene.territory, by=importer)

    assert report.errors == [
        imports.LineError(
            2, "picked_up_at", "une distribution ne peut être importée qu'avec la collecte du lot."
        )
    ]


def test_a_refused_file_schedules_nothing_on_commit(scene, importer, django_capture_on_commit_callbacks):
    file = csv_file(FULL_HEADER, good_row(scene), good_row(scene, meals_count=0))

    with django_capture_on_commit_callbacks() as callbacks:
        report = import_records(file=file, territory=scene.territory, by=importer)

    assert not report.ok
    assert callbacks == []


# The file as a whole


def test_missing_required_columns_are_one_error_before_any_row(scene, importer):
    header = BATCH_HEADER.replace("meals_count,", "").replace(",use_by_date", "")
    file = csv_file(header, "not,even,parsed")

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert not report.ok
    assert len(report.errors) == 1
    assert report.errors[0].line == 1
    assert "meals_count, use_by_date" in report.errors[0].message
    assert "ligne 1 : colonnes obligatoires absentes" in report.as_text()


def test_unknown_column_is_refused(scene, importer):
    file = csv_file(BATCH_HEADER + ",meal_count", good_row(scene))

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert [(error.line, error.message[:19]) for error in report.errors] == [(1, "colonnes inconnues ")]
    assert "meal_count" in report.errors[0].message


def test_too_many_rows(scene, importer, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 2)
    rows = [good_row(scene, day=datetime.date(2025, 6, day)) for day in (2, 3, 4)]

    report = import_records(file=csv_file(FULL_HEADER, *rows), territory=scene.territory, by=importer)

    assert not report.ok
    assert len(report.errors) == 1
    assert report.errors[0].line is None
    assert "plus de 2 lignes" in report.as_text()
    assert nothing_written()


def test_the_row_limit_is_twenty_thousand():
    assert imports.MAX_ROWS == 20_000
    assert imports.MAX_FILE_BYTES == 5 * 1024 * 1024


def test_file_too_big(scene, importer, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 100)

    report = import_records(
        file=csv_file(FULL_HEADER, good_row(scene)), territory=scene.territory, by=importer
    )

    assert not report.ok
    assert "dépasse" in report.errors[0].message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "vide"),
        (BATCH_HEADER.encode() + b"\n\n", "aucune ligne"),
        ("partnership;kind;lot_number\n1;surplus;Lot n°1".encode("latin-1"), "UTF-8"),
    ],
)
def test_unreadable_files(scene, importer, content, message):
    report = import_records(file=io.BytesIO(content), territory=scene.territory, by=importer)

    assert not report.ok
    assert message in report.errors[0].message


# Dry run


def test_dry_run_checks_and_writes_nothing(scene, importer):
    report = import_records(
        file=fixture("import_good.csv", scene), territory=scene.territory, by=importer, dry_run=True
    )

    assert report.ok
    assert report.counts == {"batches": 4, "pickups": 3, "distributions": 1}
    assert report.as_text().startswith("Simulation réussie : 4 lignes vérifiées, rien n'a été enregistré.")
    assert nothing_written()


# manage.py import_records


def write(tmp_path, file):
    path = tmp_path / "import.csv"
    path.write_bytes(file.getvalue())
    return str(path)


def test_command_loads_a_good_file(scene, importer, tmp_path):
    out = io.StringIO()
    path = write(tmp_path, fixture("import_good.csv", scene))

    call_command("import_records", path, territory=scene.territory.slug, user=importer.username, stdout=out)

    assert "Import réussi : 4 lignes ; enregistrés : 4 lots, 3 collectes et 1 distribution." in out.getvalue()
    assert Batch.objects.count() == 4


def test_command_fails_on_a_bad_file(scene, importer, tmp_path):
    err = io.StringIO()
    path = write(tmp_path, fixture("import_bad_lines.csv", scene))

    with pytest.raises(CommandError, match="4 erreur"):
        call_command(
            "import_records", path, territory=scene.territory.slug, user=importer.username, stderr=err
        )

    assert "ligne 3, meals_count : Un nombre entier valide est requis." in err.getvalue()
    assert nothing_written()


def test_command_dry_run(scene, importer, tmp_path):
    out = io.StringIO()
    path = write(tmp_path, fixture("import_good.csv", scene))

    call_command(
        "import_records",
        path,
        "--dry-run",
        territory=scene.territory.slug,
        user=importer.username,
        stdout=out,
    )

    assert "Simulation réussie" in out.getvalue()
    assert nothing_written()


@pytest.mark.parametrize("wrong", ["territory", "user", "file"])
def test_command_refuses_unknown_territory_user_or_file(scene, importer, tmp_path, wrong):
    options = {"territory": scene.territory.slug, "user": importer.username}
    path = write(tmp_path, fixture("import_good.csv", scene))
    if wrong == "file":
        path = str(tmp_path / "missing.csv")
    else:
        options[wrong] = "nobody"

    with pytest.raises(CommandError):
        call_command("import_records", path, **options)

    assert nothing_written()


# The same batches twice


def test_a_file_imported_twice_is_refused_the_second_time_and_nothing_is_counted_twice(scene, importer):
    first = import_records(file=fixture("import_good.csv", scene), territory=scene.territory, by=importer)
    assert first.ok, first.as_text()

    again = import_records(file=fixture("import_good.csv", scene), territory=scene.territory, by=importer)

    assert not again.ok
    assert [(line, name) for line, name, _ in again.errors] == [(line, "lot_number") for line in (2, 3, 4, 5)]
    # The message of the form and of the API.
    assert again.errors[0].message == (
        "Le numéro de lot « L-0303 » est déjà utilisé par cette cuisine : chaque lot a son numéro."
    )
    assert Batch.objects.filter(territory=scene.territory).count() == 4
    assert Pickup.objects.filter(territory=scene.territory).count() == 3


def test_a_line_repeating_an_earlier_line_is_refused(scene, importer):
    row = good_row(scene)
    report = import_records(file=csv_file(FULL_HEADER, row, row), territory=scene.territory, by=importer)

    assert [(line, name) for line, name, _ in report.errors] == [(3, "lot_number")]
    assert report.errors[0].message == (
        "Le numéro de lot « L-0602 » est déjà utilisé par cette cuisine : chaque lot a son numéro."
    )
    assert nothing_written()


def test_a_cancelled_lot_number_is_imported_again_but_not_reused_on_another_day(scene, importer):
    from meals import services

    cancelled = scene.batch(lot_number="L-0602")
    services.batch_cancel(batch=cancelled, by=scene.kitchen_user, reason="Déclaré par erreur")
    again = csv_file(FULL_HEADER, good_row(scene))

    report = import_records(file=again, territory=scene.territory, by=importer)

    assert report.ok, report.as_text()
    assert Batch.objects.filter(lot_number="L-0602").count() == 2
    another_day = csv_file(FULL_HEADER, good_row(scene, day=datetime.date(2025, 6, 3), lot_number="L-0602"))
    before = Batch.objects.count()

    refused = import_records(file=another_day, territory=scene.territory, by=importer)

    assert [(line, name) for line, name, _ in refused.errors] == [(2, "lot_number")]
    assert Batch.objects.count() == before


# Every error of a line, and the header's checks


def test_every_error_of_a_line_is_reported_at_once(scene, importer):
    # The batch breaks a rule of the service (too warm, no reason), its pickup and its
    # distribution each have a bad cell: the three are reported, in the order of the columns.
    row = good_row(scene, dispatch_temperature_c="8", meals_received="-3", beneficiaries="beaucoup")

    report = import_records(file=csv_file(FULL_HEADER, row), territory=scene.territory, by=importer)

    assert [(line, name) for line, name, _ in report.errors] == [
        (2, "dispatch_temperature_c"),
        (2, "meals_received"),
        (2, "beneficiaries"),
    ]
    assert "+3 °C ou moins" in report.errors[0].message
    assert report.errors[1].message == "Assurez-vous que cette valeur est supérieure ou égale à\u00a00."
    assert report.errors[2].message == "Un nombre entier valide est requis."
    assert nothing_written()


def test_a_pickup_rule_is_reported_beside_a_bad_distribution_cell(scene, importer):
    # The batch is fine; its pickup breaks a rule (received > produced) and the distribution
    # cell is unreadable: both are said.
    row = good_row(scene, meals_received=101, distributed_on="demain")

    report = import_records(file=csv_file(FULL_HEADER, row), territory=scene.territory, by=importer)

    assert [(line, name) for line, name, _ in report.errors] == [(2, "meals_received"), (2, "distributed_on")]
    assert report.errors[1].message == "date attendue (AAAA-MM-JJ ou JJ/MM/AAAA)"
    assert nothing_written()


def test_a_duplicated_header_column_is_refused(scene, importer):
    # Read as a dict, the second "meals_count" would silently win: the file is refused instead.
    header = FULL_HEADER + ",meals_count"
    row = good_row(scene) + ",100"

    report = import_records(file=csv_file(header, row), territory=scene.territory, by=importer)

    assert not report.ok
    assert [(error.line, error.field, error.message) for error in report.errors] == [
        (1, "", "colonnes en double : meals_count.")
    ]
    assert nothing_written()


def test_an_extra_cell_beyond_the_header_is_refused(scene, importer):
    report = import_records(
        file=csv_file(FULL_HEADER, good_row(scene) + ",de trop"), territory=scene.territory, by=importer
    )

    assert report.errors == [
        imports.LineError(2, "", "cette ligne a plus de cellules que l'en-tête n'a de colonnes.")
    ]
    assert nothing_written()


def test_file_notations_are_read_as_the_api_values(scene, importer):
    # Semicolons, thousands spaces, decimal commas, French dates and times, oui / non, lists in
    # capitals: what a spreadsheet saves, read as the API's values.
    header = (FULL_HEADER + ",components,refrigerated_vehicle,consumed_on_receipt,confirm_unusual").replace(
        ",", ";"
    )
    row = good_row(
        scene,
        meals_count="1\u00a0000",
        meals_received="1 000",
        meals_distributed=900,
        beneficiaries=800,
        dispatch_temperature_c="DISPATCH",
        pickup_temperature_c="PICKUP",
        production_date="02/06/2025",
        use_by_date="05/06/2025",
        picked_up_at="02/06/2025 14:30",
        distributed_on="03/06/2025",
        allergens="MILK|gluten",
    )
    row = (row + ",MAIN|dessert,Oui,non,vrai").replace(",", ";")
    row = row.replace("DISPATCH", "2,0").replace("PICKUP", "2,5")
    scene.partnership.kitchen.__class__.objects.filter(pk=scene.partnership.kitchen_id).update(
        daily_capacity=5000
    )

    report = import_records(file=csv_file(header, row), territory=scene.territory, by=importer)

    assert report.ok, report.as_text()
    batch = Batch.objects.get()
    assert (batch.meals_count, batch.dispatch_temperature_c, batch.production_date) == (
        1000,
        Decimal("2.0"),
        datetime.date(2025, 6, 2),
    )
    assert (batch.allergens, batch.components) == (["milk", "gluten"], ["main", "dessert"])
    pickup = Pickup.objects.get()
    assert (pickup.meals_received, pickup.temperature_c, pickup.refrigerated_vehicle) == (
        1000,
        Decimal("2.5"),
        True,
    )
    assert timezone.localtime(pickup.picked_up_at).strftime("%d/%m/%Y %H:%M") == "02/06/2025 14:30"
    distribution = Distribution.objects.get()
    assert (distribution.distributed_on, distribution.consumed_on_receipt) == (
        datetime.date(2025, 6, 3),
        False,
    )


def test_a_file_csv_cannot_read_is_refused(scene, importer):
    report = import_records(
        file=csv_file(FULL_HEADER, good_row(scene) + "," + "x" * 200_000),
        territory=scene.territory,
        by=importer,
    )

    assert [(error.line, error.message) for error in report.errors] == [
        (2, "fichier CSV illisible : field larger than field limit (131072)")
    ]
    assert nothing_written()


def test_a_text_file_too_big_is_refused(scene, importer, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 100)
    text = io.StringIO("\n".join([FULL_HEADER, good_row(scene)]))

    report = import_records(file=text, territory=scene.territory, by=importer)

    assert report.errors[0].message == "le fichier dépasse 0 Mo : découpez-le en plusieurs fichiers."
    assert nothing_written()


# The report's words, as the page and the command print them


def test_the_report_reads_in_french_for_each_outcome():
    one = imports.ImportReport(
        ok=True, dry_run=True, rows=1, counts={"batches": 1, "pickups": 0, "distributions": 0}
    )
    assert one.as_text() == (
        "Simulation réussie : 1 ligne vérifiée, rien n'a été enregistré. "
        "L'import créerait 1 lot, 0 collecte et 0 distribution."
    )
    two = imports.ImportReport(
        ok=True, dry_run=True, rows=2, counts={"batches": 2, "pickups": 2, "distributions": 1}
    )
    assert two.as_text() == (
        "Simulation réussie : 2 lignes vérifiées, rien n'a été enregistré. "
        "L'import créerait 2 lots, 2 collectes et 1 distribution."
    )
    done = imports.ImportReport(ok=True, rows=1, counts={"batches": 1, "pickups": 1, "distributions": 0})
    assert done.as_text() == "Import réussi : 1 ligne ; enregistrés : 1 lot, 1 collecte et 0 distribution."
    refused = imports.ImportReport(
        ok=False,
        rows=3,
        errors=[
            imports.LineError(None, "", "Le fichier est vide."),
            imports.LineError(3, "meals_count", "Un nombre entier valide est requis."),
            imports.LineError(4, "", "Ligne en double."),
        ],
    )
    assert refused.as_text() == (
        "Fichier refusé : 3 erreurs, rien n'a été enregistré.\n"
        "fichier : Le fichier est vide.\n"
        "ligne 3, meals_count : Un nombre entier valide est requis.\n"
        "ligne 4 : Ligne en double."
    )
    # A refused dry run says it is refused, not simulated.
    refused.dry_run = True
    assert refused.as_text().startswith("Fichier refusé : 3 erreurs")
    single = imports.ImportReport(ok=False, errors=[imports.LineError(2, "site", "Lieu inconnu.")])
    assert (
        single.as_text()
        == "Fichier refusé : 1 erreur, rien n'a été enregistré.\nligne 2, site : Lieu inconnu."
    )


def test_a_file_without_the_allergens_column_asks_each_line_to_declare_them(scene, importer):
    header = FULL_HEADER.replace(",allergens", "")
    cells = good_row(scene).split(",")
    del cells[FULL_HEADER.split(",").index("allergens")]

    report = import_records(file=csv_file(header, ",".join(cells)), territory=scene.territory, by=importer)

    assert [(error.line, error.field) for error in report.errors] == [(2, "allergens")]
    assert report.errors[0].message.startswith("Déclarez les allergènes du lot")
    assert nothing_written()


def test_a_yes_no_cell_in_other_words_is_refused_not_read_as_no(scene, importer):
    file = csv_file(FULL_HEADER + ",consumed_on_receipt", good_row(scene) + ",peut-être")

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert report.errors == [imports.LineError(2, "consumed_on_receipt", "Doit être un booléen valide.")]
    assert nothing_written()


def test_narrow_spaces_and_seconds_are_read_too(scene, importer):
    # A French spreadsheet groups thousands with a narrow no-break space; times may carry seconds.
    scene.partnership.kitchen.__class__.objects.filter(pk=scene.partnership.kitchen_id).update(
        daily_capacity=5000
    )
    row = good_row(
        scene, meals_count="1\u202f000", meals_received="1\u202f000", picked_up_at="02/06/2025 14:30:15"
    )
    header = FULL_HEADER + ",confirm_unusual"  # ten times the partnership's usual 100 meals

    report = import_records(file=csv_file(header, row + ",oui"), territory=scene.territory, by=importer)

    assert report.ok, report.as_text()
    pickup = Pickup.objects.get()
    assert pickup.meals_received == 1000
    assert timezone.localtime(pickup.picked_up_at).strftime("%d/%m/%Y %H:%M:%S") == "02/06/2025 14:30:15"


# The whole file's limits, at their boundaries, and its errors word for word

MIB = 1024 * 1024


def padded(scene, size: int) -> io.BytesIO:
    """A good one-row file of exactly ``size`` bytes (blank lines after its row)."""
    content = (FULL_HEADER + "\n" + good_row(scene)).encode("utf-8")
    return io.BytesIO(content + b"\n" * (size - len(content)))


@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "text"])
def test_a_file_of_the_size_limit_is_read_and_one_byte_more_is_refused(scene, importer, monkeypatch, as_text):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 2 * MIB)

    def upload(size):
        file = padded(scene, size)
        return io.StringIO(file.getvalue().decode("utf-8")) if as_text else file

    at_limit = import_records(file=upload(2 * MIB), territory=scene.territory, by=importer, dry_run=True)
    assert at_limit.ok, at_limit.as_text()
    over = import_records(file=upload(2 * MIB + 1), territory=scene.territory, by=importer, dry_run=True)
    assert over.ok is False and over.dry_run is True
    assert over.errors == [
        imports.LineError(None, "", "le fichier dépasse 2 Mo : découpez-le en plusieurs fichiers.")
    ]


def test_a_text_upload_loses_its_byte_order_mark(scene, importer):
    file = io.StringIO("\ufeff" + FULL_HEADER + "\n" + good_row(scene))

    report = import_records(file=file, territory=scene.territory, by=importer, dry_run=True)

    assert report.ok, report.as_text()


def test_the_row_limit_counts_rows_and_says_it_with_a_thousands_space(scene, importer, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 1000)
    junk = ["x"] * 1000  # refused on their count, before any is checked
    assert (
        import_records(file=csv_file(FULL_HEADER, *junk), territory=scene.territory, by=importer)
        .errors[0]
        .field
        == "partnership"
    )  # 1,000 rows are read (then checked)

    report = import_records(file=csv_file(FULL_HEADER, *junk, "x"), territory=scene.territory, by=importer)

    assert report.ok is False
    assert report.errors == [
        imports.LineError(
            None, "", "le fichier compte plus de 1 000 lignes : découpez-le en plusieurs fichiers."
        )
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "le fichier est vide."),
        (b" \n\n", "le fichier est vide."),
        (BATCH_HEADER.encode() + b"\n\n, ,\n", "le fichier ne contient aucune ligne à importer."),
        (
            "partnership;kind;lot_number\n1;surplus;Lot n°1".encode("latin-1"),
            "le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 ».",
        ),
    ],
)
def test_unreadable_files_say_why_word_for_word(scene, importer, content, message):
    report = import_records(file=io.BytesIO(content), territory=scene.territory, by=importer, dry_run=True)

    assert report.ok is False and report.dry_run is True
    assert report.errors == [imports.LineError(None, "", message)]


def test_blank_lines_between_rows_are_skipped_and_short_rows_read_as_empty_cells(scene, importer):
    # The second row stops after its pickup's cells: no distribution.
    picked_only = ",".join(good_row(scene, day=datetime.date(2025, 6, 3)).split(",")[:13])
    file = csv_file(FULL_HEADER, good_row(scene), "", ",,,", picked_only)

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert report.ok, report.as_text()
    assert (report.rows, report.counts) == (2, {"batches": 2, "pickups": 2, "distributions": 1})


def test_unknown_and_duplicated_columns_are_named_in_the_message(scene, importer):
    unknown = import_records(
        file=csv_file(FULL_HEADER + ",meal_count,,extra", good_row(scene)),
        territory=scene.territory,
        by=importer,
    )
    assert unknown.errors == [
        imports.LineError(
            1,
            "",
            "colonnes inconnues : meal_count, (sans nom), extra "
            "(les noms des colonnes sont donnés sur la page d'import).",
        )
    ]
    doubled = import_records(
        file=csv_file(FULL_HEADER + ",site,beneficiaries", good_row(scene)),
        territory=scene.territory,
        by=importer,
    )
    assert [error.message for error in doubled.errors] == ["colonnes en double : beneficiaries, site."]


def test_a_refused_line_keeps_the_count_of_rows_read(scene, importer):
    file = csv_file(FULL_HEADER, good_row(scene), good_row(scene, meals_count="douze"), good_row(scene))

    report = import_records(file=file, territory=scene.territory, by=importer, dry_run=True)

    assert (report.ok, report.rows, report.dry_run) == (False, 3, True)


def test_a_lines_errors_come_in_the_order_of_the_columns_the_lines_own_first(scene, importer):
    # Found in this order: the extra cell, the distribution without its pickup, then the
    # batch's cells, then the distribution's. Reported with the line's own error first (it
    # names no column), then in the order of the columns, the partnership (the first) included.
    without_pickup = dict.fromkeys(imports.PICKUP_REQUIRED, "")
    row = good_row(scene, partnership=999_999, meals_count="beaucoup", beneficiaries="-1", **without_pickup)
    file = csv_file(FULL_HEADER, row + ",de trop")

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert [(line, name) for line, name, _ in report.errors] == [
        (2, ""),
        (2, "partnership"),
        (2, "meals_count"),
        (2, "picked_up_at"),
        (2, "beneficiaries"),
    ]
    assert report.errors[0].message == "cette ligne a plus de cellules que l'en-tête n'a de colonnes."
    assert report.errors[3].message == "une distribution ne peut être importée qu'avec la collecte du lot."
    assert nothing_written()


def test_a_service_refusal_of_the_first_column_comes_after_the_lines_own_error(scene, importer):
    # The cells are readable; the service refuses the partnership, whose convention ended the
    # day before production. The line's own error (an extra cell) still comes first.
    scene.partnership.ends_on = datetime.date(2025, 6, 1)
    scene.partnership.save()
    row = good_row(scene, day=datetime.date(2025, 6, 2))
    file = csv_file(FULL_HEADER, row + ",de trop")

    report = import_records(file=file, territory=scene.territory, by=importer)

    assert report.errors == [
        imports.LineError(2, "", "cette ligne a plus de cellules que l'en-tête n'a de colonnes."),
        imports.LineError(
            2,
            "partnership",
            "La convention de ce partenariat a expiré le 01/06/2025 : aucun lot ne peut y être déclaré.",
        ),
    ]
    assert nothing_written()


def test_a_batch_line_without_its_pickup_is_declared_today_and_refused_once_its_use_by_date_passed(
    scene, importer
):
    # Without a pickup the line declares a batch ready to collect, today: its use-by date must
    # still allow it. With its pickup, the same batch is of the past, declared on its production day.
    day = datetime.date.today() - datetime.timedelta(days=5)
    waiting = good_row(scene, day=day, **BATCH_ONLY)

    report = import_records(file=csv_file(FULL_HEADER, waiting), territory=scene.territory, by=importer)

    use_by = day + datetime.timedelta(days=3)
    assert report.errors == [
        imports.LineError(
            2,
            "use_by_date",
            f"La date limite de consommation ({use_by:%d/%m/%Y}) est passée : ce lot ne peut pas être "
            "déclaré prêt à collecter.",
        )
    ]
    assert nothing_written()
    collected = good_row(scene, day=day)
    report = import_records(file=csv_file(FULL_HEADER, collected), territory=scene.territory, by=importer)
    assert report.ok, report.as_text()


def test_a_pickup_on_a_french_date_without_time_is_at_midnight(scene, importer):
    row = good_row(scene, picked_up_at="03/06/2025", distributed_on="03/06/2025")

    report = import_records(file=csv_file(FULL_HEADER, row), territory=scene.territory, by=importer)

    assert report.ok, report.as_text()
    pickup = Pickup.objects.get()
    assert timezone.localtime(pickup.picked_up_at).replace(tzinfo=None) == datetime.datetime(2025, 6, 3, 0, 0)
