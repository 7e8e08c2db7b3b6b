"""The tenant rule itself (``territories.scoping``), on querysets: the user's reach is the union
of their memberships' rules, and it fails closed (no user, an inactive one, no membership, a
role with no rule give nothing). The pages and the API built on it are in tests/tenancy/."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from kitchens.models import Kitchen
from meals.models import Batch
from territories.models import Membership, Territory
from territories.roles import Role
from territories.scoping import memberships_of
from tests.factories import KitchenFactory, TerritoryFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def three():
    return TerritoryFactory(name="Alpha"), TerritoryFactory(name="Bravo"), TerritoryFactory(name="Charlie")


def names(queryset) -> list[str]:
    return sorted(str(name) for name in queryset.values_list("name", flat=True))


def join(user, role: str, territory: Territory, **actor) -> None:
    membership = Membership(user=user, role=role, territory=territory, **actor)
    membership.full_clean()
    membership.save()
    user.__dict__.pop("_passerelle_memberships", None)


def test_nobody_and_no_membership_see_nothing(three):
    inactive = member(Role.AUTHORITY_COORDINATOR, three[0])
    inactive.is_active = False

    assert names(Territory.objects.for_user(None)) == []
    assert names(Territory.objects.for_user(AnonymousUser())) == []
    assert names(Territory.objects.for_user(inactive)) == []
    assert names(Territory.objects.for_user(UserFactory())) == []


def test_a_superuser_and_the_bypass_see_every_territory(three):
    admin = UserFactory(is_superuser=True)
    assert names(Territory.objects.for_user(admin)) == ["Alpha", "Bravo", "Charlie"]
    assert names(Territory.objects.for_user(admin, "change")) == ["Alpha", "Bravo", "Charlie"]
    assert names(Territory.objects.all_territories()) == ["Alpha", "Bravo", "Charlie"]


def test_one_membership_sees_its_territory_and_an_evaluator_every_one(three):
    alpha, _, _ = three
    assert names(Territory.objects.for_user(member(Role.AUTHORITY_COORDINATOR, alpha))) == ["Alpha"]
    assert names(Territory.objects.for_user(member(Role.EVALUATOR))) == ["Alpha", "Bravo", "Charlie"]


def test_two_memberships_see_the_union_of_both_and_nothing_else(three):
    alpha, bravo, _ = three
    user = UserFactory()
    join(user, Role.KITCHEN_MANAGER, alpha, kitchen=KitchenFactory(territory=alpha, name="Cuisine A"))
    join(user, Role.KITCHEN_MANAGER, bravo, kitchen=KitchenFactory(territory=bravo, name="Cuisine B"))
    KitchenFactory(territory=bravo, name="Cuisine B2")
    KitchenFactory(territory=three[2], name="Cuisine C")

    assert names(Territory.objects.for_user(user)) == ["Alpha", "Bravo"]
    assert names(Kitchen.objects.for_user(user)) == ["Cuisine A", "Cuisine B", "Cuisine B2"]
    # Each membership's change rule: its own kitchen only.
    assert names(Kitchen.objects.for_user(user, "change")) == ["Cuisine A", "Cuisine B"]


def test_three_memberships_keep_every_one(three):
    """The union grows with each membership: the first is not dropped by the third."""
    user = UserFactory()
    for territory in three:
        join(user, Role.KITCHEN_MANAGER, territory, kitchen=KitchenFactory(territory=territory))
    assert names(Territory.objects.for_user(user)) == ["Alpha", "Bravo", "Charlie"]


def test_a_funder_sees_the_territories_it_funds_not_their_batches(three):
    alpha, bravo, _ = three
    funder = member(Role.FUNDER, funded=[alpha, bravo])
    assert names(Territory.objects.for_user(funder)) == ["Alpha", "Bravo"]
    assert Batch.objects.for_user(funder).exists() is False  # Batch.funder_visible is False
    assert Batch.objects.for_user(funder).query.is_empty()


def test_a_role_with_no_rule_for_an_action_gets_nothing(three):
    alpha, _, _ = three
    funder = member(Role.FUNDER, funded=[alpha])
    assert names(Territory.objects.for_user(funder, "change")) == []
    assert Territory.objects.for_user(funder, "change").query.is_empty()


def test_memberships_are_read_once_per_user_object(three, django_assert_num_queries):
    user = member(Role.AUTHORITY_COORDINATOR, three[0])
    with django_assert_num_queries(2):  # the memberships, then their funded territories
        first = memberships_of(user)
    with django_assert_num_queries(0):
        again = memberships_of(user)
    assert again is first
    assert [membership.territory_id for membership in first] == [three[0].pk]


def test_a_membership_of_an_unknown_role_sees_nothing(three):
    """Fails closed: a role the rules do not know (written past the form's checks) reaches no
    territory, even with a territory set."""
    user = UserFactory()
    Membership.objects.create(user=user, role="ghost", territory=three[0])
    assert names(Territory.objects.for_user(user)) == []


def test_clean_fields_reports_djangos_errors_and_the_bounds_together(three):
    from territories.bounds import KITCHEN_CAPACITY_MAX

    kitchen = KitchenFactory.build(
        territory=three[0], name="N" * 201, daily_capacity=KITCHEN_CAPACITY_MAX + 1
    )
    with pytest.raises(ValidationError) as raised:
        kitchen.clean_fields()
    errors = raised.value.message_dict
    assert errors["name"] == [
        "Assurez-vous que cette valeur comporte au plus 200 caractères (actuellement 201)."
    ]
    assert len(errors["daily_capacity"]) == 1
    assert str(KITCHEN_CAPACITY_MAX) in errors["daily_capacity"][0].replace("\u202f", "").replace(" ", "")

    # Excluded fields are checked by neither; a kitchen within its bounds passes.
    with pytest.raises(ValidationError) as raised:
        kitchen.clean_fields(exclude=["name"])
    assert list(raised.value.message_dict) == ["daily_capacity"]
    with pytest.raises(ValidationError) as raised:
        kitchen.clean_fields(exclude=["daily_capacity"])
    assert list(raised.value.message_dict) == ["name"]
    kitchen.name = "Cuisine"
    kitchen.daily_capacity = KITCHEN_CAPACITY_MAX
    kitchen.clean_fields()
