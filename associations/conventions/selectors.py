"""Reads about conventions shared by the rule on batches, the pages, the API and the duties."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, QuerySet, Subquery

from .models import ConventionSignature, ConventionVersion, Party

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
    """The partnerships (already scoped) whose current version lacks a signature.

    Read on every request of the dashboard, so in one small query when every convention is
    signed: the current versions (of partnerships not ended) as plain values, with their count
    of signatures, which is their count of parties once every party has signed (one signature
    per party, and only by a party of the version: ``convention_sign``). The signatures, and the
    versions, partnerships, kitchens and associations as model instances, are read only for the
    versions short of signatures."""
    from associations.models import Partnership

    latest = (
        ConventionVersion.objects.filter(partnership=OuterRef("partnership"))
        .order_by("-number")
        .values("number")[:1]
    )
    current = (
        ConventionVersion.objects.filter(partnership__in=partnerships, number=Subquery(latest))
        .exclude(partnership__status=Partnership.Status.ENDED)
        .annotate(signed=Count("signatures"))
        .values_list("pk", "parties", "signed")
    )
    short = {pk: parties for pk, parties, signed in current if signed < len(parties)}
    if not short:
        return []
    signed: dict[int, set[str]] = {}
    for version_id, party in ConventionSignature.objects.filter(version_id__in=list(short)).values_list(
        "version_id", "party"
    ):
        signed.setdefault(version_id, set()).add(party)
    versions = ConventionVersion.objects.filter(pk__in=list(short)).select_related(
        "partnership__kitchen", "partnership__association"
    )
    waiting = [
        (
            version.partnership,
            version,
            [Party(party) for party in short[version.pk] if party not in signed.get(version.pk, set())],
        )
        for version in versions
    ]
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
