"""The costing API: inputs with their rules and roles, roll-ups, the cost figures, query counts."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from costing.models import (
    AssociationCost,
    CoordinationCost,
    Funding,
    KitchenCostInput,
    MonthlyCost,
    ReferenceValue,
    TransportRate,
)
from territories.roles import Role
from tests.factories import (
    AssociationCostFactory,
    AssociationFactory,
    AuthorityFactory,
    CoordinationCostFactory,
    DailyRollupFactory,
    FundingFactory,
    KitchenCostInputFactory,
    KitchenFactory,
    PartnershipFactory,
    ReferenceValueFactory,
    TerritoryFactory,
    TransportRateFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

MARCH = "2025-03-01"

KITCHEN_INPUT = {
    "month": MARCH,
    "food_cost_per_meal": "1.80",
    "packaging_per_meal": "0.20",
    "energy_per_meal": "0.10",
    "extra_labour_hours": "100",
    "labour_hourly_cost": "30.00",
    "surplus_handling_hours": "20",
    "other_direct_costs": "500.00",
}
ASSOCIATION_COST = {
    "month": MARCH,
    "paid_staff_hours": "160",
    "paid_staff_hourly_cost": "25.00",
    "volunteer_hours": "380",
    "premises_cost": "600.00",
    "equipment_cost": "3600.00",
    "equipment_amortisation_months": 36,
    "other_costs": "200.00",
}


@pytest.fixture
def kitchen():
    return KitchenFactory(name="Cuisine de Saint-Denis")


@pytest.fixture
def manager(kitchen):
    return member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen)


def post_kitchen_input(api, own_kitchen, **changes):
    return api.post(
        "/api/v1/cost-inputs/",
        {**KITCHEN_INPUT, "territory": own_kitchen.territory_id, "kitchen": own_kitchen.pk, **changes},
    )


# --- Kitchen inputs ---------------------------------------------------------------------


def test_kitchen_manager_enters_the_months_inputs_and_the_monthly_cost_is_refreshed(
    api, kitchen, manager, django_capture_on_commit_callbacks
):
    api.force_authenticate(manager)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_kitchen_input(api, kitchen)
    assert response.status_code == 201, response.json()
    assert response.json()["food_cost_per_meal"] == "1.80"
    assert len(callbacks) == 1
    monthly = MonthlyCost.objects.get(territory=kitchen.territory, month=datetime.date(2025, 3, 1))
    assert not monthly.complete  # no roll-up yet: no meal distributed, nothing to divide by

    row = KitchenCostInput.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"/api/v1/cost-inputs/{row.pk}/", {"month": "2025-04-01"})
    assert response.status_code == 200, response.json()
    # The month it left and the month it joined are both refreshed.
    assert set(MonthlyCost.objects.values_list("month", flat=True)) == {
        datetime.date(2025, 3, 1),
        datetime.date(2025, 4, 1),
    }


def test_empty_inputs_stay_empty_never_zero(api, kitchen, manager):
    api.force_authenticate(manager)
    response = post_kitchen_input(api, kitchen, energy_per_meal=None, other_direct_costs=None)
    assert response.status_code == 201, response.json()
    row = KitchenCostInput.objects.get()
    assert row.energy_per_meal is None
    assert row.other_direct_costs is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"food_cost_per_meal": "-1.00"}, "food_cost_per_meal"),
        ({"extra_labour_hours": "-3"}, "extra_labour_hours"),
        ({"month": "2025-03-15"}, "month"),
        ({"month": "mars"}, "month"),
        ({"kitchen": 999999}, "kitchen"),
    ],
)
def test_bad_kitchen_inputs_answer_400_and_write_nothing(api, kitchen, manager, change, field):
    api.force_authenticate(manager)
    response = post_kitchen_input(api, kitchen, **change)
    assert response.status_code == 400
    assert field in response.json()
    assert not KitchenCostInput.objects.exists()
    assert not MonthlyCost.objects.exists()


def test_a_kitchen_of_another_territory_answers_400(api, kitchen, manager):
    elsewhere = KitchenFactory()
    api.force_authenticate(manager)
    # Out of the caller's scope: the kitchen reads as unknown.
    response = post_kitchen_input(api, kitchen, kitchen=elsewhere.pk)
    assert response.status_code == 400
    assert "kitchen" in response.json()
    # Another territory for the caller's own kitchen.
    response = post_kitchen_input(api, kitchen, territory=elsewhere.territory_id)
    assert response.status_code == 400
    assert "territory" in response.json()
    # Staff see both territories: the model's rule still refuses a kitchen of another territory.
    api.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
    response = post_kitchen_input(api, kitchen, kitchen=elsewhere.pk)
    assert response.status_code == 400
    assert response.json()["kitchen"] == ["Cette cuisine appartient à un autre territoire."]
    assert not KitchenCostInput.objects.exists()


def test_one_row_per_kitchen_and_month(api, kitchen, manager):
    KitchenCostInputFactory(kitchen=kitchen)
    api.force_authenticate(manager)
    response = post_kitchen_input(api, kitchen)
    assert response.status_code == 400
    assert KitchenCostInput.objects.count() == 1


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR])
def test_other_roles_cannot_write_kitchen_inputs(api, kitchen, role):
    api.force_authenticate(member(role, kitchen.territory))
    response = post_kitchen_input(api, kitchen)
    assert response.status_code == 403
    assert not KitchenCostInput.objects.exists()
    row = KitchenCostInputFactory(kitchen=kitchen)
    assert api.get(f"/api/v1/cost-inputs/{row.pk}/").status_code == 200
    assert api.patch(f"/api/v1/cost-inputs/{row.pk}/", {"food_cost_per_meal": "9"}).status_code == 403
    assert api.delete(f"/api/v1/cost-inputs/{row.pk}/").status_code == 403
    assert KitchenCostInput.objects.get(pk=row.pk).food_cost_per_meal == Decimal("1.80")


def test_kitchen_manager_cannot_write_another_kitchens_inputs(api, kitchen, manager):
    neighbour = KitchenFactory(territory=kitchen.territory)
    api.force_authenticate(manager)
    response = post_kitchen_input(api, neighbour)
    assert response.status_code == 403
    assert not KitchenCostInput.objects.exists()
    row = KitchenCostInputFactory(kitchen=neighbour)
    response = api.patch(f"/api/v1/cost-inputs/{row.pk}/", {"food_cost_per_meal": "0.01"})
    assert response.status_code == 403
    assert KitchenCostInput.objects.get(pk=row.pk).food_cost_per_meal == Decimal("1.80")
    # Moving the own kitchen's row onto the neighbour is refused too.
    own = KitchenCostInputFactory(kitchen=kitchen, month=datetime.date(2025, 4, 1))
    response = api.patch(f"/api/v1/cost-inputs/{own.pk}/", {"kitchen": neighbour.pk})
    assert response.status_code == 403
    assert KitchenCostInput.objects.get(pk=own.pk).kitchen_id == kitchen.pk


def test_kitchen_inputs_filters(api, kitchen, manager):
    KitchenCostInputFactory(kitchen=kitchen, month=datetime.date(2025, 1, 1))
    KitchenCostInputFactory(kitchen=kitchen, month=datetime.date(2025, 3, 1))
    KitchenCostInputFactory(kitchen=kitchen, month=datetime.date(2025, 6, 1))
    other = KitchenFactory()
    api.force_authenticate(manager)
    body = api.get("/api/v1/cost-inputs/", {"month_after": "2025-02-01", "month_before": "2025-05-01"}).json()
    assert [row["month"] for row in body["results"]] == ["2025-03-01"]
    assert api.get("/api/v1/cost-inputs/", {"kitchen": kitchen.pk}).json()["count"] == 3
    response = api.get("/api/v1/cost-inputs/", {"kitchen": other.pk})
    assert response.status_code == 400
    assert "kitchen" in response.json()
    assert api.get("/api/v1/cost-inputs/", {"territory": other.territory_id}).status_code == 400


# --- Association, coordination, transport --------------------------------------------------


def test_association_coordinator_enters_the_associations_costs(api):
    association = AssociationFactory()
    api.force_authenticate(
        member(Role.ASSOCIATION_COORDINATOR, association.territory, association=association)
    )
    payload = {**ASSOCIATION_COST, "territory": association.territory_id, "association": association.pk}
    response = api.post("/api/v1/association-costs/", payload)
    assert response.status_code == 201, response.json()

    response = api.post(
        "/api/v1/association-costs/",
        {**payload, "month": "2025-04-01", "equipment_amortisation_months": None},
    )
    assert response.status_code == 400
    assert "equipment_amortisation_months" in response.json()
    response = api.post(
        "/api/v1/association-costs/", {**payload, "month": "2025-04-01", "premises_cost": "-5"}
    )
    assert response.status_code == 400
    assert AssociationCost.objects.count() == 1


def test_association_outside_scope_or_of_another_association_is_refused(api):
    association = AssociationFactory()
    elsewhere = AssociationFactory()
    neighbour = AssociationFactory(territory=association.territory)
    api.force_authenticate(
        member(Role.ASSOCIATION_COORDINATOR, association.territory, association=association)
    )
    payload = {**ASSOCIATION_COST, "territory": association.territory_id}
    assert api.post("/api/v1/association-costs/", {**payload, "association": elsewhere.pk}).status_code == 400
    assert api.post("/api/v1/association-costs/", {**payload, "association": neighbour.pk}).status_code == 403
    volunteer = member(Role.VOLUNTEER, association.territory, association=association)
    api.force_authenticate(volunteer)
    assert (
        api.post("/api/v1/association-costs/", {**payload, "association": association.pk}).status_code == 403
    )
    assert not AssociationCost.objects.exists()


def test_authority_coordinator_enters_coordination_costs_and_transport_rates(
    api, django_capture_on_commit_callbacks
):
    authority = AuthorityFactory()
    territory = authority.territory
    other_authority = AuthorityFactory(territory=territory)
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, territory, authority=authority))
    payload = {
        "territory": territory.pk,
        "month": MARCH,
        "staff_hours": "40",
        "staff_hourly_cost": "35",
        "other_costs": "250",
    }
    assert api.post("/api/v1/coordination-costs/", {**payload, "authority": authority.pk}).status_code == 201
    assert (
        api.post("/api/v1/coordination-costs/", {**payload, "authority": other_authority.pk}).status_code
        == 403
    )
    assert CoordinationCost.objects.count() == 1

    rate = {
        "territory": territory.pk,
        "month": MARCH,
        "transport_mode": "association_vehicle",
        "cost_per_km": "0.60",
        "driver_hourly_cost": "24",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/transport-costs/", rate).status_code == 201
    assert MonthlyCost.objects.filter(territory=territory, month=datetime.date(2025, 3, 1)).exists()
    assert api.post("/api/v1/transport-costs/", rate).status_code == 400  # one per mode and month
    assert api.post("/api/v1/transport-costs/", {**rate, "transport_mode": "teleport"}).status_code == 400
    assert (
        api.post("/api/v1/transport-costs/", {**rate, "month": "2025-04-01", "cost_per_km": "-1"}).status_code
        == 400
    )
    assert TransportRate.objects.count() == 1

    api.force_authenticate(member(Role.KITCHEN_MANAGER, territory))
    assert api.post("/api/v1/transport-costs/", {**rate, "month": "2025-05-01"}).status_code == 403
    assert TransportRate.objects.count() == 1


def test_an_authority_of_another_territory_answers_400(api):
    authority = AuthorityFactory()
    elsewhere = AuthorityFactory()
    api.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
    payload = {
        "territory": authority.territory_id,
        "authority": elsewhere.pk,
        "month": MARCH,
        "staff_hours": "1",
    }
    response = api.post("/api/v1/coordination-costs/", payload)
    assert response.status_code == 400
    assert response.json()["authority"] == ["Cette collectivité appartient à un autre territoire."]
    assert not CoordinationCost.objects.exists()


def test_a_transport_rate_rebuilds_the_months_rollups(api, monkeypatch, django_capture_on_commit_callbacks):
    from costing import tasks

    queued = []
    monkeypatch.setattr(
        tasks, "enqueue_rollups", lambda territory_id, days: queued.append((territory_id, days))
    )
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, territory))
    rate = {
        "territory": territory.pk,
        "month": "2025-02-01",
        "transport_mode": "third_party",
        "cost_per_km": "1",
        "driver_hourly_cost": "20",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/transport-costs/", rate).status_code == 201
    assert queued == [(territory.pk, {datetime.date(2025, 2, day) for day in range(1, 29)})]


# --- Fundings and reference values ------------------------------------------------------


def test_fundings_by_evaluators_and_authority_coordinators(api):
    territory = TerritoryFactory()
    payload = {
        "territory": territory.pk,
        "funder": "carasso",
        "amount": "25000",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
    }
    api.force_authenticate(member(Role.EVALUATOR))
    assert api.post("/api/v1/fundings/", payload).status_code == 201
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, territory))
    assert api.post("/api/v1/fundings/", {**payload, "funder": "drihl"}).status_code == 201
    response = api.post("/api/v1/fundings/", {**payload, "period_end": "2024-12-31"})
    assert response.status_code == 400
    assert "period_end" in response.json()
    assert api.post("/api/v1/fundings/", {**payload, "amount": "-1"}).status_code == 400
    api.force_authenticate(member(Role.KITCHEN_MANAGER, territory))
    assert api.post("/api/v1/fundings/", payload).status_code == 403
    assert Funding.objects.count() == 2
    body = api.get("/api/v1/fundings/", {"month_after": "2025-06-01", "month_before": "2025-06-30"}).json()
    assert body["count"] == 2
    assert api.get("/api/v1/fundings/", {"month_after": "2026-01-01"}).json()["count"] == 0


def test_reference_values_written_by_evaluators_read_by_everyone(api):
    payload = {
        "code": "food_parcel_cost_per_meal",
        "value": "4.25",
        "source": "Étude",
        "source_date": "2024-06-01",
        "valid_from": "2025-01-01",
    }
    api.force_authenticate(member(Role.KITCHEN_MANAGER, TerritoryFactory()))
    assert api.post("/api/v1/reference-values/", payload).status_code == 403
    api.force_authenticate(member(Role.EVALUATOR))
    assert api.post("/api/v1/reference-values/", payload).status_code == 201
    assert (
        api.post(
            "/api/v1/reference-values/", {**payload, "value": "-1", "valid_from": "2025-02-01"}
        ).status_code
        == 400
    )
    value = ReferenceValue.objects.get()
    for user in (
        member(Role.VOLUNTEER, TerritoryFactory()),
        member(Role.FUNDER, funded=[TerritoryFactory()]),
    ):
        api.force_authenticate(user)
        assert api.get("/api/v1/reference-values/").json()["count"] == 1
        assert api.patch(f"/api/v1/reference-values/{value.pk}/", {"value": "1"}).status_code == 403
    assert ReferenceValue.objects.get().value == Decimal("4.25")


# --- Query counts -----------------------------------------------------------------------


def count_queries(api, url):
    api.get(url)  # warm up: the user's memberships are then cached on the forced user
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
        assert response.status_code == 200
    return len(queries), response.json()


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/v1/cost-inputs/", lambda t, i: KitchenCostInputFactory(kitchen=KitchenFactory(territory=t))),
        (
            "/api/v1/transport-costs/",
            lambda t, i: TransportRateFactory(territory=t, month=datetime.date(2000 + i, 1, 1)),
        ),
        (
            "/api/v1/association-costs/",
            lambda t, i: AssociationCostFactory(association=AssociationFactory(territory=t)),
        ),
        (
            "/api/v1/coordination-costs/",
            lambda t, i: CoordinationCostFactory(authority=AuthorityFactory(territory=t)),
        ),
        ("/api/v1/fundings/", lambda t, i: FundingFactory(territory=t)),
        ("/api/v1/reference-values/", lambda t, i: ReferenceValueFactory()),
        ("/api/v1/rollups/", lambda t, i: DailyRollupFactory(partnership=PartnershipFactory(territory=t))),
        (
            "/api/v1/rollups/?granularity=month",
            lambda t, i: DailyRollupFactory(partnership=PartnershipFactory(territory=t)),
        ),
    ],
)
def test_list_queries_do_not_grow_with_rows(api, url, make):
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, territory))
    for i in range(2):
        make(territory, i)
    few, body = count_queries(api, url)
    assert body["count"] == 2
    for i in range(2, 20):
        make(territory, i)
    many, body = count_queries(api, url)
    assert body["count"] == 20
    assert few == many


# --- Roll-ups ---------------------------------------------------------------------------


@pytest.fixture
def rollups():
    partnership = PartnershipFactory()
    second = PartnershipFactory(territory=partnership.territory, kitchen=partnership.kitchen)
    for day, meals in (
        (datetime.date(2025, 3, 3), 100),
        (datetime.date(2025, 3, 17), 50),
        (datetime.date(2025, 4, 2), 30),
    ):
        DailyRollupFactory(
            partnership=partnership,
            day=day,
            meals_produced_dedicated=meals,
            meals_distributed=meals - 1,
            km=Decimal("2.5"),
            transport_cost=Decimal("10.25"),
        )
    DailyRollupFactory(
        partnership=second, day=datetime.date(2025, 3, 5), meals_produced_surplus=7, meals_distributed=7
    )
    DailyRollupFactory(day=datetime.date(2025, 3, 3), meals_produced_dedicated=999)  # another territory
    return partnership, second


def test_rollups_by_month_are_summed_per_kitchen_and_association(api, rollups):
    partnership, second = rollups
    api.force_authenticate(member(Role.VOLUNTEER, partnership.territory))
    body = api.get("/api/v1/rollups/", {"granularity": "month"}).json()
    rows = body["results"]
    assert body["count"] == 3
    march = next(
        row
        for row in rows
        if row["month"] == "2025-03-01" and row["association"] == partnership.association_id
    )
    assert march["meals_produced_dedicated"] == 150
    assert march["meals_distributed"] == 148
    assert march["km"] == "5.00"
    assert march["transport_cost"] == "20.50"
    assert march["territory"] == partnership.territory_id
    assert march["kitchen"] == partnership.kitchen_id
    body = api.get("/api/v1/rollups/", {"granularity": "month", "start": "2025-04-01"}).json()
    assert [(row["month"], row["meals_produced_dedicated"]) for row in body["results"]] == [
        ("2025-04-01", 30)
    ]
    body = api.get("/api/v1/rollups/", {"granularity": "month", "association": second.association_id}).json()
    assert [row["meals_produced_surplus"] for row in body["results"]] == [7]


def test_rollups_by_day_and_their_filters(api, rollups):
    partnership, _ = rollups
    api.force_authenticate(member(Role.KITCHEN_MANAGER, partnership.territory))
    body = api.get("/api/v1/rollups/").json()
    assert body["count"] == 4
    assert body["results"][0]["day"] == "2025-04-02"
    body = api.get(
        "/api/v1/rollups/", {"partnership": partnership.pk, "start": "2025-03-01", "end": "2025-03-31"}
    ).json()
    assert body["count"] == 2
    assert api.get("/api/v1/rollups/", {"granularity": "year"}).status_code == 400
    assert api.get("/api/v1/rollups/", {"territory": TerritoryFactory().pk}).status_code == 400
    row = body["results"][0]
    assert api.patch(f"/api/v1/rollups/{row['id']}/", {"meals_distributed": 0}).status_code == 405


# --- Cost figures -----------------------------------------------------------------------


@pytest.fixture
def costed():
    partnership = PartnershipFactory()
    DailyRollupFactory(
        partnership=partnership,
        day=datetime.date(2025, 3, 10),
        meals_produced_dedicated=2000,
        meals_distributed=2000,
        people_served=1000,
    )
    KitchenCostInputFactory(kitchen=partnership.kitchen, surplus_handling_hours=None)
    return partnership.territory


def test_costs_answer_each_figure_with_inputs_method_and_completeness(api, costed):
    api.force_authenticate(member(Role.VOLUNTEER, costed))
    response = api.get("/api/v1/costs/", {"territory": costed.pk, "start": "2025-03-01", "end": "2025-03-31"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["territories"] == [costed.pk]
    assert body["months"] == ["2025-03-01"]
    figures = {figure["key"]: figure for figure in body["figures"]}
    dedicated = figures["marginal_cost_dedicated"]
    assert dedicated["value"] == "3.60"
    assert dedicated["complete"] is True
    assert dedicated["method"].startswith("Coût marginal d'un repas dédié")
    assert any(item["value"] == "1.80" for item in dedicated["inputs"])
    # No association costs nor coordination were entered: the full cost says so.
    full = figures["full_cost_per_meal"]
    assert full["complete"] is False
    assert any("coûts de coordination non saisis" in item for item in full["missing"])
    assert body["complete"] is False
    assert not figures["marginal_cost_surplus"]["applicable"]


def test_costs_of_a_territory_out_of_scope_answer_404(api, costed):
    other = TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, other))
    params = {"territory": costed.pk, "start": "2025-03-01", "end": "2025-03-31"}
    assert api.get("/api/v1/costs/", params).status_code == 404
    assert api.get("/api/v1/costs/", {**params, "territory": 999999}).status_code == 404
    api.force_authenticate(member(Role.FUNDER, funded=[other]))
    assert api.get("/api/v1/costs/", params).status_code == 404
    api.force_authenticate(member(Role.FUNDER, funded=[costed]))
    assert api.get("/api/v1/costs/", params).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2025-03-01"}, "end"),
        ({"start": "mars", "end": "2025-03-31"}, "start"),
        ({"start": "2025-03-01", "end": "2025-02-28"}, "end"),
        ({"start": "2023-01-01", "end": "2025-02-28"}, "end"),
        ({"start": "2000-01-01", "end": "2025-02-28"}, "start"),
        ({"start": "9999-01-01", "end": "9999-12-31"}, "start"),
        ({"territory": "abc", "start": "2025-03-01", "end": "2025-03-31"}, "territory"),
    ],
)
def test_bad_cost_parameters_answer_400_with_field_messages(api, costed, params, field):
    api.force_authenticate(member(Role.VOLUNTEER, costed))
    response = api.get("/api/v1/costs/", {"territory": costed.pk, **params})
    assert response.status_code == 400
    assert field in response.json()


def test_territory_is_required_unless_evaluator(api, costed):
    params = {"start": "2025-03-01", "end": "2025-03-31"}
    api.force_authenticate(member(Role.VOLUNTEER, costed))
    response = api.get("/api/v1/costs/", params)
    assert response.status_code == 400
    assert response.json()["territory"] == ["Indiquez le territoire."]
    api.force_authenticate(member(Role.EVALUATOR))
    response = api.get("/api/v1/costs/", params)
    assert response.status_code == 200
    figures = {figure["key"]: figure for figure in response.json()["figures"]}
    assert figures["marginal_cost_dedicated"]["value"] == "3.60"


def test_costs_queries_do_not_grow_with_rows(api, costed):
    api.force_authenticate(member(Role.VOLUNTEER, costed))
    url = f"/api/v1/costs/?territory={costed.pk}&start=2025-01-01&end=2025-12-31"
    few, _ = count_queries(api, url)
    for day in range(1, 20):
        DailyRollupFactory(
            partnership=PartnershipFactory(territory=costed),
            day=datetime.date(2025, 5, day),
            meals_distributed=3,
        )
    many, _ = count_queries(api, url)
    assert few == many


def test_deleting_an_input_refreshes_its_month(api, kitchen, manager, django_capture_on_commit_callbacks):
    row = KitchenCostInputFactory(kitchen=kitchen)
    api.force_authenticate(manager)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/cost-inputs/{row.pk}/").status_code == 204
    assert not KitchenCostInput.objects.exists()
    assert MonthlyCost.objects.filter(territory=kitchen.territory, month=datetime.date(2025, 3, 1)).exists()
