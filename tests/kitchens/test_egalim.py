# ruff: noqa: RUF003 - written with the sign × of French arithmetic
"""The EGalim shares imported from a ma-cantine export in its published format, refused lines
reported one by one, and the shares printed in the Carasso report with their source."""

import datetime
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from rest_framework.test import APIClient

from evaluation import reports
from evaluation.models import Report
from kitchens.models import EgalimDeclaration
from territories.roles import Role
from tests.factories import KitchenFactory, TerritoryFactory, member

pytestmark = pytest.mark.django_db

# Two SIRETs that pass the Luhn check.
OURS, THEIRS = "73282932000074", "35600000000048"

# The published columns of ma-cantine's teledeclarations (open-data schema), as its export
# writes them; the import reads five of them and never the declarant (applicant_id).
HEADER = (
    "id;applicant_id;teledeclaration_mode;creation_date;year;version;canteen_id;canteen_siret;canteen_name;"
    "canteen_central_kitchen_siret;canteen_city_insee_code;canteen_epci;canteen_epci_lib;canteen_department;"
    "canteen_department_lib;canteen_region;canteen_region_lib;canteen_satellite_canteens_count;"
    "canteen_economic_model;canteen_management_type;canteen_production_type;canteen_sectors;"
    "canteen_line_ministry;teledeclaration_type;teledeclaration_ratio_bio;teledeclaration_ratio_egalim_hors_bio"
)


def line(td_id, year, siret, bio, egalim):
    return (
        f"{td_id};2717;CENTRAL_APPRO;2025-03-01T00:00:00.000Z;{year};9;15572;{siret};Cuisine centrale;;93066;"
        f"200057867;Plaine Commune;93;Seine-Saint-Denis;11;Île-de-France;42;public;direct;central;"
        f'["Ecole primaire"];Éducation et Jeunesse;SIMPLE;{bio};{egalim}'
    )


@pytest.fixture
def kitchens():
    territory = TerritoryFactory()
    ours = KitchenFactory(territory=territory, siret=OURS, name="Cuisine centrale de Bobigny")
    theirs = KitchenFactory(siret=THEIRS, name="Cuisine d'un autre territoire")
    return ours, theirs


def upload(client, text):
    return client.post(
        "/api/v1/egalim/import/", {"file": io.BytesIO(text.encode("utf-8"))}, format="multipart"
    )


def test_a_ma_cantine_export_is_imported_and_each_refused_line_reported(kitchens):
    ours, _theirs = kitchens
    client = APIClient()
    client.force_authenticate(member(Role.KITCHEN_MANAGER, ours.territory, kitchen=ours))
    text = "\n".join(
        [
            HEADER,
            line(15572, 2024, OURS, "0.214", "0.268"),  # 21.4 % organic + 26.8 % other EGalim
            line(15573, 2024, THEIRS, "0.3", "0.3"),  # another territory's kitchen
            line(15574, 2023, OURS, "", "0.2"),  # organic share not known
            line(15575, 2022, OURS, "0.7", "0.4"),  # 110 % in all
            line(15576, "2O22", OURS, "0.1", "0.1"),  # a letter O for a zero
            line(15577, 2025, OURS, "1.5", "0"),  # a ratio above 1
        ]
    )
    response = upload(client, text)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "created": 1,
        "updated": 0,
        "refused": [
            {"line": 3, "reason": f"aucune cuisine de votre périmètre n'a le SIRET « {THEIRS} »"},
            {"line": 4, "reason": "teledeclaration_ratio_bio est vide : la part n'est pas connue"},
            {"line": 5, "reason": "les deux parts dépassent ensemble 100 %"},
            {"line": 6, "reason": "année illisible : « 2O22 »"},
            {"line": 7, "reason": "teledeclaration_ratio_bio doit être un nombre de 0 à 1 : « 1.5 »"},
        ],
    }
    declaration = EgalimDeclaration.objects.get()
    assert (declaration.kitchen, declaration.year) == (ours, 2024)
    # Quality and sustainable, organic included: (0.214 + 0.268) × 100; organic 0.214 × 100.
    assert (declaration.quality_share, declaration.organic_share) == (Decimal("48.20"), Decimal("21.40"))
    assert (declaration.source, declaration.source_reference) == ("ma_cantine", "15572")
    # Imported again (with a comma for decimals, as a French spreadsheet writes it): replaced.
    again = upload(client, "\n".join([HEADER, line(15580, 2024, OURS, "0,25", "0,30")]))
    assert again.json() == {"created": 0, "updated": 1, "refused": []}
    assert EgalimDeclaration.objects.get().quality_share == Decimal("55.00")


def test_a_file_without_the_published_columns_is_refused_whole(kitchens):
    client = APIClient()
    client.force_authenticate(member(Role.EVALUATOR))
    response = upload(client, "siret;annee;bio\n73282932000074;2024;0.2")
    assert response.status_code == 400
    assert response.json()["file"] == [
        "Colonnes absentes de l'export ma-cantine : canteen_siret, year, teledeclaration_ratio_bio, "
        "teledeclaration_ratio_egalim_hors_bio."
    ]
    assert not EgalimDeclaration.objects.exists()


def test_the_carasso_report_prints_the_shares_with_their_source(kitchens):
    ours, _theirs = kitchens
    EgalimDeclaration.objects.create(
        territory=ours.territory, kitchen=ours, year=2025, quality_share=Decimal("48.2"),
        organic_share=Decimal("21.4"), source="ma_cantine", source_reference="15572",
    )  # fmt: skip
    evaluator = member(Role.EVALUATOR)
    report = Report.objects.create(
        kind="carasso", territory=ours.territory, period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 3, 31), requested_by=evaluator,
    )  # fmt: skip
    report = reports.report_build(report_id=report.pk)
    assert report.status == "done", report.message
    reader = PdfReader(io.BytesIO(reports.report_pdf_file(report).read()))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages).replace("\u00a0", " ")
    assert "Cuisine centrale de Bobigny 2025 48,2 % 21,4 % Export ma-cantine (télédéclaration 15572)" in text
    assert "L230-5-1" in text
