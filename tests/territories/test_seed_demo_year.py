"""The demo's whole pilot year, seeded once for the module (it takes tens of seconds): costs
complete on three territories and exactly the inputs left out on the fourth, figures within the
ranges docs/methodology.md justifies, kitchens closed in the school holidays, the journal, the
surveys, the fundings, the reference values, the reports built, the food-safety rules of the
batches, and a second run that changes nothing.

The clock is set on Sunday 6 December 2026: the pilot year runs from December 2025 to
November 2026, the inputs left out are Corbeil-Essonnes' of September and October 2026, the
previous quarter is July to September 2026.
"""

import datetime
import html
import io
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F, Max
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from associations.hygiene import training_cutoff
from associations.models import Association, DistributionSite, DonationReceipt, Partnership
from config.celery import app as celery_app
from costing.models import (
    AssociationCost,
    CoordinationCost,
    Funding,
    KitchenCostInput,
    KitchenFixedCost,
    MonthlyCost,
    ReferenceValue,
    TransportRate,
)
from evaluation.models import JournalEntry, Report, Survey, SurveyResponse
from kitchens.models import Closure, EgalimDeclaration, Kitchen
from meals.demo import RECALL_REASON
from meals.models import Batch, Distribution, Liaison, Pickup
from territories.models import Territory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 6, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
FIRST_MONTH, LAST_DAY = datetime.date(2025, 12, 1), datetime.date(2026, 11, 30)
SLUGS = ["plaine-commune", "paris-13", "grand-paris-sud", "vitry-sur-seine"]
COMPLETE = ["plaine-commune", "paris-13", "vitry-sur-seine"]
# The ranges docs/methodology.md justifies ("Les valeurs de la démonstration").
MARGINAL_DEDICATED = (Decimal("2.50"), Decimal("4.00"))
FULL_COST_PER_MEAL = (Decimal("2.50"), Decimal("6.00"))
SEEDED = [
    Territory, Kitchen, Partnership, Closure, TransportRate, KitchenCostInput, AssociationCost,
    CoordinationCost, Funding, ReferenceValue, MonthlyCost, JournalEntry, Survey, SurveyResponse,
    Report, Batch, Pickup, Distribution, DonationReceipt,
]  # fmt: skip


@dataclass(frozen=True)
class SeededYear:
    output: str
    media: Path


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def pilot_year(django_db_setup, django_db_blocker, tmp_path_factory):
    """The full demo, seeded once, with the clock on ``NOW``; the database is emptied after."""
    media = tmp_path_factory.mktemp("media")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    with (
        pytest.MonkeyPatch.context() as patch,
        override_settings(
            MEDIA_ROOT=media, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
        ),
        django_db_blocker.unblock(),
    ):
        patch.setattr(timezone, "now", lambda: NOW.astimezone(datetime.UTC))
        try:
            yield SeededYear(seed(), media)
        finally:
            call_command("flush", interactive=False, verbosity=0)
            celery_app.conf.task_always_eager = eager


@pytest.fixture
def evaluator_api(pilot_year):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="evaluator"))
    return client


def costs(client: APIClient, slug: str, start=FIRST_MONTH, end=LAST_DAY) -> dict:
    territory = Territory.objects.get(slug=slug)
    response = client.get("/api/v1/costs/", {"territory": territory.pk, "start": start, "end": end})
    assert response.status_code == 200, response.content
    return response.json()


def figure(result: dict, key: str) -> dict:
    return next(item for item in result["figures"] if item["key"] == key)


def test_the_seed_says_what_it_built(pilot_year):
    assert "Année pilote de 12/2025 à 11/2026" in pilot_year.output
    assert "rapports du 01/07/2026 au 30/09/2026 : 7 prêt(s) sur 7" in pilot_year.output


def test_costs_are_complete_on_three_territories_within_the_justified_ranges(evaluator_api):
    for slug in COMPLETE:
        result = costs(evaluator_api, slug)

        assert result["complete"] is True, (slug, result["missing"])
        assert result["missing"] == []
        marginal = Decimal(figure(result, "marginal_cost_dedicated")["value"])
        full = Decimal(figure(result, "full_cost_per_meal")["value"])
        assert MARGINAL_DEDICATED[0] <= marginal <= MARGINAL_DEDICATED[1], (slug, marginal)
        assert FULL_COST_PER_MEAL[0] <= full <= FULL_COST_PER_MEAL[1], (slug, full)
        assert figure(result, "food_parcel_cost_per_meal_ratio")["complete"] is True
        assert figure(result, "volunteer_value")["complete"] is True
    # Every month of the three, as frozen for the dashboards and reports, is complete but August,
    # when the kitchens are closed: no meal distributed, no cost per meal.
    frozen = MonthlyCost.objects.filter(territory__slug__in=COMPLETE, month__range=(FIRST_MONTH, LAST_DAY))
    assert frozen.count() == 3 * 12
    assert {(cost.month, cost.figures["missing"] != []) for cost in frozen.filter(complete=False)} == {
        (datetime.date(2026, 8, 1), True)
    }
    assert all(
        missing.endswith(": aucun sur la période")
        for cost in frozen.filter(complete=False)
        for missing in cost.figures["missing"]
    )


def test_the_fourth_territory_lists_exactly_the_inputs_left_out(evaluator_api):
    result = costs(evaluator_api, "grand-paris-sud")

    assert result["complete"] is False
    assert result["missing"] == [
        "Cuisine centrale de Corbeil-Essonnes, 09/2026 : coûts de la cuisine non saisis",
        "Cuisine centrale de Corbeil-Essonnes, 10/2026 : coûts de la cuisine non saisis",
    ]
    # The known part is a lower bound, still within the range.
    marginal = Decimal(figure(result, "marginal_cost_dedicated")["value"])
    assert MARGINAL_DEDICATED[0] <= marginal <= MARGINAL_DEDICATED[1]
    incomplete = MonthlyCost.objects.filter(
        territory__slug="grand-paris-sud", month__range=(FIRST_MONTH, LAST_DAY), complete=False
    )
    assert sorted(incomplete.values_list("month", flat=True)) == [
        datetime.date(2026, 8, 1),  # no meal distributed: no cost per meal
        datetime.date(2026, 9, 1),
        datetime.date(2026, 10, 1),
    ]
    # A month without the gap is complete.
    assert costs(evaluator_api, "grand-paris-sud", datetime.date(2026, 11, 1), LAST_DAY)["complete"] is True


def test_kitchens_are_closed_in_the_school_holidays(pilot_year):
    for territory in Territory.objects.filter(slug__in=SLUGS):
        holidays = Closure.objects.filter(territory=territory, kind=Closure.Kind.SCHOOL_HOLIDAY)
        spans = list(holidays.values_list("starts_on", "ends_on"))
        assert (datetime.date(2025, 12, 22), datetime.date(2026, 1, 4)) in spans  # Noël 2025
        assert (datetime.date(2026, 2, 23), datetime.date(2026, 3, 8)) in spans  # hiver, zone C
        assert (datetime.date(2026, 10, 19), datetime.date(2026, 11, 1)) in spans  # Toussaint 2026
        batches = Batch.objects.filter(territory=territory)
        for starts_on, ends_on in spans:
            assert not batches.filter(production_date__range=(starts_on, ends_on)).exists()
        # The weeks around them produce.
        assert batches.filter(production_date__range=("2026-02-16", "2026-02-20")).exists()
        assert batches.filter(production_date__range=("2026-03-09", "2026-03-13")).exists()


def test_the_journal_holds_two_to_four_entries_a_month(pilot_year):
    for slug in SLUGS:
        entries = JournalEntry.objects.filter(territory__slug=slug)
        per_month = Counter(entries.values_list("observed_on__year", "observed_on__month"))
        assert len(per_month) == 12
        assert all(2 <= count <= 4 for count in per_month.values()), per_month
        assert set(entries.values_list("author__username", flat=True)) == {f"authority.{slug}"}
        assert entries.filter(shared_with_funders=True).exists()
        assert entries.filter(shared_with_funders=False).exists()
        assert entries.filter(nature=JournalEntry.Nature.OBSTACLE).exists()
        assert entries.filter(nature=JournalEntry.Nature.LEVER).exists()
    categories = set(JournalEntry.objects.values_list("category", flat=True))
    assert set(JournalEntry.Category.values) - categories <= {JournalEntry.Category.ADMINISTRATIVE}


def test_surveys_of_beneficiaries_associations_and_kitchen_staff(pilot_year):
    for slug in SLUGS:
        surveys = {s.title: s for s in Survey.objects.filter(territory__slug=slug)}
        assert set(surveys) == {
            "Satisfaction des personnes servies",
            "Questionnaire des associations partenaires",
            "Les repas pour l'aide alimentaire vus par l'équipe de cuisine",
        }
        answers = {title: survey.responses.count() for title, survey in surveys.items()}
        assert 60 <= answers["Satisfaction des personnes servies"] <= 110
        assert 6 <= answers["Questionnaire des associations partenaires"] <= 14
        assert 8 <= answers["Les repas pour l'aide alimentaire vus par l'équipe de cuisine"] <= 16
    days = SurveyResponse.objects.aggregate(first=Max("answered_on"))
    assert days["first"] <= LAST_DAY


def test_fundings(pilot_year):
    funders = {
        slug: sorted(Funding.objects.filter(territory__slug=slug).values_list("funder", flat=True))
        for slug in SLUGS
    }
    assert funders == {
        "plaine-commune": ["authority", "carasso", "drihl"],
        "paris-13": ["authority", "drihl"],
        "grand-paris-sud": ["authority", "drihl"],
        "vitry-sur-seine": ["authority", "carasso", "drihl"],
    }
    assert not Funding.objects.filter(amount__lte=0).exists()


def test_every_kitchen_s_yearly_page_shows_last_year(pilot_year):
    """Each kitchen's fixed costs and EGalim shares of 2025, the year its yearly page opens on;
    each territory's first kitchen's shares imported from ma-cantine, the others entered."""
    kitchens = Kitchen.objects.order_by("pk")
    for model in (KitchenFixedCost, EgalimDeclaration):
        assert set(model.objects.filter(year=2025).values_list("kitchen", flat=True)) == {
            kitchen.pk for kitchen in kitchens
        }
    client = Client()
    client.force_login(get_user_model().objects.get(username="evaluator"))
    for kitchen in kitchens:
        text = html.unescape(
            client.get(reverse("kitchen-year-inputs", kwargs={"pk": kitchen.pk})).content.decode()
        )
        assert "Coûts fixes de 2025" in text and "Coût fixe par repas : " in text
        source = EgalimDeclaration.objects.get(kitchen=kitchen, year=2025).get_source_display()
        assert source in text


def test_reference_values_have_their_scope_unit_validity_and_source(pilot_year):
    codes = set(ReferenceValue.objects.values_list("code", flat=True))
    assert codes == set(ReferenceValue.Code.values) - {ReferenceValue.Code.CO2_PER_MEAL}
    for reference in ReferenceValue.objects.all():
        assert reference.scope and reference.unit and reference.source, reference.code
    volunteer = ReferenceValue.objects.filter(code=ReferenceValue.Code.VOLUNTEER_HOUR).order_by("valid_from")
    assert [(r.value, r.valid_from, r.valid_until) for r in volunteer] == [
        (Decimal("11.88"), datetime.date(2024, 11, 1), datetime.date(2025, 12, 31)),
        (Decimal("12.02"), datetime.date(2026, 1, 1), None),
    ]


def test_the_previous_quarters_reports_are_built(pilot_year, settings):
    settings.MEDIA_ROOT = pilot_year.media
    reports = Report.objects.filter(period_start="2026-07-01", period_end="2026-09-30")
    kinds = sorted((r.kind, r.territory.slug if r.territory else "") for r in reports)
    assert kinds == sorted(
        [("drihl", slug) for slug in SLUGS]
        + [("carasso", "plaine-commune"), ("carasso", "vitry-sur-seine"), ("synthesis", "")]
    )
    for report in reports:
        assert report.status == Report.Status.DONE, report.message
        with report.pdf.open("rb") as pdf:
            text = PdfReader(io.BytesIO(pdf.read())).pages[0].extract_text()
        assert "2026" in text
        if report.territory:
            assert report.territory.name in text


def test_batches_keep_the_food_safety_rules(pilot_year):
    batches = Batch.objects.all()
    cold, hot = batches.filter(liaison=Liaison.COLD), batches.filter(liaison=Liaison.HOT)
    assert cold.exists() and hot.exists()
    # Cold: use-by at most 3 days after production; hot: eaten the day of production.
    assert not cold.filter(use_by_date__gt=F("production_date") + datetime.timedelta(days=3)).exists()
    assert not hot.exclude(use_by_date=F("production_date")).exists()
    # Hot surplus: collected the same day, after the lunch service, at 63 °C or more.
    hot_surplus = Pickup.objects.filter(batch__liaison=Liaison.HOT, batch__kind=Batch.Kind.SURPLUS)
    assert hot_surplus.exists()
    for pickup in hot_surplus.select_related("batch"):
        assert pickup.picked_up_on == pickup.batch.production_date
        assert timezone.localtime(pickup.picked_up_at).hour >= 13
        assert pickup.temperature_c >= Decimal(63)
    # Cold surplus leaves with at least 48 hours before the end of its use-by date.
    cold_surplus = Pickup.objects.filter(batch__liaison=Liaison.COLD, batch__kind=Batch.Kind.SURPLUS)
    assert not cold_surplus.filter(
        batch__use_by_date__lt=F("picked_up_on") + datetime.timedelta(days=2)
    ).exists()
    # Lot numbers are unique per kitchen, as SDN-20261204-1D.
    assert batches.values("kitchen", "lot_number").distinct().count() == batches.count()
    # Pickups receiving fewer meals than the batch holds are rare.
    short = Pickup.objects.filter(meals_received__lt=F("batch__meals_count")).count()
    assert short <= Pickup.objects.count() // 100


# The official format of a sanitary approval number: FR, the département, the commune's INSEE
# code, the establishment's number, CE (Règlement (CE) 853/2004, annex II section I).
APPROVAL = re.compile(r"FR \d{2}\.\d{3}\.\d{3} CE")


def test_every_kitchen_has_its_sanitary_approval_or_one_its_exemption(pilot_year):
    kitchens = list(Kitchen.objects.order_by("name"))
    exempt = [kitchen for kitchen in kitchens if kitchen.sanitary_approval_exempt]
    assert [kitchen.name for kitchen in exempt] == ["Cuisine centrale de Corbeil-Essonnes"]
    assert exempt[0].sanitary_approval_number == ""
    assert "arrêté du 8 juin 2006" in exempt[0].sanitary_exemption_reason
    approved = [kitchen for kitchen in kitchens if not kitchen.sanitary_approval_exempt]
    assert len(approved) == 5
    for kitchen in approved:
        assert APPROVAL.fullmatch(kitchen.sanitary_approval_number), kitchen.sanitary_approval_number
        # The département of the number is the kitchen's territory's.
        assert kitchen.sanitary_approval_number[3:5] == kitchen.territory.departement_code
    assert Kitchen.objects.get(name="Cuisine centrale de Saint-Denis").sanitary_approval_number == (
        "FR 93.066.001 CE"
    )


def test_associations_have_hygiene_training_and_one_is_due(pilot_year):
    today = NOW.date()
    cutoff = training_cutoff(today)  # 6 December 2023
    assert cutoff == datetime.date(2023, 12, 6)
    associations = Association.objects.all()
    assert not associations.filter(hygiene_training_on__isnull=True).exists()
    assert not associations.filter(hygiene_training_on__gt=today).exists()
    expired = associations.filter(hygiene_training_on__lt=cutoff)
    assert [a.name for a in expired] == ["Le Relais solidaire de Corbeil"]
    # The authority of Grand Paris Sud finds it on its territory's page, and only it.
    territory = Territory.objects.get(slug="grand-paris-sud")
    client = Client()
    client.force_login(get_user_model().objects.get(username="authority.grand-paris-sud"))
    body = html.unescape(
        client.get(reverse("territory-detail", kwargs={"pk": territory.pk})).content.decode()
    )
    section = body.split('id="titre-hygiene"', 1)[1].split("</section>", 1)[0]
    assert "Le Relais solidaire de Corbeil" in section
    assert "Croix-Rouge française (Unité locale d'Évry)" not in section


def test_every_site_has_a_capacity_above_what_it_serves(pilot_year):
    sites = DistributionSite.objects.all()
    assert not sites.filter(capacity_people__isnull=True).exists()
    assert all(100 <= site.capacity_people <= 500 for site in sites)
    busiest = {
        site.pk: max(
            Distribution.objects.filter(site=site).values_list("beneficiaries", flat=True), default=0
        )
        for site in sites
    }
    for site in sites:
        assert 0 < busiest[site.pk] <= site.capacity_people, (site.name, busiest[site.pk])


def test_one_lot_of_the_recent_weeks_is_recalled_and_shown_in_its_week(pilot_year):
    recalled = Batch.objects.filter(recalled_at__isnull=False)
    assert recalled.count() == 1
    batch = recalled.get()
    assert batch.recall_reason == RECALL_REASON
    assert batch.kitchen.name == "Cuisine centrale de Saint-Denis"
    # Produced at least a week before the seed's day, within the last four weeks, distributed.
    assert NOW.date() - datetime.timedelta(days=28) <= batch.production_date
    assert batch.production_date <= NOW.date() - datetime.timedelta(days=7)
    assert batch.status == Batch.Status.DISTRIBUTED
    assert batch.distributions.exists()
    # The flow of its week shows it recalled, with its reason, and counts it.
    client = Client()
    client.force_login(get_user_model().objects.get(username="authority.plaine-commune"))
    week = batch.production_date.isocalendar()
    response = client.get(reverse("flow-week"), {"semaine": f"{week.year}-W{week.week:02d}"})
    body = html.unescape(response.content.decode())
    assert "<dt>Lots rappelés</dt><dd>1</dd>" in body
    alerts = body.split("<h3>Lots rappelés</h3>", 1)[1].split("</div>", 1)[0]
    assert batch.lot_number in alerts and RECALL_REASON in alerts


def rows() -> dict[str, tuple[int, int | None]]:
    return {
        model._meta.label: (
            model._default_manager.count(),
            model._default_manager.aggregate(m=Max("pk"))["m"],
        )
        for model in SEEDED
    }


def test_one_convention_ends_within_the_60_days_the_authority_watches(pilot_year):
    """45 days after the seeding day (6 December 2026): 20 January 2027, shown as ending soon on
    the first territory's dashboard; every other convention has no end date."""
    ending = Partnership.objects.filter(ends_on__isnull=False)
    assert [(p.kitchen.name, p.association.name, p.ends_on, p.status) for p in ending] == [
        (
            "Cuisine centrale d'Aubervilliers",
            "Secours populaire français (Comité de Saint-Denis)",
            datetime.date(2027, 1, 20),
            Partnership.Status.ACTIVE,
        )
    ]
    client = Client()
    client.force_login(get_user_model().objects.get(username="authority.plaine-commune"))
    territory = Territory.objects.get(slug="plaine-commune")
    response = client.get(reverse("territory-dashboard", kwargs={"pk": territory.pk}))
    html = response.content.decode()
    block = html[html.index('<section aria-labelledby="titre-obligations-suivre"') :]
    block = html_text(block[: block.index("</section>")])
    assert "Convention se terminant bientôt : Cuisine centrale d'Aubervilliers" in block
    assert "fin le 20/01/2027" in block


def html_text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_the_company_kitchen_donations_have_their_receipts_issued(pilot_year, settings):
    """Évry-Courcouronnes' kitchen is the one a company runs; the Secours populaire of the
    Essonne, whose coordinator is a demo account, has its receipts for the third quarter, then
    October and November 2026, numbered 1 to 3, each valued month by month at the kitchen's food
    and packaging cost per meal times the surplus meals received, and its PDF saying so."""
    settings.MEDIA_ROOT = pilot_year.media
    kitchen = Kitchen.objects.get(name="Cuisine centrale d'Évry-Courcouronnes")
    association = Association.objects.get(name="Secours populaire français (Fédération de l'Essonne)")
    receipts = list(DonationReceipt.objects.order_by("number"))
    assert [
        (
            r.association_id,
            r.kitchen_id,
            r.period,
            str(r.period_start),
            str(r.period_end),
            r.reference,
            r.status,
        )
        for r in receipts
    ] == [
        (association.pk, kitchen.pk, "quarter", "2026-07-01", "2026-09-30", "2026-0001", "issued"),
        (association.pk, kitchen.pk, "month", "2026-10-01", "2026-10-31", "2026-0002", "issued"),
        (association.pk, kitchen.pk, "month", "2026-11-01", "2026-11-30", "2026-0003", "issued"),
    ]
    for receipt in receipts:
        pickups = Pickup.objects.filter(
            association=association,
            batch__kitchen=kitchen,
            batch__kind=Batch.Kind.SURPLUS,
            picked_up_on__gte=receipt.period_start,
            picked_up_on__lte=receipt.period_end,
        )
        meals = amount = 0
        for pickup in pickups:
            cost = KitchenCostInput.objects.get(kitchen=kitchen, month=pickup.picked_up_on.replace(day=1))
            meals += pickup.meals_received
            amount += pickup.meals_received * (cost.food_cost_per_meal + cost.packaging_per_meal)
        assert meals > 0
        assert (receipt.meals, receipt.amount) == (meals, Decimal(amount).quantize(Decimal("0.01")))
        with receipt.pdf.open("rb") as pdf:
            text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read())).pages)
        flat = re.sub(r"\s", "", text)
        assert f"Reçu n° {receipt.reference}" in text
        assert f"{receipt.meals}repas" in flat
        assert f"{receipt.amount:.2f}".replace(".", ",") in flat
    # The coordinator finds them on the receipts page.
    client = Client()
    client.force_login(get_user_model().objects.get(username="coordinator.grand-paris-sud"))
    page = client.get(reverse("donation-receipt-list")).content.decode()
    assert all(f"Reçu n° {receipt.reference}" in page for receipt in receipts)


def test_a_second_run_changes_nothing(pilot_year):
    first = rows()
    inputs = list(KitchenCostInput.objects.order_by("pk").values())
    journal = list(JournalEntry.objects.order_by("pk").values("observed_on", "title", "shared_with_funders"))

    output = seed()

    assert rows() == first
    assert list(KitchenCostInput.objects.order_by("pk").values()) == inputs
    assert (
        list(JournalEntry.objects.order_by("pk").values("observed_on", "title", "shared_with_funders"))
        == journal
    )
    assert "Rien à changer" in output
