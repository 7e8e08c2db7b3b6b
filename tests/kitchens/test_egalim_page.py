"""The ma-cantine upload page: the lines of the user's kitchens are saved, each refused line is
listed with its number and reason; an unreadable file is a 400 with a French error; a role that
declares for no kitchen gets 403."""

from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kitchens.models import EgalimDeclaration
from territories.roles import Role
from tests.factories import member
from tests.kitchens.test_egalim import HEADER, OURS, THEIRS, kitchens, line  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("export.csv", text.encode("utf-8"), content_type="text/csv")


def test_the_upload_page_saves_our_line_and_reports_the_refused_one(kitchens):  # noqa: F811
    ours, _theirs = kitchens
    client = client_of(member(Role.KITCHEN_MANAGER, ours.territory, kitchen=ours))
    assert "Importer les parts EGalim" in unescape(
        client.get(reverse("kitchen-detail", kwargs={"pk": ours.pk})).content.decode()
    )
    text = "\n".join([HEADER, line(1, 2024, OURS, "0.25", "0.30"), line(2, 2024, THEIRS, "0.1", "0.1")])
    response = client.post(reverse("egalim-import"), {"file": csv_file(text)})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "1 déclaration créée" in html and "1 ligne refusée" in html
    refused = html.split('id="lignes-refusees"', 1)[1].split("</table>", 1)[0]
    assert ">3<" in refused and f"aucune cuisine de votre périmètre n'a le SIRET « {THEIRS} »" in refused
    declaration = EgalimDeclaration.objects.get()
    assert (declaration.kitchen, declaration.quality_share, declaration.organic_share) == (
        ours,
        Decimal("55.00"),
        Decimal("25.00"),
    )


def test_a_file_without_the_columns_is_a_french_error_and_imports_nothing(kitchens):  # noqa: F811
    ours, _theirs = kitchens
    client = client_of(member(Role.KITCHEN_MANAGER, ours.territory, kitchen=ours))
    response = client.post(reverse("egalim-import"), {"file": csv_file("a;b\n1;2\n")})
    assert response.status_code == 400
    assert "Colonnes absentes de l'export ma-cantine" in unescape(response.content.decode())
    assert not EgalimDeclaration.objects.exists()


def test_a_role_that_declares_for_no_kitchen_gets_403(kitchens):  # noqa: F811
    ours, _theirs = kitchens
    client = client_of(member(Role.AUTHORITY_COORDINATOR, ours.territory))
    assert client.get(reverse("egalim-import")).status_code == 403
    assert client.post(reverse("egalim-import"), {"file": csv_file(HEADER)}).status_code == 403
