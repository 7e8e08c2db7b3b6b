"""Signing a convention on the platform: each party signs the current version for itself, from
the partnership's page or through the API, once; when every party has signed the partnership can
become active. The signed scan can still be uploaded."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from associations.conventions.services import convention_version_issue
from associations.models import ConventionSignature, Partnership
from territories.roles import Role
from tests.associations.test_api import MINIMAL_PDF
from tests.factories import AuthorityFactory, PartnershipFactory, member

pytestmark = pytest.mark.django_db


def draft_with_authority():
    """A draft partnership coordinated by an authority, its version 1 drawn up, and one user per
    party (plus a volunteer of the association, who signs for nobody)."""
    authority = AuthorityFactory()
    territory = authority.territory
    partnership = PartnershipFactory(
        territory=territory, authority=authority, status=Partnership.Status.DRAFT
    )
    convention_version_issue(partnership=partnership, by=None)
    users = {
        "kitchen": member(Role.KITCHEN_MANAGER, territory, kitchen=partnership.kitchen),
        "association": member(Role.ASSOCIATION_COORDINATOR, territory, association=partnership.association),
        "authority": member(Role.AUTHORITY_COORDINATOR, territory, authority=authority),
        "volunteer": member(Role.VOLUNTEER, territory, association=partnership.association),
    }
    return partnership, users


def test_each_party_signs_through_the_api_for_itself_once_then_the_partnership_becomes_active(api):
    partnership, users = draft_with_authority()
    url = f"/api/v1/partnerships/{partnership.pk}/sign/"

    api.force_authenticate(users["kitchen"])
    # The kitchen's manager cannot sign for the association.
    response = api.post(url, {"party": "association", "signer_name": "M. Martin"}, format="json")
    assert response.status_code == 403
    response = api.post(url, {"signer_name": ""}, format="json")
    assert response.status_code == 400 and "signer_name" in response.json()
    response = api.post(url, {"signer_name": "M. Martin", "signer_title": "Directeur"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["party"], body["version"], body["signer_name"], body["method"]) == (
        "kitchen",
        1,
        "M. Martin",
        "marked",
    )
    assert body["missing"] == ["association", "authority"]
    response = api.post(url, {"signer_name": "M. Martin"}, format="json")
    assert response.status_code == 400
    assert "déjà signé" in response.json()["party"][0]
    assert ConventionSignature.objects.filter(version__partnership=partnership).count() == 1

    # A volunteer represents no party.
    api.force_authenticate(users["volunteer"])
    assert api.post(url, {"signer_name": "X"}, format="json").status_code == 403

    api.force_authenticate(users["association"])
    assert api.post(url, {"signer_name": "Mme Diallo"}, format="json").json()["missing"] == ["authority"]
    # Not every party has signed: the partnership stays a draft.
    api.force_authenticate(users["authority"])
    response = api.patch(f"/api/v1/partnerships/{partnership.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 400
    response = api.post(url, {"signer_name": "Mme la Maire"}, format="json")
    assert response.status_code == 201 and response.json()["missing"] == []
    response = api.patch(f"/api/v1/partnerships/{partnership.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 200, response.json()
    assert Partnership.objects.get(pk=partnership.pk).status == Partnership.Status.ACTIVE

    # The signed scan can still be uploaded.
    scan = SimpleUploadedFile("convention.pdf", MINIMAL_PDF, content_type="application/pdf")
    response = api.patch(
        f"/api/v1/partnerships/{partnership.pk}/", {"convention_document": scan}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    assert Partnership.objects.get(pk=partnership.pk).convention_document


def test_a_partnership_without_a_convention_cannot_be_signed(api):
    partnership = PartnershipFactory(status=Partnership.Status.DRAFT)
    manager = member(Role.KITCHEN_MANAGER, partnership.territory, kitchen=partnership.kitchen)
    api.force_authenticate(manager)
    response = api.post(f"/api/v1/partnerships/{partnership.pk}/sign/", {"signer_name": "X"}, format="json")
    assert response.status_code == 400
    assert "Aucune convention" in response.json()["version"][0]


def test_the_partnership_page_lets_each_party_sign_once(client):
    partnership, users = draft_with_authority()
    page = reverse("partnership-detail", kwargs={"pk": partnership.pk})
    sign = reverse("partnership-sign", kwargs={"pk": partnership.pk})

    # The volunteer sees the signatures awaited but no form, and cannot post one.
    client.force_login(users["volunteer"])
    html = client.get(page).content.decode()
    assert "en attente de signature" in html and "Signer la convention" not in html
    assert client.post(sign, {"signer_name": "X"}).status_code == 403

    client.force_login(users["association"])
    html = client.get(page).content.decode()
    assert "Signer la convention" in html
    response = client.post(sign, {"signer_name": ""})
    assert response.status_code == 200
    assert "Rien n'a été enregistré" in response.content.decode()
    assert not ConventionSignature.objects.filter(version__partnership=partnership).exists()
    response = client.post(sign, {"signer_name": "Mme Diallo", "signer_title": "Présidente"}, follow=True)
    assert response.redirect_chain[-1][0] == page
    html = response.content.decode()
    assert "Votre signature est enregistrée." in html
    assert "signé le" in html and "Mme Diallo" in html
    assert "Signer la convention" not in html  # signed: the form is gone
    # A second post (an old tab) answers with the form's error, and records nothing.
    response = client.post(sign, {"signer_name": "Mme Diallo"})
    assert response.status_code == 200
    assert "Cette partie a déjà signé cette version." in response.content.decode()
    assert ConventionSignature.objects.filter(version__partnership=partnership).count() == 1

    client.force_login(users["kitchen"])
    client.post(sign, {"signer_name": "M. Martin"})
    client.force_login(users["authority"])
    response = client.post(sign, {"signer_name": "Mme la Maire"}, follow=True)
    assert "Toutes les parties ont signé : le partenariat peut devenir actif." in response.content.decode()
    signed = ConventionSignature.objects.filter(version__partnership=partnership)
    assert sorted(signed.values_list("party", "signer_name")) == [
        ("association", "Mme Diallo"),
        ("authority", "Mme la Maire"),
        ("kitchen", "M. Martin"),
    ]
