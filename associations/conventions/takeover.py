"""Taking over partnerships recorded before the two instruments and the signed conventions.

Run once by migration ``associations.0004``; a function of its own so that a test runs it on a
scene. Two steps:

1. ``split_both_partnerships``: a partnership of the former mode "both" (dedicated meals *and*
   surplus under one record) becomes two linked records. It keeps its id, its dedicated batches
   and its planned meals as the **supply agreement**; a new **donation convention** with the same
   parties, dates, status and document takes its surplus batches (planned meals 0: planned meals
   were counted once, on the pair). The roll-ups of those partnerships are rebuilt from the
   records, so every figure stays the same, now split by instrument.
2. ``take_over_conventions``: every partnership without a version gets version 1, built from its
   dates; one already past its draft (active, suspended, ended) had its convention signed outside
   the platform, recorded as such (``ConventionSignature.Method.PRIOR``, dated its start) so its
   batches keep flowing; a draft's version awaits its signatures.
"""

from __future__ import annotations

import datetime
from typing import Any

BOTH = "both"


def split_both_partnerships(apps: Any) -> list[tuple[int, int]]:
    """Splits every "both" partnership; returns the (supply agreement, donation convention) ids."""
    Partnership = apps.get_model("associations", "Partnership")
    Batch = apps.get_model("meals", "Batch")
    pairs: list[tuple[int, int]] = []
    days: dict[int, list[datetime.date]] = {}
    for partnership in Partnership.objects.filter(mode=BOTH).order_by("pk"):
        donation = Partnership.objects.create(
            territory_id=partnership.territory_id,
            kitchen_id=partnership.kitchen_id,
            association_id=partnership.association_id,
            mode="surplus",
            starts_on=partnership.starts_on,
            ends_on=partnership.ends_on,
            planned_meals_per_week=0,
            convention_document=partnership.convention_document.name
            if partnership.convention_document
            else "",
            status=partnership.status,
            paired_with_id=partnership.pk,
        )
        Partnership.objects.filter(pk=partnership.pk).update(mode="dedicated", paired_with_id=donation.pk)
        moved = Batch.objects.filter(partnership_id=partnership.pk, kind="surplus")
        dates = list(moved.values_list("production_date", flat=True))
        moved.update(partnership_id=donation.pk)
        if dates:
            days.setdefault(partnership.territory_id, []).extend(dates)
        pairs.append((partnership.pk, donation.pk))
    for territory_id, dates in days.items():
        rebuild_rollups(apps, territory_id, min(dates))
    return pairs


def rebuild_rollups(apps: Any, territory_id: int, since: datetime.date) -> None:
    """Recomputes the territory's roll-ups from the first moved batch to the last record: pickups
    and distributions of a moved batch may fall on later days."""
    from costing.rollups import rebuild

    Batch = apps.get_model("meals", "Batch")
    Pickup = apps.get_model("meals", "Pickup")
    Distribution = apps.get_model("meals", "Distribution")
    last = [since]
    for model, field in (
        (Batch, "production_date"),
        (Pickup, "picked_up_on"),
        (Distribution, "distributed_on"),
    ):
        value = (
            model.objects.filter(territory_id=territory_id)
            .order_by(f"-{field}")
            .values_list(field, flat=True)
            .first()
        )
        if value:
            last.append(value)
    rebuild(territory_ids=[territory_id], since=since, until=max(last))


def take_over_conventions(apps: Any) -> int:
    """Version 1 for every partnership that has none; returns how many were made."""
    Partnership = apps.get_model("associations", "Partnership")
    ConventionVersion = apps.get_model("associations", "ConventionVersion")
    ConventionSignature = apps.get_model("associations", "ConventionSignature")
    made = 0
    for partnership in Partnership.objects.filter(versions__isnull=True).order_by("pk"):
        parties = ["kitchen", "association"]
        version = ConventionVersion.objects.create(
            territory_id=partnership.territory_id,
            partnership_id=partnership.pk,
            number=1,
            parties=parties,
            terms={
                "taken_over": True,
                "instrument": partnership.mode,
                "starts_on": partnership.starts_on.isoformat(),
                "ends_on": partnership.ends_on.isoformat() if partnership.ends_on else None,
                "planned_meals_per_week": partnership.planned_meals_per_week,
            },
        )
        if partnership.status != "draft":
            for party in parties:
                ConventionSignature.objects.create(
                    territory_id=partnership.territory_id,
                    version_id=version.pk,
                    party=party,
                    signed_on=partnership.starts_on,
                    method="prior",
                )
        made += 1
    return made
