"""Reads about conventions shared by the rule on batches, the pages, the API and the duties."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Max, QuerySet

from .models import ConventionVersion, Party

if TYPE_CHECKING:
    from associations.models import Partnership

# The authority is told of conventions ending within this many days.
ENDING_SOON_DAYS = 60


def current_version(partnership: Partnership) -> ConventionVersion | None:
    """The highest-numbered version: the one in force once signed by every party."""
    return partnership.versions.order_by("-number").first()


def missing_parties(version: ConventionVersion) -> list[Party]:
    signed = set(version.signatures.values_list("party", flat=True))
    return [Party(party) for party in version.parties if party not in signed]


def convention_missing_signatures(partnership: Partnership) -> list[Party] | None:
    """The parties still to sign the current version; ``None`` when no convention was drawn up."""
    version = current_version(partnership)
    if version is None:
        return None
    return missing_parties(version)


def convention_in_force(partnership: Partnership, on: datetime.date) -> bool:
    """Whether a batch produced on ``on`` may be declared under this partnership: an active
    partnership, the day within its duration (not expired), and its current version signed by
    every party."""
    from associations.models import Partnership

    if partnership.status != Partnership.Status.ACTIVE:
        return False
    if on < partnership.starts_on or (partnership.ends_on is not None and on > partnership.ends_on):
        return False
    return convention_missing_signatures(partnership) == []


def awaiting_signature(partnerships: QuerySet) -> list[tuple[Partnership, ConventionVersion, list[Party]]]:
    """The partnerships (already scoped) whose current version lacks a signature."""
    latest = {
        row["partnership"]: row["number"]
        for row in ConventionVersion.objects.filter(partnership__in=partnerships)
        .values("partnership")
        .annotate(number=Max("number"))
    }
    versions = (
        ConventionVersion.objects.filter(partnership__in=partnerships)
        .select_related("partnership__kitchen", "partnership__association")
        .prefetch_related("signatures")
    )
    waiting = []
    for version in versions:
        if latest.get(version.partnership_id) != version.number:
            continue
        if version.partnership.status == version.partnership.Status.ENDED:
            continue
        signed = {signature.party for signature in version.signatures.all()}
        missing = [Party(party) for party in version.parties if party not in signed]
        if missing:
            waiting.append((version.partnership, version, missing))
    waiting.sort(key=lambda item: (item[0].kitchen.name, item[0].association.name, item[0].pk))
    return waiting


def ending_soon(partnerships: QuerySet, today: datetime.date, days: int = ENDING_SOON_DAYS) -> QuerySet:
    """Active partnerships (already scoped) whose end falls within ``days`` days from today."""
    from associations.models import Partnership

    return (
        partnerships.filter(
            status=Partnership.Status.ACTIVE,
            ends_on__gte=today,
            ends_on__lte=today + datetime.timedelta(days=days),
        )
        .select_related("kitchen", "association")
        .order_by("ends_on", "pk")
    )
