"""Writes: pickup confirmations per second with 8 concurrent clients on PostgreSQL, none lost or
doubled.

    .venv/bin/python bench/writes.py --territories 50 --clients 8 --batches 1200 --runs 3 [--reuse]

Each run declares ``--batches`` ready batches across the territories (bulk, not timed), then
``--clients`` processes, each with its own database connection, confirm them: every batch is
in the lists of two clients, in different orders, so that half the attempts race with another
for the same batch and must end in a ``Conflict``. The candidate goes through
``meals.services.pickup_confirm`` (the batch read as the API reads it, the conditional update,
the pickup, its history, the roll-ups queued on commit to an in-process broker); the baseline
does the same transaction in raw SQL (conditional UPDATE, INSERT) with psycopg2. After each
run: pickups created = confirmations reported, each batch picked up exactly once, no error.
"""

from __future__ import annotations

import datetime
import multiprocessing
import random
import time
from decimal import Decimal
from typing import Any

import harness

Item = tuple[int, int, str, int]  # batch id, volunteer id, liaison, meals


def start_worker(url: str) -> None:
    harness.setup_django(url)


def confirm_with_service(items: list[Item]) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from meals import services
    from meals.models import Batch
    from territories.exceptions import Conflict

    users: dict[int, Any] = {}
    confirmed, conflicts, errors = [], 0, []
    connection.ensure_connection()
    started = time.time()
    for batch_id, user_id, liaison, meals in items:
        if user_id not in users:
            users[user_id] = get_user_model().objects.get(pk=user_id)
        try:
            batch = Batch.objects.all_territories().get(pk=batch_id)
            services.pickup_confirm(
                batch=batch,
                by=users[user_id],
                meals_received=meals,
                temperature_c=Decimal("2.5") if liaison == "cold" else Decimal("65"),
                transport_mode="association_vehicle",
                refrigerated_vehicle=True,
                distance_km=Decimal("7.5"),
                duration_minutes=30,
            )
            confirmed.append(batch_id)
        except Conflict:
            conflicts += 1
        except Exception as error:  # reported and counted: the run must have none
            errors.append(repr(error))
    return {
        "confirmed": confirmed,
        "conflicts": conflicts,
        "errors": errors,
        "start": started,
        "end": time.time(),
    }


RAW_UPDATE = """
UPDATE meals_batch SET status = 'picked_up' WHERE id = %s AND status = 'ready'
RETURNING territory_id, association_id
"""
RAW_INSERT = """
INSERT INTO meals_pickup (territory_id, batch_id, association_id, picked_up_by_id, picked_up_at, picked_up_on,
    meals_received, temperature_c, transport_mode, refrigerated_vehicle, distance_km, duration_minutes,
    shortfall_reason, shortfall_note)
VALUES (%s, %s, %s, %s, now(), (now() AT TIME ZONE 'Europe/Paris')::date, %s, %s,
    'association_vehicle', true, 7.5, 30, '', '')
"""


def confirm_with_sql(items: list[Item]) -> dict[str, Any]:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    raw.autocommit = False
    confirmed, conflicts, errors = [], 0, []
    started = time.time()
    with raw.cursor() as cursor:
        for batch_id, user_id, liaison, meals in items:
            try:
                cursor.execute(RAW_UPDATE, [batch_id])
                row = cursor.fetchone()
                if row is None:
                    raw.rollback()
                    conflicts += 1
                    continue
                territory_id, association_id = row
                temperature = Decimal("2.5") if liaison == "cold" else Decimal("65")
                cursor.execute(
                    RAW_INSERT, [territory_id, batch_id, association_id, user_id, meals, temperature]
                )
                raw.commit()
                confirmed.append(batch_id)
            except Exception as error:  # reported and counted: the run must have none
                raw.rollback()
                errors.append(repr(error))
    raw.autocommit = True
    return {
        "confirmed": confirmed,
        "conflicts": conflicts,
        "errors": errors,
        "start": started,
        "end": time.time(),
    }


def ready_batches(count: int, rng: random.Random) -> list[Item]:
    """``count`` batches declared today, ready to collect, across the active partnerships (bulk)."""
    from associations.models import Partnership
    from meals.models import Batch
    from territories.models import Membership
    from territories.roles import Role

    volunteers = dict(
        Membership.objects.filter(role=Role.VOLUNTEER, association__isnull=False).values_list(
            "association_id", "user_id"
        )
    )
    partnerships = list(
        Partnership.objects.all_territories()
        .filter(status=Partnership.Status.ACTIVE, association_id__in=list(volunteers))
        .select_related("kitchen")
    )
    managers = dict(Membership.objects.filter(role=Role.KITCHEN_MANAGER).values_list("kitchen_id", "user_id"))
    # A hot surplus batch has less than the 48 hours of use-by that a donation needs when picked up
    # (D541-310): surplus comes only from kitchens in cold liaison.
    partnerships = [
        each
        for each in partnerships
        if each.kitchen.does_cold_liaison or each.mode != Partnership.Mode.SURPLUS
    ]
    today = datetime.date.today()
    # Lot numbers are unique per kitchen: each run (and a rerun on a reused database) has its own.
    run = time.time_ns()
    batches = []
    for number in range(count):
        partnership = rng.choice(partnerships)
        liaison = "cold" if partnership.kitchen.does_cold_liaison else "hot"
        batches.append(
            Batch(
                territory_id=partnership.territory_id,
                partnership=partnership,
                kitchen_id=partnership.kitchen_id,
                association_id=partnership.association_id,
                kind="surplus" if partnership.mode == Partnership.Mode.SURPLUS else "dedicated",
                production_date=today,
                meals_count=100 + number % 50,
                liaison=liaison,
                lot_number=f"BENCH-W-{run}-{number}",
                use_by_date=today + datetime.timedelta(days=3 if liaison == "cold" else 0),
                dispatch_temperature_c=Decimal("2.0") if liaison == "cold" else Decimal("66"),
                created_by_id=managers[partnership.kitchen_id],
            )
        )
    Batch.objects.bulk_create(batches, batch_size=1000)
    return [
        (batch.pk, volunteers[batch.association_id], batch.liaison, batch.meals_count) for batch in batches
    ]


def lists_for_clients(items: list[Item], clients: int, rng: random.Random) -> list[list[Item]]:
    """Each batch in the lists of two clients, each list in its own order."""
    lists: list[list[Item]] = [[] for _ in range(clients)]
    for index, item in enumerate(items):
        lists[index % clients].append(item)
        lists[(index + 1) % clients].append(item)
    for items_of_client in lists:
        rng.shuffle(items_of_client)
    return lists


def check(items: list[Item], outcomes: list[dict[str, Any]]) -> dict[str, int]:
    """Nothing lost, nothing doubled: the database agrees with what the clients reported."""
    from django.db.models import Count

    from meals.models import Batch, Pickup

    batch_ids = [item[0] for item in items]
    confirmed = [batch_id for outcome in outcomes for batch_id in outcome["confirmed"]]
    conflicts = sum(outcome["conflicts"] for outcome in outcomes)
    errors = [error for outcome in outcomes for error in outcome["errors"]]
    pickups = Pickup.objects.all_territories().filter(batch_id__in=batch_ids)
    doubled = pickups.values("batch_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    not_picked = Batch.objects.all_territories().filter(pk__in=batch_ids).exclude(status="picked_up").count()
    problems = []
    if errors:
        problems.append(f"{len(errors)} errors, e.g. {errors[0]}")
    if len(confirmed) != len(set(confirmed)):
        problems.append("a batch was confirmed twice")
    if pickups.count() != len(confirmed):
        problems.append(f"{pickups.count()} pickups for {len(confirmed)} confirmations reported")
    if doubled or not_picked or len(confirmed) != len(batch_ids):
        problems.append(f"{doubled} batches with two pickups, {not_picked} not picked up")
    if len(confirmed) + conflicts != 2 * len(batch_ids):
        problems.append(
            f"{len(confirmed)} confirmations + {conflicts} conflicts != {2 * len(batch_ids)} attempts"
        )
    if problems:
        raise SystemExit("Writes lost or doubled: " + "; ".join(problems))
    return {"confirmed": len(confirmed), "conflicts": conflicts}


def main() -> None:
    parser = harness.arguments(__doc__ or "", runs=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=1200, help="Batches to confirm per run.")
    args = parser.parse_args()
    harness.setup(args)
    harness.close_connections()
    rng = random.Random(args.seed)  # noqa: S311 - workload shape, not security
    context = multiprocessing.get_context("spawn")
    totals = {"confirmed": 0, "conflicts": 0}
    with context.Pool(args.clients, initializer=start_worker, initargs=(args.database_url,)) as pool:
        pool.map(time.sleep, [0.5] * args.clients)  # every client connected and ready

        def run(worker: Any) -> float:
            items = ready_batches(args.batches, rng)
            harness.close_connections()
            outcomes = pool.map(worker, lists_for_clients(items, args.clients, rng), chunksize=1)
            counted = check(items, outcomes)
            for key, value in counted.items():
                totals[key] += value
            wall = max(outcome["end"] for outcome in outcomes) - min(outcome["start"] for outcome in outcomes)
            return wall / counted["confirmed"]  # seconds per confirmation: rates are their inverse

        result = harness.compare(
            f"pickup confirmation, {args.clients} clients",
            candidate=("meals.services.pickup_confirm", lambda: run(confirm_with_service)),
            baseline=("raw SQL UPDATE + INSERT", lambda: run(confirm_with_sql)),
            runs=args.runs,
        )
    result.unit = "s/confirmation"
    rate = 1 / result.candidate_median
    baseline_rate = 1 / result.baseline_median
    result.note = (
        f"{rate:,.0f} confirmations/s through the service against {baseline_rate:,.0f}/s in raw SQL "
        f"(medians of {args.runs} runs); every run checked: pickups = confirmations reported, "
        "one pickup per batch, every race lost with a Conflict"
    )
    extra = {
        "confirmations/s (service)": f"{rate:,.0f}",
        "confirmations/s (raw SQL)": f"{baseline_rate:,.0f}",
        "checked": f"{totals['confirmed']:,} confirmations and {totals['conflicts']:,} conflicts, "
        "none lost or doubled",
        "per-run rates (service)": ", ".join(f"{1 / s:,.0f}" for s in result.candidate_seconds),
        "per-run rates (raw SQL)": ", ".join(f"{1 / s:,.0f}" for s in result.baseline_seconds),
    }
    harness.report("Writes", harness.command_line(), [result], extra)
    if args.drop:
        harness.drop_database(args.database_url)


if __name__ == "__main__":
    main()
