"""Security hardening: login throttling, the CSP, API rate limits, no stack trace outside DEBUG."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from territories.roles import Role
from territories.throttles import TokenClientThrottle
from territories.tokens import token_issue
from tests.factories import member

pytestmark = pytest.mark.django_db


def test_login_is_locked_after_repeated_failures_even_with_the_right_password():
    user = member(Role.EVALUATOR)
    client = Client()
    statuses = [
        client.post("/connexion/", {"username": user.username, "password": "wrong"}).status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the form with its error, then the lockout at the 5th
    locked = client.post("/connexion/", {"username": user.username, "password": "passerelle-test"})
    assert locked.status_code == 429
    assert "bloquée" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_token_endpoint_counts_failures_too():
    user = member(Role.EVALUATOR)
    client = APIClient()
    for _ in range(5):
        client.post("/api/v1/auth/token/", {"username": user.username, "password": "wrong"}, format="json")
    response = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "passerelle-test"}, format="json"
    )
    # The locked-out account gets no token, even with the right password.
    assert response.status_code == 429
    assert "token" not in response.json()


def test_pages_carry_a_content_security_policy_without_inline_script():
    response = Client().get("/connexion/")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert "<script>" not in response.content.decode()


def test_token_clients_are_rate_limited_and_sessions_are_not(monkeypatch):
    # DRF reads the rates once, into the class: lower the limit there for the test.
    monkeypatch.setattr(TokenClientThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    user = member(Role.EVALUATOR)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user)[1]}")
    statuses = [client.get("/api/v1/territories/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]

    browser = APIClient()
    browser.force_login(user)
    assert {browser.get("/api/v1/territories/").status_code for _ in range(4)} == {200}


def test_no_stack_trace_outside_debug(settings):
    from django.urls import path

    settings.DEBUG = False

    def broken(request):
        raise RuntimeError("secret internals")

    import config.urls

    urlconf = type("urlconf", (), {"urlpatterns": [path("boom/", broken), *config.urls.urlpatterns]})
    settings.ROOT_URLCONF = urlconf
    client = Client(raise_request_exception=False)
    client.force_login(member(Role.EVALUATOR))
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "secret internals" not in body
    assert "Traceback" not in body
