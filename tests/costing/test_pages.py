"""Browser pages of the costing: the territory's cost page and the monthly input forms."""

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from costing.models import (
    AssociationCost,
    CoordinationCost,
    DailyRollup,
    KitchenCostInput,
    MonthlyCost,
    TransportRate,
)
from territories.roles import Role
from tests.factories import (
    AssociationCostFactory,
    AssociationFactory,
    AuthorityFactory,
    CoordinationCostFactory,
    DailyRollupFactory,
    KitchenCostInputFactory,
    KitchenFactory,
    PartnershipFactory,
    ReferenceValueFactory,
    TerritoryFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2025, 3, 1)


@pytest.fixture
def march():
    """The complete worked example of March 2025 (docs/methodology.md)."""
    partnership = PartnershipFactory(
        kitchen__name="Cuisine de Saint-Denis", association__name="Les Restos du Cœur 93"
    )
    authority = AuthorityFactory(territory=partnership.territory, name="CCAS de Saint-Denis")
    DailyRollupFactory(
        partnership=partnership, day=datetime.date(2025, 3, 10), meals_produced_dedicated=2000,
        meals_produced_surplus=500, pickups=40, meals_picked_up=2500, km=Decimal("400"),
        transport_cost=Decimal("1200.00"), distributions=18, meals_distributed=2375, meals_discarded=125,
        people_served=1900,
    )  # fmt: skip
    KitchenCostInputFactory(kitchen=partnership.kitchen)
    AssociationCostFactory(association=partnership.association)
    CoordinationCostFactory(authority=authority)
    ReferenceValueFactory(
        code="volunteer_hour_value", value=Decimal("12.50"), valid_from=datetime.date(2025, 1, 1)
    )
    ReferenceValueFactory(
        code="food_parcel_cost_per_meal", value=Decimal("4.25"), valid_from=datetime.date(2025, 1, 1)
    )
    ReferenceValueFactory(
        code="social_grocery_cost_per_meal", value=Decimal("8.00"), valid_from=datetime.date(2025, 1, 1)
    )
    return partnership


def costs_url(territory, **params):
    url = reverse("territory-costs", kwargs={"pk": territory.pk})
    return url + ("?" + "&".join(f"{key}={value}" for key, value in params.items()) if params else "")


def html_of(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def no_inline_script_or_style(html):
    assert "<script" not in html
    assert "style=" not in html
    assert "<style" not in html


# --- The cost page ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.KITCHEN_MANAGER, Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR]
)
def test_cost_page_shows_the_breakdown_in_french(client, march, role):
    client.force_login(member(role, march.territory))
    html = html_of(client.get(costs_url(march.territory, start="2025-03", end="2025-03")))
    assert "Coût des repas" in html
    assert "6,80\u00a0€/repas" in html  # full cost per meal distributed
    assert "8,80\u00a0€/repas" in html  # with valued volunteer time
    assert "3,60\u00a0€/repas" in html  # marginal cost of a dedicated meal
    assert "1,40\u00a0€/repas" in html  # of a surplus meal
    assert "16\u00a0150,00\u00a0€" in html
    assert "5,0\u00a0%" in html  # loss rate
    assert "1,60\u00a0\u00d7" in html  # compared with a food parcel
    assert "Tous les chiffres sont complets" in html
    # The method and the inputs used, beside each figure.
    assert "denrées + conditionnement + énergie par repas" in html
    assert "Cuisine de Saint-Denis, 03/2025 : denrées par repas : 1,80" in html
    no_inline_script_or_style(html)


def missing_list(html):
    """The page's list of missing inputs: {(anchor, heading): [items]}."""
    section = html[
        html.index('id="donnees-manquantes"') : html.index(
            "</section>", html.index('id="donnees-manquantes"')
        )
    ]
    groups = re.findall(r'<h3 id="([^"]+)"[^>]*>(.*?)</h3>\s*<ul>(.*?)</ul>', section, re.S)
    return {
        (anchor, unescape(heading)): [unescape(item) for item in re.findall(r"<li>(.*?)</li>", items, re.S)]
        for anchor, heading, items in groups
    }


def test_cost_page_lists_missing_inputs_once_by_actor_and_month(client, march):
    KitchenCostInput.objects.update(energy_per_meal=None)
    AssociationCost.objects.all().delete()
    client.force_login(member(Role.VOLUNTEER, march.territory))
    html = html_of(client.get(costs_url(march.territory, start="2025-03", end="2025-03")))
    kitchen_anchor = f"manque-cuisine-{march.kitchen_id}-2025-03"
    association_anchor = f"manque-association-{march.association_id}-2025-03"
    assert missing_list(html) == {
        (kitchen_anchor, "Cuisine de Saint-Denis — mars 2025"): ["énergie par repas"],
        (association_anchor, "Les Restos du Cœur 93 — mars 2025"): ["coûts de l'association non saisis"],
    }
    # Listed once: neither the rows nor the warning repeat the list.
    assert html.count("coûts de l&#x27;association non saisis") == 1
    assert "Chiffre incomplet : manquent" not in html
    assert '<a href="#donnees-manquantes">2 données manquent : voir la liste' in html
    # Each incomplete row links to its group; the figures of the whole period to the list.
    assert f'<a href="#{kitchen_anchor}">1 donnée manque' in html
    assert f'<a href="#{association_anchor}">1 donnée manque' in html
    assert html.count('<a href="#donnees-manquantes">') > 1
    assert "au moins" in html
    assert "incomplet" in html


def test_a_complete_period_has_no_list_of_missing_inputs(client, march):
    client.force_login(member(Role.VOLUNTEER, march.territory))
    html = html_of(client.get(costs_url(march.territory, start="2025-03", end="2025-03")))
    assert 'id="donnees-manquantes"' not in html
    assert "donnée manque" not in html and "données manquent" not in html


def test_cost_page_defaults_to_the_last_three_whole_months(client, march, monkeypatch):
    from costing import views

    monkeypatch.setattr(views.timezone, "localdate", lambda: datetime.date(2025, 6, 15))
    client.force_login(member(Role.VOLUNTEER, march.territory))
    html = html_of(client.get(costs_url(march.territory)))
    assert 'value="2025-03"' in html and 'value="2025-05"' in html
    assert "De mars 2025 à mai 2025" in html
    assert "2375" in html  # March's meals are in the default period


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-05", "end": "2025-03"}, "La fin de la période précède son début."),
        ({"start": "mars", "end": "2025-03"}, "Indiquez un mois au format AAAA-MM"),
        ({"start": "2023-03", "end": "2025-03"}, "La période est limitée à 24 mois."),
        ({"start": "2000-01", "end": "2025-03"}, "Date trop ancienne"),
        ({"start": "9999-01", "end": "9999-12"}, "Date trop lointaine"),
    ],
)
def test_cost_page_refuses_a_bad_period_in_french(client, march, params, message):
    client.force_login(member(Role.VOLUNTEER, march.territory))
    html = html_of(client.get(costs_url(march.territory, **params)))
    assert message in html
    assert "Chiffres clés" not in html


def test_cost_page_of_another_territory_is_404(client, march):
    client.force_login(member(Role.AUTHORITY_COORDINATOR, TerritoryFactory()))
    assert client.get(costs_url(march.territory)).status_code == 404
    client.force_login(member(Role.FUNDER, funded=[march.territory]))
    assert client.get(costs_url(march.territory)).status_code == 200


def test_cost_page_sends_anonymous_users_to_login(client, march):
    response = client.get(costs_url(march.territory))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_cost_page_queries_do_not_grow_with_rows(client, march):
    client.force_login(member(Role.AUTHORITY_COORDINATOR, march.territory))
    url = costs_url(march.territory, start="2025-01", end="2025-12")

    def count():
        with CaptureQueriesContext(connection) as queries:
            html_of(client.get(url))
        return len(queries)

    few = count()
    for day in range(1, 25):
        other = PartnershipFactory(territory=march.territory)
        DailyRollupFactory(partnership=other, day=datetime.date(2025, 4, day), meals_distributed=5)
        KitchenCostInputFactory(kitchen=other.kitchen, month=datetime.date(2025, 4, 1))
    assert count() == few


# --- The input forms --------------------------------------------------------------------


def kitchen_url(kitchen, **params):
    url = reverse("kitchen-cost-input", kwargs={"pk": kitchen.pk})
    return url + ("?" + "&".join(f"{key}={value}" for key, value in params.items()) if params else "")


KITCHEN_FORM = {
    "month": "2025-03",
    "food_cost_per_meal": "1,80",
    "packaging_per_meal": "0,20",
    "energy_per_meal": "0,10",
    "extra_labour_hours": "100",
    "labour_hourly_cost": "30",
    "surplus_handling_hours": "20",
    "other_direct_costs": "500",
}


def test_kitchen_manager_creates_then_updates_the_months_row(client, django_capture_on_commit_callbacks):
    kitchen = KitchenFactory(name="Cuisine de Saint-Denis")
    client.force_login(member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen))
    html = html_of(client.get(kitchen_url(kitchen, month="2025-03")))
    assert "Coûts de la cuisine" in html
    assert "Aucune saisie pour ce mois : elle sera créée." in html
    no_inline_script_or_style(html)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(kitchen_url(kitchen), KITCHEN_FORM)
    assert response.status_code == 302
    assert response["Location"].endswith("?month=2025-03")
    row = KitchenCostInput.objects.get()
    assert (row.kitchen, row.territory, row.month) == (kitchen, kitchen.territory, MARCH)
    assert row.food_cost_per_meal == Decimal("1.80")
    assert MonthlyCost.objects.filter(territory=kitchen.territory, month=MARCH).exists()

    html = html_of(client.get(response["Location"]))
    assert "Coûts de mars 2025 enregistrés." in html
    assert "Une saisie existe déjà pour ce mois : vous la modifiez." in html
    assert 'value="1,80"' in html

    # The same month again updates the row: one row per kitchen and month.
    response = client.post(kitchen_url(kitchen), {**KITCHEN_FORM, "energy_per_meal": ""})
    assert response.status_code == 302
    row = KitchenCostInput.objects.get()
    assert row.energy_per_meal is None  # empty stays empty: missing, not zero


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"food_cost_per_meal": "-1"}, "Assurez-vous que cette valeur est supérieure ou égale à 0."),
        ({"labour_hourly_cost": "trente"}, "Saisissez un nombre."),
        ({"month": "2025-03-15"}, "Indiquez un mois au format AAAA-MM"),
        ({"month": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_kitchen_form_saves_nothing_and_says_why_in_french(client, change, message):
    kitchen = KitchenFactory()
    client.force_login(member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen))
    html = html_of(client.post(kitchen_url(kitchen), {**KITCHEN_FORM, **change}))
    assert "Rien n'a été enregistré" in html
    assert message in html
    assert not KitchenCostInput.objects.exists()
    assert not MonthlyCost.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR, Role.EVALUATOR]
)
def test_other_roles_get_403_on_the_kitchen_form(client, role):
    kitchen = KitchenFactory()
    client.force_login(member(role, None if role == Role.EVALUATOR else kitchen.territory))
    assert client.get(kitchen_url(kitchen)).status_code == 403
    assert client.post(kitchen_url(kitchen), KITCHEN_FORM).status_code == 403
    assert not KitchenCostInput.objects.exists()


def test_a_kitchen_manager_cannot_enter_another_kitchens_costs(client):
    kitchen = KitchenFactory()
    neighbour = KitchenFactory(territory=kitchen.territory)
    elsewhere = KitchenFactory()
    client.force_login(member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen))
    assert client.get(kitchen_url(neighbour)).status_code == 403
    assert client.post(kitchen_url(neighbour), KITCHEN_FORM).status_code == 403
    assert client.get(kitchen_url(elsewhere)).status_code == 404
    assert client.post(kitchen_url(elsewhere), KITCHEN_FORM).status_code == 404
    assert not KitchenCostInput.objects.exists()


def test_association_coordinator_enters_the_associations_costs(client):
    association = AssociationFactory(name="Les Restos du Cœur 93")
    client.force_login(member(Role.ASSOCIATION_COORDINATOR, association.territory, association=association))
    url = reverse("association-cost-input", kwargs={"pk": association.pk})
    html = html_of(client.get(url))
    assert "Heures de bénévoles" in html
    response = client.post(url, {"month": "2025-03", "equipment_cost": "3600"})
    html = html_of(response)
    assert "Indiquez la durée d&#x27;amortissement de l&#x27;équipement." in html
    assert not AssociationCost.objects.exists()
    response = client.post(
        url, {"month": "2025-03", "equipment_cost": "3600", "equipment_amortisation_months": "36"}
    )
    assert response.status_code == 302
    assert AssociationCost.objects.get().equipment_amortisation_months == 36
    client.force_login(member(Role.VOLUNTEER, association.territory, association=association))
    assert client.get(url).status_code == 403


def test_authority_coordinator_enters_coordination_costs_of_own_authority(client):
    authority = AuthorityFactory(name="CCAS de Saint-Denis")
    other = AuthorityFactory(territory=authority.territory, name="Mairie voisine")
    territory = authority.territory
    client.force_login(member(Role.AUTHORITY_COORDINATOR, territory, authority=authority))
    url = reverse("coordination-cost-input", kwargs={"pk": territory.pk})
    html = html_of(client.get(url))
    assert "CCAS de Saint-Denis" in html
    assert "Mairie voisine" not in html  # only the authorities the user writes for
    response = client.post(url, {"month": "2025-03", "authority": authority.pk, "staff_hours": "40"})
    assert response.status_code == 302
    assert CoordinationCost.objects.get().authority == authority
    html = html_of(client.post(url, {"month": "2025-03", "authority": other.pk, "staff_hours": "1"}))
    assert "Rien n'a été enregistré" in html
    assert CoordinationCost.objects.count() == 1
    CoordinationCostFactory(authority=other, month=datetime.date(2025, 1, 1))
    html = html_of(client.get(url))
    assert "Mairie voisine" not in html


def test_authority_coordinator_enters_transport_rates_per_mode(client, monkeypatch):
    from costing import tasks

    queued = []
    monkeypatch.setattr(tasks, "enqueue_rollups", lambda territory_id, days: queued.append(territory_id))
    territory = TerritoryFactory()
    client.force_login(member(Role.AUTHORITY_COORDINATOR, territory))
    url = reverse("transport-rate-input", kwargs={"pk": territory.pk})
    assert "Barème de transport" in html_of(client.get(url))
    for mode in ("association_vehicle", "third_party"):
        response = client.post(url, {"month": "2025-03", "transport_mode": mode, "cost_per_km": "0,60"})
        assert response.status_code == 302
    assert TransportRate.objects.count() == 2
    assert queued == [territory.pk, territory.pk]
    html = html_of(client.get(url, {"month": "2025-03", "transport_mode": "third_party"}))
    assert 'value="0,60"' in html
    client.force_login(member(Role.KITCHEN_MANAGER, territory))
    assert client.get(url).status_code == 403


def test_input_forms_of_another_territory_are_404(client):
    territory = TerritoryFactory()
    other = AuthorityFactory()
    client.force_login(member(Role.AUTHORITY_COORDINATOR, territory))
    for name in ("coordination-cost-input", "transport-rate-input"):
        assert client.get(reverse(name, kwargs={"pk": other.territory_id})).status_code == 404
    association = AssociationFactory()
    client.force_login(member(Role.ASSOCIATION_COORDINATOR, territory))
    assert client.get(reverse("association-cost-input", kwargs={"pk": association.pk})).status_code == 404


def test_staff_may_enter_any_costs(client):
    kitchen = KitchenFactory()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(kitchen_url(kitchen)).status_code == 200


# --- Links from the detail pages ------------------------------------------------------------


def test_detail_pages_link_to_the_cost_pages_the_user_may_open(client):
    partnership = PartnershipFactory()
    territory, kitchen, association = partnership.territory, partnership.kitchen, partnership.association
    kitchen_page = reverse("kitchen-detail", kwargs={"pk": kitchen.pk})
    association_page = reverse("association-detail", kwargs={"pk": association.pk})
    territory_page = reverse("territory-detail", kwargs={"pk": territory.pk})
    costs = reverse("territory-costs", kwargs={"pk": territory.pk})

    client.force_login(member(Role.KITCHEN_MANAGER, territory, kitchen=kitchen))
    html = html_of(client.get(kitchen_page))
    assert kitchen_url(kitchen) in html and costs in html

    client.force_login(member(Role.VOLUNTEER, territory, association=association))
    html = html_of(client.get(kitchen_page))
    assert kitchen_url(kitchen) not in html and costs in html
    html = html_of(client.get(association_page))
    assert reverse("association-cost-input", kwargs={"pk": association.pk}) not in html

    client.force_login(member(Role.ASSOCIATION_COORDINATOR, territory, association=association))
    assert reverse("association-cost-input", kwargs={"pk": association.pk}) in html_of(
        client.get(association_page)
    )

    client.force_login(member(Role.AUTHORITY_COORDINATOR, territory))
    html = html_of(client.get(territory_page))
    assert reverse("coordination-cost-input", kwargs={"pk": territory.pk}) in html
    assert reverse("transport-rate-input", kwargs={"pk": territory.pk}) in html
    assert costs in html


# --- Admin ----------------------------------------------------------------------------------


def test_admin_lists_every_costing_model_and_keeps_derived_tables_read_only(client, march):
    from costing.services import monthly_cost_refresh

    monthly_cost_refresh(territory_id=march.territory_id, month=MARCH)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    for name in (
        "kitchencostinput", "transportrate", "associationcost", "coordinationcost", "funding",
        "referencevalue", "dailyrollup", "monthlycost",
    ):  # fmt: skip
        assert client.get(reverse(f"admin:costing_{name}_changelist")).status_code == 200, name
    assert client.get(reverse("admin:costing_dailyrollup_add")).status_code == 403
    assert client.get(reverse("admin:costing_monthlycost_add")).status_code == 403
    rollup = DailyRollup.objects.get()
    response = client.post(
        reverse("admin:costing_dailyrollup_change", args=[rollup.pk]), {"meals_distributed": 0}
    )
    assert response.status_code == 403
