# ruff: noqa: RUF002, RUF003 - the hand computations are written with the signs × and − of French arithmetic
"""The browser pages of the programme's money, checked by value: a funding's budget edited
through its page then read back in the budget-against-actual table; a bad amount answers 400
with a French error and writes nothing; out of scope is 404; a role the API refuses gets 403.

Worked by hand: a funding of 2025 (365 days), an evaluation expense of 1,200 € in March 2025,
a budget line « évaluation » of 2,400 € entered through the page. Over the whole year: planned
2,400.00, actual 1,200.00, gap −1,200.00. Over March alone: planned 2,400 × 31 ÷ 365 =
203.835… → 203.84, actual 1,200.00, gap 996.16."""

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from costing.models import BudgetLine, CoFunder, Expense
from territories.roles import Role
from tests.factories import FundingFactory, TerritoryFactory, member

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def budget_post(planned: str) -> dict[str, str]:
    return {
        **management("lignes", 1),
        "lignes-0-category": "evaluation",
        "lignes-0-planned": planned,
        "lignes-0-explanation": "Étude retardée",
        **management("cofinanceurs", 1),
        "cofinanceurs-0-kind": "caf",
        "cofinanceurs-0-organisation": "CAF du Nord",
        "cofinanceurs-0-amount": "5000",
        "cofinanceurs-0-status": "granted",
    }


def table_rows(html: str) -> list[list[str]]:
    """The cells of the budget table, as read on the page (spaces normalised)."""
    table = html.split('id="budget-realise"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        rows.append(
            [
                re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).replace("\u202f", " ").strip()
                for cell in cells
            ]
        )
    return rows


@pytest.fixture
def scene():
    territory = TerritoryFactory()
    funding = FundingFactory(territory=territory)
    Expense.objects.create(
        territory=territory,
        month=datetime.date(2025, 3, 1),
        category="evaluation",
        amount=Decimal("1200"),
        label="Enquête",
    )
    return territory, funding


@pytest.mark.parametrize("role", [Role.AUTHORITY_COORDINATOR, Role.EVALUATOR])
def test_a_budget_edited_through_the_page_is_read_back_in_the_table(scene, role):
    territory, funding = scene
    client = client_of(member(role, None if role == Role.EVALUATOR else territory))
    url = reverse("funding-budget", kwargs={"pk": funding.pk})
    response = client.post(url, budget_post("2400,00"))
    assert response.status_code == 302
    line = BudgetLine.objects.get(funding=funding)
    assert (line.category, line.planned, line.explanation, line.territory_id) == (
        "evaluation",
        Decimal("2400.00"),
        "Étude retardée",
        territory.pk,
    )
    assert CoFunder.objects.get(funding=funding).amount == Decimal("5000.00")
    year = table_rows(client.get(url).content.decode())
    assert ["Évaluation", "2 400,00", "1 200,00", "-1 200,00", "Étude retardée"] in year
    march = table_rows(client.get(url, {"start": "2025-03", "end": "2025-03"}).content.decode())
    assert ["Évaluation", "203,84", "1 200,00", "996,16", "Étude retardée"] in march


@pytest.mark.parametrize("planned", ["-1", "douze", "12,345"])
def test_a_bad_amount_gives_a_french_error_and_writes_nothing(scene, planned):
    territory, funding = scene
    client = client_of(member(Role.AUTHORITY_COORDINATOR, territory))
    response = client.post(reverse("funding-budget", kwargs={"pk": funding.pk}), budget_post(planned))
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "Rien n'a été enregistré" in html
    assert any(
        message in html
        for message in (
            "supérieure ou égale à 0",
            "Saisissez un nombre",
            "pas plus de 2 chiffres après la virgule",
        )
    )
    # The valid co-funder of the same post is not saved either: all or nothing.
    assert not BudgetLine.objects.exists() and not CoFunder.objects.exists()


def test_two_lines_of_one_category_are_refused(scene):
    _territory, funding = scene
    client = client_of(member(Role.EVALUATOR))
    data = {
        **budget_post("100"),
        **management("lignes", 2),
        "lignes-1-category": "evaluation",
        "lignes-1-planned": "200",
    }
    response = client.post(reverse("funding-budget", kwargs={"pk": funding.pk}), data)
    assert response.status_code == 400
    assert not BudgetLine.objects.exists()


def test_out_of_scope_is_404_and_other_roles_may_read_but_not_write(scene):
    territory, funding = scene
    url = reverse("funding-budget", kwargs={"pk": funding.pk})
    stranger = client_of(member(Role.AUTHORITY_COORDINATOR, TerritoryFactory()))
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, budget_post("100")).status_code == 404
    kitchen = client_of(member(Role.KITCHEN_MANAGER, territory))
    page = kitchen.get(url)
    assert page.status_code == 200
    assert "Modifier le budget" not in page.content.decode()
    assert kitchen.post(url, budget_post("100")).status_code == 403
    assert not BudgetLine.objects.exists()


def test_an_expense_entered_through_its_page_is_read_in_the_budget_table(scene):
    territory, funding = scene
    client = client_of(member(Role.AUTHORITY_COORDINATOR, territory))
    url = reverse("territory-expenses", kwargs={"pk": territory.pk})
    bad = {"month": "2025-03", "category": "evaluation", "amount": "-5", "label": "Questionnaires"}
    response = client.post(url, bad)
    assert response.status_code == 400
    assert "supérieure ou égale à 0" in unescape(response.content.decode())
    assert Expense.objects.count() == 1
    assert client.post(url, {**bad, "amount": "300,50"}).status_code == 302
    page = client.get(
        reverse("funding-budget", kwargs={"pk": funding.pk}), {"start": "2025-03", "end": "2025-03"}
    )
    assert ["Évaluation (non affecté)", "—", "1 500,50", "1 500,50", "—"] in table_rows(page.content.decode())
    stranger = client_of(member(Role.AUTHORITY_COORDINATOR, TerritoryFactory()))
    assert stranger.post(url, {**bad, "amount": "1"}).status_code == 404
    kitchen = client_of(member(Role.KITCHEN_MANAGER, territory))
    assert kitchen.get(url).status_code == 403
    assert Expense.objects.count() == 2
