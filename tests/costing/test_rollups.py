"""Roll-ups: hand-checked day, rebuild equals incremental upkeep, idempotence."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costing import rollups
from costing.models import DailyRollup, TransportRate
from meals import services
from meals.models import Distribution, Pickup
from territories.exceptions import Conflict
from tests.factories import TerritoryFactory
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def at(day, hour=11):
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def rows_of(territory):
    fields = ["day", "partnership_id", "kitchen_id", "association_id", *rollups.SUMMED_FIELDS]
    return sorted(DailyRollup.objects.filter(territory=territory).values_list(*fields))


def test_one_day_hand_checked(scene):
    day = TODAY - datetime.timedelta(days=2)
    month = day.replace(day=1)
    TransportRate.objects.create(
        territory=scene.territory,
        month=month,
        transport_mode="association_vehicle",
        cost_per_km=Decimal("0.60"),
        driver_hourly_cost=Decimal("24"),
    )
    dedicated = scene.batch(kind="dedicated", production_date=day, meals_count=100, lot_number="D")
    surplus = scene.batch(kind="surplus", production_date=day, meals_count=40, lot_number="S")
    scene.batch(
        kind="surplus",
        production_date=day,
        meals_count=10,
        lot_number="HOT",
        dispatch_temperature_c=Decimal("8"),
        discard_reason="Cellule en panne",
    )
    estimated = scene.pickup(
        dedicated,
        picked_up_at=at(day),
        distance_km=Decimal("10"),
        duration_minutes=30,
        meals_received=98,
        shortfall_reason="damaged_packaging",
    )
    scene.pickup(
        surplus, picked_up_at=at(day, 12), transport_cost=Decimal("12.50"), transport_mode="third_party"
    )
    services.distribution_record(
        pickup=estimated,
        by=scene.volunteer,
        site=scene.site,
        distributed_on=day,
        meals_distributed=90,
        beneficiaries=85,
        households=30,
        meals_discarded=8,
        discard_reason="Abîmés",
        temperature_c=Decimal("2.0"),
    )

    # One row per instrument: the supply agreement (dedicated) and the donation convention.
    assert rollups.rollup_territory_day(territory_id=scene.territory.pk, day=day) == 2
    rows = DailyRollup.objects.filter(territory=scene.territory, day=day)
    assert {row.partnership_id for row in rows} == {scene.partnership.pk, scene.supply.pk}
    row = DailyRollup(
        **{
            field.name: sum((getattr(each, field.name) for each in rows), start=0)
            for field in DailyRollup._meta.concrete_fields
            if isinstance(field, (models.PositiveIntegerField, models.DecimalField))
        }
    )
    assert (row.batches, row.meals_produced_dedicated, row.meals_produced_surplus) == (3, 100, 50)
    assert (row.dispatch_breaches, row.batches_cancelled, row.batches_expired) == (1, 0, 0)
    assert (row.pickups, row.pickups_on_time, row.meals_picked_up, row.receipt_breaches) == (2, 2, 138, 0)
    # 10 km x 0.60 + 30 min x 24 €/h = 18.00, plus 12.50 recorded.
    assert row.transport_cost == Decimal("30.50")
    assert row.pickups_without_cost == 0
    assert (row.km, row.transport_minutes) == (Decimal("10.0"), 30)
    assert (row.distributions, row.meals_distributed, row.meals_discarded) == (1, 90, 8)
    assert (row.people_served, row.households, row.children) == (85, 30, 0)
    # 100 - 98 meals not received with the dedicated batch, by the pickup's day.
    assert (row.meals_short, row.meals_expired, row.batches_recalled, row.meals_recalled) == (2, 0, 0, 0)


def test_pickup_without_rate_or_cost_is_counted_as_missing(scene):
    day = TODAY - datetime.timedelta(days=1)
    scene.pickup(scene.batch(production_date=day), picked_up_at=at(day), distance_km=Decimal("5"))
    rollups.rollup_territory_day(territory_id=scene.territory.pk, day=day)
    row = DailyRollup.objects.get(territory=scene.territory, day=day)
    assert (row.transport_cost, row.pickups_without_cost) == (Decimal("0.00"), 1)


def test_running_twice_gives_the_same_rows_and_empty_days_leave_none(scene):
    day = TODAY - datetime.timedelta(days=1)
    batch = scene.batch(production_date=day)
    rollups.rollup_territory_day(territory_id=scene.territory.pk, day=day)
    first = rows_of(scene.territory)
    rollups.rollup_territory_day(territory_id=scene.territory.pk, day=day)
    assert rows_of(scene.territory) == first
    assert len(first) == 1

    services.batch_cancel(batch=batch, by=scene.kitchen_user, reason="Erreur de saisie")
    batch.delete()
    rollups.rollup_territory_day(territory_id=scene.territory.pk, day=day)
    assert rows_of(scene.territory) == []


def test_rebuild_command_covers_a_range(scene):
    for offset in (1, 2, 3):
        scene.batch(production_date=TODAY - datetime.timedelta(days=offset), lot_number=f"L{offset}")
    call_command(
        "rebuild_rollups",
        "--territory",
        scene.territory.slug,
        "--since",
        str(TODAY - datetime.timedelta(days=5)),
    )
    assert DailyRollup.objects.filter(territory=scene.territory).count() == 3


def later(number: int) -> datetime.timedelta:
    """0 or 1 day later, so records of one batch fall on different days."""
    return datetime.timedelta(days=number % 2)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["batch", "pickup", "distribute", "cancel", "discard", "edit", "delete"]),
        st.integers(min_value=0, max_value=6),  # which record, or how many days ago
        st.integers(min_value=1, max_value=60),  # a count
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_rebuilt_rollups_equal_the_incrementally_maintained_ones(
    operations, django_capture_on_commit_callbacks
):
    scene = Scene()
    batches, pickups, distributions = [], [], []

    def pick(records, index):
        return records[index % len(records)] if records else None

    for operation, index, count in operations:
        # Each write commits its own roll-ups, as after a request.
        with django_capture_on_commit_callbacks(execute=True):
            try:
                if operation == "batch":
                    day = TODAY - datetime.timedelta(days=index)
                    batches.append(
                        scene.batch(
                            production_date=day,
                            meals_count=count,
                            kind="dedicated" if count % 2 else "surplus",
                            lot_number=f"P{len(batches)}",
                        )
                    )
                elif operation == "pickup" and (batch := pick(batches, index)):
                    pickups.append(
                        scene.pickup(
                            batch,
                            picked_up_at=at(min(TODAY, batch.production_date + later(count))),
                            meals_received=min(count, batch.meals_count),
                            temperature_c=Decimal("2") if count % 5 else Decimal("7"),
                            discard_reason="" if count % 5 else "Chaîne du froid rompue",
                            shortfall_reason="counting_error",
                        )
                    )
                elif operation == "distribute" and (pickup := pick(pickups, index)):
                    distributions.append(
                        services.distribution_record(
                            pickup=pickup,
                            by=scene.volunteer,
                            site=scene.site,
                            distributed_on=min(TODAY, pickup.picked_up_on + later(index)),
                            meals_distributed=count // 2,
                            beneficiaries=count // 2,
                            meals_discarded=count % 3,
                            discard_reason="Abîmés" if count % 3 else "",
                            temperature_c=Decimal("2.0"),
                        )
                    )
                elif operation == "cancel" and (batch := pick(batches, index)):
                    services.batch_cancel(batch=batch, by=scene.kitchen_user, reason="Menu modifié")
                elif operation == "discard" and (batch := pick(batches, index)):
                    services.batch_discard(batch=batch, by=scene.kitchen_user, reason="Rupture")
                elif operation == "edit" and (batch := pick(batches, index)):
                    services.batch_update(batch=batch, by=scene.kitchen_user, meals_count=count + 1)
                elif operation == "delete" and (distribution := pick(distributions, index)):
                    distributions.remove(distribution)
                    services.distribution_delete(distribution=distribution, by=scene.volunteer)
            except (services.ValidationError, Conflict):
                pass  # a refused write changes nothing, which the comparison also checks

    incremental = rows_of(scene.territory)
    DailyRollup.objects.filter(territory=scene.territory).delete()
    rollups.rebuild(territory_ids=[scene.territory.pk], since=TODAY - datetime.timedelta(days=7), until=TODAY)
    assert rows_of(scene.territory) == incremental
    assert Pickup.objects.filter(territory=scene.territory).count() <= len(batches)
    assert Distribution.objects.filter(territory=scene.territory).count() == len(distributions)


def test_deleting_a_distribution_updates_the_rollups(scene, django_capture_on_commit_callbacks):
    day = TODAY - datetime.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        pickup = scene.pickup(scene.batch(production_date=day), picked_up_at=at(day))
        first = services.distribution_record(
            pickup=pickup,
            by=scene.volunteer,
            site=scene.site,
            distributed_on=day + datetime.timedelta(days=1),
            meals_distributed=50,
            beneficiaries=40,
            temperature_c=Decimal("2.0"),
        )
        services.distribution_record(
            pickup=pickup,
            by=scene.volunteer,
            site=scene.site,
            distributed_on=day + datetime.timedelta(days=1),
            meals_distributed=30,
            beneficiaries=25,
            temperature_c=Decimal("2.0"),
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.distribution_delete(distribution=first, by=scene.volunteer)
    row = DailyRollup.objects.get(territory=scene.territory, day=day + datetime.timedelta(days=1))
    assert (row.distributions, row.meals_distributed, row.people_served) == (1, 30, 25)


def test_a_write_refreshes_the_month_cost_figures_too(scene, django_capture_on_commit_callbacks):
    from costing.models import MonthlyCost

    day = TODAY - datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        scene.batch(production_date=day, kind="surplus", meals_count=30)
    monthly = MonthlyCost.objects.get(territory=scene.territory, month=day.replace(day=1))
    assert monthly.complete is False  # no cost inputs were entered for that month


def test_days_of_a_rolled_back_write_are_not_sent_with_the_next_one(
    monkeypatch, django_capture_on_commit_callbacks
):
    """The days a rolled-back transaction gathered are dropped with it: the connection's next
    commit sends its own days only (found by the API fuzzing, whose every request rolls back)."""
    from django.db import transaction

    from costing import pending, tasks

    sent = []
    monkeypatch.setattr(
        pending, "send_rollup", lambda territory_id, day: sent.append((territory_id, day.isoformat())) or True
    )
    first, second = TerritoryFactory().pk, TerritoryFactory().pk
    with transaction.atomic():
        tasks.enqueue_rollups(first, {datetime.date(2025, 3, 1)})
        transaction.set_rollback(True)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_rollups(second, {datetime.date(2025, 3, 2)})
        tasks.enqueue_rollups(second, {datetime.date(2025, 3, 2), datetime.date(2025, 3, 3)})
    assert sorted(sent) == [(second, "2025-03-02"), (second, "2025-03-03")]
