# ruff: noqa: RUF001, RUF003 - the expected numbers are worked out with the signs × and ÷ of French arithmetic
"""What each indicator says of itself where a reader sees it (label, unit, question, the missing
inputs word for word, the breakdowns, the API's form), and the figures at the edges: nothing
recorded, a kitchen without its usual production, meals lost in every way, surplus distributed
by a partnership that produced nothing, hours entered in part.

The data set is ``World`` of ``test_indicators.py`` (territory "Plaine", March 2025): 1,000 meals
distributed to 800 people on three days, 600 dedicated and 300 surplus meals produced, 30 meals
discarded, one batch expired; its docstring has the table.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone, translation

from costing.models import ReferenceValue
from costing.versions import bump_days
from evaluation import indicators
from evaluation.indicators import (
    SPEC,
    Question,
    Staff,
    compute_indicators,
    flow_parts,
    live_parts,
    rollup_versions,
    side_by_side,
)
from evaluation.models import JournalEntry, Survey
from kitchens.models import Closure
from territories.models import Membership
from territories.roles import Role
from tests.evaluation.test_indicators import APRIL, MARCH, MARCH_END, World, day
from tests.factories import (
    AssociationCostFactory,
    AssociationFactory,
    DailyRollupFactory,
    DistributionSiteFactory,
    JournalEntryFactory,
    KitchenCostInputFactory,
    KitchenFactory,
    PartnershipFactory,
    SurveyFactory,
    SurveyQuestionFactory,
    SurveyResponseFactory,
    TerritoryFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

D = Decimal
GROCERY_MISSING = "valeur de référence : Coût en épicerie solidaire par équivalent repas (€)"


@pytest.fixture
def world():
    return World()


# The indicators of this module in the order a reader finds them (the question's order, then the
# order of each question; the offers' and rounds' indicators come from evaluation.logistics_offers),
# with the label and unit the dashboard, the reports and the API print.
SHOWN = [
    ("meals_distributed", Question.NEEDS, "Repas distribués", "repas"),
    ("people_served", Question.NEEDS, "Passages (personnes servies)", "passages"),
    ("meals_per_person", Question.NEEDS, "Repas par passage", "repas/passage"),
    (
        "distribution_days_per_week",
        Question.NEEDS,
        "Régularité : jours de distribution par semaine",
        "jours/semaine",
    ),
    ("planned_meals_delivered_share", Question.NEEDS, "Part des repas prévus effectivement distribués", "%"),
    ("marginal_cost_dedicated", Question.COST, "Coût marginal d'un repas dédié", "€/repas"),
    ("marginal_cost_surplus", Question.COST, "Coût marginal d'un repas d'excédent", "€/repas"),
    ("full_cost_per_meal", Question.COST, "Coût complet par repas distribué (hors bénévolat)", "€/repas"),
    (
        "full_cost_per_meal_with_volunteers",
        Question.COST,
        "Coût complet par repas distribué, bénévolat valorisé compris",
        "€/repas",
    ),
    ("cost_per_person", Question.COST, "Coût par passage (personne servie)", "€/passage"),
    (
        "food_parcel_cost_per_meal_ratio",
        Question.COST,
        "Coût complet rapporté au coût d'un colis alimentaire (par repas)",
        "×",
    ),
    (
        "food_parcel_cost_per_meal_difference",
        Question.COST,
        "Écart avec le coût d'un colis alimentaire (par repas)",
        "€/repas",
    ),
    (
        "social_grocery_cost_per_meal_ratio",
        Question.COST,
        "Coût complet rapporté au coût en épicerie solidaire (par repas)",
        "×",
    ),
    (
        "social_grocery_cost_per_meal_difference",
        Question.COST,
        "Écart avec le coût en épicerie solidaire (par repas)",
        "€/repas",
    ),
    ("pickups_on_time_share", Question.LOGISTICS, "Part des lots collectés à temps", "%"),
    ("batches_expired", Question.LOGISTICS, "Lots non collectés avant leur date limite", "lots"),
    (
        "temperature_compliance_share",
        Question.LOGISTICS,
        "Part des collectes dans les limites de température",
        "%",
    ),
    ("dispatch_breaches", Question.LOGISTICS, "Lots partis hors limites de température", "lots"),
    ("meals_discarded", Question.LOGISTICS, "Repas écartés", "repas"),
    ("meals_short", Question.LOGISTICS, "Repas manquants à la collecte", "repas"),
    ("meals_lost", Question.LOGISTICS, "Repas perdus", "repas"),
    ("loss_rate", Question.LOGISTICS, "Taux de perte", "%"),
    ("batches_recalled", Question.LOGISTICS, "Lots rappelés", "lots"),
    ("km_per_meal", Question.LOGISTICS, "Kilomètres par repas collecté", "km/repas"),
    (
        "trained_referent_sites_share",
        Question.LOGISTICS,
        "Part des lieux tenus par une association au référent formé à l'hygiène",
        "%",
    ),
    ("offers_made", Question.LOGISTICS, "Offres d'excédents faites", "offres"),
    ("offers_accepted", Question.LOGISTICS, "Offres acceptées", "offres"),
    ("offer_acceptance_median_minutes", Question.LOGISTICS, "Délai médian d'acceptation", "minutes"),
    ("offers_expired_meals", Question.LOGISTICS, "Repas offerts, non pris", "repas"),
    ("round_slots_covered_share", Question.LOGISTICS, "Créneaux de tournée couverts", "%"),
    ("round_slots_uncovered_24h", Question.LOGISTICS, "Créneaux sans bénévole à 24 h", "créneaux"),
    ("round_pickups_late", Question.LOGISTICS, "Collectes de tournée en retard", "collectes"),
    ("dedicated_meals", Question.PRODUCTION, "Repas dédiés produits", "repas"),
    (
        "dedicated_share_of_production",
        Question.PRODUCTION,
        "Part des repas dédiés dans la production des cuisines",
        "%",
    ),
    ("surplus_meals", Question.PRODUCTION, "Repas d'excédents donnés", "repas"),
    ("food_waste_avoided_kg", Question.IMPACT, "Gaspillage alimentaire évité", "kg"),
    ("co2_avoided_kg", Question.IMPACT, "CO2 évité", "kg éq. CO2"),
    ("staff_involved", Question.IMPACT, "Personnes mobilisées sur la plateforme", "personnes"),
    ("paid_staff_hours", Question.IMPACT, "Heures de salariés des associations", "heures"),
    ("volunteer_hours", Question.IMPACT, "Heures de bénévoles des associations", "heures"),
    ("actors_involved", Question.ROLES, "Acteurs actifs", "acteurs"),
    ("journal_entries", Question.ROLES, "Observations du journal", "observations"),
    ("journal_obstacles", Question.ROLES, "Freins observés", "observations"),
    ("journal_levers", Question.ROLES, "Leviers observés", "observations"),
]


def test_each_indicator_comes_in_its_questions_order_with_the_label_and_unit_a_reader_sees(world):
    result = world.indicators()
    assert [
        (indicator.code, indicator.question, indicator.label, indicator.unit)
        for indicator in result.indicators
    ] == SHOWN
    for indicator in result.indicators:
        if indicator.code in SPEC:
            assert indicator.definition == str(SPEC[indicator.code].definition), indicator.code
            assert indicator.applicable, indicator.code
    assert result.get("loss_rate").definition == "Repas perdus ÷ (repas distribués + repas perdus)."
    assert [(question, [item.code for item in items]) for question, items in result.by_question().items()][
        3:
    ] == [
        ("production", ["dedicated_meals", "dedicated_share_of_production", "surplus_meals"]),
        ("impact", ["food_waste_avoided_kg", "co2_avoided_kg", "staff_involved", "paid_staff_hours",
                    "volunteer_hours"]),
        ("roles", ["actors_involved", "journal_entries", "journal_obstacles", "journal_levers"]),
    ]  # fmt: skip
    assert list(result.by_question()) == ["needs", "cost", "logistics", "production", "impact", "roles"]


def test_an_unknown_code_is_a_key_error_naming_it(world):
    result = world.indicators()
    with pytest.raises(KeyError, match="no_such_indicator"):
        result.get("no_such_indicator")
    assert result.get("meals_distributed").code == "meals_distributed"


def test_the_set_lists_each_missing_input_once_in_the_order_of_its_indicators(world):
    result = world.indicators()
    # The grocery reference is missing for both its indicators; the three other items are the
    # period's empty denominators (no site, no offer accepted, no round slot).
    assert result.missing == [
        GROCERY_MISSING,
        "lieux de distribution : aucun sur la période",
        "aucune offre acceptée sur la période",
        "créneaux : aucun sur la période",
    ]
    assert not result.complete
    grocery = result.get("social_grocery_cost_per_meal_difference")
    assert (grocery.value, grocery.missing, grocery.complete) == (None, [GROCERY_MISSING], False)
    assert result.get("meals_distributed").complete


def test_the_api_form_of_an_indicator_and_of_its_set(world):
    data = world.indicators().as_dict()
    assert {key: value for key, value in data.items() if key != "indicators"} == {
        "territories": [world.territory.pk],
        "start": "2025-03-01",
        "end": "2025-03-31",
        "cost_start": "2025-03-01",
        "cost_end": "2025-03-31",
        "complete": False,
    }
    rows = {row["code"]: row for row in data["indicators"]}
    assert rows["meals_per_person"] == {
        "code": "meals_per_person",
        "label": "Repas par passage",
        "definition": "Repas distribués ÷ passages (personnes servies, comptées à chaque distribution).",
        "unit": "repas/passage",
        "question": "needs",
        "question_label": "Réponse aux besoins",
        "value": "1.25",
        "complete": True,
        "missing": [],
        "applicable": True,
        "breakdown": [],
    }
    # Each value printed to its step: a share to the tenth, a distance to the thousandth.
    assert [
        rows[code]["value"] for code in ("dedicated_share_of_production", "km_per_meal", "loss_rate")
    ] == [
        "5.0",
        "0.033",
        "2.9",
    ]
    grocery = rows["social_grocery_cost_per_meal_ratio"]
    assert (grocery["value"], grocery["complete"], grocery["missing"]) == (None, False, [GROCERY_MISSING])
    assert grocery["question_label"] == "Coût d'un repas"
    assert rows["dedicated_share_of_production"]["breakdown"] == [
        {
            "kitchen": world.kitchen.pk,
            "kitchen_name": "Cuisine de la Plaine",
            "dedicated_meals": 600,
            "days": 2,
            "usual_daily_production": 6000,
            "share": "5.0",
        }
    ]
    assert [row["question_label"] for row in data["indicators"]][-1] == "Rôle de chaque acteur"


def test_kilometres_keep_their_tenths_in_every_read():
    territory = TerritoryFactory()
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=territory), day=day(3),
        pickups=1, meals_picked_up=100, km=D("10.7"), transport_cost=D("20.55"),
    )  # fmt: skip
    alone = compute_indicators(territory_ids=[territory.pk], start=MARCH, end=MARCH_END)
    [(_territory, side)] = side_by_side(territories=[territory], start=MARCH, end=MARCH_END, cached=False)
    # 10.7 km ÷ 100 meals picked up, not 10 ÷ 100
    assert alone.get("km_per_meal").value == side.get("km_per_meal").value == D("0.107")


def test_an_indicator_alone_gives_its_questions_label_in_the_active_language(world):
    indicator = world.indicators().get("km_per_meal")
    assert indicator.as_dict()["question_label"] == "Logistique et sécurité sanitaire"
    with translation.override("en"):
        assert indicator.question_label == "Logistics and food safety"
        english = world.indicators()
        data = english.as_dict()
        assert english.get("meals_distributed").question_label == "Meeting needs"
    assert indicator.question_label == "Logistique et sécurité sanitaire"
    assert {row["question_label"] for row in data["indicators"] if row["question"] == "needs"} == {
        "Meeting needs"
    }


def test_a_territory_with_nothing_recorded_shows_zeros_for_counts_and_unknown_for_rates():
    territory = TerritoryFactory(name="Désert")
    result = compute_indicators(territory_ids=[territory.pk], start=MARCH, end=MARCH_END)

    def shown(code):
        indicator = result.get(code)
        return indicator.value, indicator.missing

    for code in ("meals_distributed", "people_served", "batches_expired", "dispatch_breaches",
                 "meals_discarded", "meals_short", "meals_lost", "batches_recalled", "dedicated_meals",
                 "surplus_meals", "staff_involved", "actors_involved", "journal_entries"):  # fmt: skip
        assert shown(code) == (0, []), code
    assert shown("meals_per_person") == (None, ["personnes servies : aucun sur la période"])
    # 0 days with a distribution ÷ 31/7 weeks: a true zero, to the hundredth.
    assert shown("distribution_days_per_week") == (D("0.00"), [])
    assert shown("planned_meals_delivered_share") == (
        None,
        ["repas prévus par les conventions : aucun sur la période"],
    )
    assert shown("pickups_on_time_share") == (None, ["collectes ou lots à collecter : aucun sur la période"])
    assert shown("temperature_compliance_share") == (None, ["collectes : aucun sur la période"])
    assert shown("loss_rate") == (None, ["repas distribués ou perdus : aucun sur la période"])
    assert shown("km_per_meal") == (None, ["repas collectés : aucun sur la période"])
    assert shown("trained_referent_sites_share") == (None, ["lieux de distribution : aucun sur la période"])
    share = result.get("dedicated_share_of_production")
    assert (share.value, share.missing, share.applicable, share.breakdown) == (None, [], False, [])
    # No reference value at all: the waste lacks the meal's weight, the CO2 that and its own.
    assert shown("food_waste_avoided_kg") == (None, ["valeur de référence : Poids moyen d'un repas (kg)"])
    assert shown("co2_avoided_kg") == (
        None,
        [
            "valeur de référence : Poids moyen d'un repas (kg)",
            "valeur de référence : CO2 par kg de gaspillage évité (kg éq. CO2)",
        ],
    )
    # No association was active: no hours are missing, and none were entered.
    assert shown("paid_staff_hours") == (D(0), [])
    assert shown("volunteer_hours") == (D(0), [])
    assert result.get("actors_involved").breakdown == [
        {"actor_kind": "kitchen", "actor_kind_label": "Cuisine", "actors": 0},
        {"actor_kind": "association", "actor_kind_label": "Association", "actors": 0},
        {"actor_kind": "authority", "actor_kind_label": "Collectivité", "actors": 0},
    ]
    assert result.get("staff_involved").breakdown == []
    for code in ("journal_entries", "journal_obstacles", "journal_levers"):
        assert result.get(code).breakdown == [], code


def test_meals_lost_add_the_short_the_expired_and_the_recalled_to_the_discarded(world):
    DailyRollupFactory(
        partnership=world.p1, day=day(5), meals_short=5, meals_expired=7, meals_recalled=3, batches_recalled=1
    )
    result = world.indicators()
    assert result.get("meals_short").value == 5
    assert result.get("batches_recalled").value == 1
    assert result.get("meals_lost").value == 45  # 30 discarded + 5 short + 7 expired + 3 recalled
    assert result.get("loss_rate").value == D("4.3")  # 45 ÷ (1,000 + 45) = 4.306…
    assert result.get("loss_rate").missing == []


def test_a_kitchen_without_its_usual_production_leaves_the_dedicated_share_unknown(world):
    valley = KitchenFactory(territory=world.territory, name="Cuisine du Val", usual_daily_production=0)
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=world.territory, kitchen=valley, association=world.a1),
        day=day(6),
        meals_produced_dedicated=100,
    )
    result = world.indicators()
    assert result.get("dedicated_meals").value == 700  # 600 + 100
    share = result.get("dedicated_share_of_production")
    assert share.value is None
    assert share.missing == ["Cuisine du Val : production journalière habituelle"]
    assert share.applicable
    assert share.breakdown == [
        {
            "kitchen": world.kitchen.pk,
            "kitchen_name": "Cuisine de la Plaine",
            "dedicated_meals": 600,
            "days": 2,
            "usual_daily_production": 6000,
            "share": D("5.0"),  # 600 ÷ (6,000 × 2)
        },
        {
            "kitchen": valley.pk,
            "kitchen_name": "Cuisine du Val",
            "dedicated_meals": 100,
            "days": 1,
            "usual_daily_production": 0,
            "share": None,
        },
    ]


def test_the_dedicated_share_of_two_kitchens_adds_their_usual_productions(world):
    port = KitchenFactory(territory=world.territory, name="Cuisine du Port", usual_daily_production=400)
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=world.territory, kitchen=port, association=world.a1),
        day=day(6),
        meals_produced_dedicated=100,
    )
    share = world.indicators().get("dedicated_share_of_production")
    # (600 + 100) ÷ (6,000 × 2 days + 400 × 1 day) = 700 ÷ 12,400 = 5.645… %
    assert (share.value, share.missing) == (D("5.6"), [])
    assert [(row["kitchen_name"], row["share"]) for row in share.breakdown] == [
        ("Cuisine de la Plaine", D("5.0")),
        ("Cuisine du Port", D("25.0")),  # 100 ÷ 400
    ]


def test_a_kitchen_alone_without_its_usual_production_lacks_it_and_the_denominator():
    territory = TerritoryFactory()
    kitchen = KitchenFactory(territory=territory, name="Cuisine du Val", usual_daily_production=0)
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=territory, kitchen=kitchen), meals_produced_dedicated=1
    )
    share = compute_indicators(territory_ids=[territory.pk], start=MARCH, end=MARCH_END).get(
        "dedicated_share_of_production"
    )
    assert (share.value, share.applicable) == (None, True)
    assert share.missing == [
        "Cuisine du Val : production journalière habituelle",
        "production habituelle des jours de production : aucun sur la période",
    ]


def test_the_dedicated_share_of_one_kitchen_over_several_days():
    territory = TerritoryFactory()
    kitchen = KitchenFactory(territory=territory, name="Cuisine du Port", usual_daily_production=400)
    partnership = PartnershipFactory(territory=territory, kitchen=kitchen)
    for number, meals in ((3, 50), (4, 60), (5, 0), (6, 40)):
        DailyRollupFactory(partnership=partnership, day=day(number), meals_produced_dedicated=meals)
    # A second partnership of the kitchen on the 3rd: the same day of production.
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=territory, kitchen=kitchen),
        day=day(3),
        meals_produced_dedicated=30,
    )
    share = compute_indicators(territory_ids=[territory.pk], start=MARCH, end=MARCH_END).get(
        "dedicated_share_of_production"
    )
    # 180 dedicated meals ÷ (400 a day × 3 days with dedicated meals; the 5th had none) = 15 %
    assert (share.value, share.missing) == (D("15.0"), [])
    assert [(row["dedicated_meals"], row["days"], row["share"]) for row in share.breakdown] == [
        (180, 3, D("15.0"))
    ]


def test_surplus_distributed_by_a_partnership_without_production_is_flagged(world):
    # From the 20th: P2 distributed 130 meals and produced nothing, so the share of surplus in
    # those meals is unknown; the known part (nothing) is kept as a lower bound. P1 produced 50
    # dedicated meals on the 25th and distributed none: it adds nothing.
    DailyRollupFactory(partnership=world.p1, day=day(25), meals_produced_dedicated=50)
    result = world.indicators(start=day(20), end=MARCH_END)
    message = "part des excédents de 130 repas distribués par des partenariats sans production sur la période"
    waste, co2 = result.get("food_waste_avoided_kg"), result.get("co2_avoided_kg")
    assert (waste.value, waste.missing) == (D("0.0"), [message])
    assert (co2.value, co2.missing) == (D("0.0"), [message])

    # Two partnerships more, read after P2: P3 produced 100 surplus meals and distributed 40 of
    # them (40 × 0.4 kg = 16 kg; × 2.5 = 40 kg of CO2), P4 distributed 20 without production.
    def partnership():
        return PartnershipFactory(territory=world.territory, kitchen=world.kitchen, association=world.a2)

    DailyRollupFactory(
        partnership=partnership(),
        day=day(22),
        meals_produced_surplus=100,
        distributions=1,
        meals_distributed=40,
    )
    DailyRollupFactory(partnership=partnership(), day=day(22), distributions=1, meals_distributed=20)
    result = world.indicators(start=day(20), end=MARCH_END)
    message = "part des excédents de 150 repas distribués par des partenariats sans production sur la période"
    waste, co2 = result.get("food_waste_avoided_kg"), result.get("co2_avoided_kg")
    assert (waste.value, waste.missing) == (D("16.0"), [message])
    assert (co2.value, co2.missing) == (D("40.0"), [message])


def test_surplus_distributed_is_estimated_from_each_partnerships_own_mix(world):
    # A third partnership of the kitchen, dedicated meals only: it distributes 500 meals and adds
    # no surplus. P1 670 × 100 ÷ 700 + P2 330 = 425.714…; × 0.4 = 170.29 kg; × 2.5 = 425.71 kg.
    DailyRollupFactory(
        partnership=PartnershipFactory(
            territory=world.territory, kitchen=world.kitchen, association=world.a1
        ),
        day=day(25), meals_produced_dedicated=500, distributions=1, meals_distributed=500, people_served=10,
    )  # fmt: skip
    result = world.indicators()
    assert result.get("food_waste_avoided_kg").value == D("170.3")
    assert result.get("co2_avoided_kg").value == D("425.7")
    assert result.get("food_waste_avoided_kg").missing == []


def test_co2_without_its_reference_value_keeps_the_waste_and_lacks_the_co2(world):
    ReferenceValue.objects.filter(code="co2_kg_per_kg_waste").delete()
    result = world.indicators()
    waste, co2 = result.get("food_waste_avoided_kg"), result.get("co2_avoided_kg")
    assert (waste.value, waste.missing) == (D("170.3"), [])
    assert (co2.value, co2.missing) == (
        None,
        ["valeur de référence : CO2 par kg de gaspillage évité (kg éq. CO2)"],
    )


def test_hours_entered_in_part_give_the_known_part_and_name_each_month_missing():
    world = World(costs=False)
    AssociationCostFactory(
        association=world.a1, month=MARCH, paid_staff_hours=D("12.5"), paid_staff_hourly_cost=D("20"),
        volunteer_hours=None, premises_cost=D("0"), equipment_cost=D("0"),
        equipment_amortisation_months=None, other_costs=D("0"),
    )  # fmt: skip
    # An association that neither collected nor distributed in March: its hours count, its
    # missing ones are not asked for.
    idle = AssociationFactory(territory=world.territory, name="Amicale du Port")
    AssociationCostFactory(
        association=idle, month=MARCH, paid_staff_hours=None, paid_staff_hourly_cost=None,
        volunteer_hours=D("4"), premises_cost=D("0"), equipment_cost=D("0"),
        equipment_amortisation_months=None, other_costs=D("0"),
    )  # fmt: skip
    result = world.indicators()
    paid, volunteers = result.get("paid_staff_hours"), result.get("volunteer_hours")
    assert paid.value == D("12.5")
    assert paid.missing == ["Épicerie de la Plaine, 03/2025 : coûts du mois non saisis"]
    assert volunteers.value == D("4")
    assert volunteers.missing == [
        "Restos de la Plaine, 03/2025 : heures de bénévoles",
        "Épicerie de la Plaine, 03/2025 : coûts du mois non saisis",
    ]


def test_hours_of_which_none_is_known_are_unknown_not_zero():
    result = World(costs=False).indicators()
    for code in ("paid_staff_hours", "volunteer_hours"):
        indicator = result.get(code)
        assert indicator.value is None, code
        assert indicator.missing == [
            "Restos de la Plaine, 03/2025 : coûts du mois non saisis",
            "Épicerie de la Plaine, 03/2025 : coûts du mois non saisis",
        ]


def test_staff_involved_details_each_role_by_its_label(world):
    member(Role.KITCHEN_MANAGER, world.territory, kitchen=world.kitchen)
    first = member(Role.VOLUNTEER, world.territory, association=world.a1)
    member(Role.VOLUNTEER, world.territory, association=world.a2)
    Membership.objects.create(
        user=first, territory=world.territory, role=Role.ASSOCIATION_COORDINATOR, association=world.a1
    )
    staff = world.indicators().get("staff_involved")
    assert staff.value == 3
    assert staff.breakdown == [
        {"role": "association_coordinator", "role_label": "Coordinateur d'association", "people": 1},
        {"role": "kitchen_manager", "role_label": "Responsable de cuisine", "people": 1},
        {"role": "volunteer", "role_label": "Bénévole d'association", "people": 2},
    ]


def test_the_journals_breakdowns_name_the_actor_the_category_and_the_nature(world):
    author = UserFactory()

    def entry(**kwargs):
        return JournalEntryFactory(territory=world.territory, author=author, **kwargs)

    entry(kitchen=world.kitchen, category="logistics", nature="obstacle", observed_on=MARCH)
    entry(kitchen=world.kitchen, category="logistics", nature="obstacle", observed_on=MARCH_END)
    entry(association=world.a1, category="economic", nature="lever")
    entry(category="social", nature="decision")  # neither an obstacle nor a lever
    entry(category="logistics", nature="obstacle", observed_on=APRIL)  # after the period
    entry(category="logistics", nature="obstacle", observed_on=datetime.date(2025, 2, 28))  # before

    result = world.indicators()
    entries = result.get("journal_entries")
    assert entries.value == 4
    assert entries.breakdown == [
        {"actor_kind": "kitchen", "actor_kind_label": "Cuisine", "category": "logistics",
         "category_label": "Logistique", "nature": "obstacle", "nature_label": "Frein", "entries": 2},
        {"actor_kind": "association", "actor_kind_label": "Association", "category": "economic",
         "category_label": "Économique", "nature": "lever", "nature_label": "Levier", "entries": 1},
        {"actor_kind": "territory", "actor_kind_label": "Le territoire (sans acteur désigné)",
         "category": "social", "category_label": "Social", "nature": "decision",
         "nature_label": "Décision", "entries": 1},
    ]  # fmt: skip
    obstacles, levers = result.get("journal_obstacles"), result.get("journal_levers")
    assert (obstacles.value, obstacles.breakdown) == (
        2,
        [{"category": "logistics", "category_label": "Logistique", "entries": 2}],
    )
    assert (levers.value, levers.breakdown) == (
        1,
        [{"category": "economic", "category_label": "Économique", "entries": 1}],
    )


def test_the_actors_breakdown_names_each_kind_of_actor(world):
    assert world.indicators().get("actors_involved").breakdown == [
        {"actor_kind": "kitchen", "actor_kind_label": "Cuisine", "actors": 1},
        {"actor_kind": "association", "actor_kind_label": "Association", "actors": 2},
        {"actor_kind": "authority", "actor_kind_label": "Collectivité", "actors": 1},
    ]


def test_a_kitchen_that_produced_and_an_association_that_collected_or_distributed_are_actors():
    territory = TerritoryFactory()
    # As many dedicated as surplus meals, one pickup and one distribution: active on both sides.
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=territory), meals_produced_dedicated=5,
        meals_produced_surplus=5, pickups=1, distributions=1,
    )  # fmt: skip
    DailyRollupFactory(partnership=PartnershipFactory(territory=territory), pickups=1)  # its association
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=territory), meals_produced_surplus=1
    )  # kitchen
    DailyRollupFactory(partnership=PartnershipFactory(territory=territory), batches_cancelled=1)  # neither
    # Dedicated meals only, distributed without a pickup recorded that day: both active.
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=territory), meals_produced_dedicated=3, distributions=1
    )
    actors = compute_indicators(territory_ids=[territory.pk], start=MARCH, end=MARCH_END).get(
        "actors_involved"
    )
    assert actors.value == 6  # 3 kitchens, 3 associations
    assert [row["actors"] for row in actors.breakdown] == [3, 3, 0]


# --- Surveys --------------------------------------------------------------------------------


def test_each_survey_kind_gives_its_responses_and_refusals_under_its_question(world):
    beneficiary = SurveyFactory(territory=world.territory, kind="beneficiary")
    SurveyQuestionFactory(survey=beneficiary, code="satisfaction", kind="scale")
    staff = SurveyFactory(territory=world.territory, kind="kitchen_staff")
    SurveyQuestionFactory(survey=staff, code="charge", kind="yes_no", text="La charge est-elle tenable ?")
    SurveyResponseFactory(survey=staff, answered_on=MARCH, answers={"charge": False})
    SurveyResponseFactory(survey=staff, answered_on=datetime.date(2025, 2, 28), answers={"charge": False})
    SurveyResponseFactory(survey=staff, answered_on=MARCH_END, answers={"charge": True})
    SurveyResponseFactory(survey=staff, answered_on=day(20), answers={"charge": True})
    staff.refusals.create(territory=world.territory, day=MARCH, count=2)
    staff.refusals.create(territory=world.territory, day=MARCH_END, count=1)
    staff.refusals.create(territory=world.territory, day=APRIL, count=5)  # after the period
    staff.refusals.create(territory=world.territory, day=datetime.date(2025, 2, 28), count=7)  # before

    survey_rows = [
        indicator for indicator in world.indicators().indicators if indicator.code.startswith("survey_")
    ]
    assert [(row.code, row.question, row.label, row.unit, row.value) for row in survey_rows] == [
        ("survey_beneficiary_responses", "needs", "Satisfaction des bénéficiaires : réponses", "réponses", 0),
        ("survey_beneficiary_refused", "needs",
         "Satisfaction des bénéficiaires : réponses en ligne refusées", "réponses", 0),
        ("survey_beneficiary_satisfaction", "needs",
         "Satisfaction des bénéficiaires : Êtes-vous satisfait des repas ?", "/5", None),
        ("survey_kitchen_staff_responses", "impact", "Personnel des cuisines : réponses", "réponses", 3),
        ("survey_kitchen_staff_refused", "impact", "Personnel des cuisines : réponses en ligne refusées",
         "réponses", 3),
        ("survey_kitchen_staff_charge", "impact", "Personnel des cuisines : La charge est-elle tenable ?",
         "%", D("66.7")),
    ]  # fmt: skip
    by_code = {row.code: row for row in survey_rows}
    assert by_code["survey_kitchen_staff_responses"].definition == (
        "Réponses saisies (papier) ou reçues (en ligne) sur la période."
    )
    assert by_code["survey_kitchen_staff_refused"].definition == (
        "Réponses envoyées par le lien public et refusées sur la période, au-delà des limites par "
        "appareil et par lien (docs/indicators.md) ; elles ne comptent dans aucun autre indicateur."
    )
    for code in ("survey_kitchen_staff_responses", "survey_kitchen_staff_refused"):
        assert by_code[code].missing == [], code
    charge = by_code["survey_kitchen_staff_charge"]
    assert charge.definition == "Réponses « oui » ÷ réponses à cette question."
    assert charge.breakdown == [{"answer": True, "answers": 2}, {"answer": False, "answers": 1}]
    assert charge.missing == []
    satisfaction = by_code["survey_beneficiary_satisfaction"]
    assert satisfaction.definition == (
        "Moyenne des notes de 1 à 5 données à cette question ; le détail compte chaque note."
    )
    assert satisfaction.missing == ["aucune réponse à cette question sur la période"]
    assert satisfaction.breakdown == [{"answer": note, "answers": 0} for note in range(1, 6)]


def test_a_question_asked_again_in_a_newer_survey_takes_its_newer_wording(world):
    older = SurveyFactory(territory=world.territory, kind="beneficiary")
    SurveyQuestionFactory(
        survey=older, code="satisfaction", kind="scale", position=1, text="Êtes-vous satisfait ?"
    )
    newer = SurveyFactory(territory=world.territory, kind="beneficiary")
    SurveyQuestionFactory(
        survey=newer, code="satisfaction", kind="scale", position=1, text="Les repas vous plaisent-ils ?"
    )
    Survey.objects.all_territories().filter(pk=older.pk).update(
        created_at=datetime.datetime(2024, 9, 1, tzinfo=datetime.UTC)
    )
    Survey.objects.all_territories().filter(pk=newer.pk).update(
        created_at=datetime.datetime(2025, 1, 6, tzinfo=datetime.UTC)
    )

    label = world.indicators().get("survey_beneficiary_satisfaction").label
    assert label == "Satisfaction des bénéficiaires : Les repas vous plaisent-ils ?"


def test_a_code_asked_as_two_kinds_of_question_gives_one_indicator_per_kind(world):
    first = SurveyFactory(territory=world.territory)
    SurveyQuestionFactory(survey=first, code="repas", kind="scale", text="Notez le repas")
    second = SurveyFactory(territory=world.territory)
    SurveyQuestionFactory(survey=second, code="repas", kind="yes_no", text="Le repas vous a-t-il plu ?")
    SurveyQuestionFactory(survey=second, code="venue", kind="choice", text="Comment venez-vous ?",
                          choices=["à pied", "en bus"])  # fmt: skip
    third = SurveyFactory(territory=world.territory)  # the same choice question, one more choice
    SurveyQuestionFactory(survey=third, code="venue", kind="choice", text="Comment venez-vous ?",
                          choices=["en bus", "en vélo"])  # fmt: skip
    SurveyResponseFactory(survey=first, answered_on=day(2), answers={"repas": 4, "inconnue": 3})
    SurveyResponseFactory(survey=first, answered_on=day(3), answers={"repas": 1})
    SurveyResponseFactory(survey=first, answered_on=day(4), answers={"repas": 4})
    SurveyResponseFactory(survey=second, answered_on=day(2), answers={"repas": True, "venue": None})
    SurveyResponseFactory(survey=third, answered_on=day(2), answers={"venue": "en vélo"})
    SurveyResponseFactory(survey=third, answered_on=day(4), answers={"venue": "en bus"})
    SurveyResponseFactory(survey=third, answered_on=day(5), answers={"venue": "en bus"})

    result = world.indicators()
    assert result.get("survey_beneficiary_responses").value == 7
    scale = result.get("survey_beneficiary_repas_scale")
    assert scale.value == D("3.00")  # (4 + 1 + 4) ÷ 3
    assert scale.label == "Satisfaction des bénéficiaires : Notez le repas"
    assert scale.breakdown == [
        {"answer": 1, "answers": 1},
        {"answer": 2, "answers": 0},
        {"answer": 3, "answers": 0},
        {"answer": 4, "answers": 2},
        {"answer": 5, "answers": 0},
    ]
    assert result.get("survey_beneficiary_repas_yes_no").value == D("100.0")
    venue = result.get("survey_beneficiary_venue")
    # The answer left blank is not an answer: 3 answers, none of them on foot.
    assert (venue.value, venue.unit, venue.missing) == (3, "réponses", [])
    assert venue.definition == "Réponses à cette question ; le détail donne la part de chaque choix."
    assert venue.breakdown == [
        {"answer": "à pied", "answers": 0, "share": D("0.0")},
        {"answer": "en bus", "answers": 2, "share": D("66.7")},
        {"answer": "en vélo", "answers": 1, "share": D("33.3")},
    ]
    with pytest.raises(KeyError):
        result.get("survey_beneficiary_repas")


def test_a_choice_question_without_answers_has_no_share(world):
    survey = SurveyFactory(territory=world.territory)
    SurveyQuestionFactory(survey=survey, code="venue", kind="choice", choices=["à pied", "en bus"])
    SurveyResponseFactory(survey=survey, answered_on=day(2), answers={"venue": None})
    venue = world.indicators().get("survey_beneficiary_venue")
    assert (venue.value, venue.missing) == (0, ["aucune réponse à cette question sur la période"])
    assert venue.breakdown == [
        {"answer": "à pied", "answers": 0, "share": None},
        {"answer": "en bus", "answers": 0, "share": None},
    ]


def test_surveys_of_territories_side_by_side_count_only_their_own_answers(world):
    other = TerritoryFactory(name="Vallée")
    for territory, answers in ((world.territory, (5, 3)), (other, (1,))):
        survey = SurveyFactory(territory=territory)
        SurveyQuestionFactory(survey=survey, code="satisfaction", kind="scale")
        survey.refusals.create(territory=territory, day=day(9), count=len(answers))
        for note in answers:
            SurveyResponseFactory(survey=survey, answered_on=day(9), answers={"satisfaction": note})
    pairs = side_by_side(territories=[world.territory, other], start=MARCH, end=MARCH_END, cached=False)
    assert [
        (
            territory.name,
            result.get("survey_beneficiary_responses").value,
            result.get("survey_beneficiary_refused").value,
            result.get("survey_beneficiary_satisfaction").value,
        )
        for territory, result in pairs
    ] == [("Plaine", 2, 2, D("4.00")), ("Vallée", 1, 1, D("1.00"))]
    together = compute_indicators(territory_ids=[world.territory.pk, other.pk], start=MARCH, end=MARCH_END)
    assert together.get("survey_beneficiary_responses").value == 3
    assert together.get("survey_beneficiary_refused").value == 3
    assert together.get("survey_beneficiary_satisfaction").value == D("3.00")  # (5 + 3 + 1) ÷ 3


# --- Several territories, sites, periods ----------------------------------------------------


def test_shares_of_trained_sites_and_planned_meals_per_territory_and_together(world):
    other = TerritoryFactory(name="Vallée")
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=other, planned_meals_per_week=70),
        day=day(4), distributions=1, meals_distributed=100, people_served=50,
    )  # fmt: skip
    world.a1.hygiene_training_on = datetime.date(2024, 6, 1)
    world.a1.save()
    DistributionSiteFactory(association=world.a1)
    DistributionSiteFactory(association=world.a2)  # its association has no training
    trained = AssociationFactory(territory=other, hygiene_training_on=datetime.date(2023, 1, 1))
    DistributionSiteFactory(association=trained)

    pairs = dict(side_by_side(territories=[world.territory, other], start=MARCH, end=MARCH_END, cached=False))
    plaine, vallee = pairs[world.territory], pairs[other]
    assert plaine.get("trained_referent_sites_share").value == D("50.0")  # 1 of 2
    assert vallee.get("trained_referent_sites_share").value == D("100.0")  # 1 of 1
    assert plaine.get("planned_meals_delivered_share").value == D("21.5")  # 1,000 ÷ 4,650
    assert vallee.get("planned_meals_delivered_share").value == D("32.3")  # 100 ÷ (70 × 31 ÷ 7 = 310)
    assert vallee.get("distribution_days_per_week").value == D("0.23")  # 1 day ÷ 31/7 weeks
    # 3 days (the 4th counts once, though two partnerships distributed that day) ÷ 31/7 weeks
    assert plaine.get("distribution_days_per_week").value == D("0.68")
    assert (plaine.territory_ids, vallee.territory_ids) == ([world.territory.pk], [other.pk])

    together = compute_indicators(territory_ids=[world.territory.pk, other.pk], start=MARCH, end=MARCH_END)
    assert together.get("trained_referent_sites_share").value == D("66.7")  # 2 of 3
    assert together.get("planned_meals_delivered_share").value == D("22.2")  # 1,100 ÷ 4,960 = 22.18 %
    # 4 territory-days (the 4th of March in each, counted in each) ÷ 31/7 weeks ÷ 2 territories
    assert together.get("distribution_days_per_week").value == D("0.45")
    assert together.territory_ids == [world.territory.pk, other.pk]


def test_the_period_may_be_one_day_but_not_end_before_it_starts(world):
    one = world.indicators(start=day(4), end=day(4))
    assert one.get("meals_distributed").value == 580  # 380 + 200
    assert (one.start, one.end, one.cost_start, one.cost_end) == (day(4), day(4), MARCH, MARCH_END)
    # 1 day with a distribution ÷ (1 ÷ 7) week = 7 days a week
    assert one.get("distribution_days_per_week").value == D("7.00")
    with pytest.raises(ValueError) as alone:
        world.indicators(start=day(4), end=day(3))
    with pytest.raises(ValueError) as together:
        side_by_side(territories=[world.territory], start=day(4), end=day(3))
    assert str(alone.value) == str(together.value) == "end before start"
    assert [
        result.get("meals_distributed").value
        for _territory, result in side_by_side(territories=[world.territory], start=day(4), end=day(4))
    ] == [580]


def test_side_by_side_keeps_the_order_given_and_answers_nothing_for_no_territory(world):
    other = TerritoryFactory(name="Vallée")
    assert side_by_side(territories=[], start=MARCH, end=MARCH_END) == []
    pairs = side_by_side(territories=[other, world.territory, other], start=MARCH, end=MARCH_END)
    assert [
        (
            territory.name,
            result.get("meals_distributed").value,
            result.get("distribution_days_per_week").value,
        )
        for territory, result in pairs
    ] == [("Vallée", 0, D("0.00")), ("Plaine", 1000, D("0.68")), ("Vallée", 0, D("0.00"))]


def test_every_territory_together_is_the_sum_of_all(world):
    # None: every territory, the other one's 5,000 meals on 10 March included.
    result = compute_indicators(territory_ids=None, start=MARCH, end=MARCH_END)
    assert result.get("meals_distributed").value == 6000
    assert result.territory_ids is None
    # 4 territory-days with a distribution ÷ (31/7 weeks × 2 territories) = 0.4516…
    assert result.get("distribution_days_per_week").value == D("0.45")


# --- What is read anew on every request -------------------------------------------------------


def test_the_digest_of_the_live_part_changes_with_each_value_it_holds(world):
    survey = SurveyFactory(territory=world.territory)
    question = SurveyQuestionFactory(survey=survey, code="satisfaction", kind="scale")
    SurveyResponseFactory(survey=survey, answered_on=day(14), answers={"satisfaction": 4})
    JournalEntryFactory(territory=world.territory, observed_on=day(12))
    member(Role.VOLUNTEER, world.territory, association=world.a1)

    def digest() -> str:
        return live_parts(territory_ids=[world.territory.pk], start=MARCH, end=MARCH_END, split=False)[
            None
        ].digest()

    base = digest()
    assert len(base) == 32 and int(base, 16) >= 0
    assert digest() == base  # the same values, the same digest
    part = live_parts(territory_ids=[world.territory.pk], start=MARCH, end=MARCH_END, split=False)[None]
    changed = {
        "planned": replace(part, planned=part.planned + 1),
        "staff": replace(part, staff=Staff(total=part.staff.total + 1, by_role=part.staff.by_role)),
        "journal": replace(part, journal=[]),
        "responses": replace(part, surveys=replace(part.surveys, responses=[])),
        "refused": replace(part, surveys=replace(part.surveys, refused=[(survey.pk, 1)])),
        "trained sites": replace(part, trained_sites=(1, 1)),
        "offers and rounds": replace(part, offers_rounds=part.offers_rounds[1:]),
    }
    digests = {name: other.digest() for name, other in changed.items()}
    assert all(value != base for value in digests.values()), digests
    assert len(set(digests.values())) == len(digests)
    # A question's wording, and its survey's title, are part of what the indicators print.
    question.text = "Les repas vous plaisent-ils ?"
    question.save()
    reworded = digest()
    assert reworded != base
    survey.title = "Questionnaire de printemps"
    survey.save()
    assert digest() not in (base, reworded)


def test_a_questions_label_is_translated_once_per_language_and_then_kept(monkeypatch):
    kept: dict[tuple[str, str], str] = {}
    monkeypatch.setattr(indicators, "_translated_labels", kept)
    french = translation.get_language()  # the project's default, "fr-fr"
    assert indicators.question_label("needs") == "Réponse aux besoins"
    with translation.override("en"):
        assert indicators.question_labels() == {
            "needs": "Meeting needs",
            "cost": "Cost of a meal",
            "logistics": "Logistics and food safety",
            "production": "Kitchen production",
            "impact": "Social, economic and environmental effects",
            "roles": "Role of each actor",
        }
        # The language given is the key, whatever the active one.
        assert indicators.question_label("needs", french) == "Réponse aux besoins"
    assert kept[(french, "needs")] == "Réponse aux besoins"
    assert kept[("en", "roles")] == "Role of each actor"
    assert len(kept) == 7  # one French label asked, six English ones
    # Once kept, a label is not translated again.
    kept[(french, "cost")] = "Coût (gardé)"
    assert indicators.question_label("cost") == "Coût (gardé)"
    assert indicators.question_labels()["cost"] == "Coût (gardé)"


def test_the_reads_started_ahead_are_the_ones_the_flow_part_uses(world):
    def parts(**reads):
        return flow_parts(
            territory_ids=[world.territory.pk], start=MARCH, end=MARCH_END, split=False, **reads
        )[None]

    # The reads of evaluation.selectors.ReadsAhead, given here with other answers than the
    # roll-ups' to show they are the ones used: 7 days of distribution, one kitchen's row.
    row = {
        "kitchen": world.kitchen.pk,
        "kitchen__name": "Cuisine de la Plaine",
        "kitchen__usual_daily_production": 1000,
        "days": 4,
        "dedicated": 600,
    }
    given = parts(read_days=lambda: {None: 7}, read_kitchens=lambda: {None: [row]})
    days = next(item for item in given.needs if item.code == "distribution_days_per_week")
    assert days.value == D("1.58")  # 7 days ÷ 31/7 weeks
    share = next(item for item in given.production if item.code == "dedicated_share_of_production")
    assert share.value == D("15.0")  # 600 ÷ (1,000 × 4)
    read = parts()
    assert next(item for item in read.needs if item.code == "distribution_days_per_week").value == D("0.68")
    assert given.cost == read.cost and given.logistics == read.logistics


def test_the_rollup_version_follows_every_day_of_the_cost_months_and_the_reference_values(world):
    other = TerritoryFactory(name="Vallée")
    ids = [world.territory.pk, other.pk]
    start, end = day(15), datetime.date(2025, 4, 10)  # the cost indicators cover March and April

    def versions() -> dict[int, str]:
        return rollup_versions(territory_ids=ids, start=start, end=end)

    first = versions()
    assert list(first) == ids
    assert all(len(version) == 32 and int(version, 16) >= 0 for version in first.values())
    assert versions() == first
    seen = [first]
    # Days outside the period but inside its months change its version; February's do not.
    for changed in (day(2), datetime.date(2025, 4, 30)):
        bump_days(world.territory.pk, [changed])
        now = versions()
        assert now[world.territory.pk] not in [version[world.territory.pk] for version in seen], changed
        assert now[other.pk] == first[other.pk]
        seen.append(now)
    bump_days(world.territory.pk, [datetime.date(2025, 2, 28)])
    assert versions() == seen[-1]
    # A reference value is shared by every territory.
    ReferenceValue.objects.filter(code="meal_weight_kg").update(value=D("0.5"))
    after = versions()
    assert after[world.territory.pk] != seen[-1][world.territory.pk]
    assert after[other.pk] != first[other.pk]


def test_planned_meals_leave_out_the_school_holidays_and_the_kitchens_own_closures(world):
    def closure(territory, starts_on, ends_on, kitchen=None):
        kind = Closure.Kind.KITCHEN_CLOSURE if kitchen else Closure.Kind.SCHOOL_HOLIDAY
        Closure.objects.create(
            territory=territory,
            kitchen=kitchen,
            kind=kind,
            label="Fermé",
            starts_on=starts_on,
            ends_on=ends_on,
        )

    closure(world.territory, datetime.date(2025, 2, 22), day(7))  # holidays: 1–7 March in the period
    closure(world.territory, day(24), day(31), kitchen=world.kitchen)  # 8 days
    elsewhere = KitchenFactory(territory=world.territory)
    closure(world.territory, day(10), day(12), kitchen=elsewhere)  # another kitchen's closure
    closure(TerritoryFactory(), day(13), day(14))  # another territory's holidays
    # P1 and P2 run 31 − 7 − 8 = 16 days: (700 + 350) × 16 ÷ 7 = 2,400 planned; 1,000 ÷ 2,400
    assert world.indicators().get("planned_meals_delivered_share").value == D("41.7")


def test_a_role_category_or_nature_no_longer_offered_is_shown_by_its_code(world):
    # Values stored before a choice was withdrawn: printed as they are, never as "None".
    old = member(Role.VOLUNTEER, world.territory, association=world.a1)
    Membership.objects.filter(user=old).update(role="referent_ancien")
    entry = JournalEntryFactory(territory=world.territory, observed_on=day(12), nature="lever")
    JournalEntry.objects.filter(pk=entry.pk).update(category="ancienne", nature="constat")
    result = world.indicators()
    assert result.get("staff_involved").breakdown == [
        {"role": "referent_ancien", "role_label": "referent_ancien", "people": 1}
    ]
    assert [
        (row["category_label"], row["nature_label"]) for row in result.get("journal_entries").breakdown
    ] == [("ancienne", "constat")]


def test_the_marginal_cost_of_a_dedicated_meal_does_not_apply_without_dedicated_meals():
    territory = TerritoryFactory()
    kitchen = KitchenFactory(territory=territory)
    KitchenCostInputFactory(kitchen=kitchen, month=MARCH)  # packaging 0.20 a meal; 20 h at 30 €
    DailyRollupFactory(
        partnership=PartnershipFactory(territory=territory, kitchen=kitchen, mode="surplus"),
        day=day(4), batches=1, meals_produced_surplus=300, distributions=1, meals_distributed=300,
    )  # fmt: skip
    result = compute_indicators(territory_ids=[territory.pk], start=MARCH, end=MARCH_END)
    dedicated = result.get("marginal_cost_dedicated")
    assert (dedicated.value, dedicated.missing, dedicated.applicable) == (None, [], False)
    surplus = result.get("marginal_cost_surplus")
    assert (surplus.value, surplus.applicable) == (D("2.20"), True)  # 0.20 + 20 h × 30 € ÷ 300


def test_every_territory_when_there_is_none_has_no_days_per_week():
    days = compute_indicators(territory_ids=None, start=MARCH, end=MARCH_END).get(
        "distribution_days_per_week"
    )
    assert (days.value, days.missing) == (None, ["territoires : aucun sur la période"])


def test_a_read_without_the_cache_sees_what_the_rollup_version_does_not(world):
    def kitchen_names(cached: bool) -> list[str]:
        [(_territory, result)] = side_by_side(
            territories=[world.territory], start=MARCH, end=MARCH_END, cached=cached
        )
        return [row["kitchen_name"] for row in result.get("dedicated_share_of_production").breakdown]

    assert kitchen_names(cached=True) == ["Cuisine de la Plaine"]  # read, then kept
    # A kitchen renamed does not change the roll-up version: the kept part keeps the old name
    # (for FLOW_CACHE_SECONDS at most); a read without the cache has the new one.
    world.kitchen.name = "Cuisine centrale de la Plaine"
    world.kitchen.save()
    assert kitchen_names(cached=True) == ["Cuisine de la Plaine"]
    assert kitchen_names(cached=False) == ["Cuisine centrale de la Plaine"]


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_a_kept_flow_part_is_read_anew_after_ten_minutes(world):
    """``FLOW_CACHE_SECONDS`` bounds how long a renamed kitchen keeps its old name: still at
    599 s, the new one at 600 s (the local-memory cache, whose clock the test moves)."""

    def kitchen_names() -> list[str]:
        [(_territory, result)] = side_by_side(territories=[world.territory], start=MARCH, end=MARCH_END)
        return [row["kitchen_name"] for row in result.get("dedicated_share_of_production").breakdown]

    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert kitchen_names() == ["Cuisine de la Plaine"]
        world.kitchen.name = "Cuisine centrale de la Plaine"
        world.kitchen.save()
        clock.shift(599)
        assert kitchen_names() == ["Cuisine de la Plaine"]
        clock.shift(1)
        assert kitchen_names() == ["Cuisine centrale de la Plaine"]


def test_a_convention_ending_in_the_period_plans_its_days_up_to_its_end(world):
    world.p2.ends_on = day(10)  # 350 × 10 ÷ 7 = 500; P1 700 × 31 ÷ 7 = 3,100
    world.p2.save()
    assert world.indicators().get("planned_meals_delivered_share").value == D("27.8")  # 1,000 ÷ 3,600
