"""The field matrix: each role by each granted field, through the API and through the form.

Granted fields (``territories.field_rights``) are changed only by the territory's authority
coordinator, an evaluator or an administrator. For each role and each field the test sends a
new value and then reads the stored value back from the database:

- through the API (``PATCH``): the roles that may grant it store it; a role that writes the
  record but may not grant the field gets a 400 with the French message on that field; a role
  that may not write the record at all gets 403 (in sight) or 404 (out of sight) as the tenant
  rule says. Evaluators pass the field rule but write none of these records through the API
  (their row rule), so they get 403 there.
- through the form (the staff admin, given the right to edit the model): the field is disabled
  for the roles that may not grant it, and the stored value stays whatever was posted.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.forms.models import model_to_dict
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from associations.models import Association, Partnership
from kitchens.models import Kitchen
from territories.field_rights import GRANTED_FIELDS, GRANTED_MESSAGE
from territories.roles import Role
from tests.factories import (
    AuthorityFactory,
    PartnershipFactory,
    TerritoryFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

ADMIN = "admin"
OTHER_AUTHORITY = "other_authority_coordinator"
ROLES = [
    Role.KITCHEN_MANAGER,
    Role.VOLUNTEER,
    Role.ASSOCIATION_COORDINATOR,
    Role.AUTHORITY_COORDINATOR,
    OTHER_AUTHORITY,
    Role.EVALUATOR,
    Role.FUNDER,
    ADMIN,
]
MAY_GRANT = {Role.AUTHORITY_COORDINATOR, Role.EVALUATOR, ADMIN}

NEW_END = datetime.date(2031, 6, 30)
APPROVAL = "FR 93.066.001 CE"
EXEMPTION = {
    "sanitary_approval_number": "",
    "sanitary_exemption_reason": "Petites quantités, courte distance",
}
# (model, field, stored value, new value, API route, other granted fields changed with it)
FIELDS = [
    (Association, "habilitation", "regional", "national", "associations", {}),
    (Association, "habilitation_number", "HAB-IDF-2024-001", "HAB-9999", "associations", {}),
    (Association, "habilitation_expires_on", datetime.date(2030, 12, 31), NEW_END, "associations", {}),
    (Kitchen, "daily_capacity", 8000, 9000, "kitchens", {}),
    (Kitchen, "sanitary_approval_number", APPROVAL, "FR 93.066.002 CE", "kitchens", {}),
    (Kitchen, "sanitary_approval_exempt", False, True, "kitchens", EXEMPTION),
    (Kitchen, "sanitary_exemption_reason", "", "Petites quantités", "kitchens", {}),
    (Partnership, "status", "active", "suspended", "partnerships", {}),
]  # fmt: skip


def test_the_matrix_covers_every_granted_field():
    covered = {(model._meta.label, name) for model, name, *_rest in FIELDS}
    granted = {(label, name) for label, names in GRANTED_FIELDS.items() for name in names}
    assert covered == granted


@pytest.fixture
def world():
    home, away = TerritoryFactory(name="Plaine"), TerritoryFactory(name="Vallée")
    partnership = PartnershipFactory(territory=home)
    kitchen, association = partnership.kitchen, partnership.association
    kitchen.sanitary_approval_number = APPROVAL
    kitchen.save()
    users = {
        Role.KITCHEN_MANAGER: member(Role.KITCHEN_MANAGER, home, kitchen=kitchen),
        Role.VOLUNTEER: member(Role.VOLUNTEER, home, association=association),
        Role.ASSOCIATION_COORDINATOR: member(Role.ASSOCIATION_COORDINATOR, home, association=association),
        Role.AUTHORITY_COORDINATOR: member(
            Role.AUTHORITY_COORDINATOR, home, authority=AuthorityFactory(territory=home)
        ),
        OTHER_AUTHORITY: member(Role.AUTHORITY_COORDINATOR, away, authority=AuthorityFactory(territory=away)),
        Role.EVALUATOR: member(Role.EVALUATOR),
        Role.FUNDER: member(Role.FUNDER, funded=[home]),
        ADMIN: UserFactory(is_superuser=True, is_staff=True),
    }
    objects = {Association: association, Kitchen: kitchen, Partnership: partnership}
    return users, objects


def api_status(role: str, model: type) -> int:
    """What a PATCH of a granted field answers, by role and record."""
    if role in (ADMIN, Role.AUTHORITY_COORDINATOR):
        return 200
    if role == OTHER_AUTHORITY:
        return 404  # another territory's record
    writes_record = {
        Association: {Role.ASSOCIATION_COORDINATOR},
        Kitchen: {Role.KITCHEN_MANAGER},
        Partnership: set(),
    }[model]
    return 400 if role in writes_record else 403


def as_json(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("model", "name", "stored", "new", "route", "extra"), FIELDS)
def test_a_granted_field_through_the_api(world, role, model, name, stored, new, route, extra):
    users, objects = world
    obj = objects[model]
    client = APIClient()
    client.force_authenticate(users[role])
    changes = {name: new, **extra}
    changed = {key for key, value in changes.items() if getattr(obj, key) != value}
    payload = {key: as_json(value) for key, value in changes.items()}
    response = client.patch(f"/api/v1/{route}/{obj.pk}/", payload, format="json")
    expected = api_status(role, model)
    assert response.status_code == expected, response.content
    if expected == 400:
        assert response.json() == {key: [str(GRANTED_MESSAGE)] for key in changed}
    obj.refresh_from_db()
    assert getattr(obj, name) == (new if expected == 200 else stored)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("model", "name", "stored", "new", "route", "extra"), FIELDS)
def test_the_same_value_sent_back_is_not_a_change(world, role, model, name, stored, new, route, extra):
    """A client that sends the whole record (its granted fields unchanged) is not refused for them."""
    users, objects = world
    obj = objects[model]
    client = APIClient()
    client.force_authenticate(users[role])
    response = client.patch(f"/api/v1/{route}/{obj.pk}/", {name: as_json(stored)}, format="json")
    expected = api_status(role, model)
    assert response.status_code == (200 if expected == 400 else expected)


def admin_form(user, obj, **changes):
    """The admin's form for ``obj`` as ``user`` sees it, posted with the stored values and ``changes``."""
    request = RequestFactory().get("/")
    request.user = user
    model_admin = admin.site._registry[type(obj)]
    form_class = model_admin.get_form(request, obj, change=True)
    data = {key: value for key, value in model_to_dict(obj).items() if value is not None}
    data.update(changes)
    for key, value in data.items():  # a browser posts a JSON field as its text
        if isinstance(form_class.base_fields.get(key), forms.JSONField):
            data[key] = json.dumps(value)
    return form_class(data=data, instance=obj)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("model", "name", "stored", "new", "route", "extra"), FIELDS)
def test_a_granted_field_through_the_form(world, role, model, name, stored, new, route, extra):
    users, objects = world
    user, obj = users[role], objects[model]
    if role != ADMIN:  # staff allowed to edit this model in the admin
        user.is_staff = True
        user.save()
        user.user_permissions.add(Permission.objects.get(codename=f"change_{model._meta.model_name}"))
        user = type(user).objects.get(pk=user.pk)
    form = admin_form(user, obj, **{name: new, **extra})
    assert form.fields[name].disabled is (role not in MAY_GRANT)
    assert form.is_valid(), form.errors
    form.save()
    obj.refresh_from_db()
    assert getattr(obj, name) == (new if role in MAY_GRANT else stored)


def test_the_admin_page_shows_the_field_disabled_to_a_kitchen_manager(world):
    users, objects = world
    manager, kitchen = users[Role.KITCHEN_MANAGER], objects[Kitchen]
    manager.is_staff = True
    manager.save()
    manager.user_permissions.add(Permission.objects.get(codename="change_kitchen"))
    client = Client()
    client.force_login(manager)
    page = client.get(f"/admin/kitchens/kitchen/{kitchen.pk}/change/").content.decode()
    capacity = page[page.index('name="daily_capacity"') - 200 : page.index('name="daily_capacity"') + 200]
    assert "disabled" in capacity
    assert "Accordé : modifiable par le coordinateur" in page


def test_the_schema_documents_the_granted_fields():
    schema = APIClient()
    schema.force_authenticate(member(Role.EVALUATOR))
    body = schema.get("/api/v1/schema/?format=json").json()
    component = body["components"]["schemas"]
    assert "Accordé" in component["Kitchen"]["properties"]["daily_capacity"]["description"]
    assert "Accordé" in component["Association"]["properties"]["habilitation_number"]["description"]
    assert "Accordé" in component["Partnership"]["properties"]["status"]["description"]
