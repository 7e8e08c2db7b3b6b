"""The offers' and rounds' indicators (question "Logistique et sécurité sanitaire"), defined once
here and added to every indicator set (``evaluation.indicators.live_parts``), so the dashboard,
the reports, the exports and the API read them like the others (docs/indicators.md).

- ``offers_made``: offers made by the kitchens in the period (by the day they were made, Paris).
- ``offers_accepted``: those of them an association accepted.
- ``offer_acceptance_median_minutes``: the median, over the accepted ones, of the minutes from the
  offer to its acceptance.
- ``offers_expired_meals``: the meals of the offers nobody accepted by their deadline: offered,
  not taken (lost, with that reason).
- ``round_slots_covered_share``: of the planned round slots of the period up to today, the share
  with a volunteer.
- ``round_slots_uncovered_24h``: slots that still had nobody 24 hours before their window (their
  authority alert went out).
- ``round_pickups_late``: slots whose batch was picked up after the end of the slot's window.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy

from meals import food_safety
from meals.models import Offer, Pickup, RoundSlot

from .indicators import (
    HUNDRED,
    MEALS,
    TENTH,
    Indicator,
    Key,
    Question,
    Spec,
    columns_of,
    fetch,
    in_territories,
    keys_of,
    ratio,
)

OFFERS = gettext_lazy("offres")
SLOTS = gettext_lazy("créneaux")

SPECS: list[Spec] = [
    Spec(
        "offers_made",
        Question.LOGISTICS,
        gettext_lazy("Offres d'excédents faites"),
        OFFERS,
        gettext_lazy("Nombre d'offres d'excédents faites par les cuisines sur la période (jour de l'offre)."),
    ),
    Spec(
        "offers_accepted",
        Question.LOGISTICS,
        gettext_lazy("Offres acceptées"),
        OFFERS,
        gettext_lazy(
            "Nombre de ces offres qu'une association a acceptées (la première qui accepte reçoit le lot)."
        ),
    ),
    Spec(
        "offer_acceptance_median_minutes",
        Question.LOGISTICS,
        gettext_lazy("Délai médian d'acceptation"),
        gettext_lazy("minutes"),
        gettext_lazy(
            "Médiane, sur les offres acceptées, des minutes écoulées entre l'offre et son acceptation."
        ),
    ),
    Spec(
        "offers_expired_meals",
        Question.LOGISTICS,
        gettext_lazy("Repas offerts, non pris"),
        MEALS,
        gettext_lazy(
            "Σ des repas des offres de la période que personne n'a acceptées avant leur délai de réponse : "
            "des repas perdus, avec ce motif."
        ),
    ),
    Spec(
        "round_slots_covered_share",
        Question.LOGISTICS,
        gettext_lazy("Créneaux de tournée couverts"),
        "%",
        gettext_lazy(
            "Créneaux de tournée prévus de la période (jusqu'à aujourd'hui) ayant un bénévole, "
            "pour 100 créneaux prévus."
        ),
    ),
    Spec(
        "round_slots_uncovered_24h",
        Question.LOGISTICS,
        gettext_lazy("Créneaux sans bénévole à 24 h"),
        SLOTS,
        gettext_lazy(
            "Créneaux prévus de la période qui n'avaient toujours personne 24 heures avant leur début "
            "(la collectivité a été alertée)."
        ),
    ),
    Spec(
        "round_pickups_late",
        Question.LOGISTICS,
        gettext_lazy("Collectes de tournée en retard"),
        gettext_lazy("collectes"),
        gettext_lazy(
            "Créneaux de la période dont le lot a été collecté après la fin de leur fenêtre de "
            "collecte (heure de Paris)."
        ),
    ),
]
SPEC = {spec.code: spec for spec in SPECS}


def local_range(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = food_safety.TERRITORY_TZ
    return (
        datetime.datetime.combine(start, datetime.time.min, tz),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tz),
    )


def offers_rounds_by(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, split: bool
) -> dict[Key, list[Indicator]]:
    """The offers' and rounds' indicators per territory (``split``) or for all together; two
    queries (three when a slot has its batch), whatever the number of records. Plain SQL, like
    the other parts read on every request (``evaluation.indicators.live_parts``)."""
    since, until = local_range(start, end)
    adapt = connection.ops.adapt_datetimefield_value
    table, column = columns_of(Offer)
    territories, params = in_territories(column["territory"], territory_ids)
    offer_rows = fetch(
        f"SELECT {column['territory']}, {column['status']}, {column['meals_count']}, "  # noqa: S608
        f"{column['created_at']}, {column['accepted_at']} FROM {table} "
        f"WHERE {territories} AND {column['created_at']} >= %s AND {column['created_at']} < %s",
        [*params, adapt(since), adapt(until)],
    )
    tallies: dict[Key, dict[str, Any]] = defaultdict(
        lambda: {
            "made": 0,
            "accepted": 0,
            "minutes": [],
            "expired": 0,
            "slots": 0,
            "covered": 0,
            "alerted": 0,
            "late": 0,
        }
    )
    for territory_id, status, meals, created_at, accepted_at in offer_rows:
        tally = tallies[territory_id if split else None]
        tally["made"] += 1
        if status == Offer.Status.ACCEPTED and accepted_at is not None:
            tally["accepted"] += 1
            tally["minutes"].append(Decimal((accepted_at - created_at).total_seconds()) / 60)
        elif status == Offer.Status.EXPIRED:
            tally["expired"] += meals
    table, column = columns_of(RoundSlot)
    territories, params = in_territories(column["territory"], territory_ids)
    slot_rows = fetch(
        f"SELECT {column['territory']}, {column['volunteer']}, {column['alerted_24h_at']}, "  # noqa: S608
        f"{column['date']}, {column['window_end']}, {column['batch']} FROM {table} "
        f"WHERE {territories} AND {column['status']} = %s "
        f"AND {column['date']} >= %s AND {column['date']} <= %s",
        [*params, RoundSlot.Status.PLANNED.value, start, min(end, food_safety.today())],
    )
    picked = dict(
        Pickup.objects.filter(batch_id__in=[row[5] for row in slot_rows if row[5]]).values_list(
            "batch_id", "picked_up_at"
        )
    )
    for territory_id, volunteer_id, alerted, day, window_end, batch_id in slot_rows:
        tally = tallies[territory_id if split else None]
        tally["slots"] += 1
        tally["covered"] += volunteer_id is not None
        tally["alerted"] += alerted is not None
        moment = picked.get(batch_id)
        closes = datetime.datetime.combine(day, window_end, food_safety.TERRITORY_TZ)
        tally["late"] += moment is not None and moment > closes
    return {key: indicators_of(tallies[key]) for key in keys_of(territory_ids, split)}


def indicators_of(tally: dict[str, Any]) -> list[Indicator]:
    minutes = tally["minutes"]
    median = Decimal(statistics.median(minutes)).quantize(TENTH) if minutes else None
    return [
        SPEC["offers_made"].indicator(tally["made"]),
        SPEC["offers_accepted"].indicator(tally["accepted"]),
        SPEC["offer_acceptance_median_minutes"].indicator(
            median, [] if minutes else [str(gettext_lazy("aucune offre acceptée sur la période"))]
        ),
        SPEC["offers_expired_meals"].indicator(tally["expired"]),
        ratio(
            SPEC["round_slots_covered_share"],
            tally["covered"],
            tally["slots"],
            denominator_label=SLOTS,
            scale=HUNDRED,
            step=TENTH,
        ),
        SPEC["round_slots_uncovered_24h"].indicator(tally["alerted"]),
        SPEC["round_pickups_late"].indicator(tally["late"]),
    ]
