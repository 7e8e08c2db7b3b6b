"""Daily roll-ups: one territory-day recomputed from the records with one aggregate query.

``rollup_territory_day`` is idempotent: it upserts the rows of that territory-day (one per
partnership with activity) and deletes the rows that no longer have any, so a retry, a
duplicate delivery or two concurrent runs leave the same rows.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from meals.models import COLD_MAX_C, HOT_MIN_C

from . import versions
from .models import DailyRollup

logger = logging.getLogger(__name__)

SUMMED_FIELDS = [
    "batches", "meals_produced_dedicated", "meals_produced_surplus", "batches_cancelled",
    "batches_expired", "dispatch_breaches", "pickups", "pickups_on_time", "meals_picked_up",
    "receipt_breaches", "km", "transport_minutes", "transport_cost", "pickups_without_cost",
    "distributions", "meals_distributed", "meals_discarded", "people_served", "households", "children",
    "meals_expired", "batches_recalled", "meals_recalled", "meals_short",
]  # fmt: skip

# Each branch yields one row per record, with zeros in the other branches' columns; the outer
# query sums them per partnership. Temperatures and rates are compared in SQL so the whole day is
# one round trip. ``{batch_key}``... give the keys the range query groups by on top (nothing for
# one territory-day), ``{..._where}`` the records' filter and ``{month}`` the pickup's rate month.
RECORDS_SQL = """
    SELECT {batch_key} b.partnership_id, b.kitchen_id, b.association_id,
        1 AS batches,
        CASE WHEN b.kind = 'dedicated' THEN b.meals_count ELSE 0 END AS meals_produced_dedicated,
        -- Surplus donated: neither cancelled (a recall before the pickup cancels too) nor left
        -- uncollected past its use-by date.
        CASE WHEN b.kind = 'surplus' AND b.status <> 'cancelled'
              AND NOT (b.status = 'ready' AND b.use_by_date < %(today)s)
            THEN b.meals_count ELSE 0 END AS meals_produced_surplus,
        CASE WHEN b.status = 'cancelled' AND b.recalled_at IS NULL THEN 1 ELSE 0 END AS batches_cancelled,
        CASE WHEN b.status = 'ready' AND b.use_by_date < %(today)s THEN 1 ELSE 0 END AS batches_expired,
        CASE WHEN (b.liaison = 'cold' AND b.dispatch_temperature_c > %(cold_max)s)
              OR (b.liaison = 'hot' AND b.dispatch_temperature_c < %(hot_min)s) THEN 1 ELSE 0 END
            AS dispatch_breaches,
        0 AS pickups, 0 AS pickups_on_time, 0 AS meals_picked_up, 0 AS receipt_breaches,
        0 AS km, 0 AS transport_minutes, 0 AS transport_cost, 0 AS pickups_without_cost,
        0 AS distributions, 0 AS meals_distributed, 0 AS meals_discarded, 0 AS people_served,
        0 AS households, 0 AS children,
        CASE WHEN b.status = 'ready' AND b.use_by_date < %(today)s THEN b.meals_count ELSE 0 END
            AS meals_expired,
        CASE WHEN b.recalled_at IS NOT NULL THEN 1 ELSE 0 END AS batches_recalled,
        b.meals_recalled AS meals_recalled,
        0 AS meals_short
    FROM meals_batch b
    WHERE {batch_where}
    UNION ALL
    SELECT {pickup_key} b.partnership_id, b.kitchen_id, b.association_id,
        0, 0, 0, 0, 0, 0,
        1,
        CASE WHEN p.picked_up_on <= b.use_by_date THEN 1 ELSE 0 END,
        p.meals_received,
        CASE WHEN (b.liaison = 'cold' AND p.temperature_c > %(cold_max)s)
              OR (b.liaison = 'hot' AND p.temperature_c < %(hot_min)s) THEN 1 ELSE 0 END,
        p.distance_km,
        p.duration_minutes,
        COALESCE(
            p.transport_cost,
            p.distance_km * r.cost_per_km + p.duration_minutes * r.driver_hourly_cost / 60.0,
            0
        ),
        CASE WHEN p.transport_cost IS NULL
              AND (r.cost_per_km IS NULL OR r.driver_hourly_cost IS NULL) THEN 1 ELSE 0 END,
        0, 0,
        -- A batch set aside after its pickup loses every meal received, counted once, here.
        CASE WHEN b.status = 'discarded' THEN p.meals_received ELSE 0 END,
        0, 0, 0,
        0, 0, 0,
        -- Meals of the batch the association did not receive, by pickup day.
        CASE WHEN b.meals_count > p.meals_received THEN b.meals_count - p.meals_received ELSE 0 END
    FROM meals_pickup p
    JOIN meals_batch b ON b.id = p.batch_id
    LEFT JOIN costing_transportrate r
        ON r.territory_id = p.territory_id AND r.month = {month} AND r.transport_mode = p.transport_mode
    WHERE {pickup_where}
    UNION ALL
    SELECT {distribution_key} b.partnership_id, b.kitchen_id, b.association_id,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1, d.meals_distributed, CASE WHEN b.status = 'discarded' THEN 0 ELSE d.meals_discarded END,
        d.beneficiaries,
        COALESCE(d.households, 0), COALESCE(d.children, 0),
        0, 0, 0, 0
    FROM meals_distribution d
    JOIN meals_batch b ON b.id = d.batch_id
    WHERE {distribution_where}
"""

DAY_RECORDS_SQL = RECORDS_SQL.format(
    batch_key="",
    batch_where="b.territory_id = %(territory)s AND b.production_date = %(day)s",
    pickup_key="",
    pickup_where="p.territory_id = %(territory)s AND p.picked_up_on = %(day)s",
    month="%(month)s",
    distribution_key="",
    distribution_where="d.territory_id = %(territory)s AND d.distributed_on = %(day)s",
)
DAY_SQL = f"""
SELECT partnership_id, kitchen_id, association_id, {", ".join(f"SUM({name})" for name in SUMMED_FIELDS)}
FROM ({DAY_RECORDS_SQL}) AS day_records
GROUP BY partnership_id, kitchen_id, association_id
"""  # noqa: S608 - the interpolated names are the constant SUMMED_FIELDS; values are parameters

# Every territory-day of a range in one statement (PostgreSQL): the day's sums as above, per
# territory and day, rounded as ``as_field_value`` rounds them; compared with the range's rows,
# so that only new or changed rows are written and the rows left with no record deleted.
RANGE_RECORDS_SQL = RECORDS_SQL.format(
    batch_key="b.territory_id, b.production_date AS day,",
    batch_where="b.territory_id = ANY(%(territories)s) AND b.production_date BETWEEN %(since)s AND %(until)s",
    pickup_key="p.territory_id, p.picked_up_on,",
    pickup_where="p.territory_id = ANY(%(territories)s) AND p.picked_up_on BETWEEN %(since)s AND %(until)s",
    month="date_trunc('month', p.picked_up_on)::date",
    distribution_key="d.territory_id, d.distributed_on,",
    distribution_where=(
        "d.territory_id = ANY(%(territories)s) AND d.distributed_on BETWEEN %(since)s AND %(until)s"
    ),
)
ROLLUP_COLUMNS = ["territory_id", "day", "partnership_id", "kitchen_id", "association_id", *SUMMED_FIELDS]
UPDATED_COLUMNS = ["kitchen_id", "association_id", *SUMMED_FIELDS]


def range_sum(name: str) -> str:
    places = {"km": 1, "transport_cost": 2}.get(name)
    return f"ROUND(SUM({name}), {places})" if places else f"SUM({name})"


COMPUTED_SQL = f"""
    SELECT territory_id, day, partnership_id, kitchen_id, association_id,
        {", ".join(f"{range_sum(name)} AS {name}" for name in SUMMED_FIELDS)}
    FROM ({RANGE_RECORDS_SQL}) AS range_records
    GROUP BY territory_id, day, partnership_id, kitchen_id, association_id
"""  # noqa: S608 - the interpolated names are constants; values are parameters

# A row another transaction inserted meanwhile (a territory-day's task) is updated.
ON_CONFLICT_SQL = f"""
    ON CONFLICT (territory_id, day, partnership_id) DO UPDATE
    SET {", ".join(f"{name} = EXCLUDED.{name}" for name in UPDATED_COLUMNS)}
"""  # noqa: S608 - the interpolated names are constants

RANGE_SQL = f"""
WITH computed AS MATERIALIZED ({COMPUTED_SQL}),
existing AS (
    SELECT id, {", ".join(ROLLUP_COLUMNS)} FROM costing_dailyrollup
    WHERE territory_id = ANY(%(territories)s) AND day BETWEEN %(since)s AND %(until)s
),
-- The rows to write (new or different) and the rows to delete (no record left): comparing
-- first leaves an up-to-date row untouched, where an upsert would lock and rewrite it.
changes AS MATERIALIZED (
    SELECT {", ".join(f"c.{name}" for name in ROLLUP_COLUMNS)}, e.id AS existing_id
    FROM computed c
    FULL JOIN existing e
        ON e.territory_id = c.territory_id AND e.day = c.day AND e.partnership_id = c.partnership_id
    WHERE e.id IS NULL OR c.territory_id IS NULL
        OR ({", ".join(f"e.{name}" for name in UPDATED_COLUMNS)})
            IS DISTINCT FROM ({", ".join(f"c.{name}" for name in UPDATED_COLUMNS)})
),
upserted AS (
    INSERT INTO costing_dailyrollup ({", ".join(ROLLUP_COLUMNS)})
    SELECT {", ".join(ROLLUP_COLUMNS)} FROM changes WHERE territory_id IS NOT NULL
    {ON_CONFLICT_SQL}
    RETURNING 1
),
deleted AS (
    DELETE FROM costing_dailyrollup old USING changes
    WHERE changes.territory_id IS NULL AND old.id = changes.existing_id
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM computed), (SELECT COUNT(*) FROM upserted), (SELECT COUNT(*) FROM deleted)
"""  # noqa: S608 - the interpolated names are constants; values are parameters

# A range that holds no roll-up yet (a territory's history loaded, a first deployment): nothing
# to compare with or delete, so the computed rows are inserted as they come, with
# ``ON_CONFLICT_SQL`` unless the table is locked.
INSERT_SQL = f"""
INSERT INTO costing_dailyrollup ({", ".join(ROLLUP_COLUMNS)})
{COMPUTED_SQL}
"""

RANGE_HAS_ROWS_SQL = """
SELECT EXISTS (
    SELECT 1 FROM costing_dailyrollup
    WHERE territory_id = ANY(%(territories)s) AND day BETWEEN %(since)s AND %(until)s
)
"""

# The roll-up table's indexes, each with what builds it again as it was: a primary key or unique
# constraint is dropped and added back as a constraint (its index with it), any other index
# dropped and created again; the primary key comes first, the plain indexes last.
INDEXES_SQL = """
SELECT
    CASE WHEN con.oid IS NULL THEN format('DROP INDEX %%I', index_class.relname)
        ELSE format('ALTER TABLE %%I DROP CONSTRAINT %%I', table_class.relname, con.conname) END,
    CASE WHEN con.oid IS NULL THEN pg_get_indexdef(index_class.oid)
        ELSE format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', table_class.relname, con.conname,
                    pg_get_constraintdef(con.oid)) END
FROM pg_index
JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
JOIN pg_class table_class ON table_class.oid = pg_index.indrelid
LEFT JOIN pg_constraint con ON con.conindid = pg_index.indexrelid AND con.conrelid = pg_index.indrelid
WHERE pg_index.indrelid = %(table)s::regclass
ORDER BY pg_index.indisprimary DESC, con.oid IS NULL, index_class.relname
"""

DECIMAL_PLACES = {"km": Decimal("0.1"), "transport_cost": Decimal("0.01")}


def as_field_value(name: str, value: Any) -> int | Decimal:
    if name in DECIMAL_PLACES:
        return Decimal(str(value or 0)).quantize(DECIMAL_PLACES[name], rounding=ROUND_HALF_UP)
    return int(value or 0)


def compute_territory_day(territory_id: int, day: datetime.date) -> list[DailyRollup]:
    params: dict[str, Any] = {
        "territory": territory_id,
        "day": day,
        "month": day.replace(day=1),
        "today": timezone.localdate(),
        "cold_max": COLD_MAX_C,
        "hot_min": HOT_MIN_C,
    }
    with connection.cursor() as cursor:
        cursor.execute(DAY_SQL, params)
        rows = cursor.fetchall()
    return [
        DailyRollup(
            territory_id=territory_id,
            day=day,
            partnership_id=partnership_id,
            kitchen_id=kitchen_id,
            association_id=association_id,
            **{name: as_field_value(name, value) for name, value in zip(SUMMED_FIELDS, sums, strict=True)},
        )
        for partnership_id, kitchen_id, association_id, *sums in rows
    ]


@transaction.atomic
def rollup_territory_day(*, territory_id: int, day: datetime.date) -> int:
    """Recomputes and upserts one territory-day; returns the number of rows it now has. Bumps
    the territory-month's roll-up version first, in the same transaction."""
    versions.bump_days(territory_id, [day])
    rows = compute_territory_day(territory_id, day)
    DailyRollup.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["territory", "day", "partnership"],
        update_fields=["kitchen", "association", *SUMMED_FIELDS],
    )
    DailyRollup.objects.filter(territory_id=territory_id, day=day).exclude(
        partnership_id__in=[row.partnership_id for row in rows]
    ).delete()
    return len(rows)


def days_between(since: datetime.date, until: datetime.date) -> Iterable[datetime.date]:
    for offset in range((until - since).days + 1):
        yield since + datetime.timedelta(days=offset)


def rebuild_per_day(*, territory_ids: Iterable[int], since: datetime.date, until: datetime.date) -> int:
    """Recomputes every territory-day of the range, one transaction per territory-day."""
    total = 0
    for territory_id in territory_ids:
        for day in days_between(since, until):
            total += rollup_territory_day(territory_id=territory_id, day=day)
    return total


@transaction.atomic
def rebuild_range(*, territory_ids: Iterable[int], since: datetime.date, until: datetime.date) -> int:
    """Recomputes every territory-day of the range with one statement (PostgreSQL): the same
    rows as ``rollup_territory_day`` on each day, in the time of one aggregate query.

    Three cases, the same rows in the end:
    - the range holds roll-ups (the nightly rebuild): computed rows compared with them, only
      the new or changed ones written, those left without any record deleted;
    - the range holds none: the computed rows inserted as they come (a row a territory-day's
      task inserted meanwhile is updated);
    - the whole table is empty (a first deployment, a change of the roll-ups' definition):
      the table locked, its indexes and the constraints they back dropped, the rows inserted,
      the indexes and constraints built again, the table analysed, in one transaction.
      Building an index once over all the rows costs less than inserting each row into it
      (PostgreSQL's advice for populating a table); other writers of the roll-ups wait for the
      commit.
    """
    territory_ids = list(territory_ids)
    # The version first: every writer takes the counters' row locks before its own.
    versions.bump_range(territory_ids, since, until)
    params: dict[str, Any] = {
        "territories": territory_ids,
        "since": since,
        "until": until,
        "today": timezone.localdate(),
        "cold_max": COLD_MAX_C,
        "hot_min": HOT_MIN_C,
    }
    with connection.cursor() as cursor:
        cursor.execute(RANGE_HAS_ROWS_SQL, params)
        if cursor.fetchone()[0]:
            cursor.execute(RANGE_SQL, params)
            rows, written, deleted = cursor.fetchone()
            logger.debug(
                "Roll-ups %s to %s: %s rows, %s written, %s deleted", since, until, rows, written, deleted
            )
            return rows
        if DailyRollup.objects.all_territories().exists():
            cursor.execute(INSERT_SQL + ON_CONFLICT_SQL, params)
            return cursor.rowcount
        # ACCESS EXCLUSIVE, then the table looked at again: no other writer can add a row, so
        # neither the conflict clause nor any index is needed while inserting.
        cursor.execute(f"LOCK TABLE {DailyRollup._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        if DailyRollup.objects.all_territories().exists():
            cursor.execute(INSERT_SQL + ON_CONFLICT_SQL, params)
            return cursor.rowcount
        cursor.execute(INDEXES_SQL, {"table": DailyRollup._meta.db_table})
        indexes = cursor.fetchall()
        for drop, _create in indexes:
            cursor.execute(drop)
        cursor.execute(INSERT_SQL, params)
        rows = cursor.rowcount
        for _drop, create in indexes:
            cursor.execute(create)
        # The table's statistics were those of an empty table: every plan that reads the
        # roll-ups would expect a few rows (and sort two million on disk) until the next ANALYZE.
        cursor.execute(f"ANALYZE {DailyRollup._meta.db_table}")
    logger.debug("Roll-ups %s to %s inserted into an empty table: %s rows", since, until, rows)
    return rows


def rebuild(*, territory_ids: Iterable[int], since: datetime.date, until: datetime.date) -> int:
    """Recomputes every territory-day of the range; returns the number of rows it now has.

    On PostgreSQL one statement does the whole range; elsewhere (the SQLite demo) each
    territory-day in turn.
    """
    if connection.vendor == "postgresql":
        return rebuild_range(territory_ids=territory_ids, since=since, until=until)
    return rebuild_per_day(territory_ids=territory_ids, since=since, until=until)
