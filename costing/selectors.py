"""Reads of the roll-ups and cost inputs, shared by the cost method, the API, the pages and reports.

Roll-ups are summed with one aggregate query per period (grouped by month and actor where a
table needs it); pandas shapes the result into the monthly and per-partnership tables. These
functions take territory ids and read every row of those territories
(``all_territories``): callers check the reader's scope on the territory first.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db.models import CharField, DecimalField, F, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from associations.models import Association
from kitchens.models import Kitchen
from territories.models import Territory

from .models import (
    AssociationCost,
    CoordinationCost,
    DailyRollup,
    KitchenCostInput,
    ReferenceValue,
    StaleDay,
)
from .services import (
    AssociationMonth,
    CoordinationMonth,
    CostData,
    KitchenMonth,
    Volumes,
    first_of_month,
    last_of_month,
    months_of,
)

# The summed columns of a roll-up row (everything but its keys).
ROLLUP_KEYS = {"id", "territory", "partnership", "kitchen", "association", "day"}
ROLLUP_SUMS = [field.name for field in DailyRollup._meta.concrete_fields if field.name not in ROLLUP_KEYS]
DECIMAL_SUMS = {"km", "transport_cost"}
# The keys of a roll-up frame that come with their names.
NAMED_KEYS: dict[str, Any] = {"territory": Territory, "kitchen": Kitchen, "association": Association}


def sums() -> dict[str, Any]:
    """``SUM`` of every roll-up column, zero rather than NULL when nothing matches."""
    annotations: dict[str, Any] = {}
    for name in ROLLUP_SUMS:
        if name in DECIMAL_SUMS:
            annotations[name] = Coalesce(
                Sum(name), Value(Decimal(0)), output_field=DecimalField(max_digits=14, decimal_places=2)
            )
        else:
            annotations[name] = Coalesce(Sum(name), Value(0), output_field=IntegerField())
    return annotations


def rollups_in(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
) -> QuerySet[DailyRollup]:
    queryset = DailyRollup.objects.all_territories().filter(day__gte=start, day__lte=end)
    if territory_ids is not None:
        queryset = queryset.filter(territory_id__in=territory_ids)
    return queryset


def monthly_rollups(queryset: QuerySet[DailyRollup]) -> QuerySet:
    """Roll-ups summed per month, territory, kitchen and association: one aggregate query."""
    return (
        queryset.annotate(month=TruncMonth("day"))
        .values("month", "territory", "kitchen", "association")
        .annotate(**sums())
        .order_by("month", "territory", "kitchen", "association")
    )


def as_number(name: str, value: Any) -> Any:
    if name in DECIMAL_SUMS:
        return Decimal(value or 0)
    return int(value or 0)


def rollup_frame(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
) -> pd.DataFrame:
    """One row per month, territory, kitchen, association and partnership, with names: the
    roll-ups summed by one query, then the names by another (joined to the sums, they made the
    sort behind the grouping about a third longer over a national year). A partnership has one
    kitchen and one association, so its key adds no row but lets the sums per partnership come
    from the frame too."""
    keys = ["month", "territory", "kitchen", "association", "partnership"]
    rows = (
        rollups_in(territory_ids=territory_ids, start=start, end=end)
        .annotate(month=TruncMonth("day"))
        .values(*keys)
        .annotate(**sums())
        .order_by(*keys)
    )
    # The sums come as integers and exact decimals (never NULL: ``sums`` coalesces them).
    frame = pd.DataFrame.from_records(
        list(rows.values_list(*keys, *ROLLUP_SUMS)), columns=[*keys, *ROLLUP_SUMS]
    )
    reads = [
        model.objects.all_territories()
        .filter(pk__in=frame[key].unique().tolist())
        .annotate(key=Value(key, output_field=CharField()))
        .order_by()
        .values_list("key", "pk", "name")
        for key, model in NAMED_KEYS.items()
    ]
    names: dict[str, dict[int, str]] = {key: {} for key in NAMED_KEYS}
    for key, pk, name in reads[0].union(*reads[1:], all=True):
        names[key][pk] = name
    for key in NAMED_KEYS:
        frame[f"{key}_name"] = frame[key].map(names[key]).astype(object)
    return frame[[*keys, *(f"{key}_name" for key in NAMED_KEYS), *ROLLUP_SUMS]]


FrameReader = Callable[..., pd.DataFrame]


class RollupFrames:
    """``rollup_frame`` of one set of territories, read once per range. The figures of a report
    ask for the same roll-ups several times: over the period's days (the volumes, objectives,
    comparison) and over its whole months (the cost method), which are the same range for a
    report of whole months. Callers do not change the frames they are given."""

    def __init__(self, territory_ids: list[int] | None) -> None:
        self.territory_ids = territory_ids
        self.frames: dict[tuple[datetime.date, datetime.date], pd.DataFrame] = {}

    def __call__(
        self, *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
    ) -> pd.DataFrame:
        if territory_ids != self.territory_ids:
            raise ValueError("these frames are read for other territories")
        if (start, end) not in self.frames:
            self.frames[(start, end)] = rollup_frame(territory_ids=territory_ids, start=start, end=end)
        return self.frames[(start, end)]


def monthly_table(
    *,
    territory_ids: list[int] | None,
    start: datetime.date,
    end: datetime.date,
    read_frame: FrameReader = rollup_frame,
) -> pd.DataFrame:
    """The period's roll-ups summed per month (index: the month's first day)."""
    frame = read_frame(territory_ids=territory_ids, start=start, end=end)
    table = frame.groupby("month")[ROLLUP_SUMS].sum()
    return table.reindex(months_of(start, end), fill_value=0).rename_axis("month")


def partnership_table(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
) -> pd.DataFrame:
    """The period's roll-ups summed per partnership, with its kitchen and association: one query."""
    rows = (
        rollups_in(territory_ids=territory_ids, start=start, end=end)
        .values("partnership", "territory", "kitchen", "association")
        .annotate(kitchen_name=F("kitchen__name"), association_name=F("association__name"), **sums())
        .order_by("partnership")
    )
    columns = ["partnership", "territory", "kitchen", "association", "kitchen_name", "association_name"]
    records = [
        {
            **{name: row[name] for name in columns},
            **{name: as_number(name, row[name]) for name in ROLLUP_SUMS},
        }
        for row in rows
    ]
    return pd.DataFrame.from_records(records, columns=[*columns, *ROLLUP_SUMS]).set_index("partnership")


def volumes_of(frame: pd.DataFrame) -> Volumes:
    totals = frame[ROLLUP_SUMS].sum() if len(frame) else None

    def total(name: str) -> Any:
        return as_number(name, totals[name] if totals is not None else 0)

    return Volumes(**{name: total(name) for name in Volumes.__dataclass_fields__})


def reference_in_force(
    references: list[ReferenceValue], code: str, on: datetime.date
) -> ReferenceValue | None:
    """The reference value of ``code`` in force on a day: the latest valid from that day or before
    and not expired by then (``valid_until`` empty or on or after the day)."""
    candidates = [
        ref
        for ref in references
        if ref.code == code and ref.valid_from <= on and (ref.valid_until is None or on <= ref.valid_until)
    ]
    return max(candidates, key=lambda ref: ref.valid_from, default=None)


def cost_data(
    *,
    territory_ids: list[int] | None,
    start: datetime.date,
    end: datetime.date,
    read_frame: FrameReader = rollup_frame,
) -> CostData:
    """What the cost method needs for territories and the whole months from start to end.

    A constant number of queries whatever the length of the period: the roll-ups grouped by
    month and actor (one query, or ``read_frame``'s), then the inputs of those months (one
    query per kind)."""
    months = months_of(start, end)
    period_start, period_end = months[0], last_of_month(months[-1])
    frame = read_frame(territory_ids=territory_ids, start=period_start, end=period_end)

    def of_territories(queryset: QuerySet) -> QuerySet:
        queryset = queryset.filter(month__gte=period_start, month__lte=period_end)
        return queryset if territory_ids is None else queryset.filter(territory_id__in=territory_ids)

    # Each input as a named row of its fields (attributes named as on the model), with its
    # actor's name: a national synthesis reads over a hundred thousand, and a model instance
    # costs twice as long to build as a row.
    def input_rows(
        model: type[KitchenCostInput] | type[AssociationCost] | type[CoordinationCost], **names: F
    ) -> QuerySet:
        fields = [field.attname for field in model._meta.concrete_fields]
        queryset = of_territories(model.objects.all_territories()).annotate(**names).order_by()
        return queryset.values_list(*fields, *names, named=True)

    kitchen_inputs = {
        (row.kitchen_id, row.month): row
        for row in input_rows(KitchenCostInput, actor_name=F("kitchen__name"))
    }
    association_inputs = {
        (row.association_id, row.month): row
        for row in input_rows(AssociationCost, actor_name=F("association__name"))
    }
    coordination_rows: dict[tuple[int, datetime.date], list[Any]] = {}
    territory_names: dict[int, str] = {}
    coordination_inputs = input_rows(
        CoordinationCost, authority_name=F("authority__name"), territory_name=F("territory__name")
    )
    for row in coordination_inputs.order_by("-month", "pk"):
        coordination_rows.setdefault((row.territory_id, row.month), []).append(row)
        territory_names[row.territory_id] = row.territory_name
    references = list(ReferenceValue.objects.all_territories())

    # Kitchens: every kitchen-month with meals produced, and every kitchen-month with inputs.
    kitchen_meals: dict[tuple[int, datetime.date], tuple[str, int, int]] = {}
    if len(frame):
        by_kitchen = frame.groupby(["kitchen", "kitchen_name", "month"], as_index=False)[
            ["meals_produced_dedicated", "meals_produced_surplus"]
        ].sum()
        for row in by_kitchen.itertuples(index=False):
            kitchen_meals[(int(row.kitchen), row.month)] = (
                str(row.kitchen_name),
                int(row.meals_produced_dedicated),
                int(row.meals_produced_surplus),
            )
    kitchens = []
    for key in sorted(set(kitchen_meals) | set(kitchen_inputs), key=lambda key: (key[1], key[0])):
        entered = kitchen_inputs.get(key)
        name, dedicated, surplus = kitchen_meals.get(key, (entered.actor_name if entered else "", 0, 0))
        if not (dedicated or surplus or entered):
            continue
        kitchens.append(KitchenMonth(key[0], name, key[1], dedicated, surplus, entered))

    # Associations: active when they picked up or distributed meals that month.
    association_activity: dict[tuple[int, datetime.date], tuple[str, bool]] = {}
    if len(frame):
        by_association = frame.groupby(["association", "association_name", "month"], as_index=False)[
            ["pickups", "distributions"]
        ].sum()
        for row in by_association.itertuples(index=False):
            active = bool(int(row.pickups) or int(row.distributions))
            association_activity[(int(row.association), row.month)] = (str(row.association_name), active)
    associations = []
    for key in sorted(set(association_activity) | set(association_inputs), key=lambda key: (key[1], key[0])):
        entered = association_inputs.get(key)
        name, active = association_activity.get(key, (entered.actor_name if entered else "", False))
        if not (active or entered):
            continue
        rate = reference_in_force(references, ReferenceValue.Code.VOLUNTEER_HOUR, last_of_month(key[1]))
        associations.append(
            AssociationMonth(key[0], name, key[1], active, entered, rate.value if rate else None)
        )

    # Coordination: expected for every territory-month with activity, and shown wherever entered.
    active_territories: dict[tuple[int, datetime.date], str] = {}
    if len(frame):
        for row in frame.itertuples(index=False):
            activity = (
                row.meals_produced_dedicated,
                row.meals_produced_surplus,
                row.pickups,
                row.distributions,
            )
            if any(int(count) for count in activity):
                active_territories[(int(row.territory), row.month)] = str(row.territory_name)
    coordination = [
        CoordinationMonth(
            key[0],
            active_territories.get(key) or territory_names.get(key[0], ""),
            key[1],
            tuple(coordination_rows.get(key, ())),
        )
        for key in sorted(set(active_territories) | set(coordination_rows), key=lambda key: (key[1], key[0]))
    ]

    return CostData(
        territory_ids=territory_ids,
        months=months,
        volumes=volumes_of(frame),
        kitchens=kitchens,
        associations=associations,
        coordination=coordination,
        references={code: reference_in_force(references, code, period_end) for code in ReferenceValue.Code},
    )


def default_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last three whole months before ``today``'s month."""
    end = first_of_month(today) - datetime.timedelta(days=1)
    start = first_of_month(end)
    for _ in range(2):
        start = first_of_month(start - datetime.timedelta(days=1))
    return start, first_of_month(end)


def stale_day_count(*, territory_id: int, start: datetime.date, end: datetime.date) -> int:
    """How many days of a period owe a rebuild: dashboards say its figures are being updated."""
    return (
        StaleDay.objects.all_territories().filter(territory_id=territory_id, day__range=(start, end)).count()
    )
