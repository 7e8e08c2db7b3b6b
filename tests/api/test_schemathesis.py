"""API fuzzing with schemathesis: every operation of ``/api/v1/schema/``, as every role (and
as an administrator, and anonymously).

The schema is loaded from the application itself (WSGI, in-process), so each operation the
router or a view adds is fuzzed without touching this file. For each role of a seeded
territory (with a second territory beside it) and each operation, hypothesis draws a bounded,
deterministic number of requests, valid ones (on a real object of the role's, or on an id
that may not exist) and invalid ones, each sent with the role's token (or none, as an
anonymous client) and rolled back afterwards so every request meets the same data. Every
response must:

- not be a server error (5xx);
- have a status code the schema documents for the operation;
- have the documented content type and conform to the documented body schema.

All failures are collected and reported together, one line per operation and role.
``PASSERELLE_FUZZ_EXAMPLES`` raises the number of examples for a longer, local run.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from territories.roles import Role
from territories.tokens import token_issue
from tests.factories import (
    AssociationCostFactory,
    CoordinationCostFactory,
    DailyRollupFactory,
    FundingFactory,
    KitchenCostInputFactory,
    ReferenceValueFactory,
    TransportRateFactory,
    UserFactory,
    flow,
    member,
)
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/v1/schema/"
# Per operation and role; deterministic (derandomize), so a failure reproduces.
MAX_EXAMPLES = int(os.environ.get("PASSERELLE_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ANONYMOUS = "anonymous"  # no token: every operation but the token one answers 401
ADMINISTRATOR = "administrator"  # a superuser, who holds no membership and sees everything
# Without a token the API stops at authentication: a few examples per operation are enough.
ANONYMOUS_EXAMPLES = min(3, MAX_EXAMPLES)
ROLES = [
    ANONYMOUS,
    Role.KITCHEN_MANAGER,
    Role.VOLUNTEER,
    Role.ASSOCIATION_COORDINATOR,
    Role.AUTHORITY_COORDINATOR,
    Role.EVALUATOR,
    Role.FUNDER,
    ADMINISTRATOR,
]
# "/api/v1/batches/{id}/pickup/" -> the collection "/api/v1/batches/" whose list gives a real id.
DETAIL_PATH = re.compile(r"^(?P<collection>.+/)\{id\}/")
# Body fields that reference another collection: half the examples get a real id of the role's
# there, so that writes get past "unknown object" and reach the services' rules.
REFERENCES = {
    "territory": "/api/v1/territories/",
    "kitchen": "/api/v1/kitchens/",
    "association": "/api/v1/associations/",
    "authority": "/api/v1/authorities/",
    "partnership": "/api/v1/partnerships/",
    "site": "/api/v1/sites/",
    "batch": "/api/v1/batches/",
    "pickup": "/api/v1/pickups/",
}
ENDS_THE_TOKEN = {"POST /api/v1/auth/logout/", "DELETE /api/v1/auth/tokens/{id}/"}
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass
class Seeded:
    """A territory with every role and each kind of record, and a second territory beside it."""

    users: dict[str, Any]


def seed() -> Seeded:
    today = datetime.date.today()
    home, other = Scene(), Scene()
    for scene in (home, other):
        scene.batch(lot_number="L-READY")
        flow(scene.partnership, kitchen_user=scene.kitchen_user, volunteer=scene.volunteer, site=scene.site)
        scene.partnership.convention_document.save("convention.pdf", ContentFile(MINIMAL_PDF))
    territory, partnership = home.territory, home.partnership
    coordinator = member(Role.ASSOCIATION_COORDINATOR, territory, association=partnership.association)
    authority_user = member(Role.AUTHORITY_COORDINATOR, territory)
    authority = authority_user.memberships.get().authority  # type: ignore[attr-defined]
    month = today.replace(day=1)
    KitchenCostInputFactory(kitchen=partnership.kitchen, month=month)
    TransportRateFactory(territory=territory, month=month)
    AssociationCostFactory(association=partnership.association, month=month)
    CoordinationCostFactory(authority=authority, month=month)
    FundingFactory(territory=territory)
    ReferenceValueFactory()
    DailyRollupFactory(partnership=partnership, day=today - datetime.timedelta(days=1))
    return Seeded(
        users={
            Role.KITCHEN_MANAGER: home.kitchen_user,
            Role.VOLUNTEER: home.volunteer,
            Role.ASSOCIATION_COORDINATOR: coordinator,
            Role.AUTHORITY_COORDINATOR: authority_user,
            Role.EVALUATOR: member(Role.EVALUATOR),
            Role.FUNDER: member(Role.FUNDER, funded=[territory]),
            ADMINISTRATOR: UserFactory(is_superuser=True, is_staff=True),
        }
    )


@contextmanager
def in_process_requests() -> Iterator[None]:
    """As Django's test client does: a request does not close the test's database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def operation_id(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def describe(error: BaseException) -> str:
    """The failure as schemathesis words it (status, body, a curl line to reproduce)."""
    text = getattr(error, "message", "") or f"{type(error).__name__}: {error}"
    return str(text).strip()[:2500]


def real_ids(schema: Any, headers: dict[str, str]) -> dict[str, int]:
    """For each collection of the schema, the id of the first object the role sees in it."""
    found: dict[str, int] = {}
    app = schema.app
    from werkzeug.test import Client

    client = Client(app)
    for result in schema.get_all_operations():
        operation = result.ok()
        match = DETAIL_PATH.match(operation.path)
        if not match or match["collection"] in found:
            continue
        response = client.get(schema.get_full_path(match["collection"]), headers=headers)
        if response.status_code != 200:
            continue
        body = response.get_json()
        items = body.get("results", []) if isinstance(body, dict) else body
        if items and isinstance(items[0], dict) and "id" in items[0]:
            found[match["collection"]] = items[0]["id"]
    return found


def link(case: Any, ids: dict[str, int]) -> None:
    """Points the body's references at real objects of the role's."""
    if isinstance(case.body, dict):
        for name, collection in REFERENCES.items():
            if name in case.body and collection in ids:
                case.body[name] = ids[collection]


def fuzz(operation: Any, headers: dict[str, str], ids: dict[str, int], examples: int) -> int:
    """Runs the bounded hypothesis search on one operation; raises on the first failure,
    returns the number of requests sent."""
    sent = 0
    strategies = [
        operation.as_strategy(),
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
    ]
    match = DETAIL_PATH.match(operation.path)
    real_id = ids.get(match["collection"]) if match else None
    if real_id is not None:
        fixed = {"id": real_id}
        strategies = [
            operation.as_strategy(path_parameters=fixed),
            operation.as_strategy(
                path_parameters=fixed, generation_mode=schemathesis.GenerationMode.NEGATIVE
            ),
            *strategies,
        ]

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=st.one_of(*strategies), linked=st.booleans())
    def run(case: Any, linked: bool) -> None:
        nonlocal sent
        sent += 1
        if linked:
            link(case, ids)
        cache.clear()  # rate-limit counters: the fuzzing sends far more than a client may
        with transaction.atomic():
            try:
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)
            finally:
                transaction.set_rollback(True)

    run()
    return sent


@pytest.fixture(scope="module")
def api_schema() -> Any:
    return schemathesis.openapi.from_wsgi(SCHEMA_PATH, get_wsgi_application())


def test_schema_lists_every_api_operation(api_schema):
    """The fuzzing reaches what the router and the views expose (a guard against an empty run)."""
    labels = {operation_id(result.ok()) for result in api_schema.get_all_operations()}
    assert {
        "GET /api/v1/batches/",
        "POST /api/v1/batches/{id}/pickup/",
        "DELETE /api/v1/distributions/{id}/",
    } <= labels
    assert len(labels) >= 50


@pytest.mark.parametrize("role", ROLES)
def test_api_holds_under_fuzzing(api_schema, role):
    seeded = seed()
    headers = {}
    if role != ANONYMOUS:
        headers["Authorization"] = f"Token {token_issue(user=seeded.users[role], device='schemathesis')[1]}"
    failures: list[str] = []
    sent = 0
    with in_process_requests():
        ids = real_ids(api_schema, headers)
        operations = [result.ok() for result in api_schema.get_all_operations()]
        # Logging out and revoking a token end the role's token: they go last.
        operations.sort(key=lambda operation: operation_id(operation) in ENDS_THE_TOKEN)
        for operation in operations:
            try:
                sent += fuzz(operation, headers, ids, MAX_EXAMPLES if headers else ANONYMOUS_EXAMPLES)
            except (Exception, BaseExceptionGroup) as error:  # every failure is collected, then reported
                failures.append(f"{operation_id(operation)} as {role}: {describe(error)}")
    assert sent >= len(operations), "the fuzzing sent fewer requests than there are operations"
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
