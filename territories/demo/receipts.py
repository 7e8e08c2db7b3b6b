"""The donation receipts a company-run kitchen's association has issued when the demo starts:
one for the previous whole quarter, then one per whole month since (with the clock on 6 December
2026: the third quarter, October and November 2026). Each is issued by the association's demo
coordinator through ``associations.receipts.services.receipt_issue``, so it is numbered in its
association's sequence, valued at the kitchen's cost price of each month (art. 238 bis CGI) and
its PDF exists. A period without cost inputs or without surplus meals is left out (the service
would refuse it), and a period a receipt already covers is kept as it is: a second run issues
nothing."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import TYPE_CHECKING

from associations.models import DonationReceipt, Partnership
from associations.receipts.services import period_bounds, receipt_issue, receipt_valuation
from kitchens.models import Kitchen
from territories.models import Membership, Territory
from territories.roles import Role

from .costs import add_months
from .reports import previous_quarter

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def receipt_periods(today: datetime.date) -> list[tuple[str, int, int]]:
    """The previous whole quarter, then each whole month after it that has ended before ``today``:
    (period, year, index) as ``receipt_issue`` takes them."""
    start, end = previous_quarter(today)
    periods = [(DonationReceipt.Period.QUARTER.value, start.year, (start.month - 1) // 3 + 1)]
    month = end + datetime.timedelta(days=1)
    while add_months(month, 1) <= today:
        periods.append((DonationReceipt.Period.MONTH.value, month.year, month.month))
        month = add_months(month, 1)
    return periods


def coordinator_of(association_id: int) -> User | None:
    membership = (
        Membership.objects.filter(role=Role.ASSOCIATION_COORDINATOR, association_id=association_id)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return membership.user if membership else None


def seed_receipts(
    *, territories: dict[str, Territory], today: datetime.date, counts: Counter[str]
) -> list[DonationReceipt]:
    """Issues the missing receipts of every surplus partnership of a company-run kitchen whose
    association has a demo coordinator; returns the receipts issued now."""
    issued: list[DonationReceipt] = []
    periods = receipt_periods(today)
    for territory in territories.values():
        kitchens = Kitchen.objects.filter(territory=territory).order_by("pk")
        companies = [kitchen for kitchen in kitchens if kitchen.is_company]
        donations = Partnership.objects.filter(
            kitchen__in=companies, mode=Partnership.Mode.SURPLUS
        ).select_related("kitchen", "association")
        for partnership in donations.order_by("pk"):
            coordinator = coordinator_of(partnership.association_id)
            if coordinator is None:
                continue
            for period, year, index in periods:
                start, end = period_bounds(period, year, index)
                covered = DonationReceipt.objects.filter(
                    association=partnership.association,
                    kitchen=partnership.kitchen,
                    status=DonationReceipt.Status.ISSUED,
                    period_start__lte=end,
                    period_end__gte=start,
                ).exists()
                if covered:
                    continue
                valuation = receipt_valuation(
                    association=partnership.association, kitchen=partnership.kitchen, start=start, end=end
                )
                if valuation["missing"] or not valuation["meals"]:
                    continue
                issued.append(
                    receipt_issue(
                        association=partnership.association,
                        kitchen=partnership.kitchen,
                        period=period,
                        year=year,
                        index=index,
                        by=coordinator,
                    )
                )
                counts[DonationReceipt._meta.label] += 1
    return issued
