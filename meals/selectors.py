"""Reads of the meal flow shared by the pages: what became of each batch of a week (the flow of
the week, a kitchen's "Mes lots"), and what an association has left to distribute. Every read
starts from ``for_user``."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import Batch, Distribution, Pickup, temperature_ok


def _distributed_sums(user: Any) -> tuple[Subquery, Subquery]:
    """Meals distributed and set aside per pickup, as subqueries over the user's distributions."""
    per_pickup = Distribution.objects.for_user(user).filter(pickup=OuterRef("pk")).order_by().values("pickup")
    distributed = Subquery(
        per_pickup.annotate(total=Sum("meals_distributed")).values("total"), output_field=IntegerField()
    )
    discarded = Subquery(
        per_pickup.annotate(total=Sum("meals_discarded")).values("total"), output_field=IntegerField()
    )
    return distributed, discarded


def pickups_to_distribute(user: Any) -> QuerySet[Pickup]:
    """The user's association's pickups whose meals are not all distributed or set aside yet,
    the soonest use-by date first (then the oldest pickup). A discarded, cancelled or recalled
    batch has nothing left to hand out. Each pickup carries ``meals_done`` and ``meals_left``."""
    distributed, discarded = _distributed_sums(user)
    return (
        Pickup.objects.for_user(user, "change")
        .filter(
            batch__status__in=(Batch.Status.PICKED_UP, Batch.Status.DISTRIBUTED),
            batch__recalled_at__isnull=True,
        )
        .annotate(
            meals_distributed=Coalesce(distributed, Value(0)),
            meals_set_aside=Coalesce(discarded, Value(0)),
        )
        .annotate(meals_left=F("meals_received") - F("meals_distributed") - F("meals_set_aside"))
        .filter(meals_left__gt=0)
        .select_related("batch", "batch__kitchen", "association")
        .order_by("batch__use_by_date", "picked_up_at", "pk")
    )


# What became of each batch: one row per batch, and the totals of the rows.


@dataclass
class FlowRow:
    """One batch of the week with what became of its meals."""

    batch: Batch
    pickup: Pickup | None
    produced: int
    received: int
    distributed: int
    discarded: int
    beneficiaries: int
    dispatch_breach: bool
    receipt_breach: bool

    @classmethod
    def of(cls, batch: Batch) -> FlowRow:
        pickup: Pickup | None = getattr(batch, "pickup", None)
        distributions = list(batch.distributions.all())  # prefetched
        distributed = sum(item.meals_distributed for item in distributions)
        if batch.status == Batch.Status.DISCARDED:
            # Whatever was not handed out of a discarded batch was set aside.
            taken = pickup.meals_received if pickup else batch.meals_count
            discarded = max(taken - distributed, 0)
        else:
            discarded = sum(item.meals_discarded for item in distributions)
        return cls(
            batch=batch,
            pickup=pickup,
            produced=0 if batch.status == Batch.Status.CANCELLED else batch.meals_count,
            received=pickup.meals_received if pickup else 0,
            distributed=distributed,
            discarded=discarded,
            beneficiaries=sum(item.beneficiaries for item in distributions),
            dispatch_breach=not temperature_ok(batch.liaison, batch.dispatch_temperature_c),
            receipt_breach=bool(pickup) and not temperature_ok(batch.liaison, pickup.temperature_c),  # type: ignore[union-attr]
        )

    @property
    def breach(self) -> bool:
        return self.dispatch_breach or self.receipt_breach


@dataclass
class FlowTotals:
    """The sums of a list of ``FlowRow``: the totals of the flow of the week and of « Mes lots »."""

    batches: int = 0
    produced: int = 0
    received: int = 0
    distributed: int = 0
    discarded: int = 0
    beneficiaries: int = 0
    recalled: int = 0

    def add(self, row: FlowRow) -> None:
        self.batches += 1
        self.recalled += row.batch.recalled
        self.produced += row.produced
        self.received += row.received
        self.distributed += row.distributed
        self.discarded += row.discarded
        self.beneficiaries += row.beneficiaries


def flow_of(batches: Iterable[Batch]) -> tuple[list[FlowRow], FlowTotals]:
    """The rows of ``batches`` (their pickup and distributions loaded) and their totals."""
    rows = [FlowRow.of(batch) for batch in batches]
    totals = FlowTotals()
    for row in rows:
        totals.add(row)
    return rows, totals


def with_outcome(batches: QuerySet[Batch], user: Any) -> QuerySet[Batch]:
    """``batches`` with what a ``FlowRow`` reads: kitchen, association, pickup, and the
    distributions the user sees, in two queries whatever the number of batches."""
    return batches.select_related(
        "territory", "kitchen", "association", "pickup", "pickup__association"
    ).prefetch_related(Prefetch("distributions", queryset=Distribution.objects.for_user(user)))


def kitchen_batches(user: Any, *, start: datetime.date, end: datetime.date) -> QuerySet[Batch]:
    """The batches of the kitchens the user manages (``Batch.change_rule``) produced from
    ``start`` to ``end``, oldest first, ready for ``flow_of``."""
    batches = Batch.objects.for_user(user, "change").filter(production_date__range=(start, end))
    return with_outcome(batches, user).order_by("production_date", "service", "id")
