"""Roll-up rebuild: a year of roll-ups for every territory against one raw GROUP BY over the same rows.

    .venv/bin/python bench/rollup.py --territories 50 --days 365 --runs 5 [--per-day-runs 1] [--reuse]

The baseline is the aggregate alone: the batches, pickups and distributions of the range summed
per territory, day and partnership in one ``GROUP BY`` (the very rows and sums the roll-ups
hold), materialised into a temporary table. The candidate is ``costing.rollups.rebuild`` over
the same range, measured twice: into an empty roll-up table (every row written) and over an
up-to-date one (the nightly case). The per-day path (one aggregate per territory-day, the
rebuild before the set-based statement) is measured too, and both paths' tables must be equal.
"""

from __future__ import annotations

import datetime
from typing import Any

import harness

CHECKSUM_SQL = """
SELECT COUNT(*), md5(string_agg(concat_ws(',', {columns}), ';' ORDER BY territory_id, day, partnership_id))
FROM costing_dailyrollup
"""


def main() -> None:
    parser = harness.arguments(__doc__ or "")
    parser.add_argument(
        "--per-day-runs", type=int, default=1, help="Runs of the per-day path (0 to skip; slow at scale)."
    )
    args = parser.parse_args()
    generation = harness.setup(args)

    from django.db import connection, transaction
    from django.utils import timezone

    from costing import rollups
    from territories.models import Territory

    territory_ids = list(Territory.objects.all_territories().order_by("pk").values_list("pk", flat=True))
    until = datetime.date.fromisoformat(generation.until)
    since = until - datetime.timedelta(days=generation.days - 1)
    params: dict[str, Any] = {
        "territories": territory_ids,
        "since": since,
        "until": until,
        "today": timezone.localdate(),
        "cold_max": rollups.COLD_MAX_C,
        "hot_min": rollups.HOT_MIN_C,
    }
    sums = ", ".join(f"{rollups.range_sum(name)} AS {name}" for name in rollups.SUMMED_FIELDS)
    group_by = (
        "CREATE TEMPORARY TABLE bench_group_by AS "  # noqa: S608 - constant SQL of the roll-ups module
        f"SELECT territory_id, day, partnership_id, kitchen_id, association_id, {sums} "
        f"FROM ({rollups.RANGE_RECORDS_SQL}) AS records "
        "GROUP BY territory_id, day, partnership_id, kitchen_id, association_id"
    )
    checksum_sql = CHECKSUM_SQL.format(columns=", ".join(rollups.ROLLUP_COLUMNS))

    def baseline() -> float:
        with transaction.atomic(), connection.cursor() as cursor:
            seconds = harness.timed(lambda: cursor.execute(group_by, params))
            cursor.execute("SELECT COUNT(*) FROM bench_group_by")
            baseline_rows.append(cursor.fetchone()[0])
            cursor.execute("DROP TABLE bench_group_by")
        return seconds

    def empty_rollups() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE costing_dailyrollup")

    def checksum() -> tuple[int, str]:
        with connection.cursor() as cursor:
            cursor.execute(checksum_sql)
            count, digest = cursor.fetchone()
        return count, digest

    def set_based() -> float:
        return harness.timed(lambda: rollups.rebuild(territory_ids=territory_ids, since=since, until=until))

    def set_based_from_empty() -> float:
        empty_rollups()
        return set_based()

    def per_day_from_empty() -> float:
        empty_rollups()
        return harness.timed(
            lambda: rollups.rebuild_per_day(territory_ids=territory_ids, since=since, until=until)
        )

    baseline_rows: list[int] = []
    group_by_label = "GROUP BY into a temporary table"
    print(f"{len(territory_ids)} territories, {since} to {until}")
    results = [
        harness.compare(
            "rebuild a year, empty table",
            candidate=("rollups.rebuild (set-based)", set_based_from_empty),
            baseline=(group_by_label, baseline),
            runs=args.runs,
            target=1.5,
        )
    ]
    set_based_sum = checksum()
    results.append(
        harness.compare(
            "rebuild a year, table up to date",
            candidate=("rollups.rebuild (set-based)", set_based),
            baseline=(group_by_label, baseline),
            runs=args.runs,
            target=1.5,
        )
    )
    extra: dict[str, Any] = {
        "territories": len(territory_ids),
        "days": generation.days,
        "records": f"{generation.rows:,} ({generation.batches:,} batches, {generation.pickups:,} pickups, "
        f"{generation.distributions:,} distributions)",
        "roll-up rows": f"{set_based_sum[0]:,} (GROUP BY: {baseline_rows[-1]:,})",
    }
    if args.per_day_runs:
        results.append(
            harness.compare(
                "rebuild a year, per territory-day (before)",
                candidate=("rollups.rebuild_per_day", per_day_from_empty),
                baseline=(group_by_label, baseline),
                runs=args.per_day_runs,
                warmup=0,
            )
        )
        per_day_sum = checksum()
        if per_day_sum != set_based_sum:
            raise SystemExit(f"The set-based and per-day roll-ups differ: {set_based_sum} != {per_day_sum}")
        extra["set-based = per-day"] = f"yes (checksum {per_day_sum[1]})"
    harness.report("Roll-up rebuild", harness.command_line(), results, extra)
    if args.drop:
        harness.drop_database(args.database_url)


if __name__ == "__main__":
    main()
