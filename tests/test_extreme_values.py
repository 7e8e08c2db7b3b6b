"""A property of every write endpoint: whatever extreme value it is sent, it never answers a
server error, and a refusal (4xx) writes nothing.

hypothesis draws, for each endpoint, a valid payload of the role allowed to write there with
one to three of its fields replaced by extreme values: integers up to ±2⁶³, dates of year 1 and
year 9999, very long strings and strings holding control or bidirectional-override characters,
JSON nested thousands deep. Each request runs in a transaction rolled back afterwards, so every
example meets the same data. The number of examples per endpoint is kept modest for CI
(``PASSERELLE_EXTREME_EXAMPLES`` raises it for a longer local run)."""

import datetime
import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from territories.roles import Role
from tests.factories import FundingFactory, flow, member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("PASSERELLE_EXTREME_EXAMPLES", "50"))
TODAY = datetime.date.today()
DEEP = "__deep__"  # replaced, in the encoded body, by a JSON array nested thousands deep

PROJECT_APPS = {"territories", "kitchens", "associations", "meals", "costing", "evaluation"}


def rows() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
    }


integers = st.one_of(
    st.sampled_from([-1, 0, 2**31 - 1, 2**31, 2**32, 10**12, 2**63 - 1, 2**63, -(2**63)]),
    st.integers(min_value=-(2**63), max_value=2**63),
)
dates = st.one_of(
    st.sampled_from([datetime.date(1, 1, 1), datetime.date(9999, 12, 31), datetime.date(1900, 2, 28)]),
    st.dates(),
).map(str)
datetimes = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00"]),
    st.datetimes().map(lambda moment: moment.isoformat()),
)
forbidden = st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\u202a", "\u202e", "\u2066", "\u2069"])
strings = st.one_of(
    st.builds(
        lambda head, char, tail: head + char + tail, st.text(max_size=10), forbidden, st.text(max_size=10)
    ),
    st.sampled_from(["x" * 100_000, "x" * 5001, "é" * 300, ""]),
    st.text(max_size=60),
)
decimals = st.one_of(
    st.sampled_from(["1e308", "-1e308", "NaN", "Infinity", "99999999999999999999.99", "0.000000001"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**15), max_value=10**15).map(
        str
    ),
)
deep = st.just(DEEP)
any_value = st.one_of(integers, dates, strings, deep)


@dataclass
class Endpoint:
    """A write of one role: its method, path and valid payload, and the kind of each field."""

    role: str
    method: str
    path: str
    payload: dict[str, Any]
    kinds: dict[str, st.SearchStrategy]


def world() -> tuple[Scene, dict[str, Any]]:
    scene = Scene()
    ready = scene.batch(lot_number="L-READY")
    open_pickup = scene.pickup(scene.batch(lot_number="L-OPEN"))
    flow(scene.partnership, kitchen_user=scene.kitchen_user, volunteer=scene.volunteer, site=scene.site)
    partnership, territory = scene.partnership, scene.territory
    FundingFactory(territory=territory)
    users = {
        Role.KITCHEN_MANAGER: scene.kitchen_user,
        Role.VOLUNTEER: scene.volunteer,
        Role.ASSOCIATION_COORDINATOR: member(
            Role.ASSOCIATION_COORDINATOR, territory, association=partnership.association
        ),
        Role.AUTHORITY_COORDINATOR: member(Role.AUTHORITY_COORDINATOR, territory),
        Role.EVALUATOR: member(Role.EVALUATOR),
    }
    month = str(TODAY.replace(day=1))
    endpoints = {
        "batch": Endpoint(
            Role.KITCHEN_MANAGER,
            "post",
            "/api/v1/batches/",
            scene.batch_payload(),
            {
                "meals_count": integers,
                "production_date": dates,
                "use_by_date": dates,
                "lot_number": strings,
                "dispatch_temperature_c": decimals,
                "components": any_value,
                "allergens": any_value,
            },
        ),
        "pickup": Endpoint(
            Role.VOLUNTEER,
            "post",
            f"/api/v1/batches/{ready.pk}/pickup/",
            {"meals_received": 150, "temperature_c": "3.0", "transport_mode": "association_vehicle"},
            {
                "meals_received": integers,
                "picked_up_at": datetimes,
                "duration_minutes": integers,
                "distance_km": decimals,
                "transport_cost": decimals,
                "temperature_c": decimals,
                "discard_reason": strings,
            },
        ),
        "distribution": Endpoint(
            Role.VOLUNTEER,
            "post",
            "/api/v1/distributions/",
            {
                "pickup": open_pickup.pk,
                "site": scene.site.pk,
                "distributed_on": str(TODAY),
                "meals_distributed": 1,
                "beneficiaries": 1,
                "temperature_c": "2.5",
            },
            {
                "meals_distributed": integers,
                "beneficiaries": integers,
                "households": integers,
                "children": integers,
                "meals_discarded": integers,
                "distributed_on": dates,
                "discard_reason": strings,
                "temperature_c": decimals,
                "reheat_temperature_c": decimals,
                "reheat_minutes": integers,
                "profile_families": integers,
                "referred_siao": integers,
                "turned_away": integers,
            },
        ),
        "partnership": Endpoint(
            Role.AUTHORITY_COORDINATOR,
            "post",
            "/api/v1/partnerships/",
            {
                "kitchen": partnership.kitchen_id,
                "association": partnership.association_id,
                "mode": "surplus",
                "starts_on": str(TODAY),
                "planned_meals_per_week": 100,
                "status": "draft",
            },
            {"starts_on": dates, "ends_on": dates, "planned_meals_per_week": integers, "mode": any_value},
        ),
        "kitchen": Endpoint(
            Role.AUTHORITY_COORDINATOR,
            "patch",
            f"/api/v1/kitchens/{partnership.kitchen_id}/",
            {},
            {"name": strings, "address": strings, "usual_daily_production": integers, "siret": strings},
        ),
        "site": Endpoint(
            Role.ASSOCIATION_COORDINATOR,
            "post",
            "/api/v1/sites/",
            {
                "association": partnership.association_id,
                "name": "Local",
                "address": "1 rue",
                "has_cold_storage": True,
                "cold_storage_litres": 100,
                "opening_days": ["mon"],
            },
            {"name": strings, "address": strings, "cold_storage_litres": integers, "opening_days": any_value},
        ),
        "cost_input": Endpoint(
            Role.KITCHEN_MANAGER,
            "post",
            "/api/v1/cost-inputs/",
            {"territory": territory.pk, "kitchen": partnership.kitchen_id, "month": month},
            {"month": dates, "food_cost_per_meal": decimals, "extra_labour_hours": decimals},
        ),
        "funding": Endpoint(
            Role.AUTHORITY_COORDINATOR,
            "post",
            "/api/v1/fundings/",
            {
                "territory": territory.pk,
                "funder": "drihl",
                "amount": "1000.00",
                "period_start": "2025-01-01",
                "period_end": "2025-12-31",
            },
            {"period_start": dates, "period_end": dates, "amount": decimals},
        ),
        "revenue": Endpoint(
            Role.AUTHORITY_COORDINATOR,
            "post",
            "/api/v1/revenues/",
            {"territory": territory.pk, "month": month, "kind": "beneficiaries", "amount": "120.00"},
            {"month": dates, "amount": decimals, "meals": integers, "kind": any_value},
        ),
        "expense": Endpoint(
            Role.AUTHORITY_COORDINATOR,
            "post",
            "/api/v1/expenses/",
            {
                "territory": territory.pk,
                "month": month,
                "category": "evaluation",
                "amount": "800",
                "label": "x",
            },
            {"month": dates, "amount": decimals, "label": strings},
        ),
        "fixed_cost": Endpoint(
            Role.KITCHEN_MANAGER,
            "post",
            "/api/v1/kitchen-fixed-costs/",
            {
                "territory": territory.pk,
                "kitchen": partnership.kitchen_id,
                "year": 2025,
                "fixed_costs": "1000",
                "meals_produced": 100,
            },
            {"year": integers, "fixed_costs": decimals, "meals_produced": integers},
        ),
        "egalim": Endpoint(
            Role.KITCHEN_MANAGER,
            "post",
            "/api/v1/egalim-declarations/",
            {
                "territory": territory.pk,
                "kitchen": partnership.kitchen_id,
                "year": 2025,
                "quality_share": "40",
                "organic_share": "20",
            },
            {"year": integers, "quality_share": decimals, "organic_share": decimals},
        ),
        "journal": Endpoint(
            Role.AUTHORITY_COORDINATOR,
            "post",
            "/api/v1/journal/",
            {
                "territory": territory.pk,
                "observed_on": str(TODAY),
                "category": "technical",
                "nature": "lever",
                "title": "Note",
                "text": "Note",
            },
            {"observed_on": dates, "text": strings, "title": strings},
        ),
        "report": Endpoint(
            Role.EVALUATOR,
            "post",
            "/api/v1/reports/",
            {"kind": "drihl", "territory": territory.pk, "period_start": month, "period_end": str(TODAY)},
            {"period_start": dates, "period_end": dates},
        ),
    }
    return scene, {"users": users, "endpoints": endpoints}


def encode(payload: dict[str, Any], depth: int) -> bytes:
    text = json.dumps(payload).encode()
    return text.replace(json.dumps(DEEP).encode(), b"[" * depth + b"]" * depth)


def changes(endpoint: Endpoint) -> st.SearchStrategy:
    names = sorted(endpoint.kinds)
    return st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({name: endpoint.kinds[name] for name in chosen})
    )


ENDPOINTS = [
    "batch",
    "pickup",
    "distribution",
    "partnership",
    "kitchen",
    "site",
    "cost_input",
    "funding",
    "revenue",
    "expense",
    "fixed_cost",
    "egalim",
    "journal",
    "report",
]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_extreme_values_never_answer_5xx_and_a_refusal_writes_nothing(name):
    _, data = world()
    endpoint: Endpoint = data["endpoints"][name]
    client = APIClient()
    client.force_authenticate(data["users"][endpoint.role])
    statuses: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(change=changes(endpoint), depth=st.sampled_from([40, 5000]))
    def run(change: dict[str, Any], depth: int) -> None:
        cache.clear()  # rate-limit counters
        with transaction.atomic():
            before = rows()
            body = encode({**endpoint.payload, **change}, depth)
            response = getattr(client, endpoint.method)(endpoint.path, body, content_type="application/json")
            statuses.append(response.status_code)
            assert response.status_code < 500, (change, response.content[:300])
            if 400 <= response.status_code < 500:
                assert rows() == before, (change, response.status_code)
            transaction.set_rollback(True)

    # The valid payload alone is accepted: the extreme values are what the refusals are about.
    with transaction.atomic():
        body = encode(endpoint.payload, 0)
        response = getattr(client, endpoint.method)(endpoint.path, body, content_type="application/json")
        assert response.status_code < 300, response.content[:500]
        transaction.set_rollback(True)
    run()
    assert any(400 <= status < 500 for status in statuses)


def test_the_token_endpoint_refuses_extreme_bodies_anonymously():
    client = APIClient()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
    @given(
        username=st.one_of(strings, integers, deep), password=st.one_of(strings, deep), depth=st.just(5000)
    )
    def run(username: Any, password: Any, depth: int) -> None:
        cache.clear()
        body = encode({"username": username, "password": password}, depth)
        response = client.post("/api/v1/auth/token/", body, content_type="application/json")
        assert response.status_code == 400, (username, password, response.content[:300])

    run()
