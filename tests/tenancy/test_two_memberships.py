"""The cross-tenant matrix for users holding two memberships: the user's reach is the union of
their memberships (``territories.scoping``), never only one of them.

- a member of two territories, in the same role, sees each territory's objects exactly as a
  member of that one territory does, on every route of the matrix;
- a member with two roles in one territory (a kitchen manager who also volunteers for the
  association) declares a batch as the manager and confirms a pickup as the volunteer;
- a funder of two territories sees both on every route a funder sees.

The routes, the data and the expected answers are those of ``test_matrix``.
"""

from __future__ import annotations

import datetime

import pytest

from associations.models import Association, Partnership
from kitchens.models import Kitchen
from meals.models import Batch, Pickup
from territories.models import Authority, Membership, Territory
from territories.roles import Role
from tests.factories import UserFactory, member
from tests.tenancy.test_matrix import (
    DETAIL_ROUTES,
    EVALUATORS_ONLY,
    HIDDEN_FROM_FUNDERS,
    LIST_ROUTES,
    RESTRICTED_LIST_MODELS,
    ROLE_DETAIL_ROUTES,
    ROLE_VISIBLE_MODELS,
    ROUTE_MODELS,
    TERRITORIAL_ROLES,
    Side,
    build_side,
    client_for,
    detail_url,
    list_status,
    listed,
    visible_in_list,
)

pytestmark = pytest.mark.django_db

ACTORS = {
    Role.KITCHEN_MANAGER: "kitchen",
    Role.VOLUNTEER: "association",
    Role.ASSOCIATION_COORDINATOR: "association",
    Role.AUTHORITY_COORDINATOR: "authority",
}


def actor_of(side: Side, role: str) -> dict[str, object]:
    model = {"kitchen": Kitchen, "association": Association, "authority": Authority}[ACTORS[role]]
    return {ACTORS[role]: side.objects[model]}


def join(user: object, role: str, side: Side) -> None:
    membership = Membership(user=user, role=role, territory=side.territory, **actor_of(side, role))
    membership.full_clean()
    membership.save()


@pytest.fixture
def sides(settings) -> tuple[Side, Side]:
    a, b = build_side("Alpha"), build_side("Bravo")
    (settings.MEDIA_ROOT / "conventions").mkdir(parents=True, exist_ok=True)
    (settings.MEDIA_ROOT / "conventions" / "convention.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    return a, b


def own_detail_status(route: str, role: str) -> int:
    """What a member of the object's own territory gets (as in ``test_matrix``)."""
    model = ROUTE_MODELS[route]
    if route in ROLE_DETAIL_ROUTES and role not in ROLE_DETAIL_ROUTES[route]:
        return 403
    if model in EVALUATORS_ONLY or (model in ROLE_VISIBLE_MODELS and role not in ROLE_VISIBLE_MODELS[model]):
        return 404
    return 200


def own_list_shows(route: str, role: str) -> bool:
    model = ROUTE_MODELS[route]
    return (
        list_status(route, role) == 200
        and model not in EVALUATORS_ONLY
        and (
            model not in ROLE_VISIBLE_MODELS
            or role in ROLE_VISIBLE_MODELS[model]
            or model not in RESTRICTED_LIST_MODELS
        )
    )


@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_a_member_of_two_territories_sees_both_on_every_route(sides, role):
    a, b = sides
    user = UserFactory()
    join(user, role, a)
    join(user, role, b)
    client = client_for(user)

    details = {
        (route, side.territory.name): client.get(
            detail_url(route, side.objects[ROUTE_MODELS[route]])
        ).status_code
        for route in DETAIL_ROUTES
        for side in (a, b)
    }
    expected = {
        (route, side.territory.name): own_detail_status(route, role)
        for route in DETAIL_ROUTES
        for side in (a, b)
    }
    assert details == expected
    lists = {
        (route, side.territory.name): visible_in_list(
            client, route, listed(side, route), list_status(route, role)
        )
        for route in LIST_ROUTES
        for side in (a, b)
    }
    assert lists == {
        (route, side.territory.name): own_list_shows(route, role) for route in LIST_ROUTES for side in (a, b)
    }
    # Both territories' own rows, in the scoped querysets behind every route.
    assert set(Territory.objects.for_user(user).values_list("pk", flat=True)) == {
        a.territory.pk,
        b.territory.pk,
    }
    assert set(Batch.objects.for_user(user).values_list("territory_id", flat=True)) == {
        a.territory.pk,
        b.territory.pk,
    }


def test_two_roles_in_one_territory_act_with_both(sides):
    """A kitchen manager who also volunteers for the association: the batch declared as the
    manager, the pickup confirmed as the volunteer, through the API."""
    a, b = sides
    user = UserFactory()
    join(user, Role.KITCHEN_MANAGER, a)
    join(user, Role.VOLUNTEER, a)
    client = client_for(user)
    today = datetime.date.today()
    partnership = a.objects[Partnership]

    declared = client.post(
        "/api/v1/batches/",
        {
            "partnership": partnership.pk,
            "kind": "surplus",
            "production_date": str(today),
            "service": "lunch",
            "meals_count": 60,
            "liaison": "cold",
            "lot_number": "DEUX-ROLES-1",
            "use_by_date": str(today + datetime.timedelta(days=3)),
            "dispatch_temperature_c": "2.0",
            "allergens": ["milk"],
        },
        format="json",
    )
    picked = client.post(
        f"/api/v1/batches/{a.ready_batch.pk}/pickup/",
        {"meals_received": 40, "temperature_c": "2.0", "transport_mode": "association_vehicle"},
        format="json",
    )

    assert declared.status_code == 201, declared.json()
    assert picked.status_code == 201, picked.json()
    assert Batch.objects.get(lot_number="DEUX-ROLES-1").created_by == user
    assert Pickup.objects.get(batch=a.ready_batch).picked_up_by == user
    # The manager's rights (change) and the volunteer's (pickup) both hold, in A only.
    assert set(Batch.objects.for_user(user, "change").values_list("territory_id", flat=True)) == {
        a.territory.pk
    }
    assert Batch.objects.for_user(user, "pickup").filter(pk=b.ready_batch.pk).exists() is False
    assert client.get(f"/api/v1/batches/{b.ready_batch.pk}/").status_code == 404


def test_a_funder_of_two_territories_sees_both_on_every_route(sides):
    a, b = sides
    funder = member(Role.FUNDER, funded=[a.territory, b.territory])
    client = client_for(funder)

    def funded_status(route: str) -> int:
        model = ROUTE_MODELS[route]
        if model in HIDDEN_FROM_FUNDERS:
            return 404
        return 403 if route in ROLE_DETAIL_ROUTES else 200

    details = {
        (route, side.territory.name): client.get(
            detail_url(route, side.objects[ROUTE_MODELS[route]])
        ).status_code
        for route in DETAIL_ROUTES
        for side in (a, b)
    }
    assert details == {
        (route, side.territory.name): funded_status(route) for route in DETAIL_ROUTES for side in (a, b)
    }
    for route in LIST_ROUTES:
        status = list_status(route, Role.FUNDER)
        shown = status == 200 and ROUTE_MODELS[route] not in HIDDEN_FROM_FUNDERS
        for side in (a, b):
            assert visible_in_list(client, route, listed(side, route), status) is shown, (
                route,
                side.territory.name,
            )
