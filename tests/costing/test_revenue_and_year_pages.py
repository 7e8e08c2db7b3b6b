# ruff: noqa: RUF002, RUF003 - the hand computations are written with the sign × of French arithmetic
"""The browser pages of a territory's revenues and of a kitchen's yearly inputs (fixed costs,
EGalim shares entered by hand), checked by value: what is typed is what is stored; bad input
answers 400 with its French message and writes nothing; out of scope is 404; a role the API
refuses gets 403.

Worked by hand: a CCAS pays 120 dedicated meals at the convention's 2.50 € a meal: 120 × 2.50 =
300.00 €. A kitchen's fixed costs of 900 000 € for 450 000 meals produced: 2.00 € a meal; of
1 000 € for 3 meals: 333.33… → « 333,33 »."""

import datetime
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from costing.models import KitchenFixedCost, Revenue
from kitchens.models import EgalimDeclaration
from territories.roles import Role
from tests.factories import KitchenFactory, PartnershipFactory, TerritoryFactory, member

pytestmark = pytest.mark.django_db

LAST_YEAR = datetime.date.today().year - 1


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(response) -> str:
    return unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def territory():
    return TerritoryFactory()


@pytest.fixture
def partnership(territory):
    return PartnershipFactory(territory=territory, mode="dedicated", price_per_meal=Decimal("2.50"))


# --- Revenues ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AUTHORITY_COORDINATOR, Role.EVALUATOR])
def test_a_ccas_payment_is_stored_at_the_convention_price(territory, partnership, role):
    client = client_of(member(role, None if role == Role.EVALUATOR else territory))
    url = reverse("territory-revenues", kwargs={"pk": territory.pk})
    post = {"month": "2025-03", "kind": "ccas_payment", "partnership": partnership.pk, "meals": "120"}
    response = client.post(url, post)
    assert response.status_code == 302
    revenue = Revenue.objects.get()
    assert (revenue.territory_id, revenue.month, revenue.meals, revenue.amount) == (
        territory.pk,
        datetime.date(2025, 3, 1),
        120,
        Decimal("300.00"),
    )
    text = page_text(client.get(url))
    assert "Paiement par un CCAS de repas dédiés" in text and "300,00" in text and "Cuisine" in text


def test_an_amount_typed_the_french_way_is_stored_exactly(territory):
    client = client_of(member(Role.AUTHORITY_COORDINATOR, territory))
    url = reverse("territory-revenues", kwargs={"pk": territory.pk})
    post = {"month": "2025-04", "kind": "other", "amount": "1 250,50", "received_by": "authority"}
    assert client.post(url, post).status_code == 302
    revenue = Revenue.objects.get()
    assert (revenue.amount, revenue.received_by) == (Decimal("1250.50"), "authority")
    assert "1 250,50" in page_text(client.get(url))


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (
            {"kind": "ccas_payment", "meals": "120"},
            "Indiquez le partenariat dont les repas dédiés sont payés.",
        ),
        ({"kind": "other", "amount": "10"}, "Indiquez qui reçoit cette recette."),
        ({"kind": "beneficiaries"}, "Indiquez le montant."),
        ({"kind": "beneficiaries", "amount": "douze"}, "Saisissez un nombre."),
    ],
)
def test_a_bad_revenue_answers_400_in_french_and_writes_nothing(territory, partnership, post, message):
    client = client_of(member(Role.AUTHORITY_COORDINATOR, territory))
    url = reverse("territory-revenues", kwargs={"pk": territory.pk})
    response = client.post(url, {"month": "2025-03", **post})
    assert response.status_code == 400
    text = page_text(response)
    assert "Rien n'a été enregistré" in text and message in text
    assert not Revenue.objects.exists()


def test_revenues_refuse_other_roles_and_other_territories(territory, partnership):
    url = reverse("territory-revenues", kwargs={"pk": territory.pk})
    post = {"month": "2025-03", "kind": "beneficiaries", "amount": "50"}
    for role in (Role.VOLUNTEER, Role.KITCHEN_MANAGER, Role.ASSOCIATION_COORDINATOR):
        client = client_of(member(role, territory))
        assert client.get(url).status_code == 403
        assert client.post(url, post).status_code == 403
    stranger = client_of(member(Role.AUTHORITY_COORDINATOR, TerritoryFactory()))
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, post).status_code == 404
    assert not Revenue.objects.exists()


def test_the_partnerships_offered_are_the_territory_s_own(territory, partnership):
    other = PartnershipFactory(mode="dedicated")
    client = client_of(member(Role.EVALUATOR))
    url = reverse("territory-revenues", kwargs={"pk": territory.pk})
    form = client.get(url).context["form"]
    assert list(form.fields["partnership"].queryset) == [partnership]
    post = {"month": "2025-03", "kind": "ccas_payment", "partnership": other.pk, "meals": "10"}
    response = client.post(url, post)
    assert response.status_code == 400
    assert not Revenue.objects.exists()


def test_the_costs_page_links_to_expenses_and_revenues_for_those_who_write_them(territory):
    url = reverse("territory-costs", kwargs={"pk": territory.pk})
    links = (
        reverse("territory-expenses", kwargs={"pk": territory.pk}),
        reverse("territory-revenues", kwargs={"pk": territory.pk}),
    )
    html = client_of(member(Role.AUTHORITY_COORDINATOR, territory)).get(url).content.decode()
    assert all(link in html for link in links)
    html = client_of(member(Role.KITCHEN_MANAGER, territory)).get(url).content.decode()
    assert not any(link in html for link in links)


# --- A kitchen's yearly inputs --------------------------------------------------------------


@pytest.fixture
def kitchen(territory):
    return KitchenFactory(territory=territory)


def year_url(kitchen) -> str:
    return reverse("kitchen-year-inputs", kwargs={"pk": kitchen.pk})


def fixed_post(year=LAST_YEAR, **values) -> dict[str, str]:
    return {
        "year": str(year),
        "part": "couts",
        "fixed_costs": "900 000",
        "meals_produced": "450000",
        **values,
    }


def egalim_post(year=LAST_YEAR, **values) -> dict[str, str]:
    return {"year": str(year), "part": "egalim", "quality_share": "42,5", "organic_share": "21", **values}


def test_a_kitchen_manager_records_its_kitchen_s_year_and_reads_the_fixed_cost_per_meal(kitchen):
    client = client_of(member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen))
    response = client.post(year_url(kitchen), fixed_post(source="Compte administratif"))
    assert response.status_code == 302
    assert response["Location"] == f"{year_url(kitchen)}?year={LAST_YEAR}"
    fixed = KitchenFixedCost.objects.get()
    assert (fixed.territory_id, fixed.year, fixed.fixed_costs, fixed.meals_produced, fixed.source) == (
        kitchen.territory_id,
        LAST_YEAR,
        Decimal("900000.00"),
        450000,
        "Compte administratif",
    )
    assert not EgalimDeclaration.objects.exists()  # the other form, not posted, writes nothing
    assert client.post(year_url(kitchen), egalim_post()).status_code == 302
    declaration = EgalimDeclaration.objects.get()
    assert (declaration.year, declaration.quality_share, declaration.organic_share, declaration.source) == (
        LAST_YEAR,
        Decimal("42.50"),
        Decimal("21.00"),
        "entered",
    )
    # The default year is the last calendar year; its fixed cost per meal, in French.
    text = page_text(client.get(year_url(kitchen)))
    assert "Coût fixe par repas : 2,00 €" in text
    assert "900 000,00" in text and "450 000" in text and "42,50" in text and "Saisie" in text


def test_updating_a_year_changes_its_row_rather_than_adding_one(kitchen):
    client = client_of(member(Role.EVALUATOR))
    assert client.post(year_url(kitchen), fixed_post(2024)).status_code == 302
    response = client.post(
        f"{year_url(kitchen)}?year=2024", fixed_post(2024, fixed_costs="1000", meals_produced="3")
    )
    assert response.status_code == 302
    fixed = KitchenFixedCost.objects.get()
    assert (fixed.year, fixed.fixed_costs, fixed.meals_produced) == (2024, Decimal("1000.00"), 3)
    text = page_text(client.get(year_url(kitchen), {"year": "2024"}))
    assert "Coût fixe par repas : 333,33 €" in text


def test_an_imported_egalim_year_shows_its_source_and_turns_entered_when_edited(kitchen):
    EgalimDeclaration.objects.create(
        territory=kitchen.territory,
        kitchen=kitchen,
        year=LAST_YEAR,
        quality_share=Decimal("30"),
        organic_share=Decimal("10"),
        source="ma_cantine",
        source_reference="15042",
    )
    client = client_of(member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen))
    text = page_text(client.get(year_url(kitchen)))
    assert "Export ma-cantine" in text and "télédéclaration 15042" in text
    assert client.post(year_url(kitchen), egalim_post()).status_code == 302
    declaration = EgalimDeclaration.objects.get()
    assert (declaration.quality_share, declaration.source, declaration.source_reference) == (
        Decimal("42.50"),
        "entered",
        "",
    )


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (
            egalim_post(quality_share="20", organic_share="25"),
            "La part bio est comprise dans la part durable et de qualité : elle ne peut la dépasser.",
        ),
        (egalim_post(quality_share="120"), "Une part se compte entre 0 et 100 %."),
        (fixed_post(meals_produced="0"), "Une année de coûts fixes compte au moins un repas produit."),
        (fixed_post(fixed_costs="-1"), "supérieure ou égale à 0"),
        (fixed_post(year=1990), "supérieure ou égale à"),
    ],
)
def test_bad_yearly_input_answers_400_in_french_and_writes_nothing(kitchen, post, message):
    client = client_of(member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen))
    response = client.post(year_url(kitchen), post)
    assert response.status_code == 400
    assert message in page_text(response)
    assert not KitchenFixedCost.objects.exists() and not EgalimDeclaration.objects.exists()


def test_yearly_inputs_refuse_other_kitchens_roles_and_territories(kitchen):
    url = year_url(kitchen)
    neighbour = client_of(member(Role.KITCHEN_MANAGER, kitchen.territory))  # another kitchen, same territory
    assert neighbour.get(url).status_code == 403
    assert neighbour.post(url, fixed_post()).status_code == 403
    for role in (Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR):
        client = client_of(member(role, kitchen.territory))
        assert client.get(url).status_code == 403
        assert client.post(url, egalim_post()).status_code == 403
    stranger = client_of(member(Role.KITCHEN_MANAGER, TerritoryFactory()))
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, fixed_post()).status_code == 404
    assert not KitchenFixedCost.objects.exists() and not EgalimDeclaration.objects.exists()


def test_the_kitchen_page_links_to_its_year_for_those_who_write_it(kitchen):
    url = reverse("kitchen-detail", kwargs={"pk": kitchen.pk})
    own = client_of(member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen))
    assert year_url(kitchen) in own.get(url).content.decode()
    neighbour = client_of(member(Role.KITCHEN_MANAGER, kitchen.territory))
    assert year_url(kitchen) not in neighbour.get(url).content.decode()
