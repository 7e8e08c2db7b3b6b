"""Reads the evaluation's pages, API, dashboards and reports share: series from the roll-ups.

Like ``costing.selectors``, these take territory ids and read every row of those territories
(``all_territories``): callers check the reader's scope on the territories first. They read
``DailyRollup`` only (and the cost method, itself built on the roll-ups), with a constant
number of queries whatever the length of the period.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

import pandas as pd
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import TruncWeek
from django.utils import translation

from costing import selectors as cost_selectors
from costing.services import CostData, cost_report, last_of_month, months_of
from territories.models import Territory
from territories.scoping import EVERY_ROW, memberships_of

# The columns of ``weekly_series`` summed from the roll-ups, and the breaches they add up.
WEEKLY_SUMS = [
    "meals_distributed",
    "people_served",
    "meals_discarded",
    "batches",
    "meals_produced_dedicated",
    "meals_produced_surplus",
    "pickups",
    "pickups_on_time",
    "dispatch_breaches",
    "receipt_breaches",
]
WEEKLY_COLUMNS = ["week", *WEEKLY_SUMS, "breaches"]

MONTHLY_SUMS = [
    "meals_produced_dedicated",
    "meals_produced_surplus",
    "meals_distributed",
    "meals_discarded",
    "people_served",
]
MONTHLY_COLUMNS = ["month", *MONTHLY_SUMS, "full_cost_per_meal", "full_cost_complete"]


T = TypeVar("T")


class ReadsAhead:
    """Reads started before they are needed, each in a thread on a database connection of its
    own, while the caller goes on; ``start`` gives the function that waits for a read's result.
    A report's figures wait on four aggregates over the roll-ups, a third of their time: three
    of them run ahead while the cost method computes.

    Another connection does not see what a transaction has not committed: inside one (a test, a
    caller's atomic block), and off PostgreSQL, each read runs in the caller's thread when its
    result is asked for, as if it had not been started ahead."""

    def __init__(self, *, threads: bool = True) -> None:
        self.threads = threads and connection.vendor == "postgresql" and not connection.in_atomic_block
        self.executor: ThreadPoolExecutor | None = None

    def __enter__(self) -> ReadsAhead:
        if self.threads:
            self.executor = ThreadPoolExecutor(max_workers=3, thread_name_prefix="read-ahead")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def start(self, function: Callable[..., T], /, **kwargs: Any) -> Callable[[], T]:
        if self.executor is None:
            return lambda: function(**kwargs)
        language = translation.get_language()

        def read() -> T:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SET max_parallel_workers_per_gather = 0")
                with translation.override(language):
                    return function(**kwargs)
            finally:
                connection.close()  # this thread's own connection

        return self.executor.submit(read).result


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def weeks_of(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The Mondays of the weeks a period touches."""
    weeks, week = [], monday_of(start)
    while week <= end:
        weeks.append(week)
        week += datetime.timedelta(days=7)
    return weeks


def weekly_series(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
) -> pd.DataFrame:
    """One row per ISO week the period touches (``week``: its Monday), days outside the period
    left out: meals distributed, people served, meals discarded, batches, meals produced by kind,
    pickups (on time), and the cold-chain breaches (at dispatch, on receipt, and their sum).
    Weeks without any record are rows of zeros. One query."""
    sums = cost_selectors.sums()
    rows = (
        cost_selectors.rollups_in(territory_ids=territory_ids, start=start, end=end)
        .annotate(week=TruncWeek("day"))
        .values("week")
        .annotate(**{name: sums[name] for name in WEEKLY_SUMS})
        .order_by("week")
    )
    records = [
        {"week": as_date(row["week"]), **{name: int(row[name] or 0) for name in WEEKLY_SUMS}} for row in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=["week", *WEEKLY_SUMS])
    table = frame.set_index("week").reindex(weeks_of(start, end), fill_value=0).rename_axis("week")
    table = table.astype("int64")
    table["breaches"] = table["dispatch_breaches"] + table["receipt_breaches"]
    return table.reset_index()[WEEKLY_COLUMNS]


def as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def monthly_series(
    *,
    territory_ids: list[int] | None,
    start: datetime.date,
    end: datetime.date,
    data: CostData | None = None,
    read_frame: cost_selectors.FrameReader = cost_selectors.rollup_frame,
) -> pd.DataFrame:
    """One row per whole month the period touches (``month``: its first day): meals produced by
    kind, distributed, discarded, people served, and the cost method's full cost per meal
    distributed for the month (``None`` when nothing is known) with whether it is complete.

    Months are whole (cost inputs are monthly), so a period that starts or ends mid-month counts
    the whole of its first and last months here. The cost of each month is the cost method run
    on that month's share of one ``cost_data`` read (``data``, when the caller has it already):
    a constant number of queries."""
    months = months_of(start, end)
    period_start, period_end = months[0], last_of_month(months[-1])
    data = data or cost_selectors.cost_data(
        territory_ids=territory_ids, start=period_start, end=period_end, read_frame=read_frame
    )
    frame = read_frame(territory_ids=territory_ids, start=period_start, end=period_end)
    records = []
    for month in months:
        month_frame = frame[frame["month"] == month] if len(frame) else frame
        volumes = cost_selectors.volumes_of(month_frame)
        month_data = CostData(
            territory_ids=territory_ids,
            months=[month],
            volumes=volumes,
            kitchens=[row for row in data.kitchens if row.month == month],
            associations=[row for row in data.associations if row.month == month],
            coordination=[row for row in data.coordination if row.month == month],
            references=data.references,
            costs=data.costs,
        )
        figure = cost_report(month_data).figure("full_cost_per_meal")
        records.append(
            {
                "month": month,
                "meals_produced_dedicated": volumes.meals_produced_dedicated,
                "meals_produced_surplus": volumes.meals_produced_surplus,
                "meals_distributed": volumes.meals_distributed,
                "meals_discarded": volumes.meals_discarded,
                "people_served": volumes.people_served,
                "full_cost_per_meal": figure.value,
                "full_cost_complete": figure.complete,
            }
        )
    table = pd.DataFrame.from_records(records, columns=MONTHLY_COLUMNS)
    table["full_cost_per_meal"] = table["full_cost_per_meal"].astype(object)
    return table


def writable_territories(model: type[models.Model], user: Any) -> models.QuerySet[Territory]:
    """The territories in which ``user`` may write rows of ``model`` (a journal entry, a paper
    answer), read off the model's ``change_rule``: every row (evaluators) opens every territory
    the user sees; ``territory_id = X`` (authority coordinators) opens X. Any other shape of rule
    opens nothing here (fail closed); the services check each write again after saving."""
    territories = Territory.objects.for_user(user)
    if user.is_superuser:
        return territories
    ids: set[int] = set()
    for membership in memberships_of(user):
        rule = model.change_rule(membership)  # type: ignore[attr-defined]
        if rule is None:
            continue
        if rule == EVERY_ROW:
            return territories
        if membership.territory_id and rule == Q(territory_id=membership.territory_id):
            ids.add(membership.territory_id)
    return territories.filter(pk__in=ids)
