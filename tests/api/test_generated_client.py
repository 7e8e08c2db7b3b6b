"""A partner's client, generated from the served schema, runs the flow of a meal.

openapi-python-client (the usual way a partner integrates) generates a Python client from
``/api/v1/schema/`` as a live server serves it; the test then drives that client only, with
knox tokens, over HTTP: a batch declared by the kitchen, its pickup confirmed by a volunteer,
the second confirmation refused with a typed 409, a distribution, and a refused distribution
whose 400 carries each field's French message.

The generator keeps the last body type an operation offers: the schema offers JSON only, and
multipart beside it only where a file is uploaded, and the server accepts exactly that (a form
post answers 415).
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from meals.models import Batch, Distribution, Pickup
from territories.roles import Role
from tests.factories import member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "passerelle-test"  # tests.factories.UserFactory's
PACKAGE = "passerelle_client"
# Generous: the live server shares the machine with the rest of the suite.
TIMEOUT = httpx.Timeout(120)
CONFIG = f"package_name_override: {PACKAGE}\nproject_name_override: passerelle-client\npost_hooks: []\n"


def generator() -> str:
    """The openapi-python-client command of the environment running the tests."""
    beside = Path(sys.executable).with_name("openapi-python-client")
    found = str(beside) if beside.exists() else shutil.which("openapi-python-client")
    assert found, "openapi-python-client is a development dependency (pyproject.toml)"
    return found


def token_over_http(base_url: str, username: str) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/auth/token/",
        json={"username": username, "password": PASSWORD},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def generated(live_server, tmp_path) -> Iterator[ModuleType]:
    """The client package generated from the schema the live server serves, imported."""
    scene = Scene()
    token = token_over_http(live_server.url, scene.kitchen_user.username)
    schema = httpx.get(
        f"{live_server.url}/api/v1/schema/?format=json",
        headers={"Authorization": f"Token {token}"},
        timeout=TIMEOUT,
    )
    assert schema.status_code == 200
    (tmp_path / "schema.json").write_bytes(schema.content)
    (tmp_path / "config.yml").write_text(CONFIG)
    subprocess.run(  # noqa: S603 - the development tool of this environment, on our own schema
        [
            generator(),
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.yml"),
            "--output-path",
            str(tmp_path / "client"),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        package = importlib.import_module(PACKAGE)
        package.scene = scene  # type: ignore[attr-defined]
        yield package
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def operation(package: ModuleType, tag: str, name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


def test_a_generated_client_runs_the_flow_of_a_meal(generated, live_server):
    scene: Scene = generated.scene
    models = importlib.import_module(f"{PACKAGE}.models")
    anonymous = generated.Client(base_url=live_server.url, timeout=TIMEOUT, raise_on_unexpected_status=True)

    def session(user: Any) -> Any:
        answer = operation(generated, "auth", "auth_token_create").sync_detailed(
            client=anonymous,
            body=models.TokenRequestRequest(username=user.username, password=PASSWORD, device="partenaire"),
        )
        assert answer.status_code == 200, answer.content
        return generated.AuthenticatedClient(
            base_url=live_server.url,
            token=answer.parsed.token,
            prefix="Token",
            timeout=TIMEOUT,
            raise_on_unexpected_status=True,
        )

    kitchen, volunteer = session(scene.kitchen_user), session(scene.volunteer)

    # The kitchen declares 150 meals, kept at 2.0 °C.
    declared = operation(generated, "batches", "batches_create").sync_detailed(
        client=kitchen, body=models.BatchRequest.from_dict(scene.batch_payload())
    )
    assert declared.status_code == 201, declared.content
    batch = declared.parsed
    assert isinstance(batch, models.Batch)
    assert (batch.meals_count, str(batch.status)) == (150, "ready")

    # The volunteer confirms the pickup of the 150 meals at 2.8 °C; a second confirmation is a 409.
    pickup_body = models.PickupRequest.from_dict(
        {
            "meals_received": 150,
            "temperature_c": "2.8",
            "transport_mode": "association_vehicle",
            "refrigerated_vehicle": True,
            "distance_km": "6.5",
            "duration_minutes": 30,
        }
    )
    confirm = operation(generated, "batches", "batches_pickup_create")
    picked = confirm.sync_detailed(batch.id, client=volunteer, body=pickup_body)
    assert picked.status_code == 201, picked.content
    assert isinstance(picked.parsed, models.Pickup)
    assert picked.parsed.meals_received == 150
    again = confirm.sync_detailed(batch.id, client=volunteer, body=pickup_body)
    assert again.status_code == 409
    assert isinstance(again.parsed, models.Conflict)
    assert "déjà" in again.parsed.detail
    assert Pickup.objects.filter(batch_id=batch.id).count() == 1

    # 140 meals distributed and 10 thrown away: the 150 received.
    create = operation(generated, "distributions", "distributions_create")
    distribution = {
        "pickup": picked.parsed.id,
        "site": scene.site.pk,
        "distributed_on": str(scene.today),
        "meals_distributed": 140,
        "beneficiaries": 120,
        "households": 45,
        "children": 30,
        "meals_discarded": 10,
        "discard_reason": "Barquettes percées",
        "temperature_c": "2.5",
    }
    distributed = create.sync_detailed(
        client=volunteer, body=models.DistributionRequest.from_dict(distribution)
    )
    assert distributed.status_code == 201, distributed.content
    assert isinstance(distributed.parsed, models.Distribution)
    assert Batch.objects.get(pk=batch.id).status == Batch.Status.DISTRIBUTED

    # Another batch of 150 picked up, then 145 distributed + 10 thrown away (155 > 150) to 40
    # people in 41 households: refused, each field with its message, and nothing written.
    second = operation(generated, "batches", "batches_create").sync(
        client=kitchen, body=models.BatchRequest.from_dict(scene.batch_payload(lot_number="L-2411-02"))
    )
    second_pickup = confirm.sync(second.id, client=volunteer, body=pickup_body)
    refused = create.sync_detailed(
        client=volunteer,
        body=models.DistributionRequest.from_dict(
            {
                **distribution,
                "pickup": second_pickup.id,
                "meals_distributed": 145,
                "beneficiaries": 40,
                "households": 41,
                "children": 0,
            }
        ),
    )
    assert refused.status_code == 400
    assert isinstance(refused.parsed, models.FieldErrors)
    messages = refused.parsed.additional_properties
    assert set(messages) == {"meals_distributed", "households"}, messages
    assert "dépassent les repas reçus" in messages["meals_distributed"][0]
    assert "plus de foyers" in messages["households"][0]
    assert Distribution.objects.filter(pickup_id=second_pickup.id).count() == 0
    assert Batch.objects.get(pk=second.id).status == Batch.Status.PICKED_UP


def binary_fields(schema: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """The properties of a body schema that carry a file."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return {name for name, field in schema.get("properties", {}).items() if field.get("format") == "binary"}


def test_the_schema_offers_json_bodies_and_multipart_only_beside_a_file(db):
    client = APIClient()
    client.force_authenticate(member(Role.EVALUATOR))
    schema = client.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]
    bodies, with_files = 0, {}
    for path, operations in schema["paths"].items():
        for method, spec in operations.items():
            if "requestBody" not in spec:
                continue
            bodies += 1
            content = spec["requestBody"]["content"]
            if "application/json" not in content:  # an upload and nothing else (a CSV import)
                assert list(content) == ["multipart/form-data"], (method, path)
                with_files[f"{method.upper()} {path}"] = binary_fields(
                    content["multipart/form-data"]["schema"], components
                )
                continue
            files = binary_fields(content["application/json"]["schema"], components)
            if files:
                with_files[f"{method.upper()} {path}"] = files
                assert list(content) == ["application/json", "multipart/form-data"], (method, path)
            else:
                assert list(content) == ["application/json"], (method, path)
    assert bodies > 40
    assert with_files == {
        "POST /api/v1/partnerships/": {"convention_document"},
        "PUT /api/v1/partnerships/{id}/": {"convention_document"},
        "PATCH /api/v1/partnerships/{id}/": {"convention_document"},
        "POST /api/v1/egalim/import/": {"file"},
    }


def test_a_form_post_to_the_api_answers_415_and_writes_nothing(scene):
    kitchen = APIClient()
    kitchen.force_authenticate(scene.kitchen_user)
    multipart = kitchen.post("/api/v1/batches/", scene.batch_payload(), format="multipart")
    assert multipart.status_code == 415, multipart.content
    # application/x-www-form-urlencoded, as an HTML form posts.
    form = kitchen.post(
        "/api/v1/batches/",
        f"partnership={scene.partnership.pk}&kind=surplus&meals_count=150",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 415, form.content
    assert Batch.objects.count() == 0
    credentials = {"username": scene.volunteer.username, "password": PASSWORD}
    assert APIClient().post("/api/v1/auth/token/", credentials, format="multipart").status_code == 415
