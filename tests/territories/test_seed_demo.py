"""The demo data: what it holds, that every record is valid, and that a second run changes nothing.

The directory tests seed with ``--no-flow``; the flow tests seed a few weeks of flow with the
clock set on a Wednesday in term time, so their window always holds school days.
"""

import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import F, Max, Sum
from django.urls import reverse
from django.utils import timezone

from associations.conventions.selectors import convention_missing_signatures
from associations.models import Association, DistributionSite, Partnership
from costing.models import DailyRollup
from kitchens.models import Kitchen
from meals import demo, selectors
from meals.models import Batch, Distribution, Liaison, Pickup
from territories.management.commands.seed_demo import DEMO_PASSWORD, demo_usernames
from territories.models import Authority, Membership, Territory
from territories.roles import Role
from territories.validators import luhn_ok

pytestmark = pytest.mark.django_db

User = get_user_model()
MODELS = [Territory, Kitchen, Authority, Association, DistributionSite, Partnership, User, Membership]
FLOW_MODELS = [Batch, Pickup, Distribution, DailyRollup, Batch.history.model]
SLUGS = ["plaine-commune", "paris-13", "grand-paris-sud", "vitry-sur-seine"]
# A Wednesday in term time: the three weeks before it hold 14 school days (11 November is off).
NOW = datetime.datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
TODAY = NOW.date()
FLOW_DAYS = "21"


def seed(*options: str) -> str:
    out = StringIO()
    call_command("seed_demo", *options, stdout=out)
    return out.getvalue()


def seed_directory() -> str:
    return seed("--no-flow")


@pytest.fixture
def clock(monkeypatch):
    """The services, roll-ups and seed read the day from ``timezone.now``: set it to ``NOW``."""
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(datetime.UTC))


@pytest.fixture
def flow(clock) -> str:
    return seed("--days", FLOW_DAYS)


def snapshot() -> dict[str, list[dict]]:
    """Every row of every seeded model, by primary key, with the funded territories."""
    rows = {model._meta.label: list(model._default_manager.order_by("pk").values()) for model in MODELS}
    rows["funded"] = list(Membership.funded_territories.through.objects.order_by("pk").values())
    return rows


def test_counts_and_shape():
    output = seed_directory()

    assert "Données de démonstration prêtes" in output
    territories = Territory.objects.order_by("slug")
    assert sorted(territories.values_list("slug", flat=True)) == sorted(SLUGS)
    assert set(territories.values_list("departement_code", flat=True)) == {"75", "91", "93", "94"}
    assert all(t.is_pilot and t.region == "Île-de-France" for t in territories)
    assert territories.filter(has_pat=True).exists()
    for territory in territories:
        kitchens = Kitchen.objects.filter(territory=territory)
        associations = Association.objects.filter(territory=territory)
        assert 1 <= kitchens.count() <= 2
        assert 2 <= associations.count() <= 3
        assert 1 <= Authority.objects.filter(territory=territory).count() <= 2
        assert 2 <= Partnership.objects.filter(territory=territory).count() <= 5
        for association in associations:
            assert 1 <= association.sites.count() <= 2
            assert association.sites.filter(territory=territory).count() == association.sites.count()
    for kitchen in Kitchen.objects.all():
        assert 4000 <= kitchen.usual_daily_production <= kitchen.daily_capacity <= 15000
        assert len(kitchen.siret) == 14 and luhn_ok(kitchen.siret)
    for association in Association.objects.all():
        assert association.rna[0] == "W" and association.rna[1:].isdigit() and len(association.rna) == 10
        assert association.habilitation != Association.Habilitation.NONE
    assert Association.objects.values("rna").distinct().count() == Association.objects.count()
    # One donation convention awaits the association's signature; every other one is active.
    (draft,) = Partnership.objects.filter(status=Partnership.Status.DRAFT)
    assert (draft.mode, draft.kitchen.name) == ("surplus", "Cuisine centrale d'Aubervilliers")
    assert [party.value for party in convention_missing_signatures(draft)] == ["association"]
    assert Partnership.objects.filter(mode="dedicated", paired_with__isnull=False).count() == 4
    for partnership in Partnership.objects.exclude(pk=draft.pk):
        assert partnership.status == Partnership.Status.ACTIVE
        assert partnership.starts_on.year == 2025
        territory_id = partnership.territory_id
        assert partnership.association.territory_id == partnership.kitchen.territory_id == territory_id
    assert set(Partnership.objects.values_list("mode", flat=True)) == set(Partnership.Mode.values)

    assert sorted(User.objects.values_list("username", flat=True)) == sorted(demo_usernames())
    assert User.objects.count() == 4 * len(SLUGS) + 4
    assert Membership.objects.count() == 4 * len(SLUGS) + 3


def test_every_record_is_valid():
    seed_directory()

    for model in MODELS:
        for obj in model._default_manager.all():
            obj.full_clean()


def test_second_run_changes_nothing():
    seed_directory()
    first = snapshot()

    output = seed_directory()

    assert snapshot() == first
    assert "Rien à changer" in output


def test_second_run_restores_edited_records_in_place():
    seed_directory()
    first = snapshot()
    kitchen = Kitchen.objects.get(name="Cuisine centrale de Saint-Denis")
    kitchen.usual_daily_production = 4000
    kitchen.save()
    user = User.objects.get(username="volunteer.paris-13")
    user.set_password("autre-mot-de-passe")
    user.save()

    output = seed_directory()

    after = snapshot()
    assert {label: [row["id"] for row in rows] for label, rows in after.items()} == {
        label: [row["id"] for row in rows] for label, rows in first.items()
    }
    assert Kitchen.objects.get(pk=kitchen.pk).usual_daily_production == 11200
    assert User.objects.get(username="volunteer.paris-13").check_password(DEMO_PASSWORD)
    assert "2 mis à jour" in output


@pytest.mark.parametrize("username", demo_usernames())
def test_every_demo_account_logs_in(client, username):
    seed_directory()

    client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})

    assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)


def test_roles_and_actors():
    seed_directory()

    for slug in SLUGS:
        territory = Territory.objects.get(slug=slug)
        first_kitchen = Kitchen.objects.filter(territory=territory).order_by("pk").first()
        first_association = Association.objects.filter(territory=territory).order_by("pk").first()
        first_authority = Authority.objects.filter(territory=territory).order_by("pk").first()
        expected = {
            f"kitchen.{slug}": (Role.KITCHEN_MANAGER, "kitchen", first_kitchen),
            f"volunteer.{slug}": (Role.VOLUNTEER, "association", first_association),
            f"coordinator.{slug}": (Role.ASSOCIATION_COORDINATOR, "association", first_association),
            f"authority.{slug}": (Role.AUTHORITY_COORDINATOR, "authority", first_authority),
        }
        for username, (role, field, actor) in expected.items():
            membership = Membership.objects.get(user__username=username)
            assert membership.role == role
            assert membership.territory == territory
            assert getattr(membership, field) == actor

    evaluator = Membership.objects.get(user__username="evaluator")
    assert evaluator.role == Role.EVALUATOR and evaluator.territory is None
    drihl = Membership.objects.get(user__username="funder.drihl")
    carasso = Membership.objects.get(user__username="funder.carasso")
    assert drihl.role == carasso.role == Role.FUNDER
    assert drihl.funded_territories.count() == 4
    assert carasso.funded_territories.count() == 2
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.exclude(username="admin").filter(is_staff=True).exists()


def test_scoping_of_demo_accounts():
    seed_directory()

    def visible(username: str) -> int:
        return Territory.objects.for_user(User.objects.get(username=username)).count()

    assert visible("evaluator") == 4
    assert visible("funder.drihl") == 4
    assert visible("funder.carasso") == 2
    assert visible("kitchen.plaine-commune") == 1
    assert visible("admin") == 4
    volunteer = User.objects.get(username="volunteer.vitry-sur-seine")
    assert set(Kitchen.objects.for_user(volunteer).values_list("territory__slug", flat=True)) == {
        "vitry-sur-seine"
    }


# -- the daily flow ------------------------------------------------------------------------------


def flow_rows() -> dict[str, tuple[int, int | None]]:
    """Count and highest id of every flow table."""
    return {
        model._meta.label: (
            model._default_manager.count(),
            model._default_manager.aggregate(m=Max("pk"))["m"],
        )
        for model in FLOW_MODELS
    }


def test_flow_in_every_territory(flow):
    since, until = TODAY - datetime.timedelta(days=21), TODAY - datetime.timedelta(days=1)

    assert "0 journée(s) de partenariat déjà présente(s)" in flow
    for slug in SLUGS:
        batches = Batch.objects.filter(territory__slug=slug)
        assert batches.filter(kind=Batch.Kind.DEDICATED).exists()
        assert batches.filter(kind=Batch.Kind.SURPLUS).exists()
        assert Pickup.objects.filter(territory__slug=slug).exists()
        assert Distribution.objects.filter(territory__slug=slug).exists()
        assert set(batches.values_list("created_by__username", flat=True)) == {f"kitchen.{slug}"}
        pickers = Pickup.objects.filter(territory__slug=slug).values_list("picked_up_by__username", flat=True)
        assert set(pickers) == {f"volunteer.{slug}"}
    # The daily flow's batches (the demo's accepted offer adds one of the seeding day, apart).
    days = set(Batch.objects.filter(offer__isnull=True).values_list("production_date", flat=True))
    assert days == set(demo.school_days(since, until))
    assert datetime.date(2026, 11, 11) not in days  # Armistice
    # Every partnership produces within its convention, every school day for dedicated meals (the
    # convention awaiting its signature, none).
    for partnership in Partnership.objects.all():
        if partnership.status == Partnership.Status.DRAFT:
            assert not partnership.batches.exists()
            continue
        kinds = set(partnership.batches.values_list("kind", flat=True))
        assert kinds == set(demo.kinds_of(partnership))
        dedicated = partnership.batches.filter(kind=Batch.Kind.DEDICATED)
        assert dedicated.count() in (0, len(days))
        usual = partnership.kitchen.usual_daily_production
        for meals in dedicated.values_list("meals_count", flat=True):
            assert 20 <= meals <= 400 and usual * 0.004 <= meals <= usual * 0.1
    for meals in Batch.objects.filter(kind=Batch.Kind.SURPLUS).values_list("meals_count", flat=True):
        assert 10 <= meals <= 150


def test_flow_statuses_and_incidents(flow):
    statuses = set(Batch.objects.values_list("status", flat=True))

    assert statuses == set(Batch.Status.values)
    assert set(
        Batch.objects.filter(status=Batch.Status.CANCELLED).values_list("discard_reason", flat=True)
    ) == {demo.CANCEL_REASON}
    assert set(
        Batch.objects.filter(status=Batch.Status.DISCARDED).values_list("discard_reason", flat=True)
    ) == {demo.BREACH_REASON}
    damaged = Distribution.objects.filter(meals_discarded__gt=0)
    assert damaged.exists()
    assert set(damaged.values_list("discard_reason", flat=True)) == {demo.DAMAGED_REASON}
    assert Batch.objects.filter(liaison=Liaison.HOT).exists()
    # Left ready: batches of the last days, still to collect, and surplus never picked up.
    ready = Batch.objects.filter(status=Batch.Status.READY)
    assert not ready.filter(use_by_date__lt=TODAY).exclude(kind=Batch.Kind.SURPLUS).exists()
    assert Pickup.objects.filter(batch__status=Batch.Status.PICKED_UP, picked_up_on__lt=TODAY).exists()
    for slug in SLUGS:
        volunteer = Membership.objects.get(user__username=f"volunteer.{slug}")
        to_collect = ready.filter(association=volunteer.association, use_by_date__gt=TODAY)
        assert to_collect.exists(), slug
        # ... and the day before's, collected, wait for their distribution ("À distribuer").
        to_distribute = selectors.pickups_to_distribute(volunteer.user)
        assert to_distribute.exists(), slug
        produced = {pickup.batch.production_date for pickup in to_distribute}
        assert produced == {min(demo.last_school_days(TODAY))}, slug


def test_flow_keeps_the_food_safety_rules(flow):
    assert not Distribution.objects.filter(distributed_on__gt=F("batch__use_by_date")).exists()
    assert not Distribution.objects.filter(distributed_on__lt=F("pickup__picked_up_on")).exists()
    assert not Distribution.objects.filter(distributed_on__gte=TODAY).exists()
    cold = Pickup.objects.filter(batch__liaison=Liaison.COLD)
    for temperature in cold.exclude(batch__status=Batch.Status.DISCARDED).values_list(
        "temperature_c", flat=True
    ):
        assert Decimal("1") <= temperature <= Decimal("3")
    assert all(
        t > Decimal("3")
        for t in cold.filter(batch__status=Batch.Status.DISCARDED).values_list("temperature_c", flat=True)
    )
    for temperature in Pickup.objects.filter(batch__liaison=Liaison.HOT).values_list(
        "temperature_c", flat=True
    ):
        assert Decimal("63") <= temperature <= Decimal("70")
    for batch in Batch.objects.all():
        assert batch.dispatch_temperature_ok
        expected_use_by = batch.production_date + datetime.timedelta(
            days=3 if batch.liaison == Liaison.COLD else 0
        )
        assert batch.use_by_date == expected_use_by
        assert batch.lot_number and batch.components and set(batch.allergens) <= {
            "gluten", "milk", "eggs", "celery", "mustard", "fish",
        }  # fmt: skip
    for pickup in Pickup.objects.select_related("batch"):
        assert pickup.batch.production_date <= pickup.picked_up_on <= pickup.batch.use_by_date
        assert timezone.localtime(pickup.picked_up_at).hour in range(9, 16)
        assert Decimal("2") <= pickup.distance_km <= Decimal("25")
        assert 15 <= pickup.duration_minutes <= 60
        received = pickup.meals_received
        handed = pickup.distributions.aggregate(d=Sum("meals_distributed"), x=Sum("meals_discarded"))
        if pickup.batch.status == Batch.Status.DISTRIBUTED:
            assert handed["d"] + handed["x"] == received
    for distribution in Distribution.objects.all():
        assert distribution.site.association_id == distribution.association_id
        assert 1 <= distribution.beneficiaries <= distribution.meals_distributed
        assert distribution.households <= distribution.beneficiaries
        assert distribution.children <= distribution.beneficiaries


def test_flow_second_run_creates_nothing(flow, clock):
    first = flow_rows()
    lots = list(Batch.objects.order_by("pk").values())

    output = seed("--days", FLOW_DAYS)

    assert flow_rows() == first
    assert list(Batch.objects.order_by("pk").values()) == lots
    assert "0 lot(s), 0 collecte(s) et 0 distribution(s) créés" in output
    assert "Rien à changer" in output


def test_a_longer_window_adds_the_earlier_days_and_leaves_the_others(clock):
    fields = ("lot_number", "meals_count", "status", "allergens", "use_by_date")
    seed("--days", "7")
    last_week = list(Batch.objects.order_by("pk").values(*fields))

    seed("--days", FLOW_DAYS)

    week_start = TODAY - datetime.timedelta(days=7)
    assert (
        list(Batch.objects.filter(production_date__gte=week_start).order_by("pk").values(*fields))
        == last_week
    )
    assert Batch.objects.filter(production_date__lt=week_start).exists()


def test_incident_rates_over_two_school_years():
    """Planned only, no records: the rates of incidents over two years of one partnership."""
    kitchen = Kitchen(name="Cuisine", usual_daily_production=8000, does_hot_liaison=True)
    # The pair's two instruments: a supply agreement and a donation convention (85 % / 15 %).
    supply = Partnership(kitchen=kitchen, mode=Partnership.Mode.DEDICATED, planned_meals_per_week=1020)
    donation = Partnership(kitchen=kitchen, mode=Partnership.Mode.SURPLUS, planned_meals_per_week=180)
    sites = (
        DistributionSite(name="A", opening_days=["mon", "wed", "fri"]),
        DistributionSite(name="B", opening_days=["tue", "thu", "sat"]),
    )
    partners = [
        demo.DemoPartnership(partnership=partnership, kitchen_code="TST", number=number, sites=sites)
        for number, partnership in enumerate((supply, donation), start=1)
    ]
    days = demo.school_days(datetime.date(2024, 9, 2), datetime.date(2026, 7, 3))
    plans = [
        plan
        for day in days
        for partner in partners
        for plan in demo.plan_day(partner, day, last_days=False, today=TODAY)
    ]

    assert 320 <= len(days) <= 360  # about 170 school days a year
    assert len(plans) == pytest.approx(len(days) * 1.5, rel=0.1)

    def rate(selected: list) -> float:
        return len(selected) / len(plans)

    pickups = [plan.pickup for plan in plans if plan.pickup]
    distributions = [d for pickup in pickups for d in pickup.distributions]
    assert 0.002 < rate([p for p in plans if p.cancel_reason]) < 0.03
    assert 0.002 < rate([p for p in pickups if p.discard_reason == demo.BREACH_REASON]) < 0.03
    assert 0.005 < rate([d for d in distributions if d.discard_reason == demo.DAMAGED_REASON]) < 0.05
    uncollected = [p for p in plans if p.pickup is None and not p.cancel_reason]
    assert uncollected and all(p.kind == Batch.Kind.SURPLUS for p in uncollected)
    assert 0.02 < rate([p for p in plans if p.liaison == Liaison.HOT]) < 0.2
    assert sum(p.pickup.refrigerated_vehicle for p in plans if p.pickup) > len(pickups) / 2


def test_rollups_add_up_to_the_records(flow):
    assert set(DailyRollup.objects.values_list("territory__slug", flat=True)) == set(SLUGS)
    rollups = DailyRollup.objects.aggregate(
        distributed=Sum("meals_distributed"),
        picked_up=Sum("meals_picked_up"),
        cancelled=Sum("batches_cancelled"),
    )
    assert rollups["distributed"] == Distribution.objects.aggregate(s=Sum("meals_distributed"))["s"]
    assert rollups["picked_up"] == Pickup.objects.aggregate(s=Sum("meals_received"))["s"]
    assert rollups["cancelled"] == Batch.objects.filter(status=Batch.Status.CANCELLED).count()


@pytest.mark.parametrize("days", ["0", "-3", "six"])
def test_days_must_be_a_positive_number(days):
    with pytest.raises(CommandError, match="--days"):
        seed("--days", days)
