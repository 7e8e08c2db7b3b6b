# ruff: noqa: RUF003 - the expected numbers are worked out with the sign × of French arithmetic
"""The indicators on a small hand-built data set: roll-up rows and cost inputs written directly,
every expected number worked out by hand in the comments.

Territory "Plaine" in March 2025 (31 days, 31/7 weeks): one kitchen (usual production 6,000
meals a day) and two associations; partnership P1 (planned 700 meals a week) and P2 (surplus
only, planned 350 a week).

    day    p.  batches ded. surp. pickups on-time recv. breaches km  transp. dist. meals disc. people exp.
    03-03  P1  1       300  0     1       1       300   0/0      10  20.00   1     290   10    250    0
    03-04  P1  2       300  100   2       1       400   1/1      12  30.00   1     380   20    300    0
    03-04  P2  1       0    200   1       1       200   0/0      8   10.00   1     200   0     150    1
    03-20  P2  0       0    0     0       0       0     0/0      0   0       1     130   0     100    0

(breaches: at dispatch / on receipt; exp.: batches still ready past their use-by date.)
Plus a roll-up on 1 April (outside the period) and one of another territory, which must not count.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from costing import services as cost_services
from costing.models import ReferenceValue
from evaluation import selectors
from evaluation.indicators import SPECS, Question, compute_indicators, side_by_side
from territories.models import Membership
from territories.roles import Role
from tests.factories import (
    AssociationCostFactory,
    AssociationFactory,
    AuthorityFactory,
    CoordinationCostFactory,
    DailyRollupFactory,
    JournalEntryFactory,
    KitchenCostInputFactory,
    KitchenFactory,
    PartnershipFactory,
    ReferenceValueFactory,
    SurveyFactory,
    SurveyQuestionFactory,
    SurveyResponseFactory,
    TerritoryFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = datetime.date(2025, 3, 1)
MARCH_END = datetime.date(2025, 3, 31)
APRIL = datetime.date(2025, 4, 1)


def day(number: int) -> datetime.date:
    return datetime.date(2025, 3, number)


class World:
    """The data set of the module docstring."""

    def __init__(self, *, costs: bool = True) -> None:
        self.territory = TerritoryFactory(name="Plaine")
        self.kitchen = KitchenFactory(territory=self.territory, name="Cuisine de la Plaine")
        self.a1 = AssociationFactory(territory=self.territory, name="Restos de la Plaine")
        self.a2 = AssociationFactory(territory=self.territory, name="Épicerie de la Plaine")
        self.authority = AuthorityFactory(territory=self.territory, name="CCAS de la Plaine")
        self.p1 = PartnershipFactory(
            territory=self.territory, kitchen=self.kitchen, association=self.a1, planned_meals_per_week=700
        )
        self.p2 = PartnershipFactory(
            territory=self.territory,
            kitchen=self.kitchen,
            association=self.a2,
            mode="surplus",
            planned_meals_per_week=350,
        )
        # A draft convention plans nothing yet.
        PartnershipFactory(
            territory=self.territory, kitchen=self.kitchen, association=self.a2, status="draft"
        )
        DailyRollupFactory(
            partnership=self.p1, day=day(3), batches=1, meals_produced_dedicated=300,
            pickups=1, pickups_on_time=1, meals_picked_up=300, km=D("10.0"), transport_cost=D("20.00"),
            distributions=1, meals_distributed=290, meals_discarded=10, people_served=250,
        )  # fmt: skip
        DailyRollupFactory(
            partnership=self.p1, day=day(4), batches=2, meals_produced_dedicated=300,
            meals_produced_surplus=100, dispatch_breaches=1, pickups=2, pickups_on_time=1,
            meals_picked_up=400, receipt_breaches=1, km=D("12.0"), transport_cost=D("30.00"),
            distributions=1, meals_distributed=380, meals_discarded=20, people_served=300,
        )  # fmt: skip
        DailyRollupFactory(
            partnership=self.p2, day=day(4), batches=1, meals_produced_surplus=200, batches_expired=1,
            pickups=1, pickups_on_time=1, meals_picked_up=200, km=D("8.0"), transport_cost=D("10.00"),
            distributions=1, meals_distributed=200, people_served=150,
        )  # fmt: skip
        DailyRollupFactory(
            partnership=self.p2, day=day(20), distributions=1, meals_distributed=130, people_served=100
        )
        # Outside the period, and another territory: never counted.
        DailyRollupFactory(
            partnership=self.p1, day=APRIL, distributions=1, meals_distributed=999, people_served=9
        )
        DailyRollupFactory(day=day(10), distributions=1, meals_distributed=5000, people_served=4000)

        ReferenceValueFactory(code="meal_weight_kg", value=D("0.4"), valid_from=datetime.date(2024, 1, 1))
        ReferenceValueFactory(
            code="co2_kg_per_kg_waste", value=D("2.5"), valid_from=datetime.date(2024, 1, 1)
        )
        ReferenceValueFactory(
            code="volunteer_hour_value", value=D("15"), valid_from=datetime.date(2024, 1, 1)
        )
        ReferenceValueFactory(
            code="food_parcel_cost_per_meal", value=D("4.00"), valid_from=datetime.date(2024, 1, 1)
        )
        if costs:
            KitchenCostInputFactory(
                kitchen=self.kitchen, month=MARCH
            )  # 1.80, 0.20, 0.10; 100 h, 20 h at 30 €; 500 €
            AssociationCostFactory(
                association=self.a1, month=MARCH, paid_staff_hours=D("10"), paid_staff_hourly_cost=D("20"),
                volunteer_hours=D("50"), premises_cost=D("100"), equipment_cost=D("0"),
                equipment_amortisation_months=None, other_costs=D("0"),
            )  # fmt: skip
            AssociationCostFactory(
                association=self.a2, month=MARCH, paid_staff_hours=D("0"), paid_staff_hourly_cost=None,
                volunteer_hours=D("30"), premises_cost=D("50"), equipment_cost=D("0"),
                equipment_amortisation_months=None, other_costs=D("50"),
            )  # fmt: skip
            CoordinationCostFactory(
                authority=self.authority, month=MARCH, staff_hours=D("10"), staff_hourly_cost=D("40"),
                other_costs=D("0"),
            )  # fmt: skip

    def indicators(self, start: datetime.date = MARCH, end: datetime.date = MARCH_END):
        return compute_indicators(territory_ids=[self.territory.pk], start=start, end=end)


@pytest.fixture
def world():
    return World()


def values(result) -> dict[str, object]:
    return {indicator.code: indicator.value for indicator in result.indicators}


def test_every_indicator_has_a_label_definition_unit_and_question_and_is_documented(world):
    docs = (Path(__file__).parents[2] / "docs" / "indicators.md").read_text(encoding="utf-8")
    result = world.indicators()
    codes = [indicator.code for indicator in result.indicators]
    assert len(codes) == len(set(codes))
    assert {spec.code for spec in SPECS} <= set(codes)
    for indicator in result.indicators:
        assert indicator.label and indicator.definition and indicator.unit
        assert indicator.question in Question.values
    for spec in SPECS:
        assert f"`{spec.code}`" in docs, spec.code


def test_needs(world):
    result = world.indicators()
    assert result.get("meals_distributed").value == 1000  # 290 + 380 + 200 + 130
    assert result.get("people_served").value == 800  # 250 + 300 + 150 + 100
    assert result.get("meals_per_person").value == D("1.25")  # 1000 ÷ 800
    # 3 days with a distribution (3, 4 and 20 March) ÷ (31 ÷ 7) weeks = 0.677…
    assert result.get("distribution_days_per_week").value == D("0.68")
    # Planned: (700 + 350) × 31 ÷ 7 = 4,650 (the draft convention plans nothing); 1000 ÷ 4650 = 21.5 %
    assert result.get("planned_meals_delivered_share").value == D("21.5")
    for code in ("meals_distributed", "people_served", "meals_per_person", "planned_meals_delivered_share"):
        assert result.get(code).question == Question.NEEDS
        assert result.get(code).complete


def test_a_partnership_counts_only_the_days_of_its_convention_within_the_period(world):
    world.p2.starts_on = day(15)  # 17 days of March: 350 × 17 ÷ 7 = 850; 700 × 31 ÷ 7 = 3,100
    world.p2.save()
    assert world.indicators().get("planned_meals_delivered_share").value == D("25.3")  # 1000 ÷ 3950


def test_cost_indicators_are_the_cost_methods_figures(world):
    result = world.indicators()
    # Kitchen: dedicated 2.10 + 100 h × 30 € ÷ 600 = 7.10; surplus 0.20 + 20 h × 30 € ÷ 300 = 2.20
    assert result.get("marginal_cost_dedicated").value == D("7.10")
    assert result.get("marginal_cost_surplus").value == D("2.20")
    # 600 × 7.10 + 300 × 2.20 + 500 = 5,420; transport 60; associations (200 + 100) + (50 + 50) = 400;
    # coordination 10 h × 40 € = 400. Total 6,280 ÷ 1,000 meals distributed.
    assert result.get("full_cost_per_meal").value == D("6.28")
    # Volunteers: (50 + 30) h × 15 € = 1,200; 7,480 ÷ 1,000
    assert result.get("full_cost_per_meal_with_volunteers").value == D("7.48")
    assert result.get("cost_per_person").value == D("7.85")  # 6,280 ÷ 800
    assert result.get("food_parcel_cost_per_meal_ratio").value == D("1.57")  # 6.28 ÷ 4.00
    assert result.get("food_parcel_cost_per_meal_difference").value == D("2.28")
    for code in ("full_cost_per_meal", "full_cost_per_meal_with_volunteers", "cost_per_person"):
        assert result.get(code).complete, result.get(code).missing
    # No reference value for the social grocery: flagged, never zero.
    grocery = result.get("social_grocery_cost_per_meal_ratio")
    assert grocery.value is None
    assert not grocery.complete
    assert any("épicerie solidaire" in item for item in grocery.missing)

    # The same figures as the cost method for the same territory and months (no recomputation).
    report = cost_services.territory_cost(territory_ids=[world.territory.pk], start=MARCH, end=MARCH_END)
    for code in ("full_cost_per_meal", "marginal_cost_dedicated", "cost_per_person"):
        assert result.get(code).value == report.figure(code).value
    assert (result.cost_start, result.cost_end) == (MARCH, MARCH_END)


def test_a_territory_without_cost_inputs_has_its_cost_indicators_flagged_incomplete():
    bare = World(costs=False)
    result = bare.indicators()
    full = result.get("full_cost_per_meal")
    assert not full.complete
    assert "Cuisine de la Plaine, 03/2025 : coûts de la cuisine non saisis" in full.missing
    assert "Restos de la Plaine, 03/2025 : coûts de l'association non saisis" in full.missing
    # The known part only (transport, 60 €): a lower bound, shown as incomplete, never a silent figure.
    assert full.value == D("0.06")
    assert result.get("marginal_cost_dedicated").value is None
    assert not result.get("marginal_cost_dedicated").complete
    # Hours are missing too, not zero.
    assert result.get("volunteer_hours").value is None
    assert "Restos de la Plaine, 03/2025 : coûts du mois non saisis" in result.get("volunteer_hours").missing
    assert not result.complete
    # Volumes do not depend on costs.
    assert result.get("meals_distributed").value == 1000


def test_logistics_and_safety(world):
    result = world.indicators()
    assert result.get("pickups_on_time_share").value == D("60.0")  # 3 on time ÷ (4 pickups + 1 expired)
    assert result.get("batches_expired").value == 1
    assert result.get("temperature_compliance_share").value == D("75.0")  # 1 − 1 ÷ 4
    assert result.get("dispatch_breaches").value == 1
    assert result.get("meals_discarded").value == 30
    assert result.get("loss_rate").value == D("2.9")  # 30 lost ÷ (1,000 distributed + 30 lost)
    assert result.get("km_per_meal").value == D("0.033")  # 30 km ÷ 900 meals picked up


def test_production(world):
    result = world.indicators()
    assert result.get("dedicated_meals").value == 600
    assert result.get("surplus_meals").value == 300
    # 600 dedicated ÷ (6,000 a day × 2 days with dedicated meals) = 5 %
    share = result.get("dedicated_share_of_production")
    assert share.value == D("5.0")
    assert share.breakdown == [
        {
            "kitchen": world.kitchen.pk,
            "kitchen_name": "Cuisine de la Plaine",
            "dedicated_meals": 600,
            "days": 2,
            "usual_daily_production": 6000,
            "share": D("5.0"),
        }
    ]


def test_dedicated_share_does_not_apply_without_dedicated_meals():
    territory = TerritoryFactory()
    DailyRollupFactory(partnership=PartnershipFactory(territory=territory), meals_produced_surplus=50)
    share = compute_indicators(territory_ids=[territory.pk], start=MARCH, end=MARCH_END).get(
        "dedicated_share_of_production"
    )
    assert share.value is None
    assert not share.applicable
    assert share.complete


def test_impact(world):
    result = world.indicators()
    # Surplus distributed: P1 670 × 100 ÷ 700 (its production mix) + P2 330 (surplus only) = 425.71…
    # × 0.4 kg = 170.29 kg; × 2.5 kg CO2 per kg = 425.71 kg
    assert result.get("food_waste_avoided_kg").value == D("170.3")
    assert result.get("co2_avoided_kg").value == D("425.7")
    assert result.get("paid_staff_hours").value == D("10")
    assert result.get("volunteer_hours").value == D("80")
    assert result.get("food_waste_avoided_kg").question == Question.IMPACT


def test_impact_without_reference_values_is_missing_not_zero(world):
    ReferenceValue.objects.filter(code="meal_weight_kg").delete()
    result = world.indicators()
    for code in ("food_waste_avoided_kg", "co2_avoided_kg"):
        assert result.get(code).value is None
        assert "valeur de référence : Poids moyen d'un repas (kg)" in result.get(code).missing


def test_staff_involved_counts_each_active_user_of_the_territory_once(world):
    member(Role.AUTHORITY_COORDINATOR, world.territory, authority=world.authority)
    member(Role.KITCHEN_MANAGER, world.territory, kitchen=world.kitchen)
    volunteer = member(Role.VOLUNTEER, world.territory, association=world.a1)
    # The same person also coordinates the other association: still one person.
    Membership.objects.create(
        user=volunteer, territory=world.territory, role=Role.ASSOCIATION_COORDINATOR, association=world.a2
    )
    gone = member(Role.VOLUNTEER, world.territory, association=world.a2)
    gone.is_active = False
    gone.save()
    member(Role.EVALUATOR)  # no territory
    member(Role.VOLUNTEER, TerritoryFactory())  # another territory
    staff = world.indicators().get("staff_involved")
    assert staff.value == 3
    assert {row["role"]: row["people"] for row in staff.breakdown} == {
        "association_coordinator": 1,
        "authority_coordinator": 1,
        "kitchen_manager": 1,
        "volunteer": 1,
    }


def test_roles_from_the_journal(world):
    author = UserFactory()

    def entry(**kwargs):
        return JournalEntryFactory(territory=world.territory, author=author, observed_on=day(12), **kwargs)

    entry(kitchen=world.kitchen, category="logistics", nature="obstacle")
    entry(kitchen=world.kitchen, association=world.a1, category="logistics", nature="lever")
    entry(category="partnership", nature="lever")
    entry(authority=world.authority, category="administrative", nature="obstacle")
    JournalEntryFactory(territory=world.territory, author=author, observed_on=datetime.date(2025, 2, 27))
    JournalEntryFactory(author=author, observed_on=day(12))  # another territory

    result = world.indicators()
    entries = result.get("journal_entries")
    assert entries.value == 4
    assert entries.question == Question.ROLES
    assert [
        (row["actor_kind"], row["category"], row["nature"], row["entries"]) for row in entries.breakdown
    ] == [
        ("kitchen", "logistics", "lever", 1),
        ("kitchen", "logistics", "obstacle", 1),
        ("association", "logistics", "lever", 1),
        ("authority", "administrative", "obstacle", 1),
        ("territory", "partnership", "lever", 1),
    ]
    assert entries.breakdown[0]["nature_label"] == "Levier"
    obstacles = result.get("journal_obstacles")
    assert obstacles.value == 2
    assert [(row["category"], row["entries"]) for row in obstacles.breakdown] == [
        ("administrative", 1),
        ("logistics", 1),
    ]
    assert result.get("journal_levers").value == 2
    # Who was active: the kitchen, both associations, the authority that entered coordination time.
    actors = result.get("actors_involved")
    assert actors.value == 4
    assert {row["actor_kind"]: row["actors"] for row in actors.breakdown} == {
        "kitchen": 1,
        "association": 2,
        "authority": 1,
    }


def test_survey_answers_become_indicators(world):
    survey = SurveyFactory(territory=world.territory, kind="beneficiary")
    SurveyQuestionFactory(survey=survey, position=1, code="satisfaction", kind="scale")
    SurveyQuestionFactory(
        survey=survey, position=2, code="reviendrait", kind="yes_no", text="Reviendriez-vous ?"
    )
    SurveyQuestionFactory(
        survey=survey, position=3, code="venue", kind="choice", text="Comment venez-vous ?",
        choices=["à pied", "en transports", "en voiture"],
    )  # fmt: skip
    for answers in (
        {"satisfaction": 5, "reviendrait": True, "venue": "à pied"},
        {"satisfaction": 4, "reviendrait": True},
        {"satisfaction": 2, "reviendrait": False, "venue": "en voiture"},
    ):
        SurveyResponseFactory(survey=survey, answered_on=day(14), answers=answers)
    SurveyResponseFactory(survey=survey, answered_on=APRIL, answers={"satisfaction": 1})  # outside
    partner = SurveyFactory(territory=world.territory, kind="partner")
    SurveyQuestionFactory(
        survey=partner, code="utile", kind="yes_no", text="Le partenariat vous est-il utile ?"
    )

    result = world.indicators()
    assert result.get("survey_beneficiary_responses").value == 3
    satisfaction = result.get("survey_beneficiary_satisfaction")
    assert satisfaction.value == D("3.67")  # (5 + 4 + 2) ÷ 3
    assert satisfaction.unit == "/5"
    assert satisfaction.question == Question.NEEDS
    assert [row["answers"] for row in satisfaction.breakdown] == [0, 1, 0, 1, 1]
    assert result.get("survey_beneficiary_reviendrait").value == D("66.7")  # 2 "yes" ÷ 3
    venue = result.get("survey_beneficiary_venue")
    assert venue.value == 2  # answers to this question
    assert [(row["answer"], row["answers"], row["share"]) for row in venue.breakdown] == [
        ("à pied", 1, D("50.0")),
        ("en transports", 0, D("0.0")),
        ("en voiture", 1, D("50.0")),
    ]
    # A partner survey without answers: under impact, flagged, never zero.
    assert result.get("survey_partner_responses").value == 0
    useful = result.get("survey_partner_utile")
    assert useful.question == Question.IMPACT
    assert useful.value is None
    assert not useful.complete


def test_several_territories_together_and_side_by_side(world):
    other = TerritoryFactory(name="Vallée")
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=other, planned_meals_per_week=70),
        day=day(5), distributions=1, meals_distributed=100, people_served=50,
    )  # fmt: skip
    both = compute_indicators(territory_ids=[world.territory.pk, other.pk], start=MARCH, end=MARCH_END)
    assert both.get("meals_distributed").value == 1100
    # (3 + 1) territory-days ÷ (31 ÷ 7 weeks × 2 territories) = 0.45
    assert both.get("distribution_days_per_week").value == D("0.45")
    pairs = side_by_side(territories=[world.territory, other], start=MARCH, end=MARCH_END)
    assert [(territory.name, result.get("meals_distributed").value) for territory, result in pairs] == [
        ("Plaine", 1000),
        ("Vallée", 100),
    ]


def test_as_dict_is_json_with_values_as_strings(world):
    import json

    data = world.indicators().as_dict()
    json.dumps(data)
    by_code = {row["code"]: row for row in data["indicators"]}
    assert by_code["meals_distributed"]["value"] == "1000"
    assert by_code["full_cost_per_meal"]["value"] == "6.28"
    assert by_code["social_grocery_cost_per_meal_ratio"]["value"] is None
    assert by_code["meals_per_person"]["question_label"] == "Réponse aux besoins"
    assert data["start"] == "2025-03-01"


def test_the_number_of_queries_does_not_grow_with_the_records(world):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            world.indicators()
        return len(queries.captured_queries)

    survey = SurveyFactory(territory=world.territory)
    SurveyQuestionFactory(survey=survey)
    SurveyResponseFactory(survey=survey, answered_on=day(14), answers={"satisfaction": 3})
    JournalEntryFactory(territory=world.territory, observed_on=day(2))
    before = count()
    for number in range(5, 15):
        DailyRollupFactory(partnership=world.p1, day=day(number), distributions=1, meals_distributed=10)
        JournalEntryFactory(territory=world.territory, observed_on=day(number), kitchen=world.kitchen)
        SurveyResponseFactory(survey=survey, answered_on=day(number), answers={"satisfaction": 3})
    other = SurveyFactory(territory=world.territory, kind="partner")
    SurveyQuestionFactory(survey=other, code="utile", kind="yes_no")
    assert count() == before


# --- Series -------------------------------------------------------------------------------


def test_weekly_series(world):
    table = selectors.weekly_series(territory_ids=[world.territory.pk], start=MARCH, end=MARCH_END)
    assert list(table["week"]) == [
        datetime.date(2025, 2, 24),
        day(3),
        day(10),
        day(17),
        day(24),
        day(31),
    ]
    week = table.set_index("week").loc[day(3)]
    assert week["meals_distributed"] == 870  # 290 + 380 + 200
    assert week["people_served"] == 700
    assert week["meals_discarded"] == 30
    assert week["batches"] == 4
    assert week["breaches"] == 2  # one at dispatch, one on receipt
    assert table.set_index("week").loc[day(17)]["meals_distributed"] == 130
    assert int(table["meals_distributed"].sum()) == 1000


def test_monthly_series_with_the_cost_per_meal(world):
    table = selectors.monthly_series(territory_ids=[world.territory.pk], start=MARCH, end=APRIL)
    march, april = table.to_dict("records")
    assert march["month"] == MARCH
    assert (march["meals_produced_dedicated"], march["meals_produced_surplus"]) == (600, 300)
    assert (march["meals_distributed"], march["meals_discarded"], march["people_served"]) == (1000, 30, 800)
    assert march["full_cost_per_meal"] == D("6.28")
    assert march["full_cost_complete"]
    # April: 999 meals distributed, no cost input entered.
    assert april["meals_distributed"] == 999
    assert not april["full_cost_complete"]


# --- The API ----------------------------------------------------------------------------------

URL = "/api/v1/indicators/"
PERIOD = {"start": "2025-03-01", "end": "2025-03-31"}


def test_an_evaluator_gets_every_territory_side_by_side(api, world):
    other = TerritoryFactory(name="Vallée")
    api.force_authenticate(member(Role.EVALUATOR))
    body = api.get(URL, PERIOD).json()
    assert (body["start"], body["end"], body["count"]) == ("2025-03-01", "2025-03-31", 3)
    by_name = {row["name"]: row for row in body["territories"]}
    assert set(by_name) >= {"Plaine", "Vallée"}
    plaine = {row["code"]: row for row in by_name["Plaine"]["indicators"]}
    assert plaine["meals_distributed"]["value"] == "1000"
    assert plaine["full_cost_per_meal"]["value"] == "6.28"
    assert by_name["Plaine"]["territory"] == world.territory.pk
    assert by_name["Plaine"]["cost_start"] == "2025-03-01"
    vallee = {row["code"]: row for row in by_name["Vallée"]["indicators"]}
    assert vallee["meals_distributed"]["value"] == "0"
    assert not vallee["full_cost_per_meal"]["complete"]
    # One territory asked: the same shape, one set.
    body = api.get(URL, {**PERIOD, "territory": other.pk}).json()
    assert [row["territory"] for row in body["territories"]] == [other.pk]


def test_a_funder_gets_its_funded_territories_only(api, world):
    other = TerritoryFactory(name="Vallée")
    TerritoryFactory(name="Colline")
    api.force_authenticate(member(Role.FUNDER, funded=[world.territory, other]))
    body = api.get(URL, PERIOD).json()
    assert [row["name"] for row in body["territories"]] == ["Plaine", "Vallée"]
    unfunded = TerritoryFactory(name="Plateau")
    assert api.get(URL, {**PERIOD, "territory": unfunded.pk}).status_code == 404


def test_a_territorial_role_gets_its_territory_and_404_elsewhere(api, world):
    api.force_authenticate(member(Role.VOLUNTEER, world.territory))
    body = api.get(URL, PERIOD).json()
    assert [row["territory"] for row in body["territories"]] == [world.territory.pk]
    elsewhere = TerritoryFactory()
    assert api.get(URL, {**PERIOD, "territory": elsewhere.pk}).status_code == 404
    assert api.get(URL, {**PERIOD, "territory": 999999}).status_code == 404


@pytest.mark.parametrize(
    "query, field",
    [
        ({}, "start"),
        ({"start": "2025-03-01"}, "end"),
        ({"start": "01/03/2025", "end": "2025-03-31"}, "start"),
        ({"start": "2025-03-01", "end": "2025-02-30"}, "end"),
        ({"start": "2025-03-31", "end": "2025-03-01"}, "end"),
        ({"start": "2023-01-01", "end": "2025-03-01"}, "end"),
        ({"start": "2000-01-01", "end": "2025-03-01"}, "start"),
        ({**PERIOD, "territory": "abc"}, "territory"),
    ],
)
def test_bad_parameters_answer_400_with_field_messages(api, world, query, field):
    api.force_authenticate(member(Role.EVALUATOR))
    response = api.get(URL, query)
    assert response.status_code == 400
    assert field in response.json()


def test_the_api_needs_a_login(api):
    assert api.get(URL, PERIOD).status_code in (401, 403)


def test_the_api_query_count_does_not_grow_with_the_records(api, world):
    api.force_authenticate(member(Role.VOLUNTEER, world.territory))

    def count() -> int:
        cache.clear()  # the whole read, not the cached part (tests/evaluation/test_indicator_cache.py)
        with CaptureQueriesContext(connection) as queries:
            assert api.get(URL, PERIOD).status_code == 200
        return len(queries.captured_queries)

    count()
    before = count()
    for number in range(5, 15):
        DailyRollupFactory(partnership=world.p2, day=day(number), distributions=1, meals_distributed=10)
        JournalEntryFactory(territory=world.territory, observed_on=day(number))
    assert count() == before
