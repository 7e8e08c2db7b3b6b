"""Browser pages of the central kitchens: scoping, the territory filter, 404s and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from territories.roles import Role
from tests.factories import KitchenFactory, PartnershipFactory, TerritoryFactory, member

pytestmark = pytest.mark.django_db

TERRITORIAL_ROLES = [
    Role.KITCHEN_MANAGER,
    Role.VOLUNTEER,
    Role.ASSOCIATION_COORDINATOR,
    Role.AUTHORITY_COORDINATOR,
]


@pytest.fixture
def two_territories():
    a, b = TerritoryFactory(name="Territoire Alpha"), TerritoryFactory(name="Territoire Bravo")
    return (
        a,
        KitchenFactory(territory=a, name="Cuisine Alpha"),
        b,
        KitchenFactory(territory=b, name="Cuisine Bravo"),
    )


def html_of(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_kitchen_list_shows_only_the_users_territory(client, two_territories, role):
    a, _, _, _ = two_territories
    client.force_login(member(role, a))
    html = html_of(client, reverse("kitchen-list"))
    assert "Cuisine Alpha" in html
    assert "Cuisine Bravo" not in html
    assert "Territoire Bravo" not in html  # not even among the filter's choices


def test_evaluator_sees_every_kitchen_and_can_filter_by_territory(client, two_territories):
    _, _, b, _ = two_territories
    client.force_login(member(Role.EVALUATOR))
    html = html_of(client, reverse("kitchen-list"))
    assert "Cuisine Alpha" in html and "Cuisine Bravo" in html
    html = html_of(client, reverse("kitchen-list"), territory=b.pk)
    assert "Cuisine Bravo" in html
    assert "Cuisine Alpha" not in html


def test_filtering_on_another_territory_shows_nothing(client, two_territories):
    a, _, b, _ = two_territories
    client.force_login(member(Role.AUTHORITY_COORDINATOR, a))
    html = html_of(client, reverse("kitchen-list"), territory=b.pk)
    assert "Cuisine Bravo" not in html
    assert "Cuisine Alpha" not in html
    assert "pas dans votre périmètre" in html
    html = html_of(client, reverse("kitchen-list"), territory="pas-un-nombre")
    assert "Cuisine Alpha" not in html


def test_empty_territory_filter_keeps_every_row_in_scope(client, two_territories):
    a, _, _, _ = two_territories
    client.force_login(member(Role.AUTHORITY_COORDINATOR, a))
    assert "Cuisine Alpha" in html_of(client, reverse("kitchen-list"), territory="")


def test_funder_sees_the_kitchens_of_funded_territories_only(client, two_territories):
    _, _, b, _ = two_territories
    client.force_login(member(Role.FUNDER, funded=[b]))
    html = html_of(client, reverse("kitchen-list"))
    assert "Cuisine Bravo" in html
    assert "Cuisine Alpha" not in html


@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_kitchen_of_another_territory_is_404(client, two_territories, role):
    a, kitchen_a, _, kitchen_b = two_territories
    client.force_login(member(role, a))
    assert client.get(reverse("kitchen-detail", kwargs={"pk": kitchen_a.pk})).status_code == 200
    assert client.get(reverse("kitchen-detail", kwargs={"pk": kitchen_b.pk})).status_code == 404


def test_kitchen_detail_shows_its_facts_and_partnerships(client, two_territories):
    a, kitchen, _, _ = two_territories
    partnership = PartnershipFactory(territory=a, kitchen=kitchen)
    client.force_login(member(Role.KITCHEN_MANAGER, a, kitchen=kitchen))
    html = html_of(client, reverse("kitchen-detail", kwargs={"pk": kitchen.pk}))
    assert kitchen.name in html
    assert "Régie publique" in html
    assert partnership.association.name in html
    assert reverse("partnership-detail", kwargs={"pk": partnership.pk}) in html


def test_anonymous_user_is_sent_to_login(client, two_territories):
    response = client.get(reverse("kitchen-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.AUTHORITY_COORDINATOR])
def test_kitchen_list_queries_do_not_grow_with_rows(client, role):
    territory = TerritoryFactory()
    client.force_login(member(role, None if role == Role.EVALUATOR else territory))
    url = f"{reverse('kitchen-list')}?territory={territory.pk}"
    KitchenFactory.create_batch(2, territory=territory)
    few = count_queries(client, url)
    KitchenFactory.create_batch(18, territory=territory)
    assert count_queries(client, url) == few


def test_kitchen_list_stays_under_a_query_budget(client, django_assert_max_num_queries):
    territory = TerritoryFactory()
    KitchenFactory.create_batch(30, territory=territory)
    client.force_login(member(Role.EVALUATOR))
    with django_assert_max_num_queries(10):
        client.get(reverse("kitchen-list"), {"territory": territory.pk})
