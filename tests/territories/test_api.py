import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from territories.models import Territory
from territories.roles import Role
from tests.factories import TerritoryFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def test_token_is_issued_for_good_credentials_and_authenticates_requests():
    territory = TerritoryFactory()
    user = member(Role.AUTHORITY_COORDINATOR, territory)
    client = APIClient()

    response = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "passerelle-test"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    assert me.json()["roles"] == [Role.AUTHORITY_COORDINATOR]
    assert me.json()["memberships"][0]["territory"] == territory.pk


def test_token_is_refused_for_a_wrong_password():
    user = member(Role.EVALUATOR)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()


def test_anonymous_callers_are_refused():
    TerritoryFactory()
    assert APIClient().get("/api/v1/territories/").status_code in (401, 403)


def test_lists_are_paginated(api):
    TerritoryFactory.create_batch(3)
    api.force_authenticate(member(Role.EVALUATOR))
    body = api.get("/api/v1/territories/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 3  # the default page holds 50


def test_memberships_are_listed_to_evaluators_only(api):
    territory = TerritoryFactory()
    kitchen_manager = member(Role.KITCHEN_MANAGER, territory)
    evaluator = member(Role.EVALUATOR)

    api.force_authenticate(evaluator)
    usernames = {row["username"] for row in api.get("/api/v1/memberships/").json()["results"]}
    assert usernames == {kitchen_manager.username, evaluator.username}

    api.force_authenticate(kitchen_manager)
    assert api.get("/api/v1/memberships/").json()["count"] == 0


def test_authority_coordinator_changes_own_territory_settings_only(api):
    own, other = TerritoryFactory(), TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, own))

    assert api.patch(f"/api/v1/territories/{own.pk}/", {"has_pat": True}).status_code == 200
    assert Territory.objects.get(pk=own.pk).has_pat is True
    assert api.patch(f"/api/v1/territories/{other.pk}/", {"has_pat": True}).status_code == 404


def test_bad_departement_code_answers_field_message_in_french(api):
    own = TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, own))
    response = api.patch(f"/api/v1/territories/{own.pk}/", {"departement_code": "00"})
    assert response.status_code == 400
    assert "département" in response.json()["departement_code"][0]
    assert Territory.objects.get(pk=own.pk).departement_code == "93"


def test_schema_and_docs_are_served(api):
    api.force_authenticate(UserFactory())
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for resource in ("territories", "authorities", "kitchens", "associations", "sites", "partnerships"):
        assert f"/api/v1/{resource}/" in paths
    assert "/api/v1/me/" in paths
    docs = api.get(reverse("api:api-docs"))
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
