"""The one definition of meals lost and of the loss rate (docs/indicators.md, "Pertes").

A meal produced for the partnership ends either distributed or lost. Lost, from the
roll-ups' columns (``costing.models.DailyRollup``):

- ``meals_discarded``: set aside at the distribution, or with a batch discarded after pickup;
- ``meals_short``: not received at pickup (the shortfall a pickup records with its reason);
- ``meals_expired``: meals of batches never collected before their use-by date;
- ``meals_recalled``: meals withdrawn by a recall before they were eaten.

Loss rate = meals lost ÷ (meals distributed + meals lost), in percent to a tenth (half up).
The dashboard, the PDF reports, the exports, the API and the cost method all read these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext

LOSS_PARTS = ("meals_discarded", "meals_short", "meals_expired", "meals_recalled")
HUNDRED = Decimal(100)
TENTH = Decimal("0.1")


def meals_lost(values: Mapping[str, Any]) -> int:
    """Σ of the four kinds of loss in ``values`` (roll-up sums; a missing key counts zero)."""
    return sum(int(values.get(name) or 0) for name in LOSS_PARTS)


def loss_terms(values: Mapping[str, Any]) -> tuple[int, int]:
    """The rate's numerator and denominator: (meals lost, meals distributed + meals lost)."""
    lost = meals_lost(values)
    return lost, int(values.get("meals_distributed") or 0) + lost


def loss_rate(values: Mapping[str, Any]) -> Decimal | None:
    """Meals lost ÷ (meals distributed + meals lost), in percent; None with no meal at all."""
    lost, whole = loss_terms(values)
    if not whole:
        return None
    return (Decimal(lost) * HUNDRED / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def loss_rate_definition() -> str:
    return gettext(
        "Taux de perte = repas perdus ÷ (repas distribués + repas perdus) ; repas perdus = écartés "
        "+ manquants à la collecte + lots non collectés avant la DLC + retirés par un rappel."
    )
