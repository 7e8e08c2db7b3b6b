# ruff: noqa: RUF003 - the hand computations are written with the signs × and − of French arithmetic
"""A funding's budget against the actual costs, and the net cost per payer, worked out by hand on
March 2025 of docs/methodology.md (kitchens 8,400 €, transport 1,200 €, associations 4,900 € of
which paid staff 4,000, equipment 3,600 ÷ 36 = 100, premises and other 600 + 200 = 800,
coordination 1,650 €: a total of 16,150 € for 2,375 meals distributed)."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader
from rest_framework.test import APIClient

from associations.models import Partnership
from costing.budget import funding_budget
from costing.display import figure_text, is_bound
from costing.models import BudgetLine, CoFunder, Expense, Funding, KitchenFixedCost, Revenue
from costing.net_cost import fixed_cost_figures
from costing.services import territory_cost
from evaluation import reports
from evaluation.models import Report
from territories.roles import Role
from tests.factories import (
    AssociationCostFactory,
    AuthorityFactory,
    CoordinationCostFactory,
    DailyRollupFactory,
    KitchenCostInputFactory,
    PartnershipFactory,
    member,
)

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2025, 3, 1)
D = Decimal


@pytest.fixture
def march():
    """The March 2025 example of docs/methodology.md, all inputs complete."""
    partnership = PartnershipFactory()
    territory = partnership.territory
    authority = AuthorityFactory(territory=territory, name="CCAS de Saint-Denis")
    DailyRollupFactory(
        partnership=partnership, day=datetime.date(2025, 3, 10),
        meals_produced_dedicated=1200, meals_produced_surplus=300, pickups=24, meals_picked_up=1500,
        km=D("240"), transport_cost=D("700.00"), distributions=10, meals_distributed=1400,
        meals_discarded=75, people_served=1000,
    )  # fmt: skip
    DailyRollupFactory(
        partnership=partnership, day=datetime.date(2025, 3, 20),
        meals_produced_dedicated=800, meals_produced_surplus=200, pickups=16, meals_picked_up=1000,
        km=D("160"), transport_cost=D("500.00"), distributions=8, meals_distributed=975,
        meals_discarded=50, people_served=900,
    )  # fmt: skip
    KitchenCostInputFactory(kitchen=partnership.kitchen, month=MARCH)
    AssociationCostFactory(association=partnership.association, month=MARCH)
    CoordinationCostFactory(authority=authority, month=MARCH)
    return partnership


def funding_for_march(territory, **fields):
    funding = Funding(
        territory=territory, funder="drihl", funder_name="DRIHL Île-de-France", amount=D("3100.00"),
        period_start=MARCH, period_end=datetime.date(2025, 3, 31), **fields,
    )  # fmt: skip
    funding.full_clean()
    funding.save()
    return funding


def test_budget_against_actual_by_category_and_in_total_with_the_unallocated_costs(march):
    territory = march.territory
    funding = funding_for_march(territory)
    for category, planned, explanation in (
        ("food_production", "8000.00", "Plus de repas dédiés que prévu."),
        ("transport", "1500.00", ""),
        ("association_staff", "4000.00", ""),
        ("coordination", "1500.00", ""),
        ("evaluation", "1000.00", ""),
    ):
        BudgetLine.objects.create(
            territory=territory,
            funding=funding,
            category=category,
            planned=D(planned),
            explanation=explanation,
        )
    CoFunder.objects.create(
        territory=territory,
        funding=funding,
        kind="municipality",
        organisation="Ville de Saint-Denis",
        amount=D("900"),
    )
    Expense.objects.create(
        territory=territory, month=MARCH, category="evaluation", amount=D("800.00"), label="Enquête"
    )
    # Equipment has no budget line: its cost is shown as not allocated, never dropped.
    Expense.objects.create(
        territory=territory, month=MARCH, category="equipment", amount=D("300.00"), label="Caisses"
    )

    budget = funding_budget(funding, start=MARCH, end=datetime.date(2025, 3, 31)).as_dict()
    rows = {row["category_code"]: row for row in budget["rows"]}
    expected = {
        # category: (planned, actual, gap, allocated)
        "food_production": ("8000.00", "8400.00", "400.00", True),
        "transport": ("1500.00", "1200.00", "-300.00", True),
        "association_staff": ("4000.00", "4000.00", "0.00", True),
        "coordination": ("1500.00", "1650.00", "150.00", True),
        # The associations' equipment amortised (100) and the expense (300), not allocated.
        "equipment": (None, "400.00", "400.00", False),
        "evaluation": ("1000.00", "800.00", "-200.00", True),
        # The associations' premises (600) and other costs (200), not allocated.
        "other": (None, "800.00", "800.00", False),
    }
    assert list(rows) == list(expected)
    for category, (planned, actual, gap, allocated) in expected.items():
        row = rows[category]
        assert (row["planned"], row["actual"], row["gap"], row["allocated"]) == (
            planned,
            actual,
            gap,
            allocated,
        )
        assert row["complete"]
    assert rows["equipment"]["category"] == "Équipement (non affecté)"
    assert rows["food_production"]["explanation"] == "Plus de repas dédiés que prévu."
    # 8,000 + 1,500 + 4,000 + 1,500 + 1,000 planned; the actual adds the unallocated 1,200.
    assert budget["total"] == {
        "planned": "16000.00",
        "actual": "17250.00",
        "gap": "1250.00",
        "complete": True,
    }
    # The cost method's total (16,150) plus the expenses (1,100): nothing dropped.
    assert territory_cost(territory_ids=[territory.pk], start=MARCH, end=MARCH).figure(
        "total_cost"
    ).value == D("16150.00")
    assert budget["co_funders"][0]["organisation"] == "Ville de Saint-Denis"


def test_a_budgeted_category_without_any_cost_recorded_is_unknown_not_zero(march):
    funding = funding_for_march(march.territory)
    BudgetLine.objects.create(
        territory=march.territory, funding=funding, category="evaluation", planned=D("1000")
    )
    budget = funding_budget(funding, start=MARCH, end=MARCH).as_dict()
    evaluation = next(row for row in budget["rows"] if row["category_code"] == "evaluation")
    assert evaluation["actual"] is None and evaluation["gap"] is None and not evaluation["complete"]
    assert evaluation["missing"] == ["Évaluation : aucune dépense saisie sur la période"]
    assert not budget["total"]["complete"]


def test_a_budget_over_part_of_the_funding_is_prorated(march):
    funding = Funding.objects.create(
        territory=march.territory, funder="drihl", amount=D("36500"),
        period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 12, 31),
    )  # fmt: skip
    BudgetLine.objects.create(
        territory=march.territory, funding=funding, category="transport", planned=D("36500")
    )
    budget = funding_budget(funding, start=MARCH, end=MARCH).as_dict()
    transport = next(row for row in budget["rows"] if row["category_code"] == "transport")
    assert transport["planned"] == "3100.00"  # 36,500 × 31 days ÷ 365 days


def net_scenario(march):
    """Revenues and a grant in March: the CCAS pays 250 dedicated meals at the convention's
    2.40 € (600 €), the association 100 (240 €), the beneficiaries give 475 €, the authority
    receives 95 € of other revenue and the DRIHL grant of 3,100 € (the whole of March)."""
    territory = march.territory
    dedicated = PartnershipFactory(
        territory=territory,
        kitchen=march.kitchen,
        association=march.association,
        mode=Partnership.Mode.DEDICATED,
    )
    for kind, meals, amount, received_by in (
        ("ccas_payment", 250, None, ""),
        ("association_payment", 100, None, ""),
        ("beneficiaries", None, D("475.00"), ""),
        ("other", None, D("95.00"), "authority"),
    ):
        revenue = Revenue(
            territory=territory, month=MARCH, kind=kind, meals=meals, amount=amount, received_by=received_by,
            partnership=dedicated if meals else None,
        )  # fmt: skip
        revenue.full_clean()
        revenue.save()
    funding_for_march(territory, recipient="authority")
    return dedicated


def test_net_cost_per_payer_worked_out_by_hand(march):
    net_scenario(march)
    assert Revenue.objects.get(kind="ccas_payment").amount == D("600.00")  # 250 × 2.40
    client = APIClient()
    client.force_authenticate(member(Role.EVALUATOR))
    response = client.get(
        "/api/v1/costs/net/", {"territory": march.territory_id, "start": "2025-03-01", "end": "2025-03-31"}
    )
    assert response.status_code == 200, response.content
    payers = {row["payer"]: row for row in response.json()["payers"]}
    expected = {
        # kitchens 8,400 − 600 − 240; associations 4,900 + 1,200 of transport + 240 − 475;
        # authorities 1,650 + 600 − 95 − 3,100; then each ÷ 2,375 meals distributed.
        "kitchen": ("8400.00", "7560.00", "3.18"),
        "association": ("6100.00", "5865.00", "2.47"),
        "authority": ("1650.00", "-945.00", "-0.40"),
        "funders": ("3100.00", "3100.00", "1.31"),
        "beneficiaries": ("475.00", "475.00", "0.20"),
        "others": ("95.00", "95.00", "0.04"),
    }
    for payer, (gross, net, per_meal) in expected.items():
        assert (payers[payer]["gross"], payers[payer]["net"], payers[payer]["net_per_meal"]) == (
            gross,
            net,
            per_meal,
        )
        assert payers[payer]["complete"]
    # The net costs share the total cost out: 7,560 + 5,865 − 945 + 3,100 + 475 + 95 = 16,150.
    assert sum(D(row["net"]) for row in payers.values()) == D("16150.00")
    assert payers["kitchen"]["gross_per_meal"] == "3.54"  # 8,400 ÷ 2,375


def test_a_priced_convention_without_its_payment_leaves_the_net_cost_incomplete(march):
    dedicated = net_scenario(march)
    Revenue.objects.filter(partnership=dedicated).delete()
    DailyRollupFactory(partnership=dedicated, day=datetime.date(2025, 3, 12), meals_produced_dedicated=50)
    client = APIClient()
    client.force_authenticate(member(Role.EVALUATOR))
    payers = client.get(
        "/api/v1/costs/net/", {"territory": march.territory_id, "start": "2025-03-01", "end": "2025-03-31"}
    ).json()["payers"]
    kitchen = next(row for row in payers if row["payer"] == "kitchen")
    assert not kitchen["complete"]
    # Only the priced convention is listed: March's own convention has dedicated meals in its
    # roll-ups too, but no price per meal, so no payment is expected of it.
    assert march.price_per_meal is None
    unpaid = [item for item in kitchen["missing"] if "paiement" in item]
    assert unpaid == [
        f"{march.kitchen.name} → {march.association.name}, 03/2025 : paiement des repas dédiés non saisi"
    ]
    # Printed as incomplete, not as a lower bound: a missing payment would lower it.
    assert not is_bound(kitchen["key"])
    assert figure_text(kitchen["net"], unit="€", complete=False, bound=False).endswith("(incomplet)")


def flat(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def test_the_pdf_prints_the_net_costs_the_api_gives(march):
    net_scenario(march)
    evaluator = member(Role.EVALUATOR)
    client = APIClient()
    client.force_authenticate(evaluator)
    api = client.get(
        "/api/v1/costs/net/", {"territory": march.territory_id, "start": "2025-03-01", "end": "2025-03-31"}
    ).json()
    report = Report.objects.create(
        kind="drihl", territory=march.territory, period_start=MARCH, period_end=datetime.date(2025, 3, 31),
        requested_by=evaluator,
    )  # fmt: skip
    report = reports.report_build(report_id=report.pk)
    assert report.status == "done", report.message
    text = flat(
        " ".join(
            page.extract_text()
            for page in PdfReader(io.BytesIO(reports.report_pdf_file(report).read())).pages
        )
    )
    for row in api["payers"]:
        printed = " ".join(
            flat(figure_text(row[key], unit=unit))
            for key, unit in (
                ("gross", "€"),
                ("gross_per_meal", "€/repas"),
                ("net", "€"),
                ("net_per_meal", "€/repas"),
            )
        )
        assert f"{row['label']} {printed}" in text
    # The frozen figures of the report are the API's.
    frozen = report.figures["programme"]["net_costs"]
    assert [{key: row[key] for key in ("payer", "gross", "net", "net_per_meal")} for row in frozen] == [
        {key: row[key] for key in ("payer", "gross", "net", "net_per_meal")} for row in api["payers"]
    ]


def test_full_cost_with_the_kitchens_fixed_share(march):
    # 1,200,000 € of fixed costs for 600,000 meals produced in 2025: 2 € per meal.
    KitchenFixedCost.objects.create(
        territory=march.territory,
        kitchen=march.kitchen,
        year=2025,
        fixed_costs=D("1200000"),
        meals_produced=600000,
    )
    result = fixed_cost_figures(territory_cost(territory_ids=[march.territory_id], start=MARCH, end=MARCH))
    figures = {figure["key"]: figure for figure in result["figures"]}
    assert figures["marginal_cost_dedicated"]["value"] == "3.60"
    assert figures["full_cost_per_meal"]["value"] == "6.80"
    assert figures["fixed_cost_per_dedicated_meal"]["value"] == "2.00"
    # (16,150 + 2,000 dedicated meals × 2 €) ÷ 2,375 = 20,150 ÷ 2,375 = 8.484…
    assert figures["full_cost_with_fixed_share"]["value"] == "8.48"
    assert result["position"] == "within"  # 7 to 13 €
    assert "ADEME" in result["reference"]["source"]


def test_full_cost_without_the_kitchens_fixed_costs_is_a_lower_bound(march):
    result = fixed_cost_figures(territory_cost(territory_ids=[march.territory_id], start=MARCH, end=MARCH))
    full = result["figures"][-1]
    assert not full["complete"] and full["value"] == "6.80"
    assert full["missing"][-1].endswith("2025 : coûts fixes de la cuisine non saisis")
    assert result["position"] is None
