"""Each role's landing page and the exact main menu it sees, asserted from one table.

The menu is defined once (``territories.navigation.MENU``); these tests read the rendered page
as a user would: the links of the "Navigation principale", in order, each of which opens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import pytest
from django.urls import reverse

from territories.navigation import MENU, item, menu_for
from territories.roles import Role
from tests.factories import JournalEntryFactory, TerritoryFactory, UserFactory, member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

NAV = re.compile(r'<nav class="main-nav"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.S)


def menu_links(html: str) -> list[tuple[str, str]]:
    """The (label, address) pairs of the main navigation, in order."""
    navs = NAV.findall(html)
    assert len(navs) == 1, "one main navigation per page"
    return [(unescape(label).strip(), unescape(href)) for href, label in LINK.findall(navs[0])]


@dataclass(frozen=True)
class Expected:
    landing: str  # a URL name, or "dashboard" for the territory's dashboard
    menu: tuple[str, ...]


# The table: who lands where, and the menu each role sees, item by item.
ROLES: dict[str, Expected] = {
    Role.KITCHEN_MANAGER: Expected(
        "batch-create",
        (
            "Déclarer un lot",
            "Mes lots",
            "Saisir les coûts",
            "Offres d'excédents",
            "Tournées de collecte",
            "Reçus de dons",
            "Journal",
            "Territoires",
            "Cuisines",
            "Partenariats",
        ),
    ),
    Role.VOLUNTEER: Expected(
        "pickup-todo", ("À collecter", "À distribuer", "Offres d'excédents", "Tournées de collecte")
    ),
    Role.ASSOCIATION_COORDINATOR: Expected(
        "flow-week",
        (
            "À collecter",
            "À distribuer",
            "Offres d'excédents",
            "Tournées de collecte",
            "Flux de la semaine",
            "Saisir les coûts",
            "Bénévoles",
            "Reçus de dons",
            "Journal",
            "Territoires",
            "Associations",
            "Partenariats",
        ),
    ),
    Role.AUTHORITY_COORDINATOR: Expected(
        "flow-week",
        (
            "Flux de la semaine",
            "Tableau de bord",
            "Lots de la semaine",
            "Bénévoles",
            "Journal",
            "Questionnaires",
            "Rapports",
            "Territoires",
            "Cuisines",
            "Associations",
            "Partenariats",
        ),
    ),
    Role.EVALUATOR: Expected(
        "territory-comparison",
        (
            "Comparaison",
            "Flux de la semaine",
            "Lots de la semaine",
            "Journal",
            "Questionnaires",
            "Rapports",
            "Territoires",
            "Cuisines",
            "Associations",
            "Partenariats",
        ),
    ),
    # A funder of one territory, with no journal entry shared with funders.
    Role.FUNDER: Expected("dashboard", ("Tableau de bord", "Rapports", "Territoires")),
}


@pytest.fixture
def scene():
    return Scene()


def user_for(role: str, scene: Scene):
    territory = scene.territory
    partnership = scene.partnership
    return {
        Role.KITCHEN_MANAGER: lambda: scene.kitchen_user,
        Role.VOLUNTEER: lambda: scene.volunteer,
        Role.ASSOCIATION_COORDINATOR: lambda: member(
            Role.ASSOCIATION_COORDINATOR, territory, association=partnership.association
        ),
        Role.AUTHORITY_COORDINATOR: lambda: member(Role.AUTHORITY_COORDINATOR, territory),
        Role.EVALUATOR: lambda: member(Role.EVALUATOR),
        Role.FUNDER: lambda: member(Role.FUNDER, funded=[territory]),
    }[role]()


def landing_url(expected: Expected, scene: Scene) -> str:
    if expected.landing == "dashboard":
        return reverse("territory-dashboard", kwargs={"pk": scene.territory.pk})
    return reverse(expected.landing)


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_lands_on_its_daily_page_after_login_and_on_home(client, scene, role):
    user = user_for(role, scene)
    expected = landing_url(ROLES[role], scene)
    response = client.post(reverse("login"), {"username": user.username, "password": "passerelle-test"})
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 302
    assert home["Location"] == expected
    assert client.get(expected).status_code == 200


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_sees_exactly_its_menu_and_every_item_opens(client, scene, role):
    user = user_for(role, scene)
    client.force_login(user)
    page = client.get(reverse("home"), follow=True)
    links = menu_links(page.content.decode())
    assert tuple(label for label, _href in links) == ROLES[role].menu
    for label, href in links:
        assert client.get(href).status_code == 200, (label, href)


def test_the_current_page_is_marked_in_the_menu(client, scene):
    client.force_login(scene.volunteer)
    html = client.get(reverse("pickup-todo")).content.decode()
    nav = NAV.findall(html)[0]
    assert f'<a href="{reverse("pickup-todo")}" aria-current="page">À collecter</a>' in nav
    assert nav.count("aria-current") == 1


def test_a_funder_sees_the_journal_once_an_entry_is_shared_with_funders(client, scene):
    funder = member(Role.FUNDER, funded=[scene.territory])
    JournalEntryFactory(territory=scene.territory, shared_with_funders=False)
    client.force_login(funder)
    labels = [label for label, _ in menu_links(client.get(reverse("report-list")).content.decode())]
    assert "Journal" not in labels
    JournalEntryFactory(territory=scene.territory, shared_with_funders=True)
    labels = [label for label, _ in menu_links(client.get(reverse("report-list")).content.decode())]
    assert labels == ["Tableau de bord", "Journal", "Rapports", "Territoires"]


def test_a_funder_of_two_territories_lands_on_their_list_and_has_no_single_dashboard(client, scene):
    other = TerritoryFactory(name="Territoire voisin")
    funder = member(Role.FUNDER, funded=[scene.territory, other])
    client.force_login(funder)
    assert client.get(reverse("home"))["Location"] == reverse("territory-list")
    labels = [label for label, _ in menu_links(client.get(reverse("territory-list")).content.decode())]
    assert labels == ["Rapports", "Territoires"]


def test_the_cost_entry_item_opens_the_users_own_kitchen(client, scene):
    client.force_login(scene.kitchen_user)
    links = dict(menu_links(client.get(reverse("batch-create")).content.decode()))
    assert links["Saisir les coûts"] == reverse(
        "kitchen-cost-input", kwargs={"pk": scene.partnership.kitchen_id}
    )


def test_a_superuser_without_membership_lands_on_the_territories_with_the_evaluators_menu(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(reverse("home"))["Location"] == reverse("territory-list")
    labels = [label for label, _ in menu_links(client.get(reverse("territory-list")).content.decode())]
    assert labels == list(ROLES[Role.EVALUATOR].menu)


def test_a_user_without_role_has_an_empty_menu(client):
    client.force_login(UserFactory())
    assert menu_links(client.get(reverse("home")).content.decode()) == []


def test_a_menu_item_is_one_line_of_the_table(scene):
    """What another page needs to appear in the menu: one ``item(...)`` line."""
    extra = (*MENU, item("journal-create", "Nouvelle observation", "journal", {Role.AUTHORITY_COORDINATOR}))
    coordinator = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    labels = [str(link.label) for link in menu_for(coordinator, extra)]
    assert labels[-1] == "Nouvelle observation"
    assert "Nouvelle observation" not in [str(link.label) for link in menu_for(scene.volunteer, extra)]


def test_the_menu_sits_behind_one_button_and_the_language_switch_in_the_footer(client, scene):
    """The menu opens and closes without JavaScript: a <details> whose <summary> is the button
    (announced as expanded or collapsed by the browser); the language form is in the footer."""
    client.force_login(scene.volunteer)
    html = client.get(reverse("pickup-todo")).content.decode()
    header = html[html.index('<header class="site-header">') : html.index("</header>")]
    assert '<details class="site-menu">' in header
    assert '<summary class="site-menu-button">Menu</summary>' in header
    assert header.index("<summary") < header.index('<nav class="main-nav"') < header.index("</details>")
    assert 'action="/deconnexion/"' in header
    assert "set_language" not in header and reverse("set_language") not in header
    footer = html[html.index('<footer class="site-footer">') :]
    assert f'action="{reverse("set_language")}"' in footer
    assert "<script" not in html
