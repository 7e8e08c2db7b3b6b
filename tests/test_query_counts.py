"""The number of SQL queries of every list endpoint and list page does not grow with its rows.

The routes are enumerated, so a new list is covered the day it is added: every list action of
the API router (``config.api_urls.router``) and every page whose URL name ends in ``-list``,
plus the list pages named otherwise (``LIST_PAGES``). Each is requested with ``FEW`` rows of
its model, then again once ``MANY`` rows exist; the second request may not take more queries
than the first. The rows are written with ``bulk_create``: a model with no row builder in
``BUILDERS`` fails ``test_every_list_route_has_a_row_builder``.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from associations.models import Association, DistributionSite, DonationReceipt, Partnership
from config.api_urls import router
from costing.finance_models import BudgetLine, CoFunder, Expense, KitchenFixedCost, Revenue
from costing.models import (
    AssociationCost,
    CoordinationCost,
    DailyRollup,
    Funding,
    KitchenCostInput,
    ReferenceValue,
    TransportRate,
)
from kitchens.models import EgalimDeclaration, Kitchen
from meals.models import Batch, Distribution, Offer, OfferRecipient, Pickup, RoundSchedule, RoundSlot
from territories.models import Authority, Membership, Territory
from territories.roles import Role
from tests.factories import (
    AssociationFactory,
    AuthorityFactory,
    DistributionSiteFactory,
    KitchenFactory,
    PartnershipFactory,
    TerritoryFactory,
    member,
)

pytestmark = pytest.mark.django_db

FEW, MANY = 10, 1000
# List pages whose URL name does not end in "-list".
LIST_PAGES = {"pickup-todo", "batch-week", "flow-week"}
# Extra query strings worth a measure of their own (another code path of the same route).
VARIANTS = {"api:rollup-list": ["", "?granularity=month"]}
# Routes answered for one role only: who requests them (everyone else is the evaluator).
REQUESTERS = {
    "pickup-todo": Role.ASSOCIATION_COORDINATOR,
    # Receipts are seen by their association's coordinator and donor kitchen's manager only.
    "api:donation-receipt-list": Role.ASSOCIATION_COORDINATOR,
    # Volunteers are listed for the coordinators who send them sign-in links.
    "volunteer-list": Role.ASSOCIATION_COORDINATOR,
}

TODAY = datetime.date.today()
MONTH = TODAY.replace(day=1)
counter = itertools.count(1)


@dataclass
class World:
    """One territory, kitchen, association, site and partnership that the rows hang on."""

    territory: Territory
    kitchen: Kitchen
    association: Association
    site: DistributionSite
    partnership: Partnership
    authority: Authority
    users: dict[str, Any]
    password: str


def build_world() -> World:
    territory = TerritoryFactory()
    kitchen = KitchenFactory(territory=territory)
    association = AssociationFactory(territory=territory)
    authority = AuthorityFactory(territory=territory)
    users = {
        Role.EVALUATOR: member(Role.EVALUATOR),
        Role.ASSOCIATION_COORDINATOR: member(
            Role.ASSOCIATION_COORDINATOR, territory, association=association
        ),
    }
    return World(
        territory=territory,
        kitchen=kitchen,
        association=association,
        site=DistributionSiteFactory(association=association),
        partnership=PartnershipFactory(territory=territory, kitchen=kitchen, association=association),
        authority=authority,
        users=users,
        password=make_password("passerelle-test"),
    )


# Row builders: n more rows of a model, visible to the evaluator (and to the association's
# coordinator for batches), written with bulk_create.


def bulk(model: type[models.Model], rows: list[models.Model]) -> list[Any]:
    return model.objects.bulk_create(rows)  # type: ignore[attr-defined]


def territories(world: World, n: int) -> list[Territory]:
    return bulk(
        Territory,
        [
            Territory(name=f"T {i}", slug=f"t-{i}", departement_code="93", region="Île-de-France")
            for i in (next(counter) for _ in range(n))
        ],
    )


def authorities(world: World, n: int) -> list[Authority]:
    return bulk(
        Authority, [Authority(territory=world.territory, kind="ccas", name=f"CCAS {i}") for i in range(n)]
    )


def kitchens(world: World, n: int) -> list[Kitchen]:
    return bulk(
        Kitchen,
        [
            Kitchen(
                territory=world.territory,
                name=f"Cuisine {next(counter)}",
                operator_type="regie",
                daily_capacity=8000,
                usual_daily_production=6000,
                address="1 rue",
            )
            for _ in range(n)
        ],
    )


def associations(world: World, n: int) -> list[Association]:
    return bulk(
        Association,
        [
            Association(territory=world.territory, name=f"Asso {next(counter)}", rna="W931234567")
            for _ in range(n)
        ],
    )


def sites(world: World, n: int) -> list[DistributionSite]:
    return bulk(
        DistributionSite,
        [
            DistributionSite(
                territory=world.territory, association=world.association, name=f"L {i}", address="x"
            )
            for i in range(n)
        ],
    )


def partnerships(world: World, n: int) -> list[Partnership]:
    return bulk(
        Partnership,
        [
            Partnership(
                territory=world.territory,
                kitchen=world.kitchen,
                association=world.association,
                mode="both",
                starts_on=datetime.date(2024, 1, 1),
                planned_meals_per_week=100,
                status="active",
            )
            for _ in range(n)
        ],
    )


def memberships(world: World, n: int) -> list[Membership]:
    users = bulk(
        get_user_model(),
        [get_user_model()(username=f"u{next(counter)}", password=world.password) for _ in range(n)],
    )
    return bulk(
        Membership,
        [
            Membership(
                user=user, territory=world.territory, role=Role.VOLUNTEER, association=world.association
            )
            for user in users
        ],
    )


def batches(world: World, n: int, status: str = Batch.Status.READY) -> list[Batch]:
    creator = world.users[Role.EVALUATOR]
    return bulk(
        Batch,
        [
            Batch(
                territory=world.territory,
                partnership=world.partnership,
                kitchen=world.kitchen,
                association=world.association,
                kind="surplus",
                production_date=TODAY,
                meals_count=100,
                liaison="cold",
                lot_number=f"L-{next(counter)}",
                use_by_date=TODAY + datetime.timedelta(days=3),
                dispatch_temperature_c=Decimal("2"),
                status=status,
                created_by=creator,
            )
            for _ in range(n)
        ],
    )


def pickups(world: World, n: int) -> list[Pickup]:
    volunteer = world.users[Role.ASSOCIATION_COORDINATOR]
    at = datetime.datetime.now(datetime.UTC)
    return bulk(
        Pickup,
        [
            Pickup(
                territory=world.territory,
                batch=batch,
                association=world.association,
                picked_up_by=volunteer,
                picked_up_at=at,
                picked_up_on=TODAY,
                meals_received=100,
                temperature_c=Decimal("2"),
                transport_mode="soft",
            )
            for batch in batches(world, n, Batch.Status.DISTRIBUTED)
        ],
    )


def distributions(world: World, n: int) -> list[Distribution]:
    volunteer = world.users[Role.ASSOCIATION_COORDINATOR]
    return bulk(
        Distribution,
        [
            Distribution(
                territory=world.territory,
                pickup=pickup,
                batch_id=pickup.batch_id,
                association=world.association,
                site=world.site,
                distributed_on=TODAY,
                meals_distributed=90,
                beneficiaries=80,
                recorded_by=volunteer,
            )
            for pickup in pickups(world, n)
        ],
    )


def monthly(model: type[models.Model], actors: list[models.Model], field: str, **values: Any) -> list[Any]:
    return bulk(
        model,
        [model(territory_id=actor.territory_id, month=MONTH, **{field: actor}, **values) for actor in actors],
    )


def kitchen_costs(world: World, n: int) -> list[KitchenCostInput]:
    return monthly(KitchenCostInput, kitchens(world, n), "kitchen", food_cost_per_meal=Decimal("1.8"))


def transport_rates(world: World, n: int) -> list[TransportRate]:
    return bulk(
        TransportRate,
        [
            TransportRate(territory=territory, month=MONTH, transport_mode="soft", cost_per_km=Decimal("0.5"))
            for territory in territories(world, n)
        ],
    )


def association_costs(world: World, n: int) -> list[AssociationCost]:
    return monthly(AssociationCost, associations(world, n), "association", volunteer_hours=Decimal("10"))


def coordination_costs(world: World, n: int) -> list[CoordinationCost]:
    return monthly(CoordinationCost, authorities(world, n), "authority", staff_hours=Decimal("5"))


def fundings(world: World, n: int) -> list[Funding]:
    return bulk(
        Funding,
        [
            Funding(
                territory=world.territory,
                funder="drihl",
                amount=Decimal("1000"),
                period_start=MONTH,
                period_end=MONTH,
            )
            for _ in range(n)
        ],
    )


def reference_values(world: World, n: int) -> list[ReferenceValue]:
    return bulk(
        ReferenceValue,
        [
            ReferenceValue(
                code="food_parcel_cost_per_meal",
                value=Decimal("4"),
                source="Étude",
                source_date=MONTH,
                valid_from=datetime.date(2000, 1, 1) + datetime.timedelta(days=next(counter)),
            )
            for _ in range(n)
        ],
    )


def rollups(world: World, n: int) -> list[DailyRollup]:
    """A row per partnership of its own kitchen, so that the monthly sums have n rows too."""
    created = bulk(
        Partnership,
        [
            Partnership(
                territory=world.territory,
                kitchen=kitchen,
                association=world.association,
                mode="both",
                starts_on=datetime.date(2024, 1, 1),
                planned_meals_per_week=100,
            )
            for kitchen in kitchens(world, n)
        ],
    )
    return bulk(
        DailyRollup,
        [
            DailyRollup(
                territory=world.territory,
                partnership=partnership,
                kitchen_id=partnership.kitchen_id,
                association=world.association,
                day=TODAY,
                batches=1,
            )
            for partnership in created
        ],
    )


BUILDERS: dict[type[models.Model], Callable[[World, int], list[Any]]] = {
    Territory: territories,
    Authority: authorities,
    Kitchen: kitchens,
    Association: associations,
    DistributionSite: sites,
    Partnership: partnerships,
    Membership: memberships,
    Batch: batches,
    Pickup: pickups,
    Distribution: distributions,
    KitchenCostInput: kitchen_costs,
    TransportRate: transport_rates,
    AssociationCost: association_costs,
    CoordinationCost: coordination_costs,
    Funding: fundings,
    ReferenceValue: reference_values,
    DailyRollup: rollups,
}


def receipts(world: World, n: int) -> list[DonationReceipt]:
    issuer = world.users[Role.ASSOCIATION_COORDINATOR]
    return bulk(
        DonationReceipt,
        [
            DonationReceipt(
                territory=world.territory,
                association=world.association,
                kitchen=world.kitchen,
                year=2025,
                number=next(counter),
                period="month",
                period_start=datetime.date(2025, 1, 1),
                period_end=datetime.date(2025, 1, 31),
                meals=10,
                amount=Decimal("24.00"),
                issued_by=issuer,
            )
            for _ in range(n)
        ],
    )


BUILDERS[DonationReceipt] = receipts


def offers(world: World, n: int) -> list[Offer]:
    """Open offers of the world's kitchen, each to the world's association."""
    creator = world.users[Role.EVALUATOR]
    respond_by = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2)
    created = bulk(
        Offer,
        [
            Offer(
                territory=world.territory,
                kitchen=world.kitchen,
                production_date=TODAY,
                meals_count=50,
                liaison="cold",
                lot_number=f"O-{next(counter)}",
                use_by_date=TODAY + datetime.timedelta(days=3),
                dispatch_temperature_c=Decimal("2"),
                respond_by=respond_by,
                created_by=creator,
            )
            for _ in range(n)
        ],
    )
    bulk(
        OfferRecipient,
        [
            OfferRecipient(
                offer=offer,
                association=world.association,
                partnership=world.partnership,
                collect_before=respond_by,
            )
            for offer in created
        ],
    )
    return created


BUILDERS[Offer] = offers


def round_slots(world: World, n: int) -> list[RoundSlot]:
    """A slot tomorrow on each of n rounds (one per partnership, as a round belongs to one)."""
    created = bulk(
        Partnership,
        [
            Partnership(
                territory=world.territory,
                kitchen=world.kitchen,
                association=world.association,
                mode="surplus",
                starts_on=datetime.date(2024, 1, 1),
                planned_meals_per_week=100,
                status="active",
            )
            for _ in range(n)
        ],
    )
    window = {"window_start": datetime.time(11, 0), "window_end": datetime.time(12, 0), "expected_meals": 50}
    schedules = bulk(
        RoundSchedule,
        [
            RoundSchedule(
                territory=world.territory,
                partnership=partnership,
                weekdays=["mon"],
                site=world.site,
                **window,
            )
            for partnership in created
        ],
    )
    return bulk(
        RoundSlot,
        [
            RoundSlot(
                territory=world.territory,
                schedule=schedule,
                partnership_id=schedule.partnership_id,
                association=world.association,
                kitchen=world.kitchen,
                date=TODAY + datetime.timedelta(days=1),
                site=world.site,
                volunteer=world.users[Role.ASSOCIATION_COORDINATOR],
                **window,
            )
            for schedule in schedules
        ],
    )


BUILDERS[RoundSlot] = round_slots


def round_schedules(world: World, n: int) -> list[RoundSchedule]:
    """The schedules of the slots' rounds (``round_slots`` writes one per partnership)."""
    slots = round_slots(world, n)
    return [slot.schedule for slot in slots]


BUILDERS[RoundSchedule] = round_schedules


def yearly(model: type[models.Model], world: World, n: int, **values: Any) -> list[Any]:
    """A kitchen's figure for a year, one kitchen each (a kitchen has one per year)."""
    return bulk(
        model,
        [
            model(territory=world.territory, kitchen=kitchen, year=2025, **values)
            for kitchen in kitchens(world, n)
        ],
    )


def egalim_declarations(world: World, n: int) -> list[EgalimDeclaration]:
    return yearly(EgalimDeclaration, world, n, quality_share=Decimal("40"), organic_share=Decimal("15"))


def kitchen_fixed_costs(world: World, n: int) -> list[KitchenFixedCost]:
    return yearly(KitchenFixedCost, world, n, fixed_costs=Decimal("900000"), meals_produced=1_000_000)


def budget_lines(world: World, n: int) -> list[BudgetLine]:
    """One line per funding (a funding has one line per category)."""
    return bulk(
        BudgetLine,
        [
            BudgetLine(
                territory=world.territory, funding=funding, category="transport", planned=Decimal("500")
            )
            for funding in fundings(world, n)
        ],
    )


def co_funders(world: World, n: int) -> list[CoFunder]:
    funding = fundings(world, 1)[0]
    return bulk(
        CoFunder,
        [
            CoFunder(
                territory=world.territory,
                funding=funding,
                kind="foundation",
                organisation=f"Fondation {i}",
                amount=Decimal("100"),
            )
            for i in range(n)
        ],
    )


def expenses(world: World, n: int) -> list[Expense]:
    return bulk(
        Expense,
        [
            Expense(
                territory=world.territory, month=MONTH, category="evaluation", amount=Decimal("10"), label="x"
            )
            for _ in range(n)
        ],
    )


def revenues(world: World, n: int) -> list[Revenue]:
    """Payments for dedicated meals, which name their partnership."""
    return bulk(
        Revenue,
        [
            Revenue(
                territory=world.territory,
                month=MONTH,
                kind="ccas_payment",
                partnership=world.partnership,
                meals=10,
                amount=Decimal("25"),
            )
            for _ in range(n)
        ],
    )


BUILDERS.update(
    {
        EgalimDeclaration: egalim_declarations,
        KitchenFixedCost: kitchen_fixed_costs,
        BudgetLine: budget_lines,
        CoFunder: co_funders,
        Expense: expenses,
        Revenue: revenues,
    }
)


def register_evaluation_builders() -> None:
    """The evaluation's lists (journal, surveys and their responses, reports)."""
    from evaluation.models import JournalEntry, Report, Survey, SurveyResponse

    def journal(world: World, n: int) -> list[Any]:
        author = world.users[Role.EVALUATOR]
        return bulk(
            JournalEntry,
            [
                JournalEntry(
                    territory=world.territory,
                    observed_on=TODAY,
                    author=author,
                    category="logistics",
                    nature="lever",
                    title=f"Observation {i}",
                    text="…",
                    kitchen=world.kitchen,
                    association=world.association,
                )
                for i in range(n)
            ],
        )

    def surveys(world: World, n: int) -> list[Any]:
        author = world.users[Role.EVALUATOR]
        return bulk(
            Survey,
            [
                Survey(
                    territory=world.territory,
                    kind="beneficiary",
                    title=f"Questionnaire {i}",
                    public_token=f"token-{next(counter)}",
                    created_by=author,
                )
                for i in range(n)
            ],
        )

    def responses(world: World, n: int) -> list[Any]:
        survey = surveys(world, 1)[0]
        return bulk(
            SurveyResponse,
            [
                SurveyResponse(
                    territory=world.territory, survey=survey, channel="paper", answered_on=TODAY, answers={}
                )
                for _ in range(n)
            ],
        )

    def reports(world: World, n: int) -> list[Any]:
        requester = world.users[Role.EVALUATOR]
        return bulk(
            Report,
            [
                Report(
                    kind="drihl",
                    territory=world.territory,
                    period_start=MONTH,
                    period_end=TODAY,
                    requested_by=requester,
                )
                for _ in range(n)
            ],
        )

    BUILDERS.update({JournalEntry: journal, Survey: surveys, SurveyResponse: responses, Report: reports})


register_evaluation_builders()


# The routes


def api_list_routes() -> dict[str, type[models.Model]]:
    routes = {}
    for _prefix, viewset, basename in router.registry:
        if not hasattr(viewset, "list"):
            continue
        model = getattr(viewset, "model", None) or viewset.serializer_class.Meta.model
        routes[f"api:{basename}-list"] = model
    return routes


def is_list_page(name: str | None) -> bool:
    return bool(name) and (name.endswith("-list") or name in LIST_PAGES)  # type: ignore[union-attr]


def page_list_routes(
    patterns: Any = None, namespace: str | None = None
) -> dict[str, type[models.Model] | None]:
    routes: dict[str, type[models.Model] | None] = {}
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in ("admin", "api"):
                continue
            routes.update(page_list_routes(pattern.url_patterns, pattern.namespace or namespace))
        elif isinstance(pattern, URLPattern) and is_list_page(pattern.name):
            view_class = getattr(pattern.callback, "view_class", None)
            routes[pattern.name] = getattr(view_class, "model", None)
    return routes


ROUTES: dict[str, type[models.Model] | None] = {**api_list_routes(), **page_list_routes()}


def test_every_list_route_has_a_row_builder():
    missing = {route: model for route, model in ROUTES.items() if model not in BUILDERS}
    assert not missing, f"List routes without a row builder in tests/test_query_counts.py: {missing}"
    assert set(ROUTES) >= LIST_PAGES, "a known list page is gone: update LIST_PAGES"


def measure(clients: dict[str, APIClient]) -> dict[str, tuple[int, int]]:
    """The number of queries of each route and variant, with the number of rows the API listed."""
    counts = {}
    for route in sorted(ROUTES):
        client = clients[REQUESTERS.get(route, Role.EVALUATOR)]
        for query in VARIANTS.get(route, [""]):
            url = reverse(route) + query
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, HTTP_ACCEPT="application/json" if route.startswith("api:") else "")
            assert response.status_code == 200, (url, response.status_code)
            listed = response.json().get("count", 0) if route.startswith("api:") else 0
            counts[url] = (len(queries), listed)
    return counts


def test_list_queries_do_not_grow_with_rows():
    world = build_world()
    clients = {}
    for role, user in world.users.items():
        clients[role] = APIClient()
        clients[role].force_login(user)
    models_listed = {model for model in ROUTES.values() if model is not None}

    for model in models_listed:
        BUILDERS[model](world, FEW)
    measure(clients)  # warm-up: caches filled by a first request are not counted against the rows
    few = measure(clients)
    for model in models_listed:
        BUILDERS[model](world, MANY - FEW)
    many = measure(clients)

    grown = {url: (few[url][0], many[url][0]) for url in few if many[url][0] > few[url][0]}
    assert not grown, f"Queries that grow with the rows ({FEW} → {MANY} rows): {grown}"
    # The lists did list the rows (the test would prove nothing on empty pages).
    for url, (_queries, listed) in many.items():
        if url.startswith("/api/"):
            assert listed >= MANY - FEW, (url, listed)
