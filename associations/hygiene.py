"""The food-hygiene training of associations' referents, and who is due for one.

Food handlers are "supervised and instructed and/or trained in food hygiene matters
commensurate with their work activity" (Regulation (EC) 852/2004, annex II, chapter XII). The
regulation sets no renewal period; the platform holds a training valid for three years, the
refresher period the food-aid networks' good-practice guide (GBPH « aide alimentaire »,
approved by the Ministry of Agriculture) recommends. A training dated exactly three years
before the day still counts; one day earlier does not.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from .models import Association, DistributionSite

VALIDITY_YEARS = 3


def training_cutoff(on: datetime.date) -> datetime.date:
    """The earliest training date still valid on ``on``: the same day three years earlier
    (28 February for a 29 February)."""
    try:
        return on.replace(year=on.year - VALIDITY_YEARS)
    except ValueError:
        return on.replace(year=on.year - VALIDITY_YEARS, day=28)


def trained_on(on: datetime.date) -> Q:
    """Associations whose referents hold a valid training on ``on``."""
    return Q(hygiene_training_on__gte=training_cutoff(on), hygiene_training_on__lte=on)


def associations_without_training(
    associations: QuerySet[Association], on: datetime.date
) -> QuerySet[Association]:
    """The associations (of a queryset already scoped) with no valid training on ``on``."""
    return associations.exclude(trained_on(on)).order_by("name")


def trained_sites_by(*, territory_ids: list[int] | None, on: datetime.date) -> dict[int, tuple[int, int]]:
    """Per territory: (sites run by an association with a trained referent, sites). One query.

    Callers check the reader's scope on the territories first."""
    sites = DistributionSite.objects.all_territories()
    if territory_ids is not None:
        sites = sites.filter(territory_id__in=territory_ids)
    association_trained = Q(
        association__hygiene_training_on__gte=training_cutoff(on), association__hygiene_training_on__lte=on
    )
    rows: Any = (
        sites.values("territory")
        .annotate(sites=Count("pk"), trained=Count("pk", filter=association_trained))
        .order_by("territory")
    )
    return {row["territory"]: (row["trained"], row["sites"]) for row in rows}
