"""Every page in English: no French label left.

The walk enumerates the URL configuration, so a page added later is walked without anyone
thinking of it: a named route must be walked (a path argument filled from the fixture below)
or excluded with its reason in ``EXCLUDED``, else ``test_every_route_is_walked_or_excluded``
fails. Each role of a territory (and an anonymous visitor) asks each page in English; every
answer that is a page (200, and the 403 and 404 pages) must hold none of the French words of
``FRENCH``. Forms are also sent empty, so that their error messages are read too.

The fixture's own data (names of the territory, kitchen, association, site, journal entries,
survey) is neutral, so that a French word can only come from the interface.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from associations.models import ConventionSignature
from costing.models import BudgetLine, CoFunder, KitchenFixedCost, Revenue
from evaluation.models import JournalEntry
from kitchens.models import EgalimDeclaration
from meals import services
from meals.models import RecordImport, RoundSchedule, RoundSlot
from meals.offers.services import offer_create
from territories.models import Membership
from territories.roles import Role
from tests.factories import (
    AssociationCostFactory,
    AssociationFactory,
    AuthorityFactory,
    DailyRollupFactory,
    DistributionSiteFactory,
    FundingFactory,
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

# Words and phrases of the French interface that an English page never holds. Each is matched
# as a whole word (case-sensitive), in the text a reader sees or hears: the page's text, its
# charts' text, and the attributes read aloud (aria-label, title, alt, placeholder, value of
# buttons). Chosen so that no English word or neutral fixture value matches.
FRENCH = [
    # The flow's words
    "Lots", "repas", "Repas", "Cuisine", "Cuisines", "cuisine", "cuisines",
    "collecte", "collectes", "Collecte", "Collectes", "Déclarer", "distribué", "distribués",
    "passages", "Passages", "personnes", "bénévole", "bénévoles", "écartés", "Territoire",
    "Territoires", "territoire", "territoires", "Partenariats", "partenariat",
    # Forms and buttons
    "Enregistrer", "Annuler", "Valider", "Modifier", "Supprimer", "Télécharger", "Relancer",
    "Rechercher", "Envoyer", "Retour", "Connexion", "Déconnexion", "Se connecter",
    "Ce champ est obligatoire",
    # States and quantities
    "Statut", "Aucun", "Aucune", "aucun", "aucune", "inconnu", "au moins", "incomplet",
    "ligne", "lignes", "Prêt", "En attente", "En cours", "Échec", "oui", "Oui",
    # Time
    "Semaine", "semaine", "Période", "période", "Mois", "mois", "jours", "aujourd'hui",
    "janvier", "février", "mars", "avril", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre", "lundi", "mardi", "mercredi", "jeudi", "vendredi",
    "samedi", "dimanche", "1er",
    # Money and figures
    "Coût", "coût", "Coûts", "coûts", "€/repas", "par repas", "Tableau de bord", "Rapport",
    "Rapports", "rapport", "Financements",
    # Glue words: a sentence left in French
    "du", "des", "les", "et", "pour", "avec", "aux", "sur", "dans", "une", "est", "sont",
]  # fmt: skip
WORD = re.compile(
    r"(?<![\w/'\u2019-])("
    + "|".join(re.escape(word) for word in sorted(FRENCH, key=len, reverse=True))
    + r")(?![\w'\u2019-])"
)
# Letters of French words that English pages never hold (the language switch names
# "Français" in French, on purpose).
ACCENTED = re.compile(r"\b\w*[éèêàùçôîœÉÈÊÀ]\w*\b")
ALLOWED_ACCENTED = {"Français"}

# Words a page may hold in English, with the reason: the import file's values are French words
# ("oui", "aucun"), which its format explains (docs/import.md).
ALLOWED_ON_PAGE = {"record-import": {"aucun", "oui"}}

# Routes whose page, as the walk reaches it, is a refusal: the sign-in link opened without its
# token answers 403 with its explanation (read like any page).
REFUSALS = {"sign-in-link": {403}}

# Named routes that are not walked, with the reason.
EXCLUDED_NAMESPACES = {
    "admin": "Django's staff admin, in the staff's language (not a page of the platform)",
    "api": "the JSON API: machine-readable, not a page",
}
EXCLUDED = {
    "set_language": "a POST that sets the language and redirects",
    "logout": "a POST that signs out and redirects",
    "batch-sheet": "the traceability sheet is a French regulatory document (docs/food-safety.md)",
    "partnership-convention": "a convention is a French legal document, signed as written",
    "convention-version-pdf": "a convention is a French legal document, signed as written",
    "donation-receipt-pdf": "a donation receipt is a French tax form (Cerfa), issued as written",
    "report-download": "the report's PDF, read back in English by tests/evaluation/test_english_reports.py",
    "report-export": "a table's CSV or XLSX, read in English by tests/evaluation/test_english_reports.py",
    "calendar-feed": "an iCalendar feed (text/calendar) read by calendar apps, not a page",
}

ROLES = list(Role)
ANONYMOUS = "anonymous"


def walked_routes() -> dict[str, set[str]]:
    return {
        name: kwargs
        for name, kwargs in iter_routes()
        if name.split(":")[0] not in EXCLUDED_NAMESPACES and name not in EXCLUDED
    }


# --- The fixture: a territory with something on every page, in neutral names ---------------


@dataclass
class World:
    users: dict[str, Any]
    # The object each route with a path argument is asked for, by the argument's value.
    arguments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A query string some pages need to show their content.
    queries: dict[str, str] = field(default_factory=dict)
    # The texts the fixture typed in (names, titles, notes).
    data: list[str] = field(default_factory=list)


def months_back(today: datetime.date, count: int) -> datetime.date:
    year, month = divmod(today.year * 12 + today.month - 1 - count, 12)
    return datetime.date(year, month + 1, 1)


def build_world() -> World:
    territory = TerritoryFactory(name="Alder Vale", slug="alder-vale", region="Region One", has_pat=True)
    authority = AuthorityFactory(territory=territory, name="Alder Council")
    kitchen = KitchenFactory(territory=territory, name="Birch Works", address="1 North Road, 93200 Alder")
    association = AssociationFactory(territory=territory, name="Cedar Aid")
    site = DistributionSiteFactory(
        association=association, name="Elm Hall", address="2 South Road, 93200 Alder"
    )
    partnership = PartnershipFactory(
        territory=territory, kitchen=kitchen, association=association, starts_on=datetime.date(2024, 9, 1)
    )
    # The demo's signatures are signed in the name of each party's French label: user data here.
    ConventionSignature.objects.filter(version__partnership=partnership).update(signer_name="Signer One")
    users = {
        Role.KITCHEN_MANAGER: member(Role.KITCHEN_MANAGER, territory, kitchen=kitchen),
        Role.VOLUNTEER: member(Role.VOLUNTEER, territory, association=association),
        Role.ASSOCIATION_COORDINATOR: member(
            Role.ASSOCIATION_COORDINATOR, territory, association=association
        ),
        Role.AUTHORITY_COORDINATOR: member(Role.AUTHORITY_COORDINATOR, territory, authority=authority),
        Role.EVALUATOR: member(Role.EVALUATOR),
        Role.FUNDER: member(Role.FUNDER, funded=[territory]),
    }
    today = datetime.date.today()

    people = {"kitchen_user": users[Role.KITCHEN_MANAGER], "volunteer": users[Role.VOLUNTEER], "site": site}
    yesterday = today - datetime.timedelta(days=1)
    flow(partnership, **people, meals=60, on=yesterday, discard_reason="Damaged trays")
    collected, _, _ = flow(partnership, **people, meals=1, on=today, lot_number="AB-101", distribute=False)
    ready = services.batch_create(
        partnership=partnership,
        by=users[Role.KITCHEN_MANAGER],
        kind="surplus",
        production_date=today,
        meals_count=60,
        liaison="cold",
        lot_number="AB-102",
        use_by_date=today + datetime.timedelta(days=3),
        dispatch_temperature_c=Decimal("2.0"),
        components=["main", "side"],
        allergens=["milk"],
    )
    # Three whole months of roll-ups (the dashboards' default period), costs entered for one.
    first = months_back(today, 3)
    day = first
    while day < months_back(today, 0):
        if day.weekday() == 2:
            DailyRollupFactory(
                partnership=partnership,
                day=day,
                batches=1,
                meals_produced_surplus=61,
                pickups=1,
                pickups_on_time=1,
                meals_picked_up=61,
                receipt_breaches=1 if day.day < 8 else 0,
                km=Decimal("4.2"),
                transport_minutes=25,
                transport_cost=Decimal("12.50"),
                distributions=1,
                meals_distributed=60,
                meals_discarded=1,
                people_served=1 if day.day < 8 else 50,
                households=1,
                children=1,
            )
        day += datetime.timedelta(days=1)
    KitchenCostInputFactory(kitchen=kitchen, month=first)
    AssociationCostFactory(association=association, month=first)
    TransportRateFactory(territory=territory, month=first)
    funding = FundingFactory(territory=territory, funder="drihl", amount=Decimal("36500.00"))
    BudgetLine.objects.create(
        territory=territory,
        funding=funding,
        category="evaluation",
        planned=Decimal("2400"),
        explanation="Survey started late",
    )
    CoFunder.objects.create(
        territory=territory, funding=funding, kind="caf", organisation="Family fund", amount=Decimal("5000")
    )
    # The programme's revenues, and the kitchen's last year: fixed costs, EGalim shares imported.
    Revenue.objects.create(territory=territory, month=first, kind="beneficiaries", amount=Decimal("150"))
    Revenue.objects.create(
        territory=territory, month=first, kind="other", amount=Decimal("1250.50"), received_by="authority"
    )
    KitchenFixedCost.objects.create(
        territory=territory,
        kitchen=kitchen,
        year=today.year - 1,
        fixed_costs=Decimal("900000"),
        meals_produced=450000,
    )
    EgalimDeclaration.objects.create(
        territory=territory,
        kitchen=kitchen,
        year=today.year - 1,
        quality_share=Decimal("42.5"),
        organic_share=Decimal("21"),
        source="ma_cantine",
        source_reference="15042",
    )
    ReferenceValueFactory(code="food_parcel_cost_per_meal", source="Reference study 2024")
    entry = JournalEntry.objects.create(
        territory=territory,
        author=users[Role.AUTHORITY_COORDINATOR],
        observed_on=first + datetime.timedelta(days=9),
        nature="obstacle",
        category="logistics",
        title="Van broken down",
        text="Two pickups made by car.",
        shared_with_funders=True,
    )
    survey = SurveyFactory(
        territory=territory, title="Meal survey", created_by=users[Role.AUTHORITY_COORDINATOR]
    )
    SurveyQuestionFactory(survey=survey, text="Are you satisfied with the meals?")
    SurveyResponseFactory(survey=survey, answers={"satisfaction": 4})
    english = {"figures": english_report_figures(first)}
    report = ReportFactory(territory=territory, requested_by=users[Role.EVALUATOR], language="en", **english)
    ReportFactory(
        territory=territory,
        requested_by=users[Role.EVALUATOR],
        language="en",
        status="running",
        progress=40,
        figures={},
        pdf="",
    )
    ReportFactory(
        territory=territory,
        requested_by=users[Role.EVALUATOR],
        language="en",
        status="failed",
        figures={},
        pdf="",
    )
    # A surplus offered to the association (its donation convention with the kitchen), and a
    # pickup round's slot the volunteer signed up for.
    offer = offer_create(
        kitchen=kitchen,
        by=users[Role.KITCHEN_MANAGER],
        production_date=today,
        meals_count=30,
        liaison="cold",
        lot_number="AB-103",
        use_by_date=today + datetime.timedelta(days=3),
        dispatch_temperature_c=Decimal("2.0"),
        allergens=["milk"],
    )
    window = {"window_start": datetime.time(11, 0), "window_end": datetime.time(12, 0), "expected_meals": 40}
    schedule = RoundSchedule.objects.create(
        territory=territory, partnership=partnership, weekdays=["mon"], site=site, **window
    )
    slot = RoundSlot.objects.create(
        territory=territory,
        schedule=schedule,
        partnership=partnership,
        association=association,
        kitchen=kitchen,
        date=today + datetime.timedelta(days=2),
        site=site,
        volunteer=users[Role.VOLUNTEER],
        **window,
    )
    record_import = RecordImport.objects.create(
        territory=territory, file="imports/week.csv", uploaded_by=users[Role.AUTHORITY_COORDINATOR]
    )
    week = today.isocalendar()
    return World(
        users=users,
        arguments={
            "pk": {
                "account-token-revoke": None,  # a token of the user's own, made when walked
                "territory-detail": territory,
                "kitchen-detail": kitchen,
                "association-detail": association,
                "partnership-detail": partnership,
                "partnership-sign": partnership,
                "batch-detail": ready,
                "batch-pickup": ready,
                "batch-cancel": ready,
                "batch-discard": ready,
                "batch-recall": ready,
                "distribution-create": collected.pickup,
                "record-import": territory,
                "record-import-detail": record_import,
                "record-import-retry": record_import,
                "territory-costs": territory,
                "funding-budget": funding,
                "territory-expenses": territory,
                "territory-revenues": territory,
                "kitchen-year-inputs": kitchen,
                "coordination-cost-input": territory,
                "transport-rate-input": territory,
                "kitchen-cost-input": kitchen,
                "association-cost-input": association,
                "territory-dashboard": territory,
                "territory-reports": territory,
                "report-detail": report,
                "report-retry": report,
                "survey-response-create": survey,
                "survey-close": survey,
                "survey-edit": survey,
                # The volunteer's sign-in link, opened without its token (the refusal page).
                "sign-in-link": Membership.objects.get(user=users[Role.VOLUNTEER]),
                "sign-in-link-send": Membership.objects.get(user=users[Role.VOLUNTEER]),
                "survey-open": survey,
                "offer-detail": offer,
                "offer-accept": offer,
                "offer-decline": offer,
                "round-slot-signup": slot,
                "round-slot-withdraw": slot,
                "round-slot-assign": slot,
                "round-schedule-edit": partnership,
            },
            "token": {"survey-answer": survey.public_token},
        },
        data=[
            territory.name,
            territory.region,
            authority.name,
            kitchen.name,
            kitchen.address,
            association.name,
            site.name,
            site.address,
            entry.title,
            entry.text,
            survey.title,
            "Are you satisfied with the meals?",
            "Damaged trays",
            "Reference study 2024",
            *(user.get_username() for user in users.values()),
        ],
        queries={
            "batch-week": f"semaine={week[0]}-W{week[1]:02d}",
            "flow-week": f"semaine={week[0]}-W{week[1]:02d}",
        },
    )


def english_report_figures(month: datetime.date) -> dict:
    from tests.factories import report_figures

    figures = report_figures()
    figures["tables"]["activity"].update(
        title="Activity by month",
        columns=[
            {"key": "month", "label": "Month", "kind": "month", "unit": ""},
            {"key": "meals_distributed", "label": "Meals distributed", "kind": "int", "unit": ""},
        ],
        rows=[{"month": month.isoformat(), "meals_distributed": 10}],
    )
    return figures


# --- Reading a page as a reader does -------------------------------------------------------

READ_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder", "aria-description"}


class Reader(HTMLParser):
    """The text of a page and of its inline charts, and the attributes read aloud."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skipping += 1
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or (name == "value" and tag in ("button", "input"))):
                if name == "value" and dict(attrs).get("type") not in ("submit", "button", "reset"):
                    continue
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def read(html: str) -> str:
    reader = Reader()
    reader.feed(html)
    return re.sub(r"\s+", " ", " ".join(reader.parts).replace("\u00a0", " ").replace("\u202f", " "))


def french_in(text: str) -> list[str]:
    found = [match[1] for match in WORD.finditer(text)]
    found += [word for word in ACCENTED.findall(text) if word not in ALLOWED_ACCENTED]
    return sorted(set(found))


def context_of(text: str, words: list[str]) -> list[str]:
    excerpts = []
    for word in words[:8]:
        index = text.find(word)
        excerpts.append(f"{word!r}: …{text[max(0, index - 60) : index + 60]}…")
    return excerpts


def english_client(user: Any = None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    if user is not None:
        client.force_login(user)
    return client


FORM = re.compile(r"<form\b[^>]*>", re.IGNORECASE)


def posts_to_itself(html: str, url: str) -> bool:
    """Whether the page holds a form sent by POST to its own address (not the menu's forms)."""
    path = url.split("?")[0]
    for tag in FORM.findall(html):
        if 'method="post"' not in tag.lower():
            continue
        action = re.search(r'action="([^"]*)"', tag)
        if action is None or action[1] in ("", path):
            return True
    return False


def is_page(response: Any) -> bool:
    return response.status_code in (200, 400, 403, 404) and "text/html" in response.get("Content-Type", "")


# --- The tests -------------------------------------------------------------------------------


def test_the_french_words_are_found_and_english_passes():
    """The detector itself: the issue's examples are caught, plain English is not."""
    assert french_in("at least 0.70 €/repas") == ["€/repas"]
    assert french_in("From 1er September") == ["1er"]
    assert french_in("Meals distributed (0 lignes)") == ["lignes"]
    assert french_in("Lots de la semaine") == ["Lots", "semaine"]
    assert french_in("Statut : Prêt") == ["Prêt", "Statut"]
    assert french_in("Meals distributed and visits, by week. At least €0.70 per meal, 1 September") == []
    assert french_in("Language: English Français") == []


def test_every_route_is_walked_or_excluded():
    world = build_world()
    unknown = sorted(
        name
        for name, kwargs in walked_routes().items()
        for argument in kwargs
        if name not in world.arguments.get(argument, {})
    )
    assert not unknown, (
        f"Routes neither walked in English nor excluded with a reason: {unknown}. "
        "Give their path argument an object of the fixture (World.arguments in build_world) "
        "or add them to EXCLUDED."
    )
    stale = set(EXCLUDED) - {name for name, _ in iter_routes()}
    assert not stale, f"Exclusions of routes that no longer exist: {sorted(stale)}"


def url_of(world: World, name: str, kwargs: set[str], user: Any) -> str | None:
    if not kwargs:
        url = reverse(name)
    else:
        (argument,) = kwargs
        value = world.arguments[argument][name]
        if name == "account-token-revoke":
            if user is None:
                return None
            from territories.tokens import token_issue

            value = token_issue(user=user, device="walk")[0]
        url = reverse(name, kwargs={argument: getattr(value, "pk", value)})
    query = world.queries.get(name)
    return f"{url}?{query}" if query else url


def walk(client: Client, world: World, user: Any, answers: dict[str, set[int]]) -> list[str]:
    """Asks every page as one user, then sends its forms empty; the French found, page by page."""
    failures: list[str] = []
    forms: list[tuple[str, str]] = []
    for name, kwargs in sorted(walked_routes().items()):
        url = url_of(world, name, kwargs, user)
        if url is None:
            continue
        response = client.get(url, follow=True)
        answers.setdefault(name, set()).add(response.status_code)
        if not is_page(response):
            continue
        html = response.content.decode()
        text = read(html)
        if words := [word for word in french_in(text) if word not in ALLOWED_ON_PAGE.get(name, set())]:
            failures.append(f"GET {url} ({name}, {response.status_code}): {context_of(text, words)}")
        if response.status_code == 200 and posts_to_itself(html, url):
            forms.append((name, url))
    for name, url in forms:
        response = client.post(url, {}, follow=True)
        if not is_page(response):
            continue
        text = read(response.content.decode())
        if words := [word for word in french_in(text) if word not in ALLOWED_ON_PAGE.get(name, set())]:
            failures.append(f"POST {url} ({response.status_code}): {context_of(text, words)}")
    return failures


def test_every_page_in_english_holds_no_french_word():
    world = build_world()
    answers: dict[str, set[int]] = {}
    failures: list[str] = []
    for role in [*ROLES, ANONYMOUS]:
        user = None if role == ANONYMOUS else world.users[role]
        failures += [f"[{role}] {failure}" for failure in walk(english_client(user), world, user, answers)]
    missing = english_client().get("/no-such-page/")
    assert missing.status_code == 404
    if words := french_in(read(missing.content.decode())):
        failures.append(f"404 page: {words}")
    assert not failures, "French on English pages:\n" + "\n".join(failures)
    # Each route was read as a page by some role, or is an action answering only to POST (405 to
    # a GET, its result being a page walked here): none is left out for want of data.
    unread = sorted(
        name for name, codes in answers.items() if not codes & {200, 405, *REFUSALS.get(name, ())}
    )
    assert not unread, f"Routes no role could read: {unread}"
    assert len([name for name, codes in answers.items() if 200 in codes]) >= 40


def test_the_server_error_page_is_in_english():
    with translation.override("en"):
        text = read(render_to_string("500.html"))
    assert not french_in(text), text


def test_the_fixture_itself_holds_no_french_word():
    """The walk's data is neutral: a French word on a page can only come from the interface."""
    world = build_world()
    assert not french_in(" ".join(world.data)), world.data
