"""API tokens: one per device, with an expiry; revoked on logout, by their owner, and all at
once when the password changes or the account is deactivated. The token endpoint locks like
the login page."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from territories.models import ApiToken
from territories.roles import Role
from tests.factories import member

pytestmark = pytest.mark.django_db

PASSWORD = "passerelle-test"


def issue(user, device="téléphone") -> tuple[str, dict]:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD, "device": device}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    return body["token"], body


def as_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_per_device_each_with_its_expiry():
    user = member(Role.EVALUATOR)
    before = timezone.now()
    phone, phone_body = issue(user, "téléphone")
    laptop, _laptop_body = issue(user, "portable")
    assert phone != laptop
    assert phone_body["device"] == "téléphone"
    expiry = datetime.datetime.fromisoformat(phone_body["expiry"])
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert before + ttl <= expiry <= timezone.now() + ttl
    assert as_token(phone).get("/api/v1/me/").status_code == 200
    assert as_token(laptop).get("/api/v1/me/").status_code == 200
    # Only the hash is stored: the key itself is nowhere in the table.
    assert not ApiToken.objects.filter(digest=phone).exists()
    assert ApiToken.objects.filter(user=user).count() == 2


def test_an_expired_token_answers_401():
    user = member(Role.EVALUATOR)
    key, body = issue(user)
    token = ApiToken.objects.get(pk=body["id"])
    token.expiry = timezone.now() + datetime.timedelta(seconds=5)
    token.save()
    assert as_token(key).get("/api/v1/me/").status_code == 200  # a moment before its end
    token.expiry = timezone.now() - datetime.timedelta(seconds=1)
    token.save()
    assert as_token(key).get("/api/v1/me/").status_code == 401


def test_logout_revokes_the_current_token_only():
    user = member(Role.EVALUATOR)
    phone, _body = issue(user, "téléphone")
    laptop, _body = issue(user, "portable")
    assert as_token(phone).post("/api/v1/auth/logout/").status_code == 204
    assert as_token(phone).get("/api/v1/me/").status_code == 401
    assert as_token(laptop).get("/api/v1/me/").status_code == 200


def test_a_revoked_token_answers_401_and_the_others_stay():
    user = member(Role.EVALUATOR)
    phone, phone_body = issue(user, "téléphone")
    laptop, _body = issue(user, "portable")
    response = as_token(laptop).delete(f"/api/v1/auth/tokens/{phone_body['id']}/")
    assert response.status_code == 204
    assert as_token(phone).get("/api/v1/me/").status_code == 401
    assert as_token(laptop).get("/api/v1/me/").status_code == 200


def test_the_old_token_answers_401_after_a_password_change():
    user = member(Role.EVALUATOR)
    phone, _body = issue(user, "téléphone")
    laptop, _body = issue(user, "portable")
    user.set_password("un-autre-mot-de-passe-42")
    user.save()
    assert as_token(phone).get("/api/v1/me/").status_code == 401
    assert as_token(laptop).get("/api/v1/me/").status_code == 401
    assert not ApiToken.objects.filter(user=user).exists()


def test_saving_a_user_without_changing_the_password_keeps_the_tokens():
    user = member(Role.EVALUATOR)
    key, _body = issue(user)
    user.first_name = "Sophie"
    user.save()
    assert as_token(key).get("/api/v1/me/").status_code == 200


def test_a_deactivated_users_tokens_answer_401():
    user = member(Role.EVALUATOR)
    key, _body = issue(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not ApiToken.objects.filter(user=user).exists()
    user.is_active = True
    user.save()
    assert as_token(key).get("/api/v1/me/").status_code == 401


def test_the_list_shows_only_ones_own_tokens_and_another_users_token_is_404():
    sophie, karim = member(Role.EVALUATOR), member(Role.FUNDER)
    mine, mine_body = issue(sophie, "téléphone")
    _other_mine, other_mine_body = issue(sophie, "portable")
    karims, karims_body = issue(karim, "tablette")

    listed = as_token(mine).get("/api/v1/auth/tokens/").json()
    assert sorted((row["id"], row["device"], row["current"]) for row in listed) == sorted(
        [(mine_body["id"], "téléphone", True), (other_mine_body["id"], "portable", False)]
    )
    assert as_token(mine).delete(f"/api/v1/auth/tokens/{karims_body['id']}/").status_code == 404
    assert as_token(mine).delete("/api/v1/auth/tokens/pas-un-nombre/").status_code == 404
    assert as_token(karims).get("/api/v1/me/").status_code == 200


def test_the_tokens_page_lists_and_revokes_ones_own_tokens_in_french():
    sophie, karim = member(Role.EVALUATOR), member(Role.FUNDER)
    phone, phone_body = issue(sophie, "téléphone de Sophie")
    karims, karims_body = issue(karim, "tablette de Karim")
    browser = Client()
    browser.force_login(sophie)
    page = browser.get("/compte/jetons/").content.decode()
    assert "Mes jetons d'API" in page
    assert "téléphone de Sophie" in page
    assert "tablette de Karim" not in page
    assert browser.post(f"/compte/jetons/{karims_body['id']}/revoquer/").status_code == 404
    assert as_token(karims).get("/api/v1/me/").status_code == 200
    response = browser.post(f"/compte/jetons/{phone_body['id']}/revoquer/", follow=True)
    assert "Le jeton est révoqué" in response.content.decode()
    assert as_token(phone).get("/api/v1/me/").status_code == 401
    assert "Aucun jeton en cours de validité." in response.content.decode()


def test_the_token_endpoint_locks_after_as_many_failures_as_the_login_page():
    user = member(Role.EVALUATOR)
    client = APIClient()
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [
        client.post("/api/v1/auth/token/", {"username": user.username, "password": "wrong"}).status_code
        for _ in range(limit)
    ]
    # As on the login page: refused, then locked at the limit-th failure.
    assert statuses == [400] * (limit - 1) + [429]
    locked = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "bloquée" in locked.json()["detail"]
    assert not ApiToken.objects.filter(user=user).exists()


def test_the_token_endpoint_refuses_with_a_french_message():
    user = member(Role.EVALUATOR)
    response = APIClient().post("/api/v1/auth/token/", {"username": user.username, "password": "wrong"})
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Identifiant ou mot de passe incorrect."]}
    assert APIClient().post("/api/v1/auth/token/", {}).json()["username"] == ["Ce champ est obligatoire."]
