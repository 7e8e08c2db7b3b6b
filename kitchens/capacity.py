# ruff: noqa: RUF002, RUF003 - written with the sign − of French arithmetic
"""A kitchen's headroom: its daily capacity minus its production of the day.

The premise of dedicated meals is that a kitchen cooks them "at marginal cost, as long as it is
below capacity": its usual production (``Kitchen.usual_daily_production``, what it cooks for its
own diners) plus the dedicated meals of the day (batches of kind dedicated, not cancelled)
must stay within its daily capacity (``Kitchen.daily_capacity``).

    production of a day = usual daily production + dedicated meals produced that day
    headroom of a day = daily capacity − production of the day

A day whose production exceeds the capacity (headroom below zero; a production equal to the
capacity is still within it) raises an alert, and the marginal cost of that kitchen is flagged
as no longer marginal: beyond capacity, the kitchen needs more staff hours, equipment or a shift
than the marginal cost counts. Surplus meals are part of the usual production, so they add
nothing.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext as _

from meals.models import Batch

from .models import Kitchen


def dedicated_meals_by_day(
    *, kitchen_ids: list[int], start: datetime.date, end: datetime.date
) -> dict[tuple[int, datetime.date], int]:
    """The dedicated meals each kitchen produced each day (batches not cancelled): one query."""
    rows = (
        Batch.objects.all_territories()
        .filter(
            kitchen_id__in=kitchen_ids,
            production_date__gte=start,
            production_date__lte=end,
            kind=Batch.Kind.DEDICATED,
        )
        .exclude(status=Batch.Status.CANCELLED)
        .values("kitchen", "production_date")
        .annotate(meals=Sum("meals_count"))
    )
    return {(row["kitchen"], row["production_date"]): row["meals"] for row in rows}


def headroom(kitchen: Kitchen, dedicated: int) -> int:
    """Capacity − (usual production + dedicated meals): negative above capacity."""
    return kitchen.daily_capacity - (kitchen.usual_daily_production + dedicated)


def capacity_alert(*, kitchen: Kitchen, day: datetime.date, adding: int = 0) -> str | None:
    """The alert when the day's production, with ``adding`` more dedicated meals, would exceed the
    kitchen's capacity; None while it stays within it (equal included)."""
    dedicated = dedicated_meals_by_day(kitchen_ids=[kitchen.pk], start=day, end=day).get((kitchen.pk, day), 0)
    left = headroom(kitchen, dedicated + adding)
    if left >= 0:
        return None
    return _(
        "Capacité dépassée le %(day)s : %(kitchen)s produirait %(production)s repas pour une capacité de "
        "%(capacity)s (%(over)s de trop). Au-delà de sa capacité, le coût d'un repas dédié n'est plus "
        "un coût marginal."
    ) % {
        "day": f"{day:%d/%m/%Y}",
        "kitchen": kitchen.name,
        "production": kitchen.usual_daily_production + dedicated + adding,
        "capacity": kitchen.daily_capacity,
        "over": -left,
    }


@dataclass
class KitchenCapacity:
    """A kitchen's capacity over a period: its least headroom and the days above capacity."""

    kitchen: Kitchen
    production_days: int
    most_dedicated: int
    least_headroom: int
    days_over: list[datetime.date]

    @property
    def marginal(self) -> bool:
        """Whether its dedicated meals were all cooked within capacity (their cost marginal)."""
        return not self.days_over

    def as_dict(self) -> dict[str, Any]:
        return {
            "kitchen": self.kitchen.pk,
            "kitchen_name": self.kitchen.name,
            "daily_capacity": self.kitchen.daily_capacity,
            "usual_daily_production": self.kitchen.usual_daily_production,
            "production_days": self.production_days,
            "most_dedicated": self.most_dedicated,
            "least_headroom": self.least_headroom,
            "days_over": len(self.days_over),
            "first_day_over": self.days_over[0].isoformat() if self.days_over else None,
            "marginal": self.marginal,
            "marginal_text": _("marginal (dans la capacité)")
            if self.marginal
            else _("n'est plus marginal : %(days)s jour(s) au-delà de la capacité")
            % {"days": len(self.days_over)},
        }


def kitchen_capacities(
    *, territory_ids: list[int], start: datetime.date, end: datetime.date
) -> list[KitchenCapacity]:
    """Each kitchen of the territories over the period, from the days it produced dedicated meals
    (a day without any keeps its usual headroom, capacity − usual production)."""
    kitchens = list(Kitchen.objects.all_territories().filter(territory_id__in=territory_ids).order_by("name"))
    produced = dedicated_meals_by_day(kitchen_ids=[kitchen.pk for kitchen in kitchens], start=start, end=end)
    by_kitchen: dict[int, dict[datetime.date, int]] = defaultdict(dict)
    for (kitchen_id, day), meals in produced.items():
        by_kitchen[kitchen_id][day] = meals
    result = []
    for kitchen in kitchens:
        days = by_kitchen.get(kitchen.pk, {})
        most = max(days.values(), default=0)
        result.append(
            KitchenCapacity(
                kitchen=kitchen,
                production_days=len(days),
                most_dedicated=most,
                least_headroom=headroom(kitchen, most),
                days_over=sorted(day for day, meals in days.items() if headroom(kitchen, meals) < 0),
            )
        )
    return result
