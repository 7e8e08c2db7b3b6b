"""Who is reached: the people served counted by profile, by referral, and those turned away for
lack of meals, from the optional counts of each distribution (``meals.models.REACH_FIELDS``;
counts only, no personal data).

For each count over a period:

    count = Σ of the count over the distributions that recorded it
    share of the people served = count ÷ people served at the distributions that recorded it

A count is complete when every distribution of the period recorded it; otherwise the sum is a
lower bound ("au moins") and its share is read on the distributions that recorded it only
("(incomplet)"); the sites that recorded none of the counts are listed. Turned away are people
not served: their share is set beside the people served (turned away ÷ (served + turned away)).
One aggregate query, and one per site list.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from costing.services import as_json
from meals.models import REACH_FIELDS, REACH_PROFILES, REACH_REFERRALS, Distribution, reach_label

from .figures import Table, column, table

TENTH = Decimal("0.1")


def share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def group_of(name: str) -> str:
    if name in REACH_PROFILES:
        return _("Profil")
    if name in REACH_REFERRALS:
        return _("Orientation")
    return _("Non servies")


def reach_figures(*, territory_ids: list[int], start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Each count of who is reached over the period, with its completeness and its share."""
    distributions = Distribution.objects.all_territories().filter(
        territory_id__in=territory_ids, distributed_on__gte=start, distributed_on__lte=end
    )
    aggregates: dict[str, Any] = {"distributions": Count("pk"), "people": Sum("beneficiaries", default=0)}
    for name in REACH_FIELDS:
        aggregates[f"{name}__sum"] = Sum(name, default=0)
        aggregates[f"{name}__recorded"] = Count("pk", filter=Q(**{f"{name}__isnull": False}))
        aggregates[f"{name}__people"] = Sum(
            "beneficiaries", filter=Q(**{f"{name}__isnull": False}), default=0
        )
    totals = distributions.aggregate(**aggregates)
    rows = []
    for name in REACH_FIELDS:
        recorded = totals[f"{name}__recorded"]
        people = totals[f"{name}__people"]
        count = totals[f"{name}__sum"] if recorded else None
        complete = recorded == totals["distributions"] and totals["distributions"] > 0
        whole = people + (count or 0) if name == "turned_away" else people
        rows.append(
            {
                "code": name,
                "group": group_of(name),
                "label": reach_label(name),
                "count": count,
                "share_of_served": as_json(share(count, whole)) if count is not None else None,
                "distributions_recorded": recorded,
                "complete": complete,
            }
        )
    silent = (
        distributions.values("site__name")
        .annotate(recorded=Count("pk", filter=_any_recorded()))
        .filter(recorded=0)
        .order_by("site__name")
    )
    return {
        "distributions": totals["distributions"],
        "people_served": totals["people"],
        "rows": rows,
        "sites_not_recording": [row["site__name"] for row in silent],
    }


def _any_recorded() -> Q:
    condition = Q()
    for name in REACH_FIELDS:
        condition |= Q(**{f"{name}__isnull": False})
    return condition


def reach_table(result: dict[str, Any]) -> Table:
    sites = result["sites_not_recording"]
    note = _(
        "Comptes facultatifs de chaque distribution, sans donnée personnelle. Part : parmi les personnes "
        "servies aux distributions qui ont relevé ce compte (non servies : parmi les personnes venues)."
    )
    if sites:
        note += " " + _("Lieux qui n'ont relevé aucun de ces comptes : %(sites)s.") % {
            "sites": ", ".join(sites)
        }
    return table(
        "reach",
        _("Qui est accueilli (profils, orientations, non servies)"),
        [
            column("group", _("Groupe"), "text"),
            column("label", _("Compte"), "text"),
            column("count", _("Personnes"), "figure", short=True),
            column("share_of_served", _("Part"), "figure", "%", short=True),
            column("distributions_recorded", _("Distributions qui l'ont relevé"), "int"),
        ],
        result["rows"],
        note=note,
    )
