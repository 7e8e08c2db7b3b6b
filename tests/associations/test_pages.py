"""Browser pages of associations and partnerships: scoping, sites, the convention, query counts."""

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from territories.roles import Role
from tests.factories import (
    AssociationFactory,
    DistributionSiteFactory,
    KitchenFactory,
    PartnershipFactory,
    TerritoryFactory,
    member,
)

pytestmark = pytest.mark.django_db

TERRITORIAL_ROLES = [
    Role.KITCHEN_MANAGER,
    Role.VOLUNTEER,
    Role.ASSOCIATION_COORDINATOR,
    Role.AUTHORITY_COORDINATOR,
]
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


def build_side(label: str) -> dict:
    territory = TerritoryFactory(name=f"Territoire {label}")
    kitchen = KitchenFactory(territory=territory, name=f"Cuisine {label}")
    association = AssociationFactory(territory=territory, name=f"Association {label}")
    return {
        "territory": territory,
        "kitchen": kitchen,
        "association": association,
        "site": DistributionSiteFactory(association=association, name=f"Local {label}"),
        "partnership": PartnershipFactory(territory=territory, kitchen=kitchen, association=association),
    }


@pytest.fixture
def sides():
    return build_side("Alpha"), build_side("Bravo")


def html_of(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def detail(route, obj):
    return reverse(route, kwargs={"pk": obj.pk})


# Associations


@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_association_list_shows_only_the_users_territory(client, sides, role):
    a, _ = sides
    client.force_login(member(role, a["territory"]))
    html = html_of(client, reverse("association-list"))
    assert "Association Alpha" in html
    assert "Association Bravo" not in html


def test_evaluator_lists_every_association(client, sides):
    client.force_login(member(Role.EVALUATOR))
    html = html_of(client, reverse("association-list"))
    assert "Association Alpha" in html and "Association Bravo" in html


def test_association_detail_shows_its_sites_and_partnerships(client, sides):
    a, _ = sides
    DistributionSiteFactory(
        association=a["association"], name="Épicerie du Centre", opening_days=["tue", "sat"]
    )
    client.force_login(member(Role.VOLUNTEER, a["territory"], association=a["association"]))
    html = html_of(client, detail("association-detail", a["association"]))
    assert "Local Alpha" in html and "Épicerie du Centre" in html
    assert "mardi, samedi" in html
    assert "lundi, mercredi, vendredi" in html
    assert "600 litres" in html
    assert "Cuisine Alpha" in html
    assert detail("partnership-detail", a["partnership"]) in html
    assert "Local Bravo" not in html


@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_association_of_another_territory_is_404(client, sides, role):
    a, b = sides
    client.force_login(member(role, a["territory"]))
    assert client.get(detail("association-detail", a["association"])).status_code == 200
    assert client.get(detail("association-detail", b["association"])).status_code == 404


# Partnerships


@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_partnership_list_shows_only_the_users_territory(client, sides, role):
    a, _ = sides
    client.force_login(member(role, a["territory"]))
    html = html_of(client, reverse("partnership-list"))
    assert "Cuisine Alpha → Association Alpha" in html
    assert "Bravo" not in html


def test_evaluator_lists_every_partnership_and_filters_by_territory(client, sides):
    a, _ = sides
    client.force_login(member(Role.EVALUATOR))
    html = html_of(client, reverse("partnership-list"))
    assert "Cuisine Alpha" in html and "Cuisine Bravo" in html
    html = html_of(client, reverse("partnership-list"), territory=a["territory"].pk)
    assert "Cuisine Alpha" in html and "Cuisine Bravo" not in html


def test_funder_lists_the_partnerships_of_funded_territories_only(client, sides):
    _, b = sides
    client.force_login(member(Role.FUNDER, funded=[b["territory"]]))
    html = html_of(client, reverse("partnership-list"))
    assert "Cuisine Bravo" in html and "Cuisine Alpha" not in html


@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_partnership_of_another_territory_is_404(client, sides, role):
    a, b = sides
    client.force_login(member(role, a["territory"]))
    assert client.get(detail("partnership-detail", a["partnership"])).status_code == 200
    assert client.get(detail("partnership-detail", b["partnership"])).status_code == 404


def test_partnership_detail_without_convention_says_so(client, sides):
    a, _ = sides
    client.force_login(member(Role.AUTHORITY_COORDINATOR, a["territory"]))
    html = html_of(client, detail("partnership-detail", a["partnership"]))
    assert "Pas encore de convention déposée" in html
    assert detail("partnership-convention", a["partnership"]) not in html
    assert client.get(detail("partnership-convention", a["partnership"])).status_code == 404


def test_partnership_convention_is_linked_and_served_in_scope_only(client, sides):
    a, b = sides
    for side in (a, b):
        side["partnership"].convention_document.save("convention.pdf", ContentFile(PDF))
    client.force_login(member(Role.ASSOCIATION_COORDINATOR, a["territory"]))

    html = html_of(client, detail("partnership-detail", a["partnership"]))
    url = detail("partnership-convention", a["partnership"])
    assert f'href="{url}"' in html
    # The link goes through the scoped view, never straight to the media storage.
    assert a["partnership"].convention_document.url not in html

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert client.get(detail("partnership-convention", b["partnership"])).status_code == 404


def test_convention_missing_from_storage_is_404(client, sides):
    a, _ = sides
    a["partnership"].convention_document.name = "conventions/absent.pdf"
    a["partnership"].save()
    client.force_login(member(Role.EVALUATOR))
    assert client.get(detail("partnership-convention", a["partnership"])).status_code == 404


@pytest.mark.parametrize("route", ["association-list", "partnership-list"])
def test_anonymous_user_is_sent_to_login(client, route):
    response = client.get(reverse(route))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# Query counts


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.AUTHORITY_COORDINATOR])
def test_association_list_queries_do_not_grow_with_rows(client, role):
    territory = TerritoryFactory()
    client.force_login(member(role, None if role == Role.EVALUATOR else territory))
    AssociationFactory.create_batch(2, territory=territory)
    few = count_queries(client, reverse("association-list"))
    AssociationFactory.create_batch(18, territory=territory)
    assert count_queries(client, reverse("association-list")) == few


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.AUTHORITY_COORDINATOR])
def test_partnership_list_queries_do_not_grow_with_rows(client, role):
    territory = TerritoryFactory()
    client.force_login(member(role, None if role == Role.EVALUATOR else territory))
    url = f"{reverse('partnership-list')}?territory={territory.pk}"
    PartnershipFactory.create_batch(2, territory=territory)
    few = count_queries(client, url)
    PartnershipFactory.create_batch(18, territory=territory)
    assert count_queries(client, url) == few


def test_association_detail_queries_do_not_grow_with_sites(client):
    territory = TerritoryFactory()
    association = AssociationFactory(territory=territory)
    client.force_login(member(Role.EVALUATOR))
    DistributionSiteFactory.create_batch(2, association=association)
    PartnershipFactory.create_batch(2, territory=territory, association=association)
    few = count_queries(client, detail("association-detail", association))
    DistributionSiteFactory.create_batch(18, association=association)
    PartnershipFactory.create_batch(18, territory=territory, association=association)
    assert count_queries(client, detail("association-detail", association)) == few
