"""The observation journal: who writes, who reads, what is refused (and then nothing is written),
its filters, its pages, and list query counts that do not grow with the entries."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation import services
from evaluation.models import JournalEntry
from territories.roles import Role
from tests.factories import (
    AssociationFactory,
    AuthorityFactory,
    JournalEntryFactory,
    KitchenFactory,
    TerritoryFactory,
    member,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/journal/"


@pytest.fixture
def places():
    home, away = TerritoryFactory(name="Plaine"), TerritoryFactory(name="Vallée")
    authority = AuthorityFactory(territory=home, name="CCAS de la Plaine")
    return {
        "home": home,
        "away": away,
        "authority": authority,
        "kitchen": KitchenFactory(territory=home, name="Cuisine de la Plaine"),
        "away_kitchen": KitchenFactory(territory=away, name="Cuisine de la Vallée"),
        "coordinator": member(Role.AUTHORITY_COORDINATOR, home, authority=authority),
        "manager": member(Role.KITCHEN_MANAGER, home),
        "evaluator": member(Role.EVALUATOR),
        "funder": member(Role.FUNDER, funded=[home]),
    }


def payload(territory, **changes):
    return {
        "territory": territory.pk,
        "observed_on": "2025-03-12",
        "category": "logistics",
        "nature": "lever",
        "title": "Tournée mutualisée",
        "text": "Les deux associations collectent ensemble le mardi.",
        **changes,
    }


def test_an_authority_coordinator_writes_for_its_territory_and_is_the_author(api, places):
    api.force_authenticate(places["coordinator"])
    response = api.post(URL, payload(places["home"], kitchen=places["kitchen"].pk), format="json")
    assert response.status_code == 201, response.json()
    entry = JournalEntry.objects.get()
    assert entry.author == places["coordinator"]
    assert entry.kitchen == places["kitchen"]
    assert response.json()["author"] == places["coordinator"].pk


def test_an_entry_for_a_territory_the_author_does_not_belong_to_is_refused_and_nothing_is_written(
    api, places
):
    api.force_authenticate(places["coordinator"])
    response = api.post(URL, payload(places["away"]), format="json")
    assert response.status_code == 400
    assert "territory" in response.json()
    assert not JournalEntry.objects.exists()


def test_the_service_refuses_a_territory_the_author_does_not_belong_to(places):
    with pytest.raises(PermissionDenied):
        services.journal_entry_create(
            by=places["coordinator"],
            territory=places["away"],
            observed_on=datetime.date(2025, 3, 12),
            category="social",
            nature="obstacle",
            title="Hors de mon territoire",
            text="…",
        )
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("role", ["manager", "funder"])
def test_other_roles_of_the_territory_cannot_write(api, places, role):
    api.force_authenticate(places[role])
    response = api.post(URL, payload(places["home"]), format="json")
    assert response.status_code in (400, 403)
    assert not JournalEntry.objects.exists()


def test_an_evaluator_writes_anywhere_but_an_actor_must_be_of_the_entrys_territory(api, places):
    api.force_authenticate(places["evaluator"])
    assert api.post(URL, payload(places["away"]), format="json").status_code == 201
    response = api.post(URL, payload(places["home"], kitchen=places["away_kitchen"].pk), format="json")
    assert response.status_code == 400
    assert response.json()["kitchen"] == ["Cet acteur appartient à un autre territoire."]
    assert JournalEntry.objects.count() == 1


def test_a_date_in_the_future_is_refused(api, places):
    api.force_authenticate(places["coordinator"])
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    response = api.post(URL, payload(places["home"], observed_on=tomorrow.isoformat()), format="json")
    assert response.status_code == 400
    assert "observed_on" in response.json()


def test_readers_and_funders(api, places):
    entry = JournalEntryFactory(territory=places["home"])
    JournalEntryFactory(territory=places["away"])
    api.force_authenticate(places["manager"])
    assert [row["id"] for row in api.get(URL).json()["results"]] == [entry.pk]
    assert api.patch(f"{URL}{entry.pk}/", {"title": "Changé"}, format="json").status_code == 403
    api.force_authenticate(places["funder"])
    assert api.get(URL).json()["results"] == []
    assert api.get(f"{URL}{entry.pk}/").status_code == 404
    entry.refresh_from_db()
    assert entry.title != "Changé"


def test_a_correction_keeps_the_author_and_stays_within_reach(api, places):
    entry = JournalEntryFactory(territory=places["home"], author=places["coordinator"])
    api.force_authenticate(places["evaluator"])
    response = api.patch(f"{URL}{entry.pk}/", {"title": "Corrigé"}, format="json")
    assert response.status_code == 200
    entry.refresh_from_db()
    assert (entry.title, entry.author) == ("Corrigé", places["coordinator"])
    api.force_authenticate(places["coordinator"])
    response = api.patch(f"{URL}{entry.pk}/", {"territory": places["away"].pk}, format="json")
    assert response.status_code == 400
    entry.refresh_from_db()
    assert entry.territory == places["home"]


def test_filters(api, places):
    home = places["home"]
    kept = JournalEntryFactory(
        territory=home, category="social", nature="obstacle", observed_on=datetime.date(2025, 3, 5)
    )
    JournalEntryFactory(
        territory=home, category="social", nature="lever", observed_on=datetime.date(2025, 3, 6)
    )
    JournalEntryFactory(
        territory=home, category="economic", nature="obstacle", observed_on=datetime.date(2025, 3, 7)
    )
    JournalEntryFactory(
        territory=home, category="social", nature="obstacle", observed_on=datetime.date(2025, 4, 2)
    )
    JournalEntryFactory(territory=places["away"], category="social", nature="obstacle")
    api.force_authenticate(places["evaluator"])
    query = {
        "territory": home.pk,
        "category": "social",
        "nature": "obstacle",
        "start": "2025-03-01",
        "end": "2025-03-31",
    }
    assert [row["id"] for row in api.get(URL, query).json()["results"]] == [kept.pk]
    # Another territory's id in a filter is an invalid choice for a coordinator of home.
    api.force_authenticate(places["coordinator"])
    assert api.get(URL, {"territory": places["away"].pk}).status_code == 400


def test_the_list_query_count_does_not_grow_with_the_entries(api, places):
    api.force_authenticate(places["evaluator"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(URL).status_code == 200
        return len(queries.captured_queries)

    JournalEntryFactory(territory=places["home"], kitchen=places["kitchen"])
    count()  # the first request also loads the caller's memberships
    before = count()
    for _ in range(5):
        JournalEntryFactory(territory=places["home"], kitchen=places["kitchen"])
        JournalEntryFactory(territory=places["away"])
    assert count() == before


# --- Pages --------------------------------------------------------------------------------


def test_the_journal_page_lists_and_filters(client, places):
    JournalEntryFactory(
        territory=places["home"], title="Camion en panne", category="logistics", nature="obstacle"
    )
    JournalEntryFactory(
        territory=places["home"], title="Élus mobilisés", category="partnership", nature="lever"
    )
    JournalEntryFactory(territory=places["away"], title="Ailleurs")
    client.force_login(places["manager"])
    body = client.get(reverse("journal-list")).content.decode()
    assert "Camion en panne" in body and "Élus mobilisés" in body and "Ailleurs" not in body
    assert reverse("journal-create") not in body  # a kitchen manager does not write
    body = client.get(reverse("journal-list"), {"nature": "lever"}).content.decode()
    assert "Élus mobilisés" in body and "Camion en panne" not in body
    body = client.get(reverse("journal-list"), {"category": "logistics"}).content.decode()
    assert "Camion en panne" in body and "Élus mobilisés" not in body


def test_the_journal_page_query_count_does_not_grow(client, places):
    client.force_login(places["evaluator"])
    JournalEntryFactory(territory=places["home"], kitchen=places["kitchen"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("journal-list")).status_code == 200
        return len(queries.captured_queries)

    before = count()
    for _ in range(5):
        JournalEntryFactory(
            territory=places["home"], kitchen=places["kitchen"], authority=places["authority"]
        )
    assert count() == before


def form_data(territory, **changes):
    return {
        "territory": str(territory.pk),
        "observed_on": "2025-03-12",
        "nature": "obstacle",
        "category": "administrative",
        "title": "Convention en retard",
        "text": "La signature attend le conseil municipal.",
        **changes,
    }


def test_the_entry_form_for_an_authority_coordinator(client, places):
    client.force_login(places["coordinator"])
    page = client.get(reverse("journal-create")).content.decode()
    assert "Plaine" in page and "Vallée" not in page and "Cuisine de la Vallée" not in page
    response = client.post(
        reverse("journal-create"), form_data(places["home"], authority=str(places["authority"].pk))
    )
    assert response.status_code == 302
    entry = JournalEntry.objects.get()
    assert (entry.author, entry.authority, entry.territory) == (
        places["coordinator"],
        places["authority"],
        places["home"],
    )


def test_the_entry_form_refuses_another_territory_and_writes_nothing(client, places):
    client.force_login(places["coordinator"])
    response = client.post(reverse("journal-create"), form_data(places["away"]))
    assert response.status_code == 200
    assert "Rien n'a été enregistré" in response.content.decode()
    assert not JournalEntry.objects.exists()


def test_the_entry_form_is_for_coordinators_and_evaluators_only(client, places):
    client.force_login(places["manager"])
    assert client.get(reverse("journal-create")).status_code == 403
    assert client.post(reverse("journal-create"), form_data(places["home"])).status_code == 403
    client.force_login(places["evaluator"])
    page = client.get(reverse("journal-create")).content.decode()
    assert "Plaine" in page and "Vallée" in page
    association = AssociationFactory(territory=places["away"])
    response = client.post(
        reverse("journal-create"), form_data(places["away"], association=str(association.pk))
    )
    assert response.status_code == 302
    assert not JournalEntry.objects.exclude(territory=places["away"]).exists()
    assert JournalEntry.objects.count() == 1
