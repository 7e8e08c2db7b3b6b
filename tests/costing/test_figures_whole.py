# ruff: noqa: RUF001, RUF003 - the method is written with the signs × and − of French arithmetic
"""Each figure of the cost method as the cost page and the API show it: its whole ``as_dict()``
(key, label, unit, value, method text, inputs used with their values, what is missing, complete,
applicable), compared with what a reader of the page would check on a small case worked out by hand.

The values are those of docs/methodology.md (``tests/costing/test_method.py``); here every word
around them is checked too.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.utils import translation

from costing import services
from costing.models import AssociationCost, KitchenCostInput, ReferenceValue, TransportRate
from costing.services import AssociationMonth, CoordinationMonth, CostData, KitchenMonth, Volumes
from tests.costing.test_method import march_kitchen_inputs

D = Decimal
MARCH = datetime.date(2025, 3, 1)
KITCHEN = "Cuisine de Saint-Denis"
ASSOCIATION = "Les Restos du Cœur 93"
HERE = f"{KITCHEN}, 03/2025"
THERE = f"{ASSOCIATION}, 03/2025"

METHOD_DEDICATED = (
    "Coût marginal d'un repas dédié = denrées + conditionnement + énergie par repas "
    "+ (heures de travail supplémentaires × coût horaire chargé) ÷ repas dédiés du mois."
)
METHOD_SURPLUS = (
    "Coût marginal d'un repas d'excédent = conditionnement par repas "
    "+ (heures de manutention × coût horaire chargé) ÷ repas d'excédents du mois "
    "(les denrées sont déjà payées)."
)
METHOD_KITCHEN = (
    "Coûts des cuisines = Σ par cuisine et par mois (repas dédiés × coût marginal d'un repas dédié "
    "+ repas d'excédents × coût marginal d'un repas d'excédent + autres coûts directs)."
)
METHOD_ASSOCIATION = (
    "Coûts monétaires des associations = Σ par association et par mois (heures de salariés "
    "× coût horaire + locaux + équipement ÷ durée d'amortissement en mois + autres coûts)."
)
METHOD_VOLUNTEERS = (
    "Valorisation du bénévolat = Σ par association et par mois (heures de bénévoles × valeur "
    "d'une heure de bénévolat en vigueur ce mois-là). Présentée à part, jamais ajoutée aux "
    "coûts monétaires."
)
METHOD_COORDINATION = (
    "Coûts de coordination = Σ par collectivité et par mois (heures de coordination × coût "
    "horaire chargé + autres coûts). Au moins une saisie est attendue par territoire et par "
    "mois d'activité."
)
METHOD_PICKUP = (
    "Coût du transport d'une collecte = coût réel saisi, sinon distance × coût par km "
    "+ durée × coût horaire du conducteur (barème du mode de transport et du mois)."
)
METHOD_TRANSPORT = (
    "Transport = Σ des coûts des collectes de la période (coût réel saisi, sinon distance "
    "× coût par km + durée × coût horaire du conducteur)."
)
METHOD_RATIO = "Rapport = coût complet par repas distribué ÷ valeur de référence."
METHOD_DIFFERENCE = "Écart = coût complet par repas distribué − valeur de référence."
PARCEL = "Coût d'un colis alimentaire par équivalent repas (€)"
GROCERY = "Coût en épicerie solidaire par équivalent repas (€)"


def figure(key, label, unit, value, method, inputs=(), missing=(), applicable=True):
    """A figure as the API shows it: inputs as (label, value) pairs, values as strings."""
    return {
        "key": key,
        "label": label,
        "unit": unit,
        "value": value,
        "method": method,
        "inputs": [{"label": label, "value": value} for label, value in inputs],
        "missing": list(missing),
        "complete": not missing,
        "applicable": applicable,
    }


# --- A kitchen's month -------------------------------------------------------------------


def kitchen_cost(inputs, dedicated=2000, surplus=500):
    return services.kitchen_month_cost(KitchenMonth(7, KITCHEN, MARCH, dedicated, surplus, inputs))


DEDICATED_INPUTS = [
    (f"{HERE} : repas dédiés", 2000),
    (f"{HERE} : denrées par repas", "1.80"),
    (f"{HERE} : conditionnement par repas", "0.20"),
    (f"{HERE} : énergie par repas", "0.10"),
    (f"{HERE} : heures de travail supplémentaires (repas dédiés)", "100"),
    (f"{HERE} : coût horaire chargé du travail", "30.00"),
]
SURPLUS_INPUTS = [
    (f"{HERE} : repas d'excédents", 500),
    (f"{HERE} : conditionnement par repas", "0.20"),
    (f"{HERE} : heures de manutention des excédents", "20"),
    (f"{HERE} : coût horaire chargé du travail", "30.00"),
]
OTHER_INPUTS = [(f"{HERE} : autres coûts directs du mois", "500.00")]
# 2,000 × (1.80 + 0.20 + 0.10) + 100 h × 30 € = 7,200 €, ÷ 2,000 = 3.60 €;
# 500 × 0.20 + 20 h × 30 € = 700 €, ÷ 500 = 1.40 €; 7,200 + 700 + 500 of other costs = 8,400 €.
MARCH_KITCHEN = {
    "kitchen": 7,
    "kitchen_name": KITCHEN,
    "month": "2025-03-01",
    "dedicated_meals": 2000,
    "surplus_meals": 500,
    "marginal_dedicated": figure(
        "marginal_cost_dedicated",
        "Coût marginal d'un repas dédié",
        "€/repas",
        "3.60",
        METHOD_DEDICATED,
        DEDICATED_INPUTS,
    ),
    "marginal_surplus": figure(
        "marginal_cost_surplus",
        "Coût marginal d'un repas d'excédent",
        "€/repas",
        "1.40",
        METHOD_SURPLUS,
        SURPLUS_INPUTS,
    ),
    "total": figure(
        "kitchen_cost",
        "Coûts de la cuisine",
        "€",
        "8400.00",
        METHOD_KITCHEN,
        DEDICATED_INPUTS + SURPLUS_INPUTS + OTHER_INPUTS,
    ),
}


def test_a_kitchens_complete_month_shows_each_figure_with_its_inputs_and_method():
    assert kitchen_cost(march_kitchen_inputs()).as_dict() == MARCH_KITCHEN


def test_a_kitchens_month_lists_each_input_left_empty_beside_the_known_ones():
    inputs = march_kitchen_inputs(
        energy_per_meal=None, labour_hourly_cost=None, surplus_handling_hours=None, other_direct_costs=None
    )
    result = kitchen_cost(inputs, dedicated=1000, surplus=400).as_dict()
    dedicated = [
        (f"{HERE} : repas dédiés", 1000),
        (f"{HERE} : denrées par repas", "1.80"),
        (f"{HERE} : conditionnement par repas", "0.20"),
        (f"{HERE} : énergie par repas", None),
        (f"{HERE} : heures de travail supplémentaires (repas dédiés)", "100"),
        (f"{HERE} : coût horaire chargé du travail", None),
    ]
    surplus = [
        (f"{HERE} : repas d'excédents", 400),
        (f"{HERE} : conditionnement par repas", "0.20"),
        (f"{HERE} : heures de manutention des excédents", None),
    ]
    dedicated_missing = [f"{HERE} : énergie par repas", f"{HERE} : coût horaire chargé du travail"]
    surplus_missing = [f"{HERE} : heures de manutention des excédents"]
    # Known parts only: 1,000 × (1.80 + 0.20) = 2,000 € ÷ 1,000; 400 × 0.20 = 80 € ÷ 400.
    assert result["marginal_dedicated"] == figure(
        "marginal_cost_dedicated",
        "Coût marginal d'un repas dédié",
        "€/repas",
        "2.00",
        METHOD_DEDICATED,
        dedicated,
        dedicated_missing,
    )
    assert result["marginal_surplus"] == figure(
        "marginal_cost_surplus",
        "Coût marginal d'un repas d'excédent",
        "€/repas",
        "0.20",
        METHOD_SURPLUS,
        surplus,
        surplus_missing,
    )
    # The other direct costs are needed too, in a month with meals; each gap is listed once.
    assert result["total"] == figure(
        "kitchen_cost",
        "Coûts de la cuisine",
        "€",
        "2080.00",
        METHOD_KITCHEN,
        [*dedicated, *surplus, (f"{HERE} : autres coûts directs du mois", None)],
        [*dedicated_missing, *surplus_missing, f"{HERE} : autres coûts directs du mois"],
    )


def test_a_kitchens_month_without_any_input_row_says_so_once_per_figure():
    result = kitchen_cost(None).as_dict()
    nothing = [f"{HERE} : coûts de la cuisine non saisis"]
    dedicated = [
        (f"{HERE} : repas dédiés", 2000),
        (f"{HERE} : denrées par repas", None),
        (f"{HERE} : conditionnement par repas", None),
        (f"{HERE} : énergie par repas", None),
        (f"{HERE} : heures de travail supplémentaires (repas dédiés)", None),
    ]
    surplus = [
        (f"{HERE} : repas d'excédents", 500),
        (f"{HERE} : conditionnement par repas", None),
        (f"{HERE} : heures de manutention des excédents", None),
    ]
    assert result["marginal_dedicated"] == figure(
        "marginal_cost_dedicated",
        "Coût marginal d'un repas dédié",
        "€/repas",
        None,
        METHOD_DEDICATED,
        dedicated,
        nothing,
    )
    assert result["marginal_surplus"] == figure(
        "marginal_cost_surplus",
        "Coût marginal d'un repas d'excédent",
        "€/repas",
        None,
        METHOD_SURPLUS,
        surplus,
        nothing,
    )
    assert result["total"] == figure(
        "kitchen_cost", "Coûts de la cuisine", "€", None, METHOD_KITCHEN, dedicated + surplus, nothing
    )


def test_a_month_without_an_input_row_is_missing_only_for_the_kind_of_meals_it_had():
    nothing = [f"{HERE} : coûts de la cuisine non saisis"]
    surplus_only = kitchen_cost(None, dedicated=0, surplus=500)
    assert surplus_only.marginal_dedicated.as_dict() == figure(
        "marginal_cost_dedicated",
        "Coût marginal d'un repas dédié",
        "€/repas",
        None,
        f"{METHOD_DEDICATED} Sans objet : aucun repas dédié ce mois-ci.",
        applicable=False,
    )
    assert surplus_only.marginal_surplus.missing == nothing
    assert surplus_only.total.missing == nothing
    dedicated_only = kitchen_cost(None, dedicated=2000, surplus=0)
    assert dedicated_only.marginal_dedicated.missing == nothing
    assert dedicated_only.marginal_surplus.as_dict() == figure(
        "marginal_cost_surplus",
        "Coût marginal d'un repas d'excédent",
        "€/repas",
        None,
        f"{METHOD_SURPLUS} Sans objet : aucun repas d'excédent ce mois-ci.",
        applicable=False,
    )
    assert dedicated_only.total.missing == nothing


def test_a_kitchens_month_without_meals_needs_no_input_but_counts_its_other_costs():
    idle = kitchen_cost(KitchenCostInput(month=MARCH, other_direct_costs=D("150.00")), dedicated=0, surplus=0)
    assert idle.total.as_dict() == figure(
        "kitchen_cost",
        "Coûts de la cuisine",
        "€",
        "150.00",
        METHOD_KITCHEN,
        [
            (f"{HERE} : repas dédiés", 0),
            (f"{HERE} : repas d'excédents", 0),
            (f"{HERE} : autres coûts directs du mois", "150.00"),
        ],
    )
    nothing_at_all = kitchen_cost(None, dedicated=0, surplus=0)
    assert nothing_at_all.total.as_dict() == figure(
        "kitchen_cost",
        "Coûts de la cuisine",
        "€",
        None,
        METHOD_KITCHEN,
        [(f"{HERE} : repas dédiés", 0), (f"{HERE} : repas d'excédents", 0)],
    )
    assert nothing_at_all.marginal_dedicated.complete and nothing_at_all.marginal_surplus.complete


def test_without_inputs_recorded_a_kitchens_figures_keep_their_values_and_gaps_only():
    with services.inputs_not_recorded():
        result = kitchen_cost(march_kitchen_inputs(energy_per_meal=None)).as_dict()
    assert result["marginal_dedicated"]["inputs"] == []
    assert result["marginal_surplus"]["inputs"] == []
    assert result["total"]["inputs"] == []
    assert result["marginal_dedicated"]["missing"] == [f"{HERE} : énergie par repas"]
    # (2,000 × 2.00 + 3,000) ÷ 2,000
    assert result["marginal_dedicated"]["value"] == "3.50"


# --- An association's month ---------------------------------------------------------------


HOUR_VALUE = D("12.50")


def association_cost(inputs, active=True, hour_value=HOUR_VALUE):
    return services.association_month_cost(
        AssociationMonth(4, ASSOCIATION, MARCH, active, inputs, hour_value)
    )


def march_association_inputs(**changes):
    values = {
        "paid_staff_hours": D("160"),
        "paid_staff_hourly_cost": D("25.00"),
        "volunteer_hours": D("380"),
        "premises_cost": D("600.00"),
        "equipment_cost": D("3600.00"),
        "equipment_amortisation_months": 36,
        "other_costs": D("200.00"),
        **changes,
    }
    return AssociationCost(month=MARCH, **values)


RATE_LABEL = "03/2025 : valorisation d'une heure de bénévolat (valeur de référence)"
# 160 h × 25 € + 3,600 € ÷ 36 months + 600 + 200 = 4,900 €; 380 h × 12.50 € = 4,750 €.
MARCH_ASSOCIATION = {
    "association": 4,
    "association_name": ASSOCIATION,
    "month": "2025-03-01",
    "cash": figure(
        "association_cost",
        "Coûts monétaires de l'association",
        "€",
        "4900.00",
        METHOD_ASSOCIATION,
        [
            (f"{THERE} : heures de salariés", "160"),
            (f"{THERE} : coût horaire des salariés", "25.00"),
            (f"{THERE} : équipement (valeur d'achat)", "3600.00"),
            (f"{THERE} : durée d'amortissement de l'équipement (mois)", 36),
            (f"{THERE} : locaux", "600.00"),
            (f"{THERE} : autres coûts", "200.00"),
        ],
    ),
    "volunteers": figure(
        "volunteer_value",
        "Valorisation du bénévolat",
        "€",
        "4750.00",
        METHOD_VOLUNTEERS,
        [(f"{THERE} : heures de bénévoles", "380"), (RATE_LABEL, "12.50")],
    ),
}


def test_an_associations_month_shows_its_cash_cost_and_volunteer_time_apart():
    assert association_cost(march_association_inputs()).as_dict() == MARCH_ASSOCIATION


def test_equipment_without_an_amortisation_period_is_missing_unless_it_cost_nothing():
    for months in (None, 0):
        cash = association_cost(march_association_inputs(equipment_amortisation_months=months)).cash
        assert cash.as_dict() == figure(
            "association_cost",
            "Coûts monétaires de l'association",
            "€",
            "4800.00",  # the known parts: 4,000 + 600 + 200
            METHOD_ASSOCIATION,
            [
                (f"{THERE} : heures de salariés", "160"),
                (f"{THERE} : coût horaire des salariés", "25.00"),
                (f"{THERE} : équipement (valeur d'achat)", "3600.00"),
                (f"{THERE} : durée d'amortissement de l'équipement (mois)", months),
                (f"{THERE} : locaux", "600.00"),
                (f"{THERE} : autres coûts", "200.00"),
            ],
            [f"{THERE} : durée d'amortissement de l'équipement (mois)"],
        )
    free = association_cost(
        march_association_inputs(equipment_cost=D("0"), equipment_amortisation_months=None)
    ).cash
    assert free.value == D("4800.00")
    assert free.complete
    assert free.inputs[2:4] == [
        services.InputUsed(f"{THERE} : équipement (valeur d'achat)", D("0")),
        services.InputUsed(f"{THERE} : durée d'amortissement de l'équipement (mois)", None),
    ]
    # One month of amortisation: the whole purchase that month.
    one_month = association_cost(march_association_inputs(equipment_amortisation_months=1)).cash
    assert one_month.value == D("8400.00")


def test_an_active_association_that_entered_nothing_is_missing_once_per_figure():
    result = association_cost(None).as_dict()
    nothing = [f"{THERE} : coûts de l'association non saisis"]
    assert result["cash"] == figure(
        "association_cost",
        "Coûts monétaires de l'association",
        "€",
        None,
        METHOD_ASSOCIATION,
        [
            (f"{THERE} : heures de salariés", None),
            (f"{THERE} : équipement (valeur d'achat)", None),
            (f"{THERE} : locaux", None),
            (f"{THERE} : autres coûts", None),
        ],
        nothing,
    )
    assert result["volunteers"] == figure(
        "volunteer_value",
        "Valorisation du bénévolat",
        "€",
        None,
        METHOD_VOLUNTEERS,
        [(f"{THERE} : heures de bénévoles", None)],
        nothing,
    )
    cost = association_cost(None)
    assert [cost.staff.missing, cost.equipment.missing, cost.premises_other.missing] == [nothing] * 3


def test_an_association_inactive_that_month_needs_nothing_and_counts_what_it_entered():
    idle = association_cost(None, active=False).as_dict()
    assert idle["cash"] == figure(
        "association_cost", "Coûts monétaires de l'association", "€", None, METHOD_ASSOCIATION
    )
    assert idle["volunteers"] == figure(
        "volunteer_value", "Valorisation du bénévolat", "€", None, METHOD_VOLUNTEERS
    )
    partial = association_cost(
        AssociationCost(month=MARCH, premises_cost=D("600.00")), active=False
    ).as_dict()
    assert partial["cash"] == figure(
        "association_cost",
        "Coûts monétaires de l'association",
        "€",
        "600.00",
        METHOD_ASSOCIATION,
        [(f"{THERE} : locaux", "600.00")],
    )
    assert partial["volunteers"]["missing"] == []
    # Equipment that cost nothing is a known zero, even alone.
    free = association_cost(AssociationCost(month=MARCH, equipment_cost=D("0")), active=False)
    assert free.cash.as_dict() == figure(
        "association_cost",
        "Coûts monétaires de l'association",
        "€",
        "0.00",
        METHOD_ASSOCIATION,
        [
            (f"{THERE} : équipement (valeur d'achat)", "0"),
            (f"{THERE} : durée d'amortissement de l'équipement (mois)", None),
        ],
    )
    assert free.equipment.value == D("0")


def test_an_active_associations_empty_fields_are_each_missing():
    cost = association_cost(
        AssociationCost(month=MARCH, paid_staff_hours=D("10"), premises_cost=D("600.00")), active=True
    ).as_dict()
    assert cost["cash"]["missing"] == [
        f"{THERE} : coût horaire des salariés",
        f"{THERE} : équipement (valeur d'achat)",
        f"{THERE} : autres coûts",
    ]
    assert cost["cash"]["value"] == "600.00"
    assert cost["volunteers"]["missing"] == [f"{THERE} : heures de bénévoles"]


def test_volunteer_hours_without_the_value_of_an_hour_are_missing_unless_there_were_none():
    none_worked = association_cost(march_association_inputs(volunteer_hours=D("0")), hour_value=None)
    assert none_worked.volunteers.as_dict() == figure(
        "volunteer_value",
        "Valorisation du bénévolat",
        "€",
        "0.00",
        METHOD_VOLUNTEERS,
        [(f"{THERE} : heures de bénévoles", "0"), (RATE_LABEL, None)],
    )
    unvalued = association_cost(march_association_inputs(), hour_value=None)
    assert unvalued.volunteers.as_dict() == figure(
        "volunteer_value",
        "Valorisation du bénévolat",
        "€",
        None,
        METHOD_VOLUNTEERS,
        [(f"{THERE} : heures de bénévoles", "380"), (RATE_LABEL, None)],
        [RATE_LABEL],
    )


# --- A territory's coordination -----------------------------------------------------------


def authority_row(name, staff_hours, staff_hourly_cost, other_costs):
    return SimpleNamespace(
        authority_name=name,
        staff_hours=staff_hours,
        staff_hourly_cost=staff_hourly_cost,
        other_costs=other_costs,
    )


def coordination_cost(*rows):
    return services.coordination_month_cost(CoordinationMonth(9, "Plaine Commune", MARCH, rows))


MARCH_COORDINATION = {
    "territory": 9,
    "territory_name": "Plaine Commune",
    "month": "2025-03-01",
    # 40 h × 35 € + 250 € + 0 h (no rate needed) + 80 €
    "total": figure(
        "coordination_cost",
        "Coûts de coordination",
        "€",
        "1730.00",
        METHOD_COORDINATION,
        [
            ("CCAS de Saint-Denis, 03/2025 : heures de coordination", "40"),
            ("CCAS de Saint-Denis, 03/2025 : coût horaire chargé", "35.00"),
            ("CCAS de Saint-Denis, 03/2025 : autres coûts", "250.00"),
            ("Mairie, 03/2025 : heures de coordination", "0"),
            ("Mairie, 03/2025 : autres coûts", "80.00"),
        ],
    ),
}


def test_a_territorys_coordination_adds_up_every_authority_with_its_inputs():
    result = coordination_cost(
        authority_row("CCAS de Saint-Denis", D("40"), D("35.00"), D("250.00")),
        authority_row("Mairie", D("0"), None, D("80.00")),
    )
    assert result.as_dict() == MARCH_COORDINATION


def test_coordination_lists_each_empty_field_and_a_month_without_any_entry():
    result = coordination_cost(authority_row("Mairie", None, None, None)).total.as_dict()
    assert result == figure(
        "coordination_cost",
        "Coûts de coordination",
        "€",
        None,
        METHOD_COORDINATION,
        [("Mairie, 03/2025 : heures de coordination", None), ("Mairie, 03/2025 : autres coûts", None)],
        ["Mairie, 03/2025 : heures de coordination", "Mairie, 03/2025 : autres coûts"],
    )
    hours_without_rate = coordination_cost(authority_row("Mairie", D("10"), None, D("0"))).total
    assert hours_without_rate.missing == ["Mairie, 03/2025 : coût horaire chargé"]
    assert hours_without_rate.value == D("0.00")
    assert coordination_cost().total.as_dict() == figure(
        "coordination_cost",
        "Coûts de coordination",
        "€",
        None,
        METHOD_COORDINATION,
        missing=["Plaine Commune, 03/2025 : coûts de coordination non saisis"],
    )


# --- Transport ----------------------------------------------------------------------------


TWELVE_KM = D("12")


def pickup(recorded=None, rate=None, km=TWELVE_KM, minutes=30):
    return services.pickup_transport_cost(
        recorded_cost=recorded, distance_km=km, duration_minutes=minutes, rate=rate
    ).as_dict()


def test_a_pickups_recorded_transport_cost_is_shown_as_the_one_input_used():
    rate = TransportRate(cost_per_km=D("0.60"), driver_hourly_cost=D("24"))
    assert pickup(D("35.00"), rate) == figure(
        "pickup_transport_cost",
        "Coût du transport de la collecte",
        "€",
        "35.00",
        METHOD_PICKUP,
        [("coût réel saisi", "35.00")],
    )
    assert pickup(D("0"), rate)["value"] == "0.00"


def test_a_pickups_estimated_transport_cost_shows_the_distance_duration_and_rate():
    rate = TransportRate(cost_per_km=D("0.60"), driver_hourly_cost=D("24"))
    # 12 km × 0.60 € + 45 min × 24 €/h = 7.20 + 18.00
    assert pickup(rate=rate, minutes=45) == figure(
        "pickup_transport_cost",
        "Coût du transport de la collecte",
        "€",
        "25.20",
        METHOD_PICKUP,
        [
            ("distance (km)", "12"),
            ("durée (minutes)", 45),
            ("barème : coût par km", "0.60"),
            ("barème : coût horaire du conducteur", "24"),
        ],
    )


def test_a_pickup_without_a_rate_lists_what_the_rate_would_have_given():
    assert pickup() == figure(
        "pickup_transport_cost",
        "Coût du transport de la collecte",
        "€",
        None,
        METHOD_PICKUP,
        [
            ("distance (km)", "12"),
            ("durée (minutes)", 30),
            ("barème : coût par km", None),
            ("barème : coût horaire du conducteur", None),
        ],
        ["barème : coût par km", "barème : coût horaire du conducteur"],
    )
    # A rate with the driver's hourly cost only: 30 min × 24 €/h, the kilometres missing.
    driver_only = pickup(rate=TransportRate(driver_hourly_cost=D("24")))
    assert driver_only["value"] == "12.00"
    assert driver_only["missing"] == ["barème : coût par km"]
    assert driver_only["inputs"][2:] == [
        {"label": "barème : coût par km", "value": None},
        {"label": "barème : coût horaire du conducteur", "value": "24"},
    ]


FIVE_HUNDRED_EUROS, TWO_HUNDRED_KM = D("500.00"), D("200")


def transport(pickups, without_cost, cost=FIVE_HUNDRED_EUROS, km=TWO_HUNDRED_KM):
    volumes = Volumes(pickups=pickups, km=km, transport_cost=cost, pickups_without_cost=without_cost)
    return services.transport_figure(volumes).as_dict()


def test_the_periods_transport_shows_its_pickups_kilometres_and_those_without_a_cost():
    many = (
        "coût de transport de 3 collectes : ni coût réel saisi, ni barème du mode de transport pour le mois"
    )
    assert transport(20, 3) == figure(
        "transport_cost",
        "Transport",
        "€",
        "500.00",
        METHOD_TRANSPORT,
        [
            ("collectes", 20),
            ("kilomètres parcourus", "200"),
            ("coût des collectes, réel ou estimé", "500.00"),
            ("collectes sans coût ni barème", 3),
        ],
        [many],
    )
    one = "coût de transport de 1 collecte : ni coût réel saisi, ni barème du mode de transport pour le mois"
    assert transport(2, 1)["missing"] == [one]
    assert transport(2, 1)["value"] == "500.00"


def test_transport_is_unknown_when_no_pickup_has_a_cost_and_zero_without_pickups():
    assert transport(2, 2, cost=D("0")) == figure(
        "transport_cost",
        "Transport",
        "€",
        None,
        METHOD_TRANSPORT,
        [
            ("collectes", 2),
            ("kilomètres parcourus", "200"),
            ("coût des collectes, réel ou estimé", None),
            ("collectes sans coût ni barème", 2),
        ],
        [
            "coût de transport de 2 collectes : ni coût réel saisi, "
            "ni barème du mode de transport pour le mois"
        ],
    )
    assert transport(0, 0, cost=D("0"), km=D("0")) == figure(
        "transport_cost",
        "Transport",
        "€",
        "0.00",
        METHOD_TRANSPORT,
        [
            ("collectes", 0),
            ("kilomètres parcourus", "0"),
            ("coût des collectes, réel ou estimé", "0"),
            ("collectes sans coût ni barème", 0),
        ],
    )


# --- Reference values ---------------------------------------------------------------------


def full_cost(value, missing=()):
    return services.Figure(
        key="full_cost_per_meal",
        label="Coût complet par repas distribué",
        unit="€/repas",
        value=value,
        method="",
        missing=list(missing),
        exact=value,
    )


PARCEL_VALUE = D("4.25")


def parcel(value=PARCEL_VALUE):
    return ReferenceValue(
        code="food_parcel_cost_per_meal",
        value=value,
        source="Étude de référence sur l'aide alimentaire",
        source_date=datetime.date(2024, 6, 1),
    )


PARCEL_SOURCE = f"{PARCEL} (source : Étude de référence sur l'aide alimentaire, 01/06/2024)"


def test_the_full_cost_compared_with_a_reference_value_names_its_source_and_date():
    ratio, difference = (
        item.as_dict()
        for item in services.reference_figures(full_cost(D("6.80")), parcel(), "food_parcel_cost_per_meal")
    )
    inputs = [("Coût complet par repas distribué", "6.80"), (PARCEL_SOURCE, "4.25")]
    # 6.80 ÷ 4.25 = 1.6; 6.80 − 4.25 = 2.55
    assert ratio == figure(
        "food_parcel_cost_per_meal_ratio",
        f"Coût complet rapporté à : {PARCEL}",
        "×",
        "1.60",
        METHOD_RATIO,
        inputs,
    )
    assert difference == figure(
        "food_parcel_cost_per_meal_difference",
        f"Écart avec : {PARCEL}",
        "€/repas",
        "2.55",
        METHOD_DIFFERENCE,
        inputs,
    )


def test_without_a_reference_value_the_comparison_is_missing_with_the_full_costs_gaps():
    gap = "Cuisine, 03/2025 : énergie par repas"
    ratio, difference = (
        item.as_dict()
        for item in services.reference_figures(
            full_cost(D("6.80"), [gap]), None, "social_grocery_cost_per_meal"
        )
    )
    inputs = [("Coût complet par repas distribué", "6.80"), (GROCERY, None)]
    missing = [gap, f"valeur de référence : {GROCERY}"]
    assert ratio == figure(
        "social_grocery_cost_per_meal_ratio",
        f"Coût complet rapporté à : {GROCERY}",
        "×",
        None,
        METHOD_RATIO,
        inputs,
        missing,
    )
    assert difference == figure(
        "social_grocery_cost_per_meal_difference",
        f"Écart avec : {GROCERY}",
        "€/repas",
        None,
        METHOD_DIFFERENCE,
        inputs,
        missing,
    )


def test_a_reference_value_of_zero_gives_a_difference_but_no_ratio():
    ratio, difference = services.reference_figures(
        full_cost(D("6.80")), parcel(D("0")), "food_parcel_cost_per_meal"
    )
    zero = [f"valeur de référence nulle : {PARCEL}"]
    assert (ratio.value, ratio.missing) == (None, zero)
    assert (difference.value, difference.missing) == (D("6.80"), zero)
    unknown_cost = services.reference_figures(full_cost(None), parcel(), "food_parcel_cost_per_meal")
    assert [(item.value, item.missing) for item in unknown_cost] == [(None, []), (None, [])]


# --- The whole report of a territory's month ----------------------------------------------

LOSS_RATE_METHOD = (
    "Taux de perte = repas perdus ÷ (repas distribués + repas perdus) ; repas perdus = écartés "
    "+ manquants à la collecte + lots non collectés avant la DLC + retirés par un rappel."
)
GROCERY_SOURCE = f"{GROCERY} (source : Observatoire des épiceries solidaires, 15/01/2025)"


def march_report(**volumes):
    sums = {
        "meals_produced_dedicated": 2000,
        "meals_produced_surplus": 500,
        "pickups": 40,
        "meals_picked_up": 2500,
        "meals_distributed": 2375,
        "meals_discarded": 125,
        "people_served": 1900,
        "km": D("400"),
        "transport_cost": D("1200.00"),
        **volumes,
    }
    grocery = ReferenceValue(
        code="social_grocery_cost_per_meal",
        value=D("8.00"),
        source="Observatoire des épiceries solidaires",
        source_date=datetime.date(2025, 1, 15),
    )
    data = CostData(
        territory_ids=[9],
        months=[MARCH],
        volumes=Volumes(**sums),
        kitchens=[KitchenMonth(7, KITCHEN, MARCH, 2000, 500, march_kitchen_inputs())],
        associations=[AssociationMonth(4, ASSOCIATION, MARCH, True, march_association_inputs(), D("12.50"))],
        coordination=[
            CoordinationMonth(
                9,
                "Plaine Commune",
                MARCH,
                (authority_row("CCAS de Saint-Denis", D("40"), D("35.00"), D("250.00")),),
            )
        ],
        references={"food_parcel_cost_per_meal": parcel(), "social_grocery_cost_per_meal": grocery},
    )
    return services.cost_report(data)


def test_a_territorys_month_reads_in_full_as_the_api_shows_it():
    kitchen_inputs = DEDICATED_INPUTS + SURPLUS_INPUTS + OTHER_INPUTS
    coordination_inputs = [
        ("CCAS de Saint-Denis, 03/2025 : heures de coordination", "40"),
        ("CCAS de Saint-Denis, 03/2025 : coût horaire chargé", "35.00"),
        ("CCAS de Saint-Denis, 03/2025 : autres coûts", "250.00"),
    ]
    total = ("Coût total (hors bénévolat)", "16150.00")
    full = ("Coût complet par repas distribué", "6.80")

    def share(key, label, value, euros):
        return figure(
            f"share_{key}",
            f"Part : {label}",
            "%",
            value,
            "Part d'un poste = coût du poste ÷ coût total (hors bénévolat).",
            [(label, euros), total],
        )

    expected = {
        "territories": [9],
        "start": "2025-03-01",
        "end": "2025-03-31",
        "months": ["2025-03-01"],
        "complete": True,
        "missing": [],
        "volumes": {
            "meals_produced_dedicated": 2000,
            "meals_produced_surplus": 500,
            "pickups": 40,
            "meals_picked_up": 2500,
            "meals_distributed": 2375,
            "meals_discarded": 125,
            "meals_short": 0,
            "meals_expired": 0,
            "meals_recalled": 0,
            "people_served": 1900,
            "km": "400",
            "transport_cost": "1200.00",
            "pickups_without_cost": 0,
        },
        "figures": [
            figure(
                "marginal_cost_dedicated",
                "Coût marginal d'un repas dédié",
                "€/repas",
                "3.60",
                METHOD_DEDICATED,
                DEDICATED_INPUTS,
            ),
            figure(
                "marginal_cost_surplus",
                "Coût marginal d'un repas d'excédent",
                "€/repas",
                "1.40",
                METHOD_SURPLUS,
                SURPLUS_INPUTS,
            ),
            figure(
                "kitchen_cost", "Cuisines (coûts marginaux)", "€", "8400.00", METHOD_KITCHEN, kitchen_inputs
            ),
            figure(
                "transport_cost",
                "Transport",
                "€",
                "1200.00",
                METHOD_TRANSPORT,
                [
                    ("collectes", 40),
                    ("kilomètres parcourus", "400"),
                    ("coût des collectes, réel ou estimé", "1200.00"),
                    ("collectes sans coût ni barème", 0),
                ],
            ),
            figure(
                "association_cost",
                "Associations (coûts monétaires)",
                "€",
                "4900.00",
                METHOD_ASSOCIATION,
                [(item["label"], item["value"]) for item in MARCH_ASSOCIATION["cash"]["inputs"]],
            ),
            figure(
                "coordination_cost", "Coordination", "€", "1650.00", METHOD_COORDINATION, coordination_inputs
            ),
            # 8,400 + 1,200 + 4,900 + 1,650
            figure(
                "total_cost",
                "Coût total (hors bénévolat)",
                "€",
                "16150.00",
                "Coût total = cuisines + transport + associations + coordination.",
                [
                    ("Cuisines (coûts marginaux)", "8400.00"),
                    ("Transport", "1200.00"),
                    ("Associations (coûts monétaires)", "4900.00"),
                    ("Coordination", "1650.00"),
                ],
            ),
            # 16,150 € ÷ 2,375 meals distributed
            figure(
                "full_cost_per_meal",
                "Coût complet par repas distribué",
                "€/repas",
                "6.80",
                "Coût complet par repas distribué = (cuisines + transport + associations + coordination) "
                "÷ repas distribués. Les repas perdus ont coûté : ils restent au numérateur.",
                [total, ("repas distribués", 2375)],
            ),
            figure(
                "volunteer_value",
                "Valorisation du bénévolat",
                "€",
                "4750.00",
                METHOD_VOLUNTEERS,
                [(f"{THERE} : heures de bénévoles", "380"), (RATE_LABEL, "12.50")],
            ),
            figure(
                "total_cost_with_volunteers",
                "Coût total avec bénévolat valorisé",
                "€",
                "20900.00",
                "Coût total avec bénévolat = coût total + valorisation du bénévolat.",
                [total, ("Valorisation du bénévolat", "4750.00")],
            ),
            # 20,900 € ÷ 2,375
            figure(
                "full_cost_per_meal_with_volunteers",
                "Coût complet par repas distribué, bénévolat valorisé compris",
                "€/repas",
                "8.80",
                "Coût complet avec bénévolat = (coût total + valorisation du bénévolat) ÷ repas distribués.",
                [("Coût total avec bénévolat valorisé", "20900.00"), ("repas distribués", 2375)],
            ),
            # 16,150 € ÷ 1,900 people
            figure(
                "cost_per_person",
                "Coût par passage (personne servie)",
                "€/passage",
                "8.50",
                "Coût par passage = coût total (hors bénévolat) ÷ passages (personnes servies, comptées à "
                "chaque distribution : une personne servie deux fois compte deux fois).",
                [total, ("passages (personnes servies)", 1900)],
            ),
            # 125 ÷ (2,375 + 125)
            figure(
                "loss_rate",
                "Taux de perte",
                "%",
                "5.0",
                LOSS_RATE_METHOD,
                [("repas perdus", "125"), ("repas distribués ou perdus", 2500)],
            ),
            share("kitchen_cost", "Cuisines (coûts marginaux)", "52.0", "8400.00"),
            share("transport_cost", "Transport", "7.4", "1200.00"),
            share("association_cost", "Associations (coûts monétaires)", "30.3", "4900.00"),
            share("coordination_cost", "Coordination", "10.2", "1650.00"),
            figure(
                "food_parcel_cost_per_meal_ratio",
                f"Coût complet rapporté à : {PARCEL}",
                "×",
                "1.60",
                METHOD_RATIO,
                [full, (PARCEL_SOURCE, "4.25")],
            ),
            figure(
                "food_parcel_cost_per_meal_difference",
                f"Écart avec : {PARCEL}",
                "€/repas",
                "2.55",
                METHOD_DIFFERENCE,
                [full, (PARCEL_SOURCE, "4.25")],
            ),
            # 6.80 ÷ 8.00; 6.80 − 8.00
            figure(
                "social_grocery_cost_per_meal_ratio",
                f"Coût complet rapporté à : {GROCERY}",
                "×",
                "0.85",
                METHOD_RATIO,
                [full, (GROCERY_SOURCE, "8.00")],
            ),
            figure(
                "social_grocery_cost_per_meal_difference",
                f"Écart avec : {GROCERY}",
                "€/repas",
                "-1.20",
                METHOD_DIFFERENCE,
                [full, (GROCERY_SOURCE, "8.00")],
            ),
        ],
        "kitchens": [MARCH_KITCHEN],
        "associations": [MARCH_ASSOCIATION],
        "coordination": [
            {
                "territory": 9,
                "territory_name": "Plaine Commune",
                "month": "2025-03-01",
                "total": figure(
                    "coordination_cost",
                    "Coûts de coordination",
                    "€",
                    "1650.00",
                    METHOD_COORDINATION,
                    coordination_inputs,
                ),
            }
        ],
    }
    report = march_report().as_dict()
    assert report.keys() == expected.keys()
    for key, value in expected.items():
        if key == "figures":
            assert [item["key"] for item in report[key]] == [item["key"] for item in value]
            for got, wanted in zip(report[key], value, strict=True):
                assert got == wanted
        else:
            assert report[key] == value, key


def test_a_report_with_gaps_lists_each_once_in_the_order_of_its_figures():
    energy = f"{HERE} : énergie par repas"
    transport_gap = (
        "coût de transport de 3 collectes : ni coût réel saisi, ni barème du mode de transport pour le mois"
    )
    association_gap = f"{THERE} : coûts de l'association non saisis"
    coordination_gap = "Plaine Commune, 03/2025 : coûts de coordination non saisis"
    data = CostData(
        territory_ids=[9],
        months=[MARCH],
        volumes=Volumes(
            meals_produced_dedicated=2000,
            meals_produced_surplus=500,
            pickups=40,
            pickups_without_cost=3,
            meals_distributed=2375,
            meals_discarded=125,
            people_served=1900,
            km=D("400"),
            transport_cost=D("1100.00"),
        ),
        kitchens=[KitchenMonth(7, KITCHEN, MARCH, 2000, 500, march_kitchen_inputs(energy_per_meal=None))],
        associations=[AssociationMonth(4, ASSOCIATION, MARCH, True, None, D("12.50"))],
        coordination=[CoordinationMonth(9, "Plaine Commune", MARCH, ())],
        references={"food_parcel_cost_per_meal": parcel()},
    )
    report = services.cost_report(data)
    assert not report.complete
    assert report.missing == [
        energy,
        transport_gap,
        association_gap,
        coordination_gap,
        f"valeur de référence : {GROCERY}",
    ]
    gaps = {item.key: (item.value, item.missing) for item in report.figures}
    total_gaps = [energy, transport_gap, association_gap, coordination_gap]
    # The known parts: 8,200 € of kitchen (2,000 × 0.10 of energy unknown) and 1,100 € of transport.
    assert gaps == {
        "marginal_cost_dedicated": (D("3.50"), [energy]),
        "marginal_cost_surplus": (D("1.40"), []),
        "kitchen_cost": (D("8200.00"), [energy]),
        "transport_cost": (D("1100.00"), [transport_gap]),
        "association_cost": (None, [association_gap]),
        "coordination_cost": (None, [coordination_gap]),
        "total_cost": (D("9300.00"), total_gaps),
        "full_cost_per_meal": (D("3.92"), total_gaps),  # 9,300 ÷ 2,375 = 3.9158
        "volunteer_value": (None, [association_gap]),
        "total_cost_with_volunteers": (D("9300.00"), [*total_gaps]),
        "full_cost_per_meal_with_volunteers": (D("3.92"), total_gaps),
        "cost_per_person": (D("4.89"), total_gaps),  # 9,300 ÷ 1,900 = 4.894
        "loss_rate": (D("5.0"), []),
        "share_kitchen_cost": (D("88.2"), total_gaps),  # 8,200 ÷ 9,300
        "share_transport_cost": (D("11.8"), total_gaps),
        "share_association_cost": (None, total_gaps),
        "share_coordination_cost": (None, total_gaps),
        "food_parcel_cost_per_meal_ratio": (D("0.92"), total_gaps),  # 3.9158 ÷ 4.25
        "food_parcel_cost_per_meal_difference": (D("-0.33"), total_gaps),
        "social_grocery_cost_per_meal_ratio": (None, [*total_gaps, f"valeur de référence : {GROCERY}"]),
        "social_grocery_cost_per_meal_difference": (None, [*total_gaps, f"valeur de référence : {GROCERY}"]),
    }
    assert report.figure("total_cost_with_volunteers").inputs == [
        services.InputUsed("Coût total (hors bénévolat)", D("9300.00")),
        services.InputUsed("Valorisation du bénévolat", None),
    ]


def test_an_empty_month_says_what_each_figure_lacks_rather_than_zero():
    data = CostData(territory_ids=[9], months=[MARCH], volumes=Volumes())
    report = services.cost_report(data)
    nobody = "repas distribués : aucun sur la période"
    summary = [(item.key, item.value, item.missing, item.applicable) for item in report.figures]
    assert summary == [
        ("marginal_cost_dedicated", None, [], False),
        ("marginal_cost_surplus", None, [], False),
        ("kitchen_cost", None, [], True),
        ("transport_cost", D("0.00"), [], True),
        ("association_cost", None, [], True),
        ("coordination_cost", None, [], True),
        ("total_cost", D("0.00"), [], True),
        ("full_cost_per_meal", None, [nobody], True),
        ("volunteer_value", None, [], True),
        ("total_cost_with_volunteers", D("0.00"), [], True),
        ("full_cost_per_meal_with_volunteers", None, [nobody], True),
        ("cost_per_person", None, ["passages (personnes servies) : aucun sur la période"], True),
        ("loss_rate", None, ["repas distribués ou perdus : aucun sur la période"], True),
        *(
            (f"share_{key}", None, ["Coût total (hors bénévolat) : aucun sur la période"], True)
            for key in ("kitchen_cost", "transport_cost", "association_cost", "coordination_cost")
        ),
        ("food_parcel_cost_per_meal_ratio", None, [nobody, f"valeur de référence : {PARCEL}"], True),
        ("food_parcel_cost_per_meal_difference", None, [nobody, f"valeur de référence : {PARCEL}"], True),
        ("social_grocery_cost_per_meal_ratio", None, [nobody, f"valeur de référence : {GROCERY}"], True),
        ("social_grocery_cost_per_meal_difference", None, [nobody, f"valeur de référence : {GROCERY}"], True),
    ]
    assert report.figure("marginal_cost_dedicated").method == (
        f"{METHOD_DEDICATED} Sans objet : aucun repas dédié sur la période."
    )
    assert report.figure("marginal_cost_surplus").method == (
        f"{METHOD_SURPLUS} Sans objet : aucun repas d'excédent sur la période."
    )
    assert [(item.label, item.unit) for item in report.figures[:2]] == [
        ("Coût marginal d'un repas dédié", "€/repas"),
        ("Coût marginal d'un repas d'excédent", "€/repas"),
    ]
    assert (report.start, report.end, report.months) == (MARCH, datetime.date(2025, 3, 31), [MARCH])


def test_a_periods_marginal_cost_counts_only_the_months_with_such_meals():
    may = datetime.date(2025, 5, 1)
    may_inputs = KitchenCostInput(
        month=may,
        packaging_per_meal=D("0.25"),
        surplus_handling_hours=D("16"),
        labour_hourly_cost=D("30.00"),
        other_direct_costs=D("0"),
    )
    data = CostData(
        territory_ids=[9],
        months=[MARCH, datetime.date(2025, 4, 1), may],
        volumes=Volumes(meals_distributed=3000),
        kitchens=[
            KitchenMonth(7, KITCHEN, MARCH, 2000, 500, march_kitchen_inputs()),
            KitchenMonth(7, KITCHEN, may, 0, 800, may_inputs),
        ],
    )
    report = services.cost_report(data)
    # May had no dedicated meal: March alone, 7,200 € ÷ 2,000.
    assert report.figure("marginal_cost_dedicated").as_dict() == figure(
        "marginal_cost_dedicated",
        "Coût marginal d'un repas dédié",
        "€/repas",
        "3.60",
        METHOD_DEDICATED,
        DEDICATED_INPUTS,
    )
    # (700 € + 800 × 0.25 + 16 h × 30 €) ÷ (500 + 800) = 1,380 ÷ 1,300 = 1.0615
    assert report.figure("marginal_cost_surplus").as_dict() == figure(
        "marginal_cost_surplus",
        "Coût marginal d'un repas d'excédent",
        "€/repas",
        "1.06",
        METHOD_SURPLUS,
        [
            *SURPLUS_INPUTS,
            (f"{KITCHEN}, 05/2025 : repas d'excédents", 800),
            (f"{KITCHEN}, 05/2025 : conditionnement par repas", "0.25"),
            (f"{KITCHEN}, 05/2025 : heures de manutention des excédents", "16"),
            (f"{KITCHEN}, 05/2025 : coût horaire chargé du travail", "30.00"),
        ],
    )
    assert (report.start, report.end) == (MARCH, datetime.date(2025, 5, 31))
    assert report.as_dict()["months"] == ["2025-03-01", "2025-04-01", "2025-05-01"]


def test_amounts_and_rates_are_rounded_half_up_only_when_shown():
    rate = TransportRate(cost_per_km=D("0.45"), driver_hourly_cost=D("0"))
    # 12.5 km × 0.45 € = 5.625 €: 5.63 shown, the exact amount kept for what derives from it.
    estimated = services.pickup_transport_cost(
        recorded_cost=None, distance_km=D("12.5"), duration_minutes=0, rate=rate
    )
    assert (estimated.value, estimated.exact) == (D("5.63"), D("5.625"))
    # 1 meal lost of 16 (15 distributed): 6.25 % shown to the tenth, 6.3.
    report = services.cost_report(
        CostData(territory_ids=[9], months=[MARCH], volumes=Volumes(meals_distributed=15, meals_short=1))
    )
    assert report.figure("loss_rate").value == D("6.3")
    assert report.figure("loss_rate").inputs == [
        services.InputUsed("repas perdus", D("1")),
        services.InputUsed("repas distribués ou perdus", 16),
    ]


def test_the_other_direct_costs_are_needed_in_a_month_of_either_kind_of_meals_alone():
    inputs = march_kitchen_inputs(other_direct_costs=None)
    for dedicated, surplus in ((2000, 0), (0, 500)):
        total = kitchen_cost(inputs, dedicated=dedicated, surplus=surplus).total
        assert total.missing == [f"{HERE} : autres coûts directs du mois"], (dedicated, surplus)
        assert total.inputs[-1] == services.InputUsed(f"{HERE} : autres coûts directs du mois", None)


def test_zero_hours_alone_are_a_known_zero():
    # No hour of coordination, its other costs left empty: 0 € known, the other costs missing.
    total = coordination_cost(authority_row("Mairie", D("0"), None, None)).total
    assert (total.value, total.missing) == (D("0.00"), ["Mairie, 03/2025 : autres coûts"])


def test_a_period_ending_on_the_first_of_a_month_includes_that_month():
    assert services.months_of(MARCH, MARCH) == [MARCH]
    assert services.months_of(MARCH, datetime.date(2025, 4, 1)) == [MARCH, datetime.date(2025, 4, 1)]
    assert services.months_of(datetime.date(2024, 12, 31), datetime.date(2025, 1, 1)) == [
        datetime.date(2024, 12, 1),
        datetime.date(2025, 1, 1),
    ]


def test_a_report_in_english_leaves_the_next_french_text_in_french():
    # The run's language is kept only while the report is built: the next text in another
    # language is translated into that one.
    with translation.override("en"):
        report = services.cost_report(CostData(territory_ids=[9], months=[MARCH], volumes=Volumes()))
    assert report.figure("total_cost").label == "Total cost (volunteering excluded)"
    with translation.override("fr"):
        assert services.method_volunteer_value().startswith("Valorisation du bénévolat = Σ par association")
