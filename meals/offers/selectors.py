"""Reads of the offers shared by the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from ..models import Offer


def open_offers_for(user: Any) -> QuerySet[Offer]:
    """The open offers the user's association may still answer, the nearest deadline first."""
    return (
        Offer.objects.for_user(user, "respond")
        .filter(status=Offer.Status.OPEN, respond_by__gt=timezone.now())
        .select_related("kitchen")
        .order_by("respond_by", "pk")
    )
