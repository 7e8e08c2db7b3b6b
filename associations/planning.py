# ruff: noqa: RUF002, RUF003 - the definition is written with the signs × and ÷
"""Planned meals: the one definition every figure reads (indicators, report tables, exports).

A partnership plans ``planned_meals_per_week`` meals for each week it runs. It runs on the
days of its convention (from ``starts_on`` to ``ends_on``, or open-ended) that fall outside
every closure of its kitchen: the school holidays of its territory (``Closure`` with no
kitchen) and the kitchen's own closures. Over a period:

    planned meals = planned meals per week × running days in the period ÷ 7

so a week inside a school holiday plans nothing, the weeks before and after plan their full
count, and a period that cuts a week counts its days (docs/indicators.md). Drafts plan nothing;
callers leave them out.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kitchens.models import Closure

SEVEN = Decimal(7)
DAY = datetime.timedelta(days=1)

Span = tuple[datetime.date, datetime.date]


@dataclass(frozen=True)
class Planned:
    """A partnership's running days in a period and the meals it plans on them (exact)."""

    days: int
    meals: Decimal


def running_days(first: datetime.date, last: datetime.date, closed: Iterable[Span]) -> int:
    """Days from ``first`` to ``last`` (both included) outside every closed span."""
    if last < first:
        return 0
    off: set[datetime.date] = set()
    for starts_on, ends_on in closed:
        day, stop = max(first, starts_on), min(last, ends_on)
        while day <= stop:
            off.add(day)
            day += DAY
    return (last - first).days + 1 - len(off)


def planned_meals(
    *,
    per_week: int,
    starts_on: datetime.date,
    ends_on: datetime.date | None,
    start: datetime.date,
    end: datetime.date,
    closed: Iterable[Span] = (),
) -> Planned:
    """The meals a convention plans from ``start`` to ``end``: per week × running days ÷ 7."""
    first, last = max(start, starts_on), min(end, ends_on or end)
    days = running_days(first, last, closed)
    return Planned(days=days, meals=Decimal(per_week) * Decimal(days) / SEVEN)


class ClosureCalendar:
    """The closures of some territories that touch a period: (territory, kitchen or none for the
    territory's school holidays, first day, last day) rows, in any order."""

    def __init__(self, rows: Iterable[tuple[int, int | None, datetime.date, datetime.date]]) -> None:
        self.spans: dict[tuple[int, int | None], list[Span]] = {}
        for territory_id, kitchen_id, starts_on, ends_on in rows:
            self.spans.setdefault((territory_id, kitchen_id), []).append((starts_on, ends_on))

    @classmethod
    def read(
        cls, *, territory_ids: Sequence[int] | None, start: datetime.date, end: datetime.date
    ) -> ClosureCalendar:
        """The closures touching the period, in one query."""
        closures = Closure.objects.all_territories().filter(starts_on__lte=end, ends_on__gte=start)
        if territory_ids is not None:
            closures = closures.filter(territory_id__in=list(territory_ids))
        return cls(
            closures.order_by("starts_on").values_list("territory_id", "kitchen_id", "starts_on", "ends_on")
        )

    def closed(self, territory_id: int, kitchen_id: int) -> list[Span]:
        """The spans a kitchen serves nothing: its territory's school holidays and its own closures."""
        return [*self.spans.get((territory_id, None), ()), *self.spans.get((territory_id, kitchen_id), ())]
