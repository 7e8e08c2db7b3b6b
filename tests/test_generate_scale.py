"""``manage.py generate_scale``: the synthetic data follow every rule of the services, and the
same seed gives the same data.

The generator writes with COPY or bulk_create, never through the services; here its records
are played again through the services (``batch_create``, ``batch_cancel``, ``pickup_confirm``,
``distribution_record``), which must accept every one of them and end in the same status. The
rare outcomes (cancellations, temperature breaches, discards) are made frequent so that a
small generation has them all.
"""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from associations.models import Association, DistributionSite, Partnership
from costing.models import TransportRate
from kitchens.models import Kitchen
from meals import services
from meals.management.commands import generate_scale
from meals.models import Batch, Distribution, Pickup, temperature_ok
from territories.models import Authority, Membership, Territory

pytestmark = pytest.mark.django_db

SMALL = {"territories": 2, "days": 12, "kitchens_per_territory": 2, "associations_per_territory": 4}


@pytest.fixture
def frequent_outcomes(monkeypatch):
    for name, rate in {
        "CANCELLED": 0.06,
        "DISPATCH_BREACH": 0.06,
        "RECEIPT_BREACH": 0.06,
        "SOME_DISCARDED": 0.3,
        "TWO_DISTRIBUTIONS": 0.5,
        "MISSED_PICKUP": 0.05,
    }.items():
        monkeypatch.setattr(generate_scale, name, rate)


def replay(batch: Batch) -> Batch:
    """The batch's life played again through the services, as new records; returns the new batch."""
    breach_at_dispatch = not temperature_ok(batch.liaison, batch.dispatch_temperature_c)
    copy = services.batch_create(
        partnership=batch.partnership,
        by=batch.created_by,
        kind=batch.kind,
        production_date=batch.production_date,
        meals_count=batch.meals_count,
        liaison=batch.liaison,
        lot_number=f"R-{batch.lot_number}",
        use_by_date=batch.use_by_date,
        dispatch_temperature_c=batch.dispatch_temperature_c,
        service=batch.service,
        components=batch.components,
        allergens=batch.allergens,
        no_regulated_allergens=batch.no_regulated_allergens,
        discard_reason=batch.discard_reason if breach_at_dispatch else "",
        confirm_unusual=batch.unusual_confirmed,
        declared_on=batch.production_date,  # declared on its day, when its use-by had not passed
    )
    assert copy.unusual_confirmed == batch.unusual_confirmed
    if batch.status == Batch.Status.CANCELLED:
        services.batch_cancel(batch=copy, by=batch.created_by, reason=batch.discard_reason)
    pickup = Pickup.objects.filter(batch=batch).first()
    if pickup is not None:
        breach_at_receipt = not temperature_ok(batch.liaison, pickup.temperature_c)
        new_pickup = services.pickup_confirm(
            batch=copy,
            by=pickup.picked_up_by,
            meals_received=pickup.meals_received,
            temperature_c=pickup.temperature_c,
            transport_mode=pickup.transport_mode,
            picked_up_at=pickup.picked_up_at,
            refrigerated_vehicle=pickup.refrigerated_vehicle,
            distance_km=pickup.distance_km,
            duration_minutes=pickup.duration_minutes,
            transport_cost=pickup.transport_cost,
            discard_reason=batch.discard_reason if breach_at_receipt else "",
            shortfall_reason=pickup.shortfall_reason,
            shortfall_note=pickup.shortfall_note,
        )
        assert new_pickup.picked_up_on == pickup.picked_up_on
        for distribution in Distribution.objects.filter(pickup=pickup).order_by("pk"):
            services.distribution_record(
                pickup=new_pickup,
                by=distribution.recorded_by,
                site=distribution.site,
                distributed_on=distribution.distributed_on,
                meals_distributed=distribution.meals_distributed,
                beneficiaries=distribution.beneficiaries,
                households=distribution.households,
                children=distribution.children,
                meals_discarded=distribution.meals_discarded,
                discard_reason=distribution.discard_reason,
                temperature_c=distribution.temperature_c,
                consumed_on_receipt=distribution.consumed_on_receipt,
                reheat_temperature_c=distribution.reheat_temperature_c,
                reheat_minutes=distribution.reheat_minutes,
            )
    copy.refresh_from_db()
    return copy


def test_every_generated_record_passes_the_services(frequent_outcomes, django_capture_on_commit_callbacks):
    stats = generate_scale.generate(seed=7, **SMALL)
    assert stats.territories == 2 and stats.batches > 30
    assert generate_scale.check_generated() == dict.fromkeys(generate_scale.check_generated(), 0)

    originals = list(
        Batch.objects.all_territories()
        .select_related("partnership__kitchen", "partnership__association", "created_by")
        .order_by("pk")
    )
    statuses = Counter(batch.status for batch in originals)
    assert set(statuses) == set(Batch.Status.values), statuses  # every outcome is exercised
    with django_capture_on_commit_callbacks(execute=False):  # no e-mails nor queued roll-ups
        for batch in originals:
            assert replay(batch).status == batch.status, batch.lot_number


def test_denormalised_fields_and_actors():
    generate_scale.generate(seed=2, **SMALL)
    assert Territory.objects.all_territories().count() == 2
    assert Kitchen.objects.all_territories().count() == 4
    assert Association.objects.all_territories().count() == 8
    assert DistributionSite.objects.all_territories().count() >= 8
    assert Authority.objects.all_territories().count() == 4
    assert TransportRate.objects.all_territories().exists()
    for kitchen in Kitchen.objects.all_territories():
        assert 4000 <= kitchen.usual_daily_production <= 15000 <= kitchen.daily_capacity * 2
        kitchen.full_clean()
    for association in Association.objects.all_territories():
        association.full_clean()
    for partnership in Partnership.objects.all_territories().select_related("kitchen", "association"):
        partnership.full_clean(exclude=["convention_document"])
    for membership in Membership.objects.select_related("kitchen", "association", "authority"):
        membership.full_clean()
    # One manager per kitchen, one volunteer per association, one coordinator per territory, an evaluator.
    assert get_user_model().objects.filter(username__startswith="scale-").count() == 4 + 8 + 2 + 1
    for pickup in Pickup.objects.all_territories().select_related("batch")[:200]:
        assert pickup.territory_id == pickup.batch.territory_id
        assert pickup.association_id == pickup.batch.association_id
        assert pickup.picked_up_on == timezone.localdate(pickup.picked_up_at)


def snapshot() -> list[tuple]:
    batches = Batch.objects.all_territories().values_list(
        "territory__slug", "kitchen__name", "association__name", "production_date", "kind", "meals_count",
        "liaison", "dispatch_temperature_c", "status", "components", "allergens", "lot_number",
    )  # fmt: skip
    pickups = Pickup.objects.all_territories().values_list(
        "batch__kitchen__name", "batch__production_date", "batch__kind", "picked_up_at", "meals_received",
        "temperature_c", "transport_mode", "distance_km", "transport_cost",
    )  # fmt: skip
    distributions = Distribution.objects.all_territories().values_list(
        "site__name", "distributed_on", "meals_distributed", "beneficiaries", "households", "children",
        "meals_discarded",
    )  # fmt: skip
    return sorted(map(str, [*batches, *pickups, *distributions]))


def clear() -> None:
    for model in (Distribution, Pickup, Batch, TransportRate, Membership):
        model.objects.all().delete()
    get_user_model().objects.filter(username__startswith="scale-").delete()
    for model in (Partnership, DistributionSite, Association, Kitchen, Authority, Territory):
        model.objects.all().delete()


def test_the_same_seed_gives_the_same_data():
    until = datetime.date.today() - datetime.timedelta(days=3)
    generate_scale.generate(seed=11, until=until, **SMALL)
    first = snapshot()
    clear()
    generate_scale.generate(seed=11, until=until, **SMALL)
    assert snapshot() == first
    clear()
    generate_scale.generate(seed=12, until=until, **SMALL)
    assert snapshot() != first


def test_the_command_reports_and_checks(capsys):
    call_command("generate_scale", "--territories", "1", "--days", "5", "--check")
    out = capsys.readouterr().out
    assert "1 territoires" in out
    assert "Toutes les règles des services sont respectées." in out
