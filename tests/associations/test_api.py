import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from associations.models import DistributionSite, Partnership
from territories.roles import Role
from tests.factories import (
    AssociationFactory,
    KitchenFactory,
    PartnershipFactory,
    TerritoryFactory,
    member,
)

pytestmark = pytest.mark.django_db

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def partnership_payload(kitchen, association, **change):
    return {
        "kitchen": kitchen.pk,
        "association": association.pk,
        "mode": "surplus",
        "starts_on": "2025-01-01",
        "ends_on": "2026-12-31",
        "planned_meals_per_week": 400,
        "status": "draft",
        **change,
    }


@pytest.fixture
def coordinator_world(api):
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, territory))
    return territory, KitchenFactory(territory=territory), AssociationFactory(territory=territory)


def test_authority_coordinator_creates_a_partnership_in_its_territory(api, coordinator_world):
    territory, kitchen, association = coordinator_world
    response = api.post("/api/v1/partnerships/", partnership_payload(kitchen, association))
    assert response.status_code == 201, response.json()
    assert response.json()["territory"] == territory.pk


def test_partnership_ending_before_it_starts_is_refused(api, coordinator_world):
    _, kitchen, association = coordinator_world
    response = api.post(
        "/api/v1/partnerships/", partnership_payload(kitchen, association, ends_on="2024-06-30")
    )
    assert response.status_code == 400
    assert response.json()["ends_on"] == ["La fin de la convention précède son début."]
    assert Partnership.objects.count() == 0


def test_partnership_across_two_territories_is_refused(api):
    territory = TerritoryFactory()
    elsewhere = TerritoryFactory()
    kitchen = KitchenFactory(territory=territory)
    foreign_association = AssociationFactory(territory=elsewhere)
    # An evaluator sees both territories, so only the territory rule can refuse it.
    from tests.factories import UserFactory

    admin = UserFactory(is_superuser=True)
    api.force_authenticate(admin)
    response = api.post("/api/v1/partnerships/", partnership_payload(kitchen, foreign_association))
    assert response.status_code == 400
    assert "même territoire" in response.json()["association"][0]
    assert Partnership.objects.count() == 0


def test_partnership_with_an_association_of_another_territory_is_unknown_to_a_coordinator(
    api, coordinator_world
):
    _, kitchen, _ = coordinator_world
    foreign_association = AssociationFactory()
    response = api.post("/api/v1/partnerships/", partnership_payload(kitchen, foreign_association))
    assert response.status_code == 400
    assert "association" in response.json()
    assert Partnership.objects.count() == 0


def test_convention_must_be_a_pdf(api, coordinator_world):
    _, kitchen, association = coordinator_world
    fake = SimpleUploadedFile("convention.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = api.post(
        "/api/v1/partnerships/",
        {**partnership_payload(kitchen, association), "convention_document": fake},
        format="multipart",
    )
    assert response.status_code == 400
    assert "PDF" in response.json()["convention_document"][0]
    assert Partnership.objects.count() == 0

    real = SimpleUploadedFile("convention.pdf", MINIMAL_PDF, content_type="application/pdf")
    response = api.post(
        "/api/v1/partnerships/",
        {**partnership_payload(kitchen, association), "convention_document": real},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    download = api.get(response.json()["convention_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == MINIMAL_PDF


def test_partnership_filters(api):
    partnership = PartnershipFactory(starts_on="2025-01-01", ends_on="2025-06-30")
    PartnershipFactory(territory=partnership.territory, starts_on="2025-09-01")
    api.force_authenticate(member(Role.EVALUATOR))
    assert api.get("/api/v1/partnerships/?active_on=2025-03-01").json()["count"] == 1
    assert api.get(f"/api/v1/partnerships/?kitchen={partnership.kitchen_id}").json()["count"] == 1
    assert api.get(f"/api/v1/partnerships/?territory={partnership.territory_id}").json()["count"] == 2


def test_association_coordinator_adds_sites_to_own_association_only(api):
    own = AssociationFactory()
    neighbour = AssociationFactory(territory=own.territory)
    api.force_authenticate(member(Role.ASSOCIATION_COORDINATOR, own.territory, association=own))
    site = {
        "name": "Épicerie solidaire",
        "address": "3 rue Haute, 93200 Saint-Denis",
        "has_cold_storage": True,
        "cold_storage_litres": 400,
        "opening_days": ["tue", "thu"],
    }
    created = api.post("/api/v1/sites/", {**site, "association": own.pk})
    assert created.status_code == 201, created.json()
    assert created.json()["territory"] == own.territory_id

    refused = api.post("/api/v1/sites/", {**site, "association": neighbour.pk})
    assert refused.status_code == 403
    assert not DistributionSite.objects.filter(association=neighbour).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"opening_days": ["someday"]}, "opening_days"),
        ({"cold_storage_litres": None}, "cold_storage_litres"),
        ({"cold_storage_litres": -5}, "cold_storage_litres"),
    ],
)
def test_bad_site_input_is_refused(api, change, field):
    association = AssociationFactory()
    api.force_authenticate(
        member(Role.ASSOCIATION_COORDINATOR, association.territory, association=association)
    )
    payload = {
        "association": association.pk,
        "name": "Local",
        "address": "1 rue",
        "has_cold_storage": True,
        "cold_storage_litres": 200,
        "opening_days": ["mon"],
        **change,
    }
    response = api.post("/api/v1/sites/", payload)
    assert response.status_code == 400
    assert field in response.json()
    assert DistributionSite.objects.count() == 0


def test_association_needs_an_identifier_and_a_complete_habilitation(api):
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, territory))
    response = api.post(
        "/api/v1/associations/",
        {"territory": territory.pk, "name": "Les Restos", "habilitation": "national"},
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"rna", "habilitation_number", "habilitation_expires_on"}
