"""The demo data: what it holds, that every record is valid, and that a second run changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from associations.models import Association, DistributionSite, Partnership
from kitchens.models import Kitchen
from territories.management.commands.seed_demo import DEMO_PASSWORD, demo_usernames
from territories.models import Authority, Membership, Territory
from territories.roles import Role
from territories.validators import luhn_ok

pytestmark = pytest.mark.django_db

User = get_user_model()
MODELS = [Territory, Kitchen, Authority, Association, DistributionSite, Partnership, User, Membership]
SLUGS = ["plaine-commune", "paris-13", "grand-paris-sud", "vitry-sur-seine"]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[dict]]:
    """Every row of every seeded model, by primary key, with the funded territories."""
    rows = {model._meta.label: list(model._default_manager.order_by("pk").values()) for model in MODELS}
    rows["funded"] = list(Membership.funded_territories.through.objects.order_by("pk").values())
    return rows


def test_counts_and_shape():
    output = seed()

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
        assert 2 <= Partnership.objects.filter(territory=territory).count() <= 3
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
    for partnership in Partnership.objects.all():
        assert partnership.status == Partnership.Status.ACTIVE
        assert partnership.starts_on.year == 2025
        territory_id = partnership.territory_id
        assert partnership.association.territory_id == partnership.kitchen.territory_id == territory_id
    assert set(Partnership.objects.values_list("mode", flat=True)) == set(Partnership.Mode.values)

    assert sorted(User.objects.values_list("username", flat=True)) == sorted(demo_usernames())
    assert User.objects.count() == 4 * len(SLUGS) + 4
    assert Membership.objects.count() == 4 * len(SLUGS) + 3


def test_every_record_is_valid():
    seed()

    for model in MODELS:
        for obj in model._default_manager.all():
            obj.full_clean()


def test_second_run_changes_nothing():
    seed()
    first = snapshot()

    output = seed()

    assert snapshot() == first
    assert "Rien à changer" in output


def test_second_run_restores_edited_records_in_place():
    seed()
    first = snapshot()
    kitchen = Kitchen.objects.get(name="Cuisine centrale de Saint-Denis")
    kitchen.usual_daily_production = 4000
    kitchen.save()
    user = User.objects.get(username="volunteer.paris-13")
    user.set_password("autre-mot-de-passe")
    user.save()

    output = seed()

    after = snapshot()
    assert {label: [row["id"] for row in rows] for label, rows in after.items()} == {
        label: [row["id"] for row in rows] for label, rows in first.items()
    }
    assert Kitchen.objects.get(pk=kitchen.pk).usual_daily_production == 11200
    assert User.objects.get(username="volunteer.paris-13").check_password(DEMO_PASSWORD)
    assert "2 mis à jour" in output


@pytest.mark.parametrize("username", demo_usernames())
def test_every_demo_account_logs_in(client, username):
    seed()

    assert client.login(username=username, password=DEMO_PASSWORD)


def test_roles_and_actors():
    seed()

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
    seed()

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
