"""The one definition of each rate of the meal flow (``docs/indicators.md``).

Every figure that reports one of these rates reads it from here, whatever it is computed over
(a period's totals, a month, a territory of the comparison): the indicators
(``evaluation.indicators``, the API and the dashboard's indicator groups), the report volumes and
the monthly tables of the dashboard and the PDF reports (``evaluation.figures``), and so their
CSV and XLSX exports, which copy the reports' tables. No template, table builder or export
computes a rate itself.

Each function takes sums of the roll-ups' columns (``costing.models.DailyRollup``) and answers
in percent to a tenth, or a ratio to a hundredth, rounded half up; None when the denominator is
zero (nothing to measure: never printed as a zero).

- loss rate: ``costing.losses.loss_rate`` (the cost method reads it too);
- collected on time = pickups on or before the use-by date ÷ (pickups + batches expired);
- temperature compliance = (pickups - pickups breaching at receipt) ÷ pickups;
- dispatch compliance = (batches - batches breaching at dispatch) ÷ batches;
- meals per visit = meals distributed ÷ people served.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from costing.losses import loss_rate, meals_lost
from costing.services import CENT, HUNDRED, TENTH, rounded

__all__ = [
    "FLOW_RATES",
    "dispatch_compliance_share",
    "flow_rates",
    "loss_rate",
    "meals_lost",
    "meals_per_person",
    "on_time_share",
    "percent",
    "temperature_compliance_share",
]


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part ÷ whole`` in percent, to a tenth (half up); None when the whole is zero."""
    if not whole:
        return None
    return rounded(Decimal(part) * HUNDRED / Decimal(whole), TENTH)


def on_time_share(*, pickups_on_time: int, pickups: int, batches_expired: int) -> Decimal | None:
    """Collected on time: pickups made on or before the batch's use-by date ÷ (pickups + batches
    still ready after their use-by date). A batch nobody collected in time counts against it, as
    a late pickup does."""
    return percent(pickups_on_time, pickups + batches_expired)


def temperature_compliance_share(*, pickups: int, receipt_breaches: int) -> Decimal | None:
    """Pickups received within the temperature limits ÷ pickups."""
    return percent(pickups - receipt_breaches, pickups)


def dispatch_compliance_share(*, batches: int, dispatch_breaches: int) -> Decimal | None:
    """Batches dispatched within the temperature limits ÷ batches."""
    return percent(batches - dispatch_breaches, batches)


def meals_per_person(*, meals_distributed: int, people_served: int) -> Decimal | None:
    """Meals distributed ÷ people served (visits), to a hundredth."""
    if not people_served:
        return None
    return rounded(Decimal(meals_distributed) / Decimal(people_served), CENT)


# The rates ``flow_rates`` gives, under the names the reports' volumes and tables use.
FLOW_RATES = ("meals_per_person", "loss_rate", "temperature_compliance", "pickups_on_time_share")


def flow_rates(values: Mapping[str, Any]) -> dict[str, Decimal | None]:
    """Every rate of ``FLOW_RATES`` from one mapping of roll-up sums (a missing sum counts zero:
    the roll-ups count what was recorded)."""

    def get(name: str) -> int:
        return int(values.get(name) or 0)

    return {
        "meals_per_person": meals_per_person(
            meals_distributed=get("meals_distributed"), people_served=get("people_served")
        ),
        "loss_rate": loss_rate(values),
        "temperature_compliance": temperature_compliance_share(
            pickups=get("pickups"), receipt_breaches=get("receipt_breaches")
        ),
        "pickups_on_time_share": on_time_share(
            pickups_on_time=get("pickups_on_time"),
            pickups=get("pickups"),
            batches_expired=get("batches_expired"),
        ),
    }
