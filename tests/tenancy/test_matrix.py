"""The cross-tenant matrix.

Routes are enumerated from the URL configuration, so a route added without a case here
fails ``test_every_route_is_covered``. For every route that shows territory data:
a user of territory A gets 404 on B's objects (read and write) and never sees them in
lists; the evaluator sees everything; a funder sees only the territories it funds and
writes nothing. Pages meant for some roles only (declaring a batch, what to collect, the
week's flow, entering costs, the journal's entry form, the surveys) answer 403 to the other
roles and show them nothing. Reference values are shared by every territory: everyone reads
them, only evaluators write them. A survey's public answer page is reached by its token, not
an id: a wrong token is 404 and an answer lands in that survey's territory only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import models
from django.urls import reverse
from rest_framework.test import APIClient

from associations.conventions.selectors import convention_missing_signatures
from associations.conventions.services import convention_version_issue
from associations.models import (
    Association,
    ConventionSignature,
    ConventionVersion,
    DistributionSite,
    DonationReceipt,
    Partnership,
)
from costing.models import (
    AssociationCost,
    BudgetLine,
    CoFunder,
    CoordinationCost,
    DailyRollup,
    Expense,
    Funding,
    KitchenCostInput,
    KitchenFixedCost,
    ReferenceValue,
    Revenue,
    TransportRate,
)
from evaluation.models import JournalEntry, Report, Survey, SurveyResponse
from kitchens.models import EgalimDeclaration, Kitchen
from meals import services
from meals.models import (
    Batch,
    Distribution,
    Offer,
    OfferRecipient,
    Pickup,
    RecordImport,
    RoundSchedule,
    RoundSlot,
)
from meals.offers.services import offer_create
from territories.models import Authority, Membership, Territory
from territories.roles import Role
from tests.factories import (
    AssociationCostFactory,
    AssociationFactory,
    AuthorityFactory,
    CoordinationCostFactory,
    DailyRollupFactory,
    DistributionSiteFactory,
    FundingFactory,
    JournalEntryFactory,
    KitchenCostInputFactory,
    KitchenFactory,
    PartnershipFactory,
    ReferenceValueFactory,
    ReportFactory,
    SurveyFactory,
    SurveyQuestionFactory,
    SurveyResponseFactory,
    TerritoryFactory,
    TransportRateFactory,
    flow,
    member,
)
from tests.routes import iter_routes

pytestmark = pytest.mark.django_db

# Routes that show no territory data, or that belong to Django's staff-only admin.
EXEMPT_NAMESPACES = {"admin"}
EXEMPT_ROUTES = {
    "home", "login", "logout", "set_language",
    "api:api-root", "api:api-token", "api:api-me", "api:api-schema", "api:api-docs",
    # A user's own API tokens: no territory data; another user's token is a 404
    # (tests/territories/test_tokens.py).
    "api:api-logout", "api:api-token-list", "api:api-token-detail", "account-tokens", "account-token-revoke",
    # A user's own calendar addresses, and a feed reached by its secret token: only the owner's
    # items, 404 once revoked (tests/meals/test_calendars.py).
    "calendar-settings", "calendar-feed",
    # Sign-in links: the volunteers a coordinator reaches, another association's or territory's
    # volunteer a 404, the link's own page reached by its token
    # (tests/territories/test_sign_in_links.py).
    "volunteer-list", "sign-in-link-send", "sign-in-link",
    # The import's template CSV: a header and made-up examples (tests/meals/test_record_import_pages.py).
    "record-import-template",
    # An upload (POST only) that writes only for the kitchens within the user's reach
    # (tests/kitchens/test_egalim.py).
    "api:egalim-import",
}  # fmt: skip

# Each covered route, with the model whose objects it shows.
ROUTE_MODELS: dict[str, type[models.Model]] = {
    "territory-list": Territory,
    "territory-detail": Territory,
    "kitchen-list": Kitchen,
    "kitchen-detail": Kitchen,
    "association-list": Association,
    "association-detail": Association,
    "partnership-list": Partnership,
    "partnership-detail": Partnership,
    "partnership-convention": Partnership,
    "partnership-sign": Partnership,
    "convention-version-pdf": ConventionVersion,
    "api:territory-list": Territory,
    "api:territory-detail": Territory,
    "api:authority-list": Authority,
    "api:authority-detail": Authority,
    "api:kitchen-list": Kitchen,
    "api:kitchen-detail": Kitchen,
    "api:association-list": Association,
    "api:association-detail": Association,
    "api:site-list": DistributionSite,
    "api:site-detail": DistributionSite,
    "api:partnership-list": Partnership,
    "api:partnership-detail": Partnership,
    "api:partnership-convention": Partnership,
    "api:partnership-sign": Partnership,
    "api:donation-receipt-list": DonationReceipt,
    "donation-receipt-list": DonationReceipt,
    "donation-receipt-pdf": DonationReceipt,
    "api:donation-receipt-detail": DonationReceipt,
    "api:donation-receipt-download": DonationReceipt,
    "api:membership-list": Membership,
    "api:membership-detail": Membership,
    "api:batch-list": Batch,
    "api:batch-detail": Batch,
    "api:batch-pickup": Batch,
    "api:batch-cancel": Batch,
    "api:batch-discard": Batch,
    "api:batch-recall": Batch,
    "api:batch-sheet": Batch,
    "api:pickup-list": Pickup,
    "api:pickup-detail": Pickup,
    "api:distribution-list": Distribution,
    "api:distribution-detail": Distribution,
    "api:offer-list": Offer,
    "api:offer-detail": Offer,
    "api:offer-accept": Offer,
    "api:offer-decline": Offer,
    "offer-list": Offer,
    "offer-create": Kitchen,  # its form names the kitchens the user offers for
    "offer-detail": Offer,
    "offer-accept": Offer,
    "offer-decline": Offer,
    "round-slot-list": RoundSlot,
    "api:round-schedule-list": RoundSchedule,
    "api:round-schedule-detail": RoundSchedule,
    "round-slot-signup": RoundSlot,
    "round-slot-withdraw": RoundSlot,
    "round-slot-assign": RoundSlot,
    "round-schedule-edit": Partnership,  # the form of the partnership's weekly schedule
    "batch-week": Batch,
    "kitchen-batches": Batch,
    "batch-create": Partnership,  # its form lists the partnerships of the kitchen
    "batch-detail": Batch,
    "batch-pickup": Batch,
    "batch-cancel": Batch,
    "batch-discard": Batch,
    "batch-recall": Batch,
    "batch-sheet": Batch,
    "pickup-todo": Batch,
    "distribution-todo": Pickup,
    "distribution-create": Pickup,
    "flow-week": Batch,
    "territory-costs": Territory,
    "funding-budget": Funding,
    "territory-expenses": Territory,
    "territory-revenues": Territory,
    "kitchen-year-inputs": Kitchen,
    "egalim-import": Kitchen,  # its page lists the kitchens the user declares for
    "kitchen-cost-input": Kitchen,
    "association-cost-input": Association,
    "coordination-cost-input": Territory,
    "transport-rate-input": Territory,
    "api:cost-input-list": KitchenCostInput,
    "api:cost-input-detail": KitchenCostInput,
    "api:transport-cost-list": TransportRate,
    "api:transport-cost-detail": TransportRate,
    "api:association-cost-list": AssociationCost,
    "api:association-cost-detail": AssociationCost,
    "api:coordination-cost-list": CoordinationCost,
    "api:coordination-cost-detail": CoordinationCost,
    "api:funding-list": Funding,
    "api:funding-detail": Funding,
    "api:funding-budget-detail": Funding,
    "api:budget-line-list": BudgetLine,
    "api:budget-line-detail": BudgetLine,
    "api:co-funder-list": CoFunder,
    "api:co-funder-detail": CoFunder,
    "api:expense-list": Expense,
    "api:expense-detail": Expense,
    "api:revenue-list": Revenue,
    "api:revenue-detail": Revenue,
    "api:kitchen-fixed-cost-list": KitchenFixedCost,
    "api:kitchen-fixed-cost-detail": KitchenFixedCost,
    "api:net-costs": Territory,
    "api:egalim-declaration-list": EgalimDeclaration,
    "api:egalim-declaration-detail": EgalimDeclaration,
    "api:reference-value-list": ReferenceValue,
    "api:reference-value-detail": ReferenceValue,
    "api:rollup-list": DailyRollup,
    "api:rollup-detail": DailyRollup,
    "api:costs": Territory,
    "record-import": Territory,
    "record-import-detail": RecordImport,
    "record-import-retry": RecordImport,
    "territory-dashboard": Territory,
    "territory-comparison": Territory,
    "territory-reports": Territory,
    "report-list": Report,
    "report-detail": Report,
    "report-retry": Report,
    "report-download": Report,
    "report-export": Report,
    "api:report-list": Report,
    "api:report-detail": Report,
    "api:report-retry": Report,
    "api:report-download": Report,
    "api:report-export": Report,
    "api:indicators": Territory,
    "api:journal-list": JournalEntry,
    "api:journal-detail": JournalEntry,
    "api:survey-list": Survey,
    "api:survey-detail": Survey,
    "api:survey-response-list": SurveyResponse,
    "api:survey-response-detail": SurveyResponse,
    "journal-list": JournalEntry,
    "journal-create": Territory,  # its form lists the territories the user writes in
    "survey-list": Survey,
    "survey-response-create": Survey,
    "survey-close": Survey,
    "survey-open": Survey,
    "survey-create": Territory,  # its form lists the territories the user defines surveys in
    "survey-edit": Survey,
    "survey-answer": Survey,  # public, reached by the survey's token (TOKEN_ROUTES)
}
# Routes that act on an object rather than show it.
ACTION_ROUTES = {
    "api:batch-pickup", "api:batch-cancel", "api:batch-discard", "api:batch-recall",
    "batch-pickup", "batch-cancel", "batch-discard", "batch-recall", "distribution-create",
    "api:report-retry", "report-retry", "record-import-retry", "survey-close", "survey-open",
    "partnership-sign", "api:partnership-sign",
    "api:offer-accept", "api:offer-decline", "offer-accept", "offer-decline",
    "round-slot-signup", "round-slot-withdraw", "round-slot-assign",
}  # fmt: skip
# Signing a convention: aimed at a version still to be signed, so a missing check would let it in.
SIGN_ROUTES = {"partnership-sign", "api:partnership-sign"}
# Action routes only evaluators may use (asking a failed report again); others get 403 in sight.
EVALUATOR_ACTIONS = {"api:report-retry", "report-retry"}
# Actions on a survey only evaluators may use (closing its public link).
SURVEY_ACTIONS = {"survey-close", "survey-open"}
# Action routes of the browser that also show their form (GET), with the roles that may use it.
FORM_ROUTES = {
    "batch-pickup": {Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR},
    "distribution-create": {Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR},
}
# List pages meant for some roles only; any other role gets 403.
ROLE_LIST_ROUTES = {
    "batch-create": {Role.KITCHEN_MANAGER},
    "offer-create": {Role.KITCHEN_MANAGER},
    "kitchen-batches": {Role.KITCHEN_MANAGER},
    "pickup-todo": {Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR},
    "distribution-todo": {Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR},
    "flow-week": {Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR, Role.EVALUATOR},
    "territory-comparison": {Role.EVALUATOR},
    "journal-create": {Role.AUTHORITY_COORDINATOR, Role.EVALUATOR},
    "survey-list": {Role.AUTHORITY_COORDINATOR, Role.EVALUATOR},
    "survey-create": {Role.EVALUATOR},
    "egalim-import": {Role.KITCHEN_MANAGER, Role.EVALUATOR},
}
# Pages of one object meant for some roles only (the cost input forms); any other role gets 403,
# and a user outside the object's territory 404.
ROLE_DETAIL_ROUTES = {
    "kitchen-cost-input": {Role.KITCHEN_MANAGER},
    "association-cost-input": {Role.ASSOCIATION_COORDINATOR},
    "coordination-cost-input": {Role.AUTHORITY_COORDINATOR},
    "transport-rate-input": {Role.AUTHORITY_COORDINATOR},
    "survey-response-create": {Role.AUTHORITY_COORDINATOR, Role.EVALUATOR},
    "survey-edit": {Role.EVALUATOR},
    "territory-expenses": {Role.AUTHORITY_COORDINATOR, Role.EVALUATOR},
    "round-schedule-edit": {Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR},
    "territory-revenues": {Role.AUTHORITY_COORDINATOR, Role.EVALUATOR},
    "kitchen-year-inputs": {Role.KITCHEN_MANAGER, Role.EVALUATOR},
}
# Of those, the forms only evaluators post (defining a survey): tested apart, below.
EVALUATOR_FORMS = {"survey-edit"}
# Routes that show one territory named in the query string: 404 when it is out of scope.
TERRITORY_QUERY_ROUTES = {
    "api:costs": {"start": "2025-01-01", "end": "2025-01-31"},
    "api:net-costs": {"start": "2025-01-01", "end": "2025-01-31"},
    "api:indicators": {"start": "2025-01-01", "end": "2025-01-31"},
}
# Public routes reached by an unguessable token instead of a login (a survey's answer page).
TOKEN_ROUTES = {"survey-answer"}
# Lists of one week's batches: checked on the week of the batch they should (not) show.
WEEK_ROUTES = {"batch-week", "flow-week", "kitchen-batches"}
# Lists of batches still waiting for their pickup: checked on each side's ready batch.
READY_BATCH_ROUTES = {"pickup-todo"}
# Lists of collected batches with meals left to hand out: checked on each side's collected batch.
COLLECTED_BATCH_ROUTES = {"distribution-todo"}
# Models a funder does not see even in the territories it funds.
HIDDEN_FROM_FUNDERS = {
    ConventionVersion, DonationReceipt, Membership, Batch, Pickup, Distribution, RecordImport,
    JournalEntry, Survey, SurveyResponse, Offer, RoundSlot, RoundSchedule,
}  # fmt: skip
# Models that, inside their territory, only some roles see (and evaluators everywhere).
ROLE_VISIBLE_MODELS = {
    RecordImport: {Role.AUTHORITY_COORDINATOR},
    # A donation receipt: its association's coordinator and its donor kitchen's manager only.
    DonationReceipt: {Role.KITCHEN_MANAGER, Role.ASSOCIATION_COORDINATOR},
}
# Models whose lists (API and pages) show rows only to the roles of ROLE_VISIBLE_MODELS.
RESTRICTED_LIST_MODELS = {DonationReceipt}
# Models evaluators do not see either (a donor's tax documents).
HIDDEN_FROM_EVALUATORS = {DonationReceipt}
# Models only evaluators list, whatever the territory.
EVALUATORS_ONLY = {Membership}
# Models not owned by a territory: every member reads every row, only evaluators write.
SHARED_MODELS = {ReferenceValue}
# Routes that answer with a file rather than a page listing names.
FILE_ROUTES = {
    "api:donation-receipt-download", "donation-receipt-pdf", "convention-version-pdf",
    "partnership-convention", "report-download", "report-export", "api:report-download", "api:report-export",
}  # fmt: skip
# Routes of one object that need a query string to answer (a report's table and its format).
DETAIL_QUERIES = {
    "report-export": "table=activity&format=csv",
    "api:report-export": "table=activity&format=csv",
}

TERRITORIAL_ROLES = [
    Role.KITCHEN_MANAGER,
    Role.VOLUNTEER,
    Role.ASSOCIATION_COORDINATOR,
    Role.AUTHORITY_COORDINATOR,
]


def covered_routes() -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for name, kwargs in iter_routes():
        if name.split(":")[0] in EXEMPT_NAMESPACES or name in EXEMPT_ROUTES:
            continue
        routes[name] = kwargs
    return routes


ROUTES = covered_routes()
DETAIL_ROUTES = sorted(
    name for name, kwargs in ROUTES.items() if kwargs and name not in ACTION_ROUTES | TOKEN_ROUTES
)
LIST_ROUTES = sorted(name for name, kwargs in ROUTES.items() if not kwargs)


def test_every_route_is_covered():
    missing = set(ROUTES) - set(ROUTE_MODELS)
    assert not missing, f"Routes without a cross-tenant case: {sorted(missing)}"
    stale = set(ROUTE_MODELS) - set(ROUTES)
    assert not stale, f"Cases for routes that no longer exist: {sorted(stale)}"
    assert all(kwargs == {"pk"} for name, kwargs in ROUTES.items() if kwargs and name not in TOKEN_ROUTES)
    assert all(ROUTES[name] == {"token"} for name in TOKEN_ROUTES)


@dataclass
class Side:
    territory: Territory
    objects: dict[type[models.Model], models.Model] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    # A batch declared today and not picked up yet (the flow's batch is distributed).
    ready_batch: Batch | None = None
    # A batch picked up yesterday, nothing distributed yet.
    collected_batch: Batch | None = None


def build_side(label: str) -> Side:
    territory = TerritoryFactory(name=f"Territoire {label}", slug=f"territoire-{label.lower()}")
    # Distinct SIRETs: the EGalim import finds a kitchen by its SIRET.
    siret = {"Alpha": "73282932000074", "Bravo": "35600000000048"}[label]
    kitchen = KitchenFactory(territory=territory, name=f"Cuisine {label}", siret=siret)
    association = AssociationFactory(territory=territory, name=f"Association {label}")
    side = Side(territory)
    side.objects = {
        Territory: territory,
        Authority: AuthorityFactory(territory=territory, name=f"CCAS {label}"),
        Kitchen: kitchen,
        Association: association,
        DistributionSite: DistributionSiteFactory(association=association, name=f"Local {label}"),
        Partnership: PartnershipFactory(
            territory=territory,
            kitchen=kitchen,
            association=association,
            starts_on=datetime.date(2025, 1, 1),
            convention_document="conventions/convention.pdf",
        ),
    }
    side.objects[ConventionVersion] = side.objects[Partnership].versions.get(number=1)
    side.users = {
        Role.KITCHEN_MANAGER: member(Role.KITCHEN_MANAGER, territory, kitchen=kitchen),
        Role.VOLUNTEER: member(Role.VOLUNTEER, territory, association=association),
        Role.ASSOCIATION_COORDINATOR: member(
            Role.ASSOCIATION_COORDINATOR, territory, association=association
        ),
        Role.AUTHORITY_COORDINATOR: member(
            Role.AUTHORITY_COORDINATOR, territory, authority=side.objects[Authority]
        ),
    }
    side.objects[Membership] = Membership.objects.get(user=side.users[Role.KITCHEN_MANAGER])
    batch, pickup, distribution = flow(
        side.objects[Partnership],
        kitchen_user=side.users[Role.KITCHEN_MANAGER],
        volunteer=side.users[Role.VOLUNTEER],
        site=side.objects[DistributionSite],
    )
    side.objects.update({Batch: batch, Pickup: pickup, Distribution: distribution})
    month = datetime.date(2025, 1, 1)
    side.objects.update(
        {
            KitchenCostInput: KitchenCostInputFactory(kitchen=kitchen, month=month),
            TransportRate: TransportRateFactory(territory=territory, month=month),
            AssociationCost: AssociationCostFactory(association=association, month=month),
            CoordinationCost: CoordinationCostFactory(authority=side.objects[Authority], month=month),
            Funding: FundingFactory(territory=territory),
            ReferenceValue: ReferenceValueFactory(
                code="food_parcel_cost_per_meal" if label == "Alpha" else "social_grocery_cost_per_meal"
            ),
            EgalimDeclaration: EgalimDeclaration.objects.create(
                territory=territory,
                kitchen=kitchen,
                year=2025,
                quality_share=Decimal("42.5"),
                organic_share=Decimal("21"),
            ),
            KitchenFixedCost: KitchenFixedCost.objects.create(
                territory=territory,
                kitchen=kitchen,
                year=2025,
                fixed_costs=Decimal("900000"),
                meals_produced=450000,
            ),
            Expense: Expense.objects.create(
                territory=territory,
                month=month,
                category="evaluation",
                amount=Decimal("800"),
                label=f"Enquête {label}",
            ),
            Revenue: Revenue.objects.create(
                territory=territory, month=month, kind="beneficiaries", amount=Decimal("120")
            ),
            DailyRollup: DailyRollupFactory(
                partnership=side.objects[Partnership], day=datetime.date(2025, 1, 15), meals_distributed=10
            ),
        }
    )
    funding = side.objects[Funding]
    side.objects[BudgetLine] = BudgetLine.objects.create(
        territory=territory, funding=funding, category="transport", planned=Decimal("5000")
    )
    side.objects[CoFunder] = CoFunder.objects.create(
        territory=territory,
        funding=funding,
        kind="municipality",
        organisation=f"Ville {label}",
        amount=Decimal("900"),
    )
    survey = SurveyFactory(
        territory=territory, title=f"Questionnaire {label}", created_by=side.users[Role.AUTHORITY_COORDINATOR]
    )
    SurveyQuestionFactory(survey=survey)  # "satisfaction", a scale
    side.objects.update(
        {
            JournalEntry: JournalEntryFactory(
                territory=territory,
                author=side.users[Role.AUTHORITY_COORDINATOR],
                title=f"Observation {label}",
                kitchen=kitchen,
            ),
            Survey: survey,
            SurveyResponse: SurveyResponseFactory(survey=survey, answers={"satisfaction": 4}),
        }
    )
    side.objects[Report] = ReportFactory(
        territory=territory, requested_by=side.users[Role.AUTHORITY_COORDINATOR]
    )
    receipt = DonationReceipt(
        territory=territory,
        association=association,
        kitchen=kitchen,
        year=2025,
        number=1 if label == "Alpha" else 2,  # each side's receipt reads differently in a list
        period="month",
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 1, 31),
        meals=100,
        amount=Decimal("240.00"),
        issued_by=side.users[Role.ASSOCIATION_COORDINATOR],
    )
    receipt.pdf.save(f"recu-{label}.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    receipt.save()
    side.objects[DonationReceipt] = receipt
    side.objects[RecordImport] = RecordImport.objects.create(
        territory=territory, file=f"imports/{label}.csv", uploaded_by=side.users[Role.AUTHORITY_COORDINATOR]
    )
    today = datetime.date.today()
    side.ready_batch = services.batch_create(
        partnership=side.objects[Partnership],
        by=side.users[Role.KITCHEN_MANAGER],
        kind="surplus",
        production_date=today,
        meals_count=40,
        liaison="cold",
        lot_number=f"PRET-{label}",
        use_by_date=today + datetime.timedelta(days=3),
        dispatch_temperature_c=Decimal("2.0"),
        allergens=["milk"],
    )
    # A surplus offered to the side's association (its one donation convention with the kitchen).
    side.objects[Offer] = offer_create(
        kitchen=kitchen,
        by=side.users[Role.KITCHEN_MANAGER],  # type: ignore[arg-type]
        production_date=today,
        meals_count=30,
        liaison="cold",
        lot_number=f"OFFRE-{label}",
        use_by_date=today + datetime.timedelta(days=3),
        dispatch_temperature_c=Decimal("2.0"),
        allergens=["milk"],
    )
    schedule = RoundSchedule.objects.create(
        territory=territory,
        partnership=side.objects[Partnership],
        weekdays=["mon"],
        window_start=datetime.time(11, 0),
        window_end=datetime.time(12, 0),
        expected_meals=40,
        site=side.objects[DistributionSite],
    )
    side.objects[RoundSchedule] = schedule
    side.objects[RoundSlot] = RoundSlot.objects.create(
        territory=territory,
        schedule=schedule,
        partnership=side.objects[Partnership],
        association=association,
        kitchen=kitchen,
        date=today + datetime.timedelta(days=2),
        window_start=datetime.time(11, 0),
        window_end=datetime.time(12, 0),
        expected_meals=40,
        site=side.objects[DistributionSite],
        volunteer=side.users[Role.VOLUNTEER],
    )
    side.collected_batch = services.batch_create(
        partnership=side.objects[Partnership],
        by=side.users[Role.KITCHEN_MANAGER],
        kind="surplus",
        production_date=today - datetime.timedelta(days=1),
        meals_count=30,
        liaison="cold",
        lot_number=f"COLLECTE-{label}",
        use_by_date=today + datetime.timedelta(days=2),
        dispatch_temperature_c=Decimal("2.0"),
        allergens=["milk"],
    )
    services.pickup_confirm(
        batch=side.collected_batch,
        by=side.users[Role.VOLUNTEER],
        meals_received=30,
        temperature_c=Decimal("2.5"),
        transport_mode="association_vehicle",
        refrigerated_vehicle=True,
        distance_km=Decimal("3.0"),
        duration_minutes=15,
    )
    return side


@pytest.fixture
def world(settings):
    a, b = build_side("Alpha"), build_side("Bravo")
    (settings.MEDIA_ROOT / "conventions").mkdir(parents=True, exist_ok=True)
    (settings.MEDIA_ROOT / "conventions" / "convention.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    evaluator = member(Role.EVALUATOR)
    funder_of_b = member(Role.FUNDER, funded=[b.territory])
    return a, b, evaluator, funder_of_b


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def detail_url(route: str, obj: models.Model) -> str:
    url = reverse(route, kwargs={"pk": obj.pk})
    return f"{url}?{DETAIL_QUERIES[route]}" if route in DETAIL_QUERIES else url


def label(obj: models.Model) -> str:
    if isinstance(obj, Batch | Offer):
        return obj.lot_number
    if isinstance(obj, Report):
        return reverse("report-detail", kwargs={"pk": obj.pk})  # each row links to its report
    if isinstance(obj, JournalEntry | Survey):
        return obj.title
    if isinstance(obj, RoundSlot):
        return obj.association.name
    if isinstance(obj, DonationReceipt):
        return f"Reçu n° {obj.reference}"
    return str(obj) if isinstance(obj, Partnership | Membership) else obj.name  # type: ignore[attr-defined]


def listed(side: Side, route: str) -> models.Model:
    """The object of a side that the list page ``route`` shows to those allowed."""
    if route in READY_BATCH_ROUTES:
        return side.ready_batch  # type: ignore[return-value]
    if route in COLLECTED_BATCH_ROUTES:
        return side.collected_batch  # type: ignore[return-value]
    return side.objects[ROUTE_MODELS[route]]


def list_url(route: str, obj: models.Model) -> str:
    if route in WEEK_ROUTES:
        year, week, _ = obj.production_date.isocalendar()  # type: ignore[attr-defined]
        return f"{reverse(route)}?semaine={year}-W{week:02d}"
    return reverse(route)


def list_status(route: str, role: str) -> int:
    return 403 if route in ROLE_LIST_ROUTES and role not in ROLE_LIST_ROUTES[route] else 200


def visible_in_list(client: APIClient, route: str, obj: models.Model, status: int = 200) -> bool:
    if route in TERRITORY_QUERY_ROUTES:
        query = {"territory": obj.pk, **TERRITORY_QUERY_ROUTES[route]}
        response = client.get(reverse(route), query)
        assert response.status_code in (200, 404), (route, response.status_code)
        if response.status_code != 200:
            return False
        # The cost figures list territory ids; the indicators one set per territory.
        rows = response.json()["territories"]
        return [row if isinstance(row, int) else row["territory"] for row in rows] == [obj.pk]
    response = client.get(list_url(route, obj))
    assert response.status_code == status, (route, response.status_code)
    if status != 200:
        return False
    if route.startswith("api:"):
        body = response.json()
        assert body["next"] is None, "the matrix expects one page"
        return obj.pk in {row["id"] for row in body["results"]}
    return label(obj) in response.content.decode()


@pytest.mark.parametrize("route", DETAIL_ROUTES)
@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_other_territory_objects_answer_404_to_reads_and_writes(world, route, role):
    a, b, _, _ = world
    model = ROUTE_MODELS[route]
    client = client_for(a.users[role])
    target = b.objects[model]
    url = detail_url(route, target)

    shared = model in SHARED_MODELS
    assert client.get(url).status_code == (200 if shared else 404)
    if route.startswith("api:"):
        before = model.objects.filter(pk=target.pk).values().get()
        for method in ("patch", "put", "delete"):
            status = getattr(client, method)(url, {}, format="json").status_code
            assert status in ((403, 405) if shared else (404, 405)), (method, status)
        assert model.objects.filter(pk=target.pk).values().get() == before

    # The same route serves the user's own territory (so the 404 above is the rule, not a broken route).
    own = a.objects[model]
    expected = 404 if model in EVALUATORS_ONLY else 200
    if model in ROLE_VISIBLE_MODELS and role not in ROLE_VISIBLE_MODELS[model]:
        expected = 404
    if route in ROLE_DETAIL_ROUTES and role not in ROLE_DETAIL_ROUTES[route]:
        expected = 403
    assert client.get(detail_url(route, own)).status_code == expected


@pytest.mark.parametrize("route", LIST_ROUTES)
@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_lists_never_show_another_territory(world, route, role):
    a, b, _, _ = world
    model = ROUTE_MODELS[route]
    client = client_for(a.users[role])
    status = list_status(route, role)
    shown = status == 200 and model not in EVALUATORS_ONLY
    shown = shown and (
        model not in ROLE_VISIBLE_MODELS
        or role in ROLE_VISIBLE_MODELS[model]
        or model not in RESTRICTED_LIST_MODELS
    )
    assert visible_in_list(client, route, listed(b, route), status) is (shown and model in SHARED_MODELS)
    assert visible_in_list(client, route, listed(a, route), status) is shown


@pytest.mark.parametrize("route", DETAIL_ROUTES)
def test_evaluator_sees_every_territory(world, route):
    a, b, evaluator, _ = world
    client = client_for(evaluator)
    expected = 403 if Role.EVALUATOR not in ROLE_DETAIL_ROUTES.get(route, {Role.EVALUATOR}) else 200
    if ROUTE_MODELS[route] in HIDDEN_FROM_EVALUATORS:
        expected = 404
    for side in (a, b):
        assert client.get(detail_url(route, side.objects[ROUTE_MODELS[route]])).status_code == expected


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_evaluator_lists_every_territory(world, route):
    a, b, evaluator, _ = world
    client = client_for(evaluator)
    status = list_status(route, Role.EVALUATOR)
    shown = status == 200 and ROUTE_MODELS[route] not in HIDDEN_FROM_EVALUATORS
    assert visible_in_list(client, route, listed(a, route), status) is shown
    assert visible_in_list(client, route, listed(b, route), status) is shown


@pytest.mark.parametrize("route", DETAIL_ROUTES)
def test_funder_sees_only_funded_territories_and_writes_nothing(world, route):
    a, b, _, funder = world
    model = ROUTE_MODELS[route]
    client = client_for(funder)
    funded_status = 404 if model in HIDDEN_FROM_FUNDERS else 200
    if route in ROLE_DETAIL_ROUTES and model not in HIDDEN_FROM_FUNDERS:
        funded_status = 403  # in sight, but a funder writes nothing
    assert client.get(detail_url(route, b.objects[model])).status_code == funded_status
    unfunded_status = 200 if model in SHARED_MODELS else 404
    assert client.get(detail_url(route, a.objects[model])).status_code == unfunded_status
    if route.startswith("api:") and funded_status == 200:
        target = b.objects[model]
        before = model.objects.filter(pk=target.pk).values().get()
        for method in ("patch", "delete"):
            status = getattr(client, method)(detail_url(route, target), {}, format="json").status_code
            assert status in (403, 405), (method, status)
        assert model.objects.filter(pk=target.pk).values().get() == before


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_funder_lists_only_funded_territories(world, route):
    a, b, _, funder = world
    model = ROUTE_MODELS[route]
    client = client_for(funder)
    status = list_status(route, Role.FUNDER)
    shown = status == 200 and model not in HIDDEN_FROM_FUNDERS
    assert visible_in_list(client, route, listed(a, route), status) is (shown and model in SHARED_MODELS)
    assert visible_in_list(client, route, listed(b, route), status) is shown


@pytest.mark.parametrize("route", [r for r in LIST_ROUTES if r.startswith("api:")])
def test_funder_creates_nothing(world, route):
    _, b, _, funder = world
    model = ROUTE_MODELS[route]
    before = model.objects.count()
    status = client_for(funder).post(reverse(route), {"territory": b.territory.pk}, format="json").status_code
    assert status in (400, 403, 405)
    assert model.objects.count() == before


def snapshot(obj: models.Model) -> dict:
    return type(obj).objects.filter(pk=obj.pk).values().get()  # type: ignore[attr-defined]


def flow_counts() -> tuple[int, int, int, int, int, int]:
    return (
        Offer.objects.exclude(status="open").count(),
        OfferRecipient.objects.filter(declined_at__isnull=False).count(),
        Batch.objects.count(),
        Pickup.objects.count(),
        Distribution.objects.count(),
        ConventionSignature.objects.count(),
    )


def action_target(side: Side, route: str) -> models.Model:
    """The browser's batch actions aim at the ready batch, so that a missing check would let
    the valid request below through; the API's aim at the flow's batch."""
    if route in ("batch-pickup", "batch-cancel", "batch-discard", "batch-recall"):
        return side.ready_batch  # type: ignore[return-value]
    if route in SIGN_ROUTES:
        partnership = side.objects[Partnership]
        if not convention_missing_signatures(partnership):  # type: ignore[arg-type]
            convention_version_issue(partnership=partnership, by=None)  # type: ignore[arg-type]
        return partnership
    return side.objects[ROUTE_MODELS[route]]


def post_action(client: APIClient, route: str, side: Side):
    """A valid request for the action on the side's target (the API's is empty JSON, as before)."""
    url = detail_url(route, action_target(side, route))
    if route in SIGN_ROUTES:
        return client.post(
            url, {"signer_name": "Essai"}, format="json" if route.startswith("api:") else "multipart"
        )
    if route.startswith("api:"):
        return client.post(url, {}, format="json")
    payload = {
        "batch-cancel": {"reason": "Essai"},
        "batch-discard": {"reason": "Essai"},
        "batch-recall": {"reason": "Essai"},
        "batch-pickup": {"meals_received": "40", "temperature_c": "2,0", "transport_mode": "soft"},
        "report-retry": {},
        "record-import-retry": {},
        "survey-close": {},
        "offer-accept": {},
        "offer-decline": {"reason": "Essai"},
        "round-slot-signup": {},
        "round-slot-withdraw": {},
        "round-slot-assign": {"volunteer": side.users[Role.VOLUNTEER].pk},  # type: ignore[attr-defined]
        "survey-open": {},
        "distribution-create": {
            "site": side.objects[DistributionSite].pk,
            "distributed_on": str(datetime.date.today()),
            "meals_distributed": "1",
            "beneficiaries": "1",
        },
    }[route]
    return client.post(url, payload, format="multipart")


@pytest.mark.parametrize("route", sorted(ACTION_ROUTES))
@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_actions_on_another_territory_answer_404_and_change_nothing(world, route, role):
    a, b, _, _ = world
    target = action_target(b, route)
    before, counts = snapshot(target), flow_counts()
    response = post_action(client_for(a.users[role]), route, b)
    assert response.status_code == 404
    assert snapshot(target) == before
    assert flow_counts() == counts


@pytest.mark.parametrize("route", sorted(ACTION_ROUTES - EVALUATOR_ACTIONS - SURVEY_ACTIONS))
def test_evaluator_and_funder_cannot_act_on_batches(world, route):
    _, b, evaluator, funder = world
    target = action_target(b, route)
    before, counts = snapshot(target), flow_counts()
    assert post_action(client_for(evaluator), route, b).status_code == 403
    assert post_action(client_for(funder), route, b).status_code == 404
    assert snapshot(target) == before
    assert flow_counts() == counts


def open_target(side: Side, route: str) -> models.Model:
    """An object of the side whose form is open: a batch to collect, a pickup with meals left."""
    batch = side.ready_batch
    if route == "batch-pickup":
        return batch  # type: ignore[return-value]
    return services.pickup_confirm(
        batch=batch,  # type: ignore[arg-type]
        by=side.users[Role.VOLUNTEER],  # type: ignore[arg-type]
        meals_received=40,
        temperature_c=Decimal("2.0"),
        transport_mode="soft",
    )


@pytest.mark.parametrize("route", sorted(FORM_ROUTES))
@pytest.mark.parametrize("role", TERRITORIAL_ROLES)
def test_action_forms_answer_404_across_territories_and_403_to_other_roles(world, route, role):
    a, b, _, _ = world
    client = client_for(a.users[role])
    assert client.get(detail_url(route, open_target(b, route))).status_code == 404
    expected = 200 if role in FORM_ROUTES[route] else 403
    assert client.get(detail_url(route, open_target(a, route))).status_code == expected


@pytest.mark.parametrize("route", sorted(FORM_ROUTES))
def test_evaluator_and_funder_do_not_get_action_forms(world, route):
    _, b, evaluator, funder = world
    url = detail_url(route, open_target(b, route))
    assert client_for(evaluator).get(url).status_code == 403
    assert client_for(funder).get(url).status_code == 404


# The cost input forms: a valid entry for the next month, per page, with the model it writes.
INPUT_FORM_POSTS: dict[str, tuple[type[models.Model], dict[str, str]]] = {
    "kitchen-cost-input": (KitchenCostInput, {"month": "2025-02", "food_cost_per_meal": "1,50"}),
    "association-cost-input": (AssociationCost, {"month": "2025-02", "premises_cost": "100"}),
    "coordination-cost-input": (CoordinationCost, {"month": "2025-02", "staff_hours": "3"}),
    "transport-rate-input": (
        TransportRate,
        {"month": "2025-02", "transport_mode": "association_vehicle", "cost_per_km": "0,50"},
    ),
    "territory-expenses": (
        Expense,
        {"month": "2025-02", "category": "evaluation", "amount": "100", "label": "Enquête"},
    ),
    "territory-revenues": (Revenue, {"month": "2025-02", "kind": "beneficiaries", "amount": "100"}),
    # A year the side has no fixed costs for (it has 2025's): the post creates its row.
    "kitchen-year-inputs": (
        KitchenFixedCost,
        {"year": "2024", "part": "couts", "fixed_costs": "1 000", "meals_produced": "100"},
    ),
    "survey-response-create": (SurveyResponse, {"answered_on": "2025-01-20", "q_satisfaction": "4"}),
    "round-schedule-edit": (
        RoundSchedule,
        {
            "weekdays": "tue",
            "window_start": "14:00",
            "window_end": "15:00",
            "expected_meals": "30",
            "active": "on",
        },
    ),
}
# Of those, the forms that edit the page's one row (a partnership's schedule, made with the
# side): a write changes that row instead of adding one.
EDIT_FORMS = {"round-schedule-edit"}


def test_every_input_form_has_a_write_case():
    assert set(INPUT_FORM_POSTS) == set(ROLE_DETAIL_ROUTES) - EVALUATOR_FORMS


@pytest.mark.parametrize("route", sorted(INPUT_FORM_POSTS))
def test_input_forms_write_nothing_across_territories_nor_for_other_roles(world, route):
    a, b, evaluator, funder = world
    model, payload = INPUT_FORM_POSTS[route]
    route_model = ROUTE_MODELS[route]
    allowed = ROLE_DETAIL_ROUTES[route]
    writer = next(role for role in TERRITORIAL_ROLES if role in allowed)
    before, rows = model.objects.count(), list(model.objects.order_by("pk").values())
    if route == "coordination-cost-input":
        payload = {**payload, "authority": str(b.objects[Authority].pk)}
    if route == "round-schedule-edit":
        payload = {**payload, "site": str(b.objects[DistributionSite].pk)}
    # The writer of territory A posting on B's page: 404.
    response = client_for(a.users[writer]).post(
        detail_url(route, b.objects[route_model]), payload, format="multipart"
    )
    assert response.status_code == 404
    # Other roles of B and the evaluator (unless they write here): 403 on B's own page. The funder
    # of B: 403 too, or 404 where the page's object is hidden from funders.
    others = [b.users[role] for role in TERRITORIAL_ROLES if role not in allowed]
    if Role.EVALUATOR not in allowed:
        others.append(evaluator)
    for user in [*others, funder]:
        response = client_for(user).post(
            detail_url(route, b.objects[route_model]), payload, format="multipart"
        )
        expected = 404 if user == funder and route_model in HIDDEN_FROM_FUNDERS else 403
        assert response.status_code == expected, (user, response.status_code)
    assert list(model.objects.order_by("pk").values()) == rows
    # B's own writer succeeds with the same request, so the refusals above are the rule.
    response = client_for(b.users[writer]).post(
        detail_url(route, b.objects[route_model]), payload, format="multipart"
    )
    assert response.status_code == 302, [
        line for line in response.content.decode().splitlines() if "<p>" in line
    ]
    if route in EDIT_FORMS:
        assert model.objects.count() == before
        assert list(model.objects.order_by("pk").values()) != rows
    else:
        assert model.objects.count() == before + 1


@pytest.mark.parametrize("route", sorted(EVALUATOR_ACTIONS))
def test_report_actions_are_for_evaluators_only(world, route):
    """Funders and the territory's own roles see the report but may not act on it (403); out of
    their sight it is 404; the evaluator may, and a report that is done is left as it is."""
    a, b, evaluator, funder = world
    target = b.objects[Report]
    before = snapshot(target)
    assert post_action(client_for(funder), route, a).status_code == 404
    for user in [funder, *b.users.values()]:
        assert post_action(client_for(user), route, b).status_code == 403, user
    response = post_action(client_for(evaluator), route, b)
    assert response.status_code == (409 if route.startswith("api:") else 302)
    assert snapshot(target) == before


@pytest.mark.parametrize("route", sorted(TOKEN_ROUTES))
def test_token_routes_show_and_take_only_the_survey_of_their_token(world, route):
    """No login, but no id either: another survey's id or a made-up token is 404; the token
    shows its own survey only, and an answer lands in that survey and its territory."""
    a, b, _, _ = world
    anonymous = APIClient()
    survey = b.objects[Survey]
    for token in (str(survey.pk), "x" * 43, a.objects[Survey].public_token[:-1]):
        assert anonymous.get(reverse(route, kwargs={"token": token})).status_code == 404
    url = reverse(route, kwargs={"token": survey.public_token})
    page = anonymous.get(url).content.decode()
    assert "Questionnaire Bravo" in page and "Alpha" not in page
    before = SurveyResponse.objects.count()
    for client in (anonymous, client_for(a.users[Role.AUTHORITY_COORDINATOR])):
        assert client.post(url, {"q_satisfaction": "5"}, format="multipart").status_code == 302
    created = SurveyResponse.objects.order_by("pk")[before:]
    assert [(row.survey_id, row.territory_id, row.channel) for row in created] == [
        (survey.pk, b.territory.pk, "online"),
        (survey.pk, b.territory.pk, "online"),
    ]


@pytest.mark.parametrize("route", sorted(SURVEY_ACTIONS))
def test_closing_a_survey_link_is_for_evaluators_only(world, route):
    """The territory's roles see the survey but may not close (or open) its link (403); a funder
    does not see it (404); the evaluator closes (or opens) it."""
    a, b, evaluator, funder = world
    target = b.objects[Survey]
    opened = route == "survey-open"
    Survey.objects.filter(pk=target.pk).update(is_open=not opened)
    target.refresh_from_db()
    before = snapshot(target)
    assert post_action(client_for(funder), route, b).status_code == 404
    for user in b.users.values():
        assert post_action(client_for(user), route, b).status_code == 403, user
    assert snapshot(target) == before
    assert post_action(client_for(evaluator), route, b).status_code == 302
    target.refresh_from_db()
    assert target.is_open is opened
    assert a.objects[Survey].is_open is True


def test_defining_a_survey_is_for_evaluators_only(world):
    """Only evaluators post the survey form: the territory's roles get 403 on their own
    territory's survey and 404 on another's, a funder 404; nothing changes until the evaluator
    posts, in any territory."""
    a, b, evaluator, funder = world
    target = b.objects[Survey]
    url = detail_url("survey-edit", target)
    payload = {
        "territory": str(b.territory.pk), "kind": "beneficiary", "title": "Changé", "is_open": "on",
        "questions-TOTAL_FORMS": "1", "questions-INITIAL_FORMS": "0",
        "questions-0-text": "Satisfait ?", "questions-0-code": "satisfaction", "questions-0-kind": "scale",
    }  # fmt: skip
    before = snapshot(target)
    for user in b.users.values():
        assert client_for(user).post(url, payload, format="multipart").status_code == 403, user
    for user in [*a.users.values(), funder]:
        assert client_for(user).post(url, payload, format="multipart").status_code == 404, user
    create = reverse("survey-create")
    for user in [*a.users.values(), *b.users.values(), funder]:
        assert client_for(user).post(create, payload, format="multipart").status_code == 403, user
    assert snapshot(target) == before
    assert Survey.objects.count() == 2
    if target.responses.exists():
        payload = {key: value for key, value in payload.items() if not key.startswith("questions")}
    assert client_for(evaluator).post(url, payload, format="multipart").status_code == 302
    target.refresh_from_db()
    assert target.title == "Changé"
