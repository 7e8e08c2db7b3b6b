"""Incremental roll-up: one territory-day recomputed after a write, with a year of history
against a month.

    .venv/bin/python bench/rollup_incremental.py --territories 50 --runs 5 --samples 40 [--reuse]

Two databases generated alike but for their length: ``passerelle_bench`` (``--days``, a year)
and ``passerelle_bench_month`` (30 days), roll-ups built in both. Each sample declares a batch
through ``meals.services.batch_create`` on a recent weekday of a random territory, then times
``costing.rollups.rollup_territory_day`` for that territory-day (what the queued task runs).
Rounds alternate between the databases; each round keeps the median of its samples. The
plans of the day's statements are checked with EXPLAIN on the year: index scans only.
"""

from __future__ import annotations

import datetime
import random
import statistics
import time
from typing import Any

import harness

MONTH_DAYS = 30


def main() -> None:
    parser = harness.arguments(__doc__ or "")
    parser.add_argument("--samples", type=int, default=40, help="Territory-days per round and database.")
    args = parser.parse_args()
    year_url = args.database_url
    month_url = f"{year_url}_month"
    generations = {
        "year": harness.setup(args, year_url),
        "month": harness.setup(args, month_url, days=MONTH_DAYS),
    }
    urls = {"year": year_url, "month": month_url}

    from django.db import connection

    from costing import rollups, tasks
    from costing.models import DailyRollup
    from meals import services
    from meals.models import Batch
    from territories.models import Territory

    def build_rollups(url: str) -> None:
        harness.setup_django(url)
        ids = list(Territory.objects.all_territories().values_list("pk", flat=True))
        today = datetime.date.today()
        rollups.rebuild(territory_ids=ids, since=today - datetime.timedelta(days=400), until=today)

    for url in urls.values():
        build_rollups(url)

    rng = random.Random(args.seed)  # noqa: S311 - sampling, not security
    territory_count = args.territories
    today = datetime.date.today()
    weekdays = [
        today - datetime.timedelta(days=n)
        for n in range(1, 15)
        if (today - datetime.timedelta(days=n)).weekday() < 5
    ]
    written = 0
    # Lot numbers are unique per kitchen: each run (and a rerun on a reused database) has its own.
    run = time.time_ns()
    task_medians: dict[str, list[float]] = {url: [] for url in urls.values()}

    def measure(url: str) -> float:
        """The median time of the roll-up of ``--samples`` territory-days, each after a write."""
        nonlocal written
        harness.setup_django(url)
        territory_ids = list(Territory.objects.all_territories().order_by("pk").values_list("pk", flat=True))
        times: list[float] = []
        task_times: list[float] = []
        for _sample in range(args.samples):
            territory_id = territory_ids[rng.randrange(min(territory_count, len(territory_ids)))]
            day = rng.choice(weekdays)
            template = (
                Batch.objects.all_territories()
                .filter(territory_id=territory_id, production_date=day)
                .filter(status__in=[Batch.Status.READY, Batch.Status.PICKED_UP, Batch.Status.DISTRIBUTED])
                .select_related("partnership__kitchen", "created_by")
                .first()
            )
            if template is None:
                continue
            written += 1
            services.batch_create(
                partnership=template.partnership,
                by=template.created_by,
                kind=template.kind,
                production_date=day,
                meals_count=50,
                liaison=template.liaison,
                lot_number=f"BENCH-{run}-{written}",
                use_by_date=template.use_by_date,
                dispatch_temperature_c=template.dispatch_temperature_c,
                allergens=template.allergens,
                no_regulated_allergens=template.no_regulated_allergens,
                # A record of that past day, declared on it (its use-by date had not passed).
                declared_on=day,
            )
            started = time.perf_counter()
            rollups.rollup_territory_day(territory_id=territory_id, day=day)
            times.append(time.perf_counter() - started)
            # The whole task: the roll-up, then the month's cost figures that read it.
            started = time.perf_counter()
            tasks.rollup_territory_day.run(territory_id, day.isoformat())
            task_times.append(time.perf_counter() - started)
        task_medians[url].append(statistics.median(task_times))
        return statistics.median(times)

    result = harness.compare(
        "roll-up of one territory-day after a write",
        candidate=("a year of history", lambda: measure(urls["year"])),
        baseline=("a month of history", lambda: measure(urls["month"])),
        runs=args.runs,
        target=1.2,
    )
    task_result = harness.Result(
        "the roll-up task (roll-up + month's cost figures)",
        "a year of history",
        "a month of history",
        task_medians[urls["year"]][1:],  # without the warm-up round
        task_medians[urls["month"]][1:],
        target=1.2,
    )

    # The plans, on the year: every statement of the roll-up reaches its rows through an index.
    harness.setup_django(urls["year"])
    sample = (
        Batch.objects.all_territories()
        .filter(production_date=weekdays[0])
        .values_list("territory_id", flat=True)
        .first()
    )
    assert sample is not None
    day = weekdays[0]
    params: dict[str, Any] = {
        "territory": sample,
        "day": day,
        "month": day.replace(day=1),
        "today": today,
        "cold_max": rollups.COLD_MAX_C,
        "hot_min": rollups.HOT_MIN_C,
    }
    plans = {"day aggregate": explain(connection, rollups.DAY_SQL, params)}
    stale = (
        DailyRollup.objects.filter(territory_id=sample, day=day).exclude(partnership_id__in=[0]).values("pk")
    )
    sql, stale_params = stale.query.sql_with_params()
    plans["delete of stale rows"] = explain(connection, sql, stale_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('costing_dailyrollup')")
        year_rollup_bytes = cursor.fetchone()[0]
    sequential = {name: [line for line in plan if "Seq Scan on" in line] for name, plan in plans.items()}
    for name, plan in plans.items():
        print(f"\nEXPLAIN {name}:")
        print("\n".join(plan))
    extra = {
        "records, year": f"{generations['year'].rows:,}",
        "records, month": f"{generations['month'].rows:,}",
        "roll-up table, year": f"{year_rollup_bytes / 2**20:.0f} MiB",
        "samples per round and database": args.samples,
        "index scans only": "yes" if not any(sequential.values()) else f"no: {sequential}",
    }
    harness.report("Incremental roll-up", harness.command_line(), [result, task_result], extra)
    if args.drop:
        for url in urls.values():
            harness.drop_database(url)


def explain(connection: Any, sql: str, params: Any) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


if __name__ == "__main__":
    main()
