"""A pilot territory with three months of roll-ups and complete cost inputs, for the tests of the
dashboards, the reports and their exports.

From 6 January to 28 March 2025, every Monday, Wednesday and Friday (36 days): one pickup of
125 surplus meals (the one of every sixth day breaks the cold chain), 120 meals distributed
to 100 people, 5 discarded. Cost inputs are entered for January to March; a DRIHL grant covers
2025; the journal holds one obstacle and one lever in February, both shared with funders.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from associations.models import Association, Partnership
from evaluation.models import JournalEntry
from kitchens.models import Kitchen
from territories.models import Authority, Territory
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
)

START = datetime.date(2025, 1, 1)
END = datetime.date(2025, 3, 31)
MONTHS = [datetime.date(2025, month, 1) for month in (1, 2, 3)]


@dataclass
class Pilot:
    territory: Territory
    kitchen: Kitchen
    association: Association
    authority: Authority
    partnership: Partnership


def activity_days() -> list[datetime.date]:
    day, days = datetime.date(2025, 1, 6), []
    while day <= datetime.date(2025, 3, 28):
        if day.weekday() in (0, 2, 4):
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def pilot(name: str = "Plaine Commune", slug: str = "plaine-commune", *, costs: bool = True) -> Pilot:
    territory = TerritoryFactory(name=name, slug=slug, departement_code="93", has_pat=True)
    kitchen = KitchenFactory(territory=territory, name=f"Cuisine centrale de {name}")
    association = AssociationFactory(territory=territory, name=f"Restos solidaires de {name}")
    authority = AuthorityFactory(territory=territory, name=f"CCAS de {name}")
    partnership = PartnershipFactory(
        territory=territory,
        kitchen=kitchen,
        association=association,
        starts_on=datetime.date(2024, 9, 1),
        planned_meals_per_week=400,
    )
    for index, day in enumerate(activity_days()):
        DailyRollupFactory(
            partnership=partnership,
            day=day,
            batches=1,
            meals_produced_surplus=125,
            pickups=1,
            pickups_on_time=1,
            meals_picked_up=125,
            receipt_breaches=1 if index % 6 == 0 else 0,
            km=Decimal("4.2"),
            transport_minutes=25,
            transport_cost=Decimal("12.50"),
            distributions=1,
            meals_distributed=120,
            meals_discarded=5,
            people_served=100,
            households=40,
            children=30,
        )
    if costs:
        for month in MONTHS:
            KitchenCostInputFactory(kitchen=kitchen, month=month)
            AssociationCostFactory(association=association, month=month)
            CoordinationCostFactory(authority=authority, month=month)
            TransportRateFactory(territory=territory, month=month)
    FundingFactory(territory=territory, funder="drihl", amount=Decimal("36500.00"))
    author = UserFactory()
    JournalEntry.objects.create(
        territory=territory,
        author=author,
        observed_on=datetime.date(2025, 2, 10),
        nature="obstacle",
        category="logistics",
        title="Camion frigorifique en panne",
        text="Deux collectes faites en voiture particulière.",
        shared_with_funders=True,
    )
    JournalEntry.objects.create(
        territory=territory,
        author=author,
        observed_on=datetime.date(2025, 2, 20),
        nature="lever",
        category="partnership",
        title="Convention signée avec le CCAS",
        text="Le CCAS prête un local réfrigéré.",
        shared_with_funders=True,
    )
    return Pilot(territory, kitchen, association, authority, partnership)


def references() -> None:
    ReferenceValueFactory(code="food_parcel_cost_per_meal", value=Decimal("4.25"), valid_from=START)
    ReferenceValueFactory(code="volunteer_hour_value", value=Decimal("12.00"), valid_from=START)
    ReferenceValueFactory(code="meal_weight_kg", value=Decimal("0.45"), valid_from=START)
    ReferenceValueFactory(code="co2_kg_per_kg_waste", value=Decimal("2.5"), valid_from=START)
