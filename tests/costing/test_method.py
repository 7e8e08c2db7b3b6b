"""The cost method, hand-computed: the worked examples of docs/methodology.md.

March 2025 is complete, April 2025 lacks inputs, May 2025 has surplus meals only.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from costing import selectors, services
from costing.models import (
    AssociationCost,
    CoordinationCost,
    KitchenCostInput,
    MonthlyCost,
    ReferenceValue,
    TransportRate,
)
from costing.services import AssociationMonth, KitchenMonth
from tests.factories import (
    AssociationCostFactory,
    AuthorityFactory,
    CoordinationCostFactory,
    DailyRollupFactory,
    KitchenCostInputFactory,
    PartnershipFactory,
    ReferenceValueFactory,
)

MARCH, APRIL, MAY = datetime.date(2025, 3, 1), datetime.date(2025, 4, 1), datetime.date(2025, 5, 1)
D = Decimal


def march_kitchen_inputs(**changes):
    values = {
        "food_cost_per_meal": D("1.80"),
        "packaging_per_meal": D("0.20"),
        "energy_per_meal": D("0.10"),
        "extra_labour_hours": D("100"),
        "labour_hourly_cost": D("30.00"),
        "surplus_handling_hours": D("20"),
        "other_direct_costs": D("500.00"),
        **changes,
    }
    return KitchenCostInput(month=MARCH, **values)


def kitchen_month(inputs, dedicated=2000, surplus=500, month=MARCH):
    return KitchenMonth(1, "Cuisine de Saint-Denis", month, dedicated, surplus, inputs)


# --- Pure functions, no database ----------------------------------------------------------


def test_marginal_cost_of_a_dedicated_and_of_a_surplus_meal():
    result = services.kitchen_month_cost(kitchen_month(march_kitchen_inputs()))
    # 1.80 + 0.20 + 0.10 + 100 h x 30 € ÷ 2,000 meals = 2.10 + 1.50
    assert result.marginal_dedicated.value == D("3.60")
    assert result.marginal_dedicated.complete
    # 0.20 + 20 h x 30 € ÷ 500 meals = 0.20 + 1.20
    assert result.marginal_surplus.value == D("1.40")
    # 2,000 x 3.60 + 500 x 1.40 + 500 of other direct costs
    assert result.total.value == D("8400.00")
    assert result.total.complete
    labels = {item.label: item.value for item in result.marginal_dedicated.inputs}
    assert labels["Cuisine de Saint-Denis, 03/2025 : denrées par repas"] == D("1.80")
    assert "denrées + conditionnement + énergie" in result.marginal_dedicated.method


def test_missing_kitchen_inputs_are_listed_never_zero():
    inputs = march_kitchen_inputs(energy_per_meal=None, labour_hourly_cost=None)
    result = services.kitchen_month_cost(kitchen_month(inputs, dedicated=1000, surplus=0, month=APRIL))
    dedicated = result.marginal_dedicated
    assert not dedicated.complete
    assert dedicated.missing == [
        "Cuisine de Saint-Denis, 04/2025 : énergie par repas",
        "Cuisine de Saint-Denis, 04/2025 : coût horaire chargé du travail",
    ]
    # The known parts only (food 1.80 + packaging 0.20): a lower bound, flagged incomplete.
    assert dedicated.value == D("2.00")
    assert not result.marginal_surplus.applicable
    assert result.marginal_surplus.complete


def test_a_kitchen_month_without_any_input_says_so_and_has_no_value():
    result = services.kitchen_month_cost(kitchen_month(None))
    assert result.marginal_dedicated.value is None
    assert result.marginal_dedicated.missing == [
        "Cuisine de Saint-Denis, 03/2025 : coûts de la cuisine non saisis"
    ]
    assert result.total.value is None
    assert not result.total.complete


def test_zero_hours_need_no_hourly_cost():
    inputs = march_kitchen_inputs(extra_labour_hours=D("0"), labour_hourly_cost=None)
    result = services.kitchen_month_cost(kitchen_month(inputs, dedicated=2000, surplus=0))
    assert result.marginal_dedicated.value == D("2.10")
    assert result.marginal_dedicated.complete


def test_a_month_with_surplus_meals_only():
    inputs = KitchenCostInput(
        month=MAY,
        packaging_per_meal=D("0.25"),
        surplus_handling_hours=D("16"),
        labour_hourly_cost=D("30.00"),
        other_direct_costs=D("0"),
    )
    result = services.kitchen_month_cost(kitchen_month(inputs, dedicated=0, surplus=800, month=MAY))
    assert not result.marginal_dedicated.applicable
    assert result.marginal_dedicated.value is None
    assert result.marginal_dedicated.complete
    assert "Sans objet" in result.marginal_dedicated.method
    # 0.25 + 16 h x 30 € ÷ 800 meals = 0.25 + 0.60
    assert result.marginal_surplus.value == D("0.85")
    assert result.total.value == D("680.00")
    assert result.total.complete


def test_association_cash_cost_and_volunteer_time_apart():
    inputs = AssociationCost(
        month=MARCH,
        paid_staff_hours=D("160"),
        paid_staff_hourly_cost=D("25.00"),
        volunteer_hours=D("380"),
        premises_cost=D("600.00"),
        equipment_cost=D("3600.00"),
        equipment_amortisation_months=36,
        other_costs=D("200.00"),
    )
    result = services.association_month_cost(
        AssociationMonth(1, "Les Restos du Cœur 93", MARCH, True, inputs, D("12.50"))
    )
    # 160 h x 25 € + 600 + 3,600 ÷ 36 + 200
    assert result.cash.value == D("4900.00")
    assert result.cash.complete
    # 380 h x 12.50 €, never added to the cash cost
    assert result.volunteers.value == D("4750.00")


def test_volunteer_time_without_a_reference_value_is_missing():
    inputs = AssociationCost(
        month=MARCH,
        paid_staff_hours=D("0"),
        volunteer_hours=D("100"),
        premises_cost=D("0"),
        equipment_cost=D("0"),
        other_costs=D("0"),
    )
    result = services.association_month_cost(AssociationMonth(1, "Asso", MARCH, True, inputs, None))
    assert result.cash.value == D("0.00")
    assert result.cash.complete
    assert result.volunteers.value is None
    assert result.volunteers.missing == [
        "03/2025 : valorisation d'une heure de bénévolat (valeur de référence)"
    ]


@pytest.mark.parametrize(
    ("recorded", "rate", "expected", "missing"),
    [
        # The recorded cost wins.
        (D("35.00"), TransportRate(cost_per_km=D("0.60"), driver_hourly_cost=D("24")), D("35.00"), []),
        # 12 km x 0.60 € + 30 min x 24 €/h = 7.20 + 12.00
        (None, TransportRate(cost_per_km=D("0.60"), driver_hourly_cost=D("24")), D("19.20"), []),
        (None, None, None, ["barème : coût par km", "barème : coût horaire du conducteur"]),
        (None, TransportRate(cost_per_km=D("0.60")), D("7.20"), ["barème : coût horaire du conducteur"]),
    ],
)
def test_transport_cost_of_a_pickup(recorded, rate, expected, missing):
    figure = services.pickup_transport_cost(
        recorded_cost=recorded, distance_km=D("12"), duration_minutes=30, rate=rate
    )
    assert figure.value == expected
    assert figure.missing == missing


def test_months_of_a_period_are_the_months_it_touches():
    assert services.months_of(datetime.date(2025, 1, 31), datetime.date(2025, 3, 2)) == [
        datetime.date(2025, 1, 1),
        datetime.date(2025, 2, 1),
        MARCH,
    ]
    assert services.last_of_month(datetime.date(2024, 2, 10)) == datetime.date(2024, 2, 29)
    assert selectors.default_period(datetime.date(2025, 6, 15)) == (MARCH, MAY)
    assert selectors.default_period(datetime.date(2025, 1, 1)) == (
        datetime.date(2024, 10, 1),
        datetime.date(2024, 12, 1),
    )


# --- The whole method over roll-ups and inputs ---------------------------------------------


@pytest.fixture
def example(db):
    """The worked example: one partnership, its March, April and May 2025."""
    partnership = PartnershipFactory(
        kitchen__name="Cuisine de Saint-Denis", association__name="Les Restos du Cœur 93"
    )
    territory, kitchen, association = partnership.territory, partnership.kitchen, partnership.association
    authority = AuthorityFactory(territory=territory, name="CCAS de Saint-Denis")

    def rollup(day, **sums):
        DailyRollupFactory(partnership=partnership, day=day, **sums)

    # March: two days that sum to 2,000 dedicated + 500 surplus meals.
    rollup(
        datetime.date(2025, 3, 10),
        meals_produced_dedicated=1200, meals_produced_surplus=300, pickups=24, meals_picked_up=1500,
        km=D("240"), transport_cost=D("700.00"), distributions=10, meals_distributed=1400,
        meals_discarded=75, people_served=1000,
    )  # fmt: skip
    rollup(
        datetime.date(2025, 3, 20),
        meals_produced_dedicated=800, meals_produced_surplus=200, pickups=16, meals_picked_up=1000,
        km=D("160"), transport_cost=D("500.00"), distributions=8, meals_distributed=975,
        meals_discarded=50, people_served=900,
    )  # fmt: skip
    KitchenCostInputFactory(kitchen=kitchen, month=MARCH)
    AssociationCostFactory(association=association, month=MARCH)
    CoordinationCostFactory(authority=authority, month=MARCH)
    # April: energy and the hourly cost are missing, the association and coordination entered nothing,
    # 3 pickups have neither a recorded cost nor a rate.
    rollup(
        datetime.date(2025, 4, 8),
        meals_produced_dedicated=1000, pickups=20, meals_picked_up=1000, km=D("200"),
        transport_cost=D("500.00"), pickups_without_cost=3, distributions=10, meals_distributed=1000,
        people_served=800,
    )  # fmt: skip
    KitchenCostInputFactory(
        kitchen=kitchen, month=APRIL, energy_per_meal=None, labour_hourly_cost=None,
        extra_labour_hours=D("50"), surplus_handling_hours=None, other_direct_costs=D("300.00"),
    )  # fmt: skip
    # May: surplus meals only.
    rollup(
        datetime.date(2025, 5, 5),
        meals_produced_surplus=800, pickups=10, meals_picked_up=800, km=D("50"),
        transport_cost=D("250.00"), distributions=8, meals_distributed=800, people_served=400,
    )  # fmt: skip
    KitchenCostInputFactory(
        kitchen=kitchen, month=MAY, food_cost_per_meal=None, energy_per_meal=None,
        extra_labour_hours=None, packaging_per_meal=D("0.25"), surplus_handling_hours=D("16"),
        other_direct_costs=D("0"),
    )  # fmt: skip
    AssociationCostFactory(
        association=association, month=MAY, paid_staff_hours=D("0"), paid_staff_hourly_cost=None,
        volunteer_hours=D("100"), premises_cost=D("300.00"), equipment_cost=D("0"),
        equipment_amortisation_months=None, other_costs=D("20.00"),
    )  # fmt: skip
    CoordinationCostFactory(authority=authority, month=MAY, staff_hours=D("10"), other_costs=D("0"))

    ReferenceValueFactory(code="volunteer_hour_value", value=D("12.50"), valid_from=datetime.date(2025, 1, 1))
    ReferenceValueFactory(
        code="food_parcel_cost_per_meal", value=D("4.25"), valid_from=datetime.date(2025, 1, 1)
    )
    ReferenceValueFactory(
        code="social_grocery_cost_per_meal", value=D("8.00"), valid_from=datetime.date(2025, 1, 1)
    )
    # A newer value, not yet in force in the spring of 2025, is not used.
    ReferenceValueFactory(
        code="food_parcel_cost_per_meal", value=D("9.99"), valid_from=datetime.date(2025, 9, 1)
    )
    return territory


def values_of(report):
    return {figure.key: figure.value for figure in report.figures}


def test_full_cost_of_a_complete_month(example):
    report = services.territory_cost(territory_ids=[example.pk], start=MARCH, end=datetime.date(2025, 3, 31))
    values = values_of(report)
    assert values["marginal_cost_dedicated"] == D("3.60")
    assert values["marginal_cost_surplus"] == D("1.40")
    assert values["kitchen_cost"] == D("8400.00")
    assert values["transport_cost"] == D("1200.00")
    assert values["association_cost"] == D("4900.00")
    assert values["coordination_cost"] == D("1650.00")  # 40 h x 35 € + 250
    assert values["total_cost"] == D("16150.00")
    # 16,150 € ÷ 2,375 meals distributed (the 125 discarded meals still cost)
    assert values["full_cost_per_meal"] == D("6.80")
    assert values["volunteer_value"] == D("4750.00")
    assert values["total_cost_with_volunteers"] == D("20900.00")
    assert values["full_cost_per_meal_with_volunteers"] == D("8.80")
    assert values["cost_per_person"] == D("8.50")  # 16,150 € ÷ 1,900 people
    assert values["loss_rate"] == D("5.0")  # 125 ÷ (2,375 + 125)
    assert values["share_kitchen_cost"] == D("52.0")
    assert values["share_transport_cost"] == D("7.4")
    assert values["share_association_cost"] == D("30.3")
    assert values["share_coordination_cost"] == D("10.2")
    assert values["food_parcel_cost_per_meal_ratio"] == D("1.60")  # 6.80 ÷ 4.25
    assert values["food_parcel_cost_per_meal_difference"] == D("2.55")
    assert values["social_grocery_cost_per_meal_ratio"] == D("0.85")  # 6.80 ÷ 8.00
    assert values["social_grocery_cost_per_meal_difference"] == D("-1.20")
    assert report.complete, report.missing
    assert report.volumes.meals_distributed == 2375
    assert report.start == MARCH and report.end == datetime.date(2025, 3, 31)


def test_a_month_with_missing_inputs_is_flagged_incomplete_with_the_list(example):
    report = services.territory_cost(territory_ids=[example.pk], start=APRIL, end=APRIL)
    assert not report.complete
    dedicated = report.figure("marginal_cost_dedicated")
    assert dedicated.value == D("2.00")
    assert dedicated.missing == [
        "Cuisine de Saint-Denis, 04/2025 : énergie par repas",
        "Cuisine de Saint-Denis, 04/2025 : coût horaire chargé du travail",
    ]
    assert report.figure("association_cost").value is None
    assert report.figure("association_cost").missing == [
        "Les Restos du Cœur 93, 04/2025 : coûts de l'association non saisis"
    ]
    assert report.figure("coordination_cost").missing == [
        f"{example.name}, 04/2025 : coûts de coordination non saisis"
    ]
    transport = report.figure("transport_cost")
    assert transport.value == D("500.00")
    assert transport.missing == [
        "coût de transport de 3 collectes : ni coût réel saisi, ni barème du mode de transport pour le mois"
    ]
    # Known parts: kitchen 2,000 + 300, transport 500 — a lower bound, flagged.
    total = report.figure("total_cost")
    assert total.value == D("2800.00")
    assert not total.complete
    full = report.figure("full_cost_per_meal")
    assert full.value == D("2.80")
    assert set(full.missing) >= set(dedicated.missing) | set(transport.missing)
    assert "Cuisine de Saint-Denis, 04/2025 : énergie par repas" in report.missing


def test_a_month_with_surplus_meals_only_still_has_a_full_cost(example):
    report = services.territory_cost(territory_ids=[example.pk], start=MAY, end=MAY)
    dedicated = report.figure("marginal_cost_dedicated")
    assert not dedicated.applicable and dedicated.value is None and dedicated.complete
    values = values_of(report)
    assert values["marginal_cost_surplus"] == D("0.85")
    assert values["kitchen_cost"] == D("680.00")
    assert values["association_cost"] == D("320.00")  # 0 h + 300 + 0 + 20
    assert values["coordination_cost"] == D("350.00")  # 10 h x 35 €
    assert values["total_cost"] == D("1600.00")  # 680 + 250 + 320 + 350
    assert values["full_cost_per_meal"] == D("2.00")  # ÷ 800 meals
    assert values["volunteer_value"] == D("1250.00")  # 100 h x 12.50 €
    assert values["full_cost_per_meal_with_volunteers"] == D("3.56")  # 2,850 ÷ 800 = 3.5625
    assert values["cost_per_person"] == D("4.00")
    assert values["loss_rate"] == D("0.0")
    assert report.complete, report.missing


def test_a_period_of_several_months_weighs_marginal_costs_by_meals(example):
    report = services.territory_cost(territory_ids=[example.pk], start=MARCH, end=MAY)
    assert report.months == [MARCH, APRIL, MAY]
    # Surplus: (500 x 1.40 + 800 x 0.85) ÷ 1,300 = 1,380 ÷ 1,300
    assert report.figure("marginal_cost_surplus").value == D("1.06")
    assert report.figure("marginal_cost_surplus").complete
    # Dedicated: March (7,200 €) and April (known part 2,000 €) over 3,000 meals, flagged.
    dedicated = report.figure("marginal_cost_dedicated")
    assert dedicated.value == D("3.07")
    assert not dedicated.complete
    assert report.volumes.meals_distributed == 2375 + 1000 + 800
    assert not report.complete


def test_no_reference_value_means_no_comparison(example):
    ReferenceValue.objects.filter(code="social_grocery_cost_per_meal").delete()
    report = services.territory_cost(territory_ids=[example.pk], start=MARCH, end=MARCH)
    ratio = report.figure("social_grocery_cost_per_meal_ratio")
    assert ratio.value is None
    assert ratio.missing == ["valeur de référence : Coût en épicerie solidaire par équivalent repas (€)"]
    assert report.figure("food_parcel_cost_per_meal_ratio").complete


def test_inputs_of_another_territory_are_not_used(example):
    other = PartnershipFactory()
    DailyRollupFactory(partnership=other, day=datetime.date(2025, 3, 12), meals_distributed=99999)
    KitchenCostInputFactory(kitchen=other.kitchen, month=MARCH, other_direct_costs=D("99999"))
    report = services.territory_cost(territory_ids=[example.pk], start=MARCH, end=MARCH)
    assert report.figure("full_cost_per_meal").value == D("6.80")


def test_an_empty_period_says_nothing_rather_than_zero(db):
    partnership = PartnershipFactory()
    report = services.territory_cost(territory_ids=[partnership.territory_id], start=MARCH, end=MARCH)
    full = report.figure("full_cost_per_meal")
    assert full.value is None
    assert not full.complete
    assert full.missing == ["repas distribués : aucun sur la période"]


def test_cost_data_queries_do_not_grow_with_the_period_or_the_rows(example):
    def count(start, end):
        with CaptureQueriesContext(connection) as queries:
            services.territory_cost(territory_ids=[example.pk], start=start, end=end)
        return len(queries)

    one_month = count(MARCH, MARCH)
    three_months = count(MARCH, MAY)
    # The roll-ups, their actors' names, and the inputs of each kind with the reference values.
    assert one_month == three_months <= 6


def test_monthly_cost_refresh_upserts_one_row(example):
    first = services.monthly_cost_refresh(territory_id=example.pk, month=datetime.date(2025, 3, 15))
    assert first.month == MARCH
    assert first.complete
    assert first.figures["complete"] is True
    figures = {figure["key"]: figure for figure in first.figures["figures"]}
    assert figures["full_cost_per_meal"]["value"] == "6.80"
    assert figures["full_cost_per_meal"]["method"].startswith("Coût complet par repas distribué")

    KitchenCostInput.objects.filter(month=MARCH).update(energy_per_meal=None)
    again = services.monthly_cost_refresh(territory_id=example.pk, month=MARCH)
    assert MonthlyCost.objects.filter(territory=example).count() == 1
    assert again.pk == first.pk
    assert not again.complete
    assert services.monthly_cost_refresh(territory_id=example.pk, month=MARCH).figures == again.figures


def test_tables_shaped_with_pandas(example):
    table = selectors.monthly_table(territory_ids=[example.pk], start=MARCH, end=datetime.date(2025, 6, 30))
    assert list(table.index) == [MARCH, APRIL, MAY, datetime.date(2025, 6, 1)]
    assert int(table.loc[MARCH, "meals_produced_dedicated"]) == 2000
    assert int(table.loc[MAY, "meals_produced_surplus"]) == 800
    assert table.loc[MARCH, "transport_cost"] == D("1200.00")
    assert int(table.loc[datetime.date(2025, 6, 1), "meals_distributed"]) == 0

    partnerships = selectors.partnership_table(
        territory_ids=[example.pk], start=MARCH, end=datetime.date(2025, 5, 31)
    )
    assert len(partnerships) == 1
    row = partnerships.iloc[0]
    assert int(row["meals_distributed"]) == 2375 + 1000 + 800
    assert row["kitchen_name"] == "Cuisine de Saint-Denis"


def test_coordination_of_a_territory_counts_every_authority(example):
    CoordinationCost.objects.create(
        territory=example,
        authority=AuthorityFactory(territory=example, name="Mairie"),
        month=MARCH,
        staff_hours=D("10"),
        staff_hourly_cost=D("40"),
        other_costs=D("0"),
    )
    report = services.territory_cost(territory_ids=[example.pk], start=MARCH, end=MARCH)
    assert report.figure("coordination_cost").value == D("2050.00")
    assert AssociationCost.objects.count() == 2


def test_figures_without_their_inputs_have_the_same_values_and_gaps(example):
    KitchenCostInput.objects.filter(month=MARCH).update(energy_per_meal=None)
    full = services.territory_cost(territory_ids=[example.pk], start=MARCH, end=MAY)
    with services.inputs_not_recorded():
        bare = services.territory_cost(territory_ids=[example.pk], start=MARCH, end=MAY)
    # The cost pages and API show each actor-month's inputs; without them, none is built.
    assert full.kitchens[0].total.inputs and full.associations[0].cash.inputs
    assert not any(row.total.inputs for row in bare.kitchens)
    assert not any(row.cash.inputs or row.volunteers.inputs for row in bare.associations)
    assert sum(len(f.inputs) for f in bare.figures) < sum(len(f.inputs) for f in full.figures)
    assert [(f.key, f.value, f.missing, f.applicable) for f in bare.figures] == [
        (f.key, f.value, f.missing, f.applicable) for f in full.figures
    ]
    assert any("énergie" in item for item in bare.missing)
    # Recorded again once out of the block.
    again = services.territory_cost(territory_ids=[example.pk], start=MARCH, end=MAY)
    assert again.figure("total_cost").inputs
    # The same read costed without inputs first, then with them: each actor-month has its inputs.
    data = selectors.cost_data(territory_ids=[example.pk], start=MARCH, end=MAY)
    with services.inputs_not_recorded():
        assert not services.cost_report(data).kitchens[0].total.inputs
    assert services.cost_report(data).kitchens[0].total.inputs


def test_the_method_speaks_the_language_active_when_it_runs(example):
    """Messages and field labels are translated once per run of the method, in the language
    active when it started: a run in English after one in French (or the reverse) is not
    served the other's words."""
    KitchenCostInput.objects.filter(month=MARCH).update(energy_per_meal=None)
    AssociationCost.objects.filter(month=MAY).delete()
    reports = {}
    for language in ("fr", "en", "fr"):
        with translation.override(language):
            reports.setdefault(language, []).append(
                services.territory_cost(territory_ids=[example.pk], start=MARCH, end=MAY)
            )
    french, english = reports["fr"][0], reports["en"][0]
    assert french.figure("marginal_cost_dedicated").label == "Coût marginal d'un repas dédié"
    assert english.figure("marginal_cost_dedicated").label == "Marginal cost of a dedicated meal"
    assert any("énergie par repas" in item for item in french.missing)
    assert any("energy per meal" in item for item in english.missing)
    assert any("association costs not entered" in item for item in english.missing)
    assert not any("énergie" in item or "non saisis" in item for item in english.missing)
    assert reports["fr"][1].missing == french.missing
