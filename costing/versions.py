"""Roll-up versions: one counter per territory and month (``costing.models.RollupVersion``).

Whatever changes the figures derived from a territory-month's roll-ups bumps its counter in
the same transaction, before its own writes (so that every writer takes the counter's row lock
first, in the same order, and none waits on another in a circle):

- ``costing.rollups.rollup_territory_day`` and ``rebuild_range`` (every day of the range);
- ``costing.pending.stale_days_mark`` (a write marks its days stale) and
  ``stale_day_rebuild`` (the roll-up task clears the mark), ``costing.tasks.discard_pending_rollups``;
- ``costing.services.monthly_cost_refresh`` (the month's frozen cost figures) and
  ``cost_input_saved`` (a cost input saved or deleted).

The caches of the indicators, of the API's rows and of the dashboard's section key on
``versions_of`` (``evaluation.indicators.rollup_versions``): a read after a write sees another
key, and computes the new figures. The same SQL on SQLite and PostgreSQL (``INSERT ... ON
CONFLICT ... DO UPDATE``, both since SQLite 3.24).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection

from .models import RollupVersion

# Rows per statement: two parameters each, well under SQLite's limit on parameters.
CHUNK = 500


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def months_between(since: datetime.date, until: datetime.date) -> list[datetime.date]:
    months, month = [], month_of(since)
    while month <= until:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def names() -> tuple[str, str, str, str]:
    """The table's name and its territory, month and version columns, quoted."""
    quote = connection.ops.quote_name
    column = {field.name: field.column for field in RollupVersion._meta.concrete_fields}
    return (
        quote(RollupVersion._meta.db_table),
        quote(column["territory"]),
        quote(column["month"]),
        quote(column["version"]),
    )


def bump(keys: Iterable[tuple[int, datetime.date]]) -> None:
    """Adds one to the counter of each (territory, month) given (a month is any of its days);
    in the caller's transaction. In key order, so that two writers lock shared rows alike."""
    rows = sorted({(int(territory_id), month_of(day)) for territory_id, day in keys})
    if not rows:
        return
    table, territory, month, version = names()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        values = ", ".join(["(%s, %s, 1)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({territory}, {month}, {version}) VALUES {values} "  # noqa: S608
                f"ON CONFLICT ({territory}, {month}) DO UPDATE SET {version} = {table}.{version} + 1",
                [value for row in chunk for value in row],
            )


def bump_days(territory_id: int, days: Iterable[datetime.date]) -> None:
    bump((territory_id, day) for day in days)


def bump_range(territory_ids: Iterable[int], since: datetime.date, until: datetime.date) -> None:
    months = months_between(since, until)
    bump((territory_id, month) for territory_id in territory_ids for month in months)


def versions_of(
    territory_ids: list[int], since: datetime.date, until: datetime.date
) -> dict[int, tuple[int, int]]:
    """Per territory, (months with a counter, sum of their counters) over the months from
    ``since`` to ``until``: any bump in one of them makes the sum grow. One indexed query."""
    if not territory_ids:
        return {}
    table, territory, month, version = names()
    marks = ", ".join(["%s"] * len(territory_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {territory}, COUNT(*), SUM({version}) FROM {table} "  # noqa: S608
            f"WHERE {territory} IN ({marks}) AND {month} >= %s AND {month} <= %s GROUP BY {territory}",
            [*territory_ids, month_of(since), month_of(until)],
        )
        found = {row[0]: (int(row[1]), int(row[2])) for row in cursor.fetchall()}
    return {territory_id: found.get(territory_id, (0, 0)) for territory_id in territory_ids}
