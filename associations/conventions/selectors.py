"""Reads about conventions shared by the rule on batches, the pages, the API and the duties."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, IntegerField, JSONField, OuterRef, QuerySet, Subquery

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


def conventions_watched(
    partnerships: QuerySet, today: datetime.date, days: int = ENDING_SOON_DAYS
) -> tuple[list[tuple[Partnership, ConventionVersion, list[Party]]], list[Partnership]]:
    """What the authority watches of the partnerships given (already scoped): those whose
    current version lacks a signature (not of ended partnerships), by kitchen, association and
    id; and the active ones whose end falls within ``days`` days from today (both days
    included), by end date and id.

    Read on every request of the dashboard, so in one small query when every convention is
    signed and none ends soon: each partnership's status, end and current version (the highest
    number) with its parties and its count of signatures, which is its count of parties once
    every party has signed (one signature per party, and only by a party of the version:
    ``convention_sign``). The partnerships with their kitchen and association, the versions
    short of signatures and their signatures are read only when some are listed."""
    from associations.models import Partnership

    current = ConventionVersion.objects.filter(partnership=OuterRef("pk")).order_by("-number")
    signed = (
        ConventionSignature.objects.filter(version_id=OuterRef("version_id"))
        .order_by()
        .values("version_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    rows = (
        partnerships.exclude(status=Partnership.Status.ENDED)
        .annotate(
            version_id=Subquery(current.values("pk")[:1]),
            version_parties=Subquery(current.values("parties")[:1], output_field=JSONField()),
        )
        .annotate(signed=Subquery(signed, output_field=IntegerField()))
        .order_by()
        .values_list("pk", "status", "ends_on", "version_id", "version_parties", "signed")
    )
    last_day = today + datetime.timedelta(days=days)
    short: dict[int, list[str]] = {}
    ending: set[int] = set()
    for pk, status, ends_on, version_id, parties, signed_count in rows:
        if version_id is not None and (signed_count or 0) < len(parties):
            short[version_id] = parties
        if status == Partnership.Status.ACTIVE and ends_on is not None and today <= ends_on <= last_day:
            ending.add(pk)
    if not short and not ending:
        return [], []
    waiting: list[tuple[Partnership, ConventionVersion, list[Party]]] = []
    if short:
        signatures: dict[int, set[str]] = {}
        for version_id, party in ConventionSignature.objects.filter(version_id__in=list(short)).values_list(
            "version_id", "party"
        ):
            signatures.setdefault(version_id, set()).add(party)
        versions = ConventionVersion.objects.filter(pk__in=list(short)).select_related(
            "partnership__kitchen", "partnership__association"
        )
        waiting = [
            (
                version.partnership,
                version,
                [Party(party) for party in short[version.pk] if party not in signatures.get(version.pk, ())],
            )
            for version in versions
        ]
        waiting.sort(key=lambda item: (item[0].kitchen.name, item[0].association.name, item[0].pk))
    ending_soon: list[Partnership] = []
    if ending:
        ending_soon = list(
            Partnership.objects.all_territories()
            .filter(pk__in=ending)
            .select_related("kitchen", "association")
            .order_by("ends_on", "pk")
        )
    return waiting, ending_soon
