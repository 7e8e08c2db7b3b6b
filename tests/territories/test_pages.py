"""Browser pages of the foundation: login, logout, the home page's routing by role, territories."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from territories.models import Membership
from territories.roles import Role
from tests.factories import (
    AssociationFactory,
    AuthorityFactory,
    KitchenFactory,
    PartnershipFactory,
    TerritoryFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

PAGE_ROUTES = ["territory-list", "kitchen-list", "association-list", "partnership-list"]


def logged_in(client, user):
    client.force_login(user)
    return client


# Login and logout


def test_login_page_renders_in_french_with_the_layout(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'href="#contenu"' in html and '<main id="contenu"' in html
    assert "/static/css/passerelle.css" in html
    assert 'name="username"' in html and 'name="password"' in html
    assert "Connexion" in html
    assert reverse("set_language") in html


def test_login_with_good_credentials_redirects_home(client):
    user = member(Role.EVALUATOR)
    response = client.post(reverse("login"), {"username": user.username, "password": "passerelle-test"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home"))["Location"] == reverse("territory-comparison")


def test_login_with_bad_credentials_stays_on_the_form(client):
    user = member(Role.EVALUATOR)
    response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_form_and_logs_out(client):
    user = member(Role.EVALUATOR)
    logged_in(client, user)
    page = client.get(reverse("territory-list")).content.decode()
    assert f'<form method="post" action="{reverse("logout")}">' in page
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


# Anonymous users


@pytest.mark.parametrize("route", ["home", *PAGE_ROUTES])
def test_anonymous_users_are_sent_to_login(client, route):
    url = reverse(route)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(
    "route", ["territory-detail", "kitchen-detail", "association-detail", "partnership-detail"]
)
def test_anonymous_users_are_sent_to_login_from_details(client, route):
    partnership = PartnershipFactory()
    obj = {
        "territory-detail": partnership.territory,
        "kitchen-detail": partnership.kitchen,
        "association-detail": partnership.association,
        "partnership-detail": partnership,
    }[route]
    response = client.get(reverse(route, kwargs={"pk": obj.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# Home page: each role goes to its place


def test_home_sends_a_kitchen_manager_to_the_batch_declaration(client):
    territory = TerritoryFactory()
    kitchen = KitchenFactory(territory=territory)
    user = member(Role.KITCHEN_MANAGER, territory, kitchen=kitchen)
    response = logged_in(client, user).get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("batch-create")
    assert client.get(response["Location"]).status_code == 200


def test_home_sends_a_volunteer_to_the_batches_to_collect(client):
    territory = TerritoryFactory()
    association = AssociationFactory(territory=territory)
    user = member(Role.VOLUNTEER, territory, association=association)
    response = logged_in(client, user).get(reverse("home"))
    assert response["Location"] == reverse("pickup-todo")
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("role", [Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR])
def test_home_sends_coordinators_to_their_territorys_week(client, role):
    territory = TerritoryFactory()
    user = member(role, territory)
    response = logged_in(client, user).get(reverse("home"))
    assert response["Location"] == reverse("flow-week")
    assert client.get(response["Location"]).status_code == 200


def test_home_sends_an_evaluator_to_the_comparison_of_territories(client):
    response = logged_in(client, member(Role.EVALUATOR)).get(reverse("home"))
    assert response["Location"] == reverse("territory-comparison")


def test_home_sends_a_funder_to_their_funded_territorys_dashboard(client):
    funded, other = TerritoryFactory(name="Territoire financé"), TerritoryFactory(name="Territoire voisin")
    user = member(Role.FUNDER, funded=[funded])
    response = logged_in(client, user).get(reverse("home"))
    assert response["Location"] == reverse("territory-dashboard", kwargs={"pk": funded.pk})
    page = client.get(response["Location"]).content.decode()
    assert funded.name in page
    assert other.name not in page


def test_home_uses_the_first_membership(client):
    territory = TerritoryFactory()
    user = member(Role.EVALUATOR)
    kitchen = KitchenFactory(territory=territory)
    Membership.objects.create(user=user, role=Role.KITCHEN_MANAGER, territory=territory, kitchen=kitchen)
    # Memberships are ordered by role: "evaluator" comes before "kitchen_manager".
    assert logged_in(client, user).get(reverse("home"))["Location"] == reverse("territory-comparison")


def test_home_tells_a_user_without_role_that_none_is_assigned(client):
    user = UserFactory()
    response = logged_in(client, user).get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Aucun rôle ne vous a encore été attribué" in html
    # The lists of such a user are empty, never an error.
    for route in PAGE_ROUTES:
        assert client.get(reverse(route)).status_code == 200


def test_home_sends_a_superuser_without_membership_to_the_territories(client):
    user = UserFactory(is_superuser=True, is_staff=True)
    assert logged_in(client, user).get(reverse("home"))["Location"] == reverse("territory-list")


# Layout


def test_layout_shows_name_role_nav_and_no_inline_style_or_script(client):
    territory = TerritoryFactory()
    user = member(Role.AUTHORITY_COORDINATOR, territory)
    html = logged_in(client, user).get(reverse("territory-list")).content.decode()
    assert user.username in html
    assert "Coordinateur de collectivité" in html
    for route in PAGE_ROUTES:
        assert f'href="{reverse(route)}"' in html
    assert 'aria-current="page">Territoires' in html
    assert "style=" not in html
    assert "<script" not in html


def test_language_switcher_turns_the_interface_to_english(client):
    user = member(Role.EVALUATOR)
    logged_in(client, user)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("territory-list")})
    assert response.status_code == 302
    html = client.get(reverse("territory-list")).content.decode()
    assert '<html lang="en">' in html
    assert "Territories" in html
    assert "Log out" in html


# Territories


@pytest.mark.parametrize(
    "role", [Role.KITCHEN_MANAGER, Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR]
)
def test_territory_list_is_scoped_to_the_users_territory(client, role):
    a, b = TerritoryFactory(name="Territoire Alpha"), TerritoryFactory(name="Territoire Bravo")
    html = logged_in(client, member(role, a)).get(reverse("territory-list")).content.decode()
    assert a.name in html
    assert b.name not in html


def test_evaluator_lists_every_territory(client):
    a, b = TerritoryFactory(name="Territoire Alpha"), TerritoryFactory(name="Territoire Bravo")
    html = logged_in(client, member(Role.EVALUATOR)).get(reverse("territory-list")).content.decode()
    assert a.name in html and b.name in html


def test_territory_detail_shows_its_actors_and_hides_other_territories(client):
    a, b = TerritoryFactory(name="Territoire Alpha"), TerritoryFactory(name="Territoire Bravo")
    PartnershipFactory(
        territory=a,
        kitchen=KitchenFactory(territory=a, name="Cuisine Alpha"),
        association=AssociationFactory(territory=a, name="Association Alpha"),
    )
    AuthorityFactory(territory=a, name="CCAS Alpha")
    KitchenFactory(territory=b, name="Cuisine Bravo")
    logged_in(client, member(Role.AUTHORITY_COORDINATOR, a))

    response = client.get(reverse("territory-detail", kwargs={"pk": a.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Territoire Alpha", "Cuisine Alpha", "Association Alpha", "CCAS Alpha"):
        assert name in html
    assert "Cuisine Bravo" not in html
    assert client.get(reverse("territory-detail", kwargs={"pk": b.pk})).status_code == 404


def test_funder_gets_404_on_a_territory_it_does_not_fund(client):
    funded, other = TerritoryFactory(), TerritoryFactory()
    logged_in(client, member(Role.FUNDER, funded=[funded]))
    assert client.get(reverse("territory-detail", kwargs={"pk": funded.pk})).status_code == 200
    assert client.get(reverse("territory-detail", kwargs={"pk": other.pk})).status_code == 404


def test_territory_list_paginates_by_25(client):
    TerritoryFactory.create_batch(30)
    logged_in(client, member(Role.EVALUATOR))
    first = client.get(reverse("territory-list"))
    assert len(first.context["territory_list"]) == 25
    assert "?page=2" in first.content.decode()
    assert len(client.get(reverse("territory-list"), {"page": 2}).context["territory_list"]) == 5


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_territory_list_queries_do_not_grow_with_rows(client):
    logged_in(client, member(Role.EVALUATOR))
    TerritoryFactory.create_batch(2)
    few = count_queries(client, reverse("territory-list"))
    TerritoryFactory.create_batch(18)
    assert count_queries(client, reverse("territory-list")) == few
