"""Issuing donation receipts (art. 238 bis CGI) for the surplus meals a company-run kitchen gave.

Valuation at cost price (art. 238 bis 1 CGI, last paragraph, from loi n° 2016-1918: a gift in
kind is valued « au coût de revient du bien donné »). For each month of the period: the surplus
meals the association received from the kitchen (meals received at pickup, batches of kind
surplus: dedicated meals are paid for under a supply agreement and never on a receipt) times
the kitchen's food cost plus packaging per meal of that month (``KitchenCostInput``). A month
with meals and without both inputs stops the receipt: no cost price, no receipt. The method is
printed on the receipt and written in docs/methodology.md.

A receipt is numbered in a sequence per association and year (``ReceiptSequence``, its row
locked while the number is taken, so two coordinators issuing at once get two numbers and a
refused issue gives back nothing: the transaction that took the number rolls back with it).
Once issued its figures and PDF never change; a correction is a new receipt that cancels it.
"""

from __future__ import annotations

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from territories.roles import Role
from territories.scoping import memberships_of

from .models import DonationReceipt, ReceiptSequence

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from associations.models import Association
    from kitchens.models import Kitchen

CENT = Decimal("0.01")
# Art. 238 bis CGI: the company's tax reduction, as a share of the gift's value.
TAX_REDUCTION_RATE = Decimal("0.60")


def period_bounds(period: str, year: int, index: int | None) -> tuple[datetime.date, datetime.date]:
    """First and last day of a month (index 1-12), a quarter (1-4) or a year."""
    if period == DonationReceipt.Period.MONTH:
        if index is None or not 1 <= index <= 12:
            raise ValidationError({"index": _("Indiquez un mois de 1 à 12.")})
        return datetime.date(year, index, 1), datetime.date(year, index, calendar.monthrange(year, index)[1])
    if period == DonationReceipt.Period.QUARTER:
        if index is None or not 1 <= index <= 4:
            raise ValidationError({"index": _("Indiquez un trimestre de 1 à 4.")})
        first = 3 * (index - 1) + 1
        return datetime.date(year, first, 1), datetime.date(
            year, first + 2, calendar.monthrange(year, first + 2)[1]
        )
    if period == DonationReceipt.Period.YEAR:
        return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    raise ValidationError({"period": _("Période inconnue (mois, trimestre ou année).")})


def months_of(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def receipt_valuation(
    *, association: Association, kitchen: Kitchen, start: datetime.date, end: datetime.date
) -> dict:
    """The surplus meals received from the kitchen in each month and their value at cost price."""
    from costing.models import KitchenCostInput
    from meals.models import Batch, Pickup

    received = (
        Pickup.objects.all_territories()
        .filter(
            association=association,
            batch__kitchen=kitchen,
            batch__kind=Batch.Kind.SURPLUS,
            picked_up_on__gte=start,
            picked_up_on__lte=end,
        )
        .values_list("picked_up_on", "meals_received")
    )
    by_month: dict[datetime.date, int] = {}
    for day, meals in received:
        by_month[day.replace(day=1)] = by_month.get(day.replace(day=1), 0) + meals
    inputs = {
        row.month: row
        for row in KitchenCostInput.objects.all_territories().filter(
            kitchen=kitchen, month__gte=start, month__lte=end
        )
    }
    lines, missing = [], []
    total_meals, total = 0, Decimal(0)
    for month in months_of(start, end):
        meals = by_month.get(month, 0)
        cost = inputs.get(month)
        food = cost.food_cost_per_meal if cost else None
        packaging = cost.packaging_per_meal if cost else None
        if meals and (food is None or packaging is None):
            missing.append(month)
            continue
        per_meal = (food or Decimal(0)) + (packaging or Decimal(0))
        value = (per_meal * meals).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(
            {
                "month": month.isoformat(),
                "meals": meals,
                "food_per_meal": str(food) if food is not None else None,
                "packaging_per_meal": str(packaging) if packaging is not None else None,
                "cost_per_meal": str(per_meal),
                "value": str(value),
            }
        )
        total_meals += meals
        total += value
    return {"lines": lines, "missing": missing, "meals": total_meals, "amount": total.quantize(CENT)}


def may_issue(user: User, association: Association) -> bool:
    """Only the association's own coordinator issues its receipts."""
    if user.is_superuser:
        return True
    return any(
        membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id == association.pk
        for membership in memberships_of(user)
    )


def next_number(association: Association, year: int) -> int:
    """The next number of the association's sequence for the year, its row locked until commit."""
    ReceiptSequence.objects.bulk_create(
        [ReceiptSequence(territory_id=association.territory_id, association=association, year=year)],
        ignore_conflicts=True,
    )
    sequence = ReceiptSequence.objects.select_for_update().get(association=association, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


@transaction.atomic
def receipt_issue(
    *,
    association: Association,
    kitchen: Kitchen,
    period: str,
    year: int,
    index: int | None = None,
    by: User,
    cancels: DonationReceipt | None = None,
) -> DonationReceipt:
    """Issues a numbered receipt, frozen with its PDF; ``cancels`` a receipt it corrects."""
    from .pdf import receipt_render

    if not may_issue(by, association):
        raise ValidationError({"association": _("Seul le coordinateur de l'association émet ses reçus.")})
    start, end = period_bounds(period, year, index)
    errors: dict[str, str] = {}
    if kitchen.territory_id != association.territory_id:
        errors["kitchen"] = _("La cuisine et l'association doivent être du même territoire.")
    elif not kitchen.is_company:
        errors["kitchen"] = _(
            "Cette cuisine n'est pas exploitée par une société : ses dons n'ouvrent pas la réduction "
            "d'impôt de l'article 238 bis du CGI."
        )
    if end >= timezone.localdate():
        errors["period"] = _("Un reçu porte sur une période terminée.")
    if errors:
        raise ValidationError(errors)
    if cancels is not None:
        cancels = DonationReceipt.objects.select_for_update().get(pk=cancels.pk)
        if cancels.association_id != association.pk or cancels.kitchen_id != kitchen.pk:
            raise ValidationError(
                {"cancels": _("Le reçu annulé doit être de la même association et cuisine.")}
            )
        if cancels.status != DonationReceipt.Status.ISSUED:
            raise ValidationError({"cancels": _("Ce reçu est déjà annulé.")})
    overlapping = DonationReceipt.objects.filter(
        association=association,
        kitchen=kitchen,
        status=DonationReceipt.Status.ISSUED,
        period_start__lte=end,
        period_end__gte=start,
    )
    if cancels is not None:
        overlapping = overlapping.exclude(pk=cancels.pk)
    if overlapping.exists():
        raise ValidationError(
            {
                "period": _(
                    "Un reçu couvre déjà tout ou partie de cette période (n° %(ref)s) : émettez un reçu "
                    "rectificatif qui l'annule."
                )
                % {"ref": overlapping.first().reference}  # type: ignore[union-attr]
            }
        )
    valuation = receipt_valuation(association=association, kitchen=kitchen, start=start, end=end)
    if valuation["missing"]:
        raise ValidationError(
            {
                "period": _(
                    "Coûts de la cuisine manquants (denrées et conditionnement par repas) pour : %(months)s."
                )
                % {"months": ", ".join(f"{month:%m/%Y}" for month in valuation["missing"])}
            }
        )
    if not valuation["meals"]:
        raise ValidationError({"period": _("Aucun repas d'excédents reçu de cette cuisine sur la période.")})
    number = next_number(association, start.year)
    figures = receipt_figures(
        association=association,
        kitchen=kitchen,
        year=start.year,
        number=number,
        start=start,
        end=end,
        valuation=valuation,
        by=by,
        cancels=cancels,
    )
    receipt = DonationReceipt(
        territory_id=association.territory_id,
        association=association,
        kitchen=kitchen,
        year=start.year,
        number=number,
        period=period,
        period_start=start,
        period_end=end,
        meals=valuation["meals"],
        amount=valuation["amount"],
        figures=figures,
        cancels=cancels,
        issued_by=by,
    )
    receipt.pdf.save(
        f"recu-{association.pk}-{receipt.reference}.pdf", ContentFile(receipt_render(figures)), save=False
    )
    receipt.save()
    if cancels is not None:
        DonationReceipt.objects.filter(pk=cancels.pk, status=DonationReceipt.Status.ISSUED).update(
            status=DonationReceipt.Status.CANCELLED
        )
    return receipt


def receipt_figures(
    *,
    association: Association,
    kitchen: Kitchen,
    year: int,
    number: int,
    start: datetime.date,
    end: datetime.date,
    valuation: dict,
    by: User,
    cancels: DonationReceipt | None,
) -> dict[str, Any]:
    """Every mention printed on the receipt, frozen (Cerfa n° 16216 for companies)."""
    issued_on = timezone.localdate()
    return {
        "reference": f"{year}-{number:04d}",
        "issued_on": issued_on.isoformat(),
        "beneficiary": {
            "name": association.name,
            "rna": association.rna,
            "siret": association.siret,
            "purpose": _("Aide alimentaire aux personnes en situation de précarité"),
            "habilitation": str(association.get_habilitation_display()),
            "habilitation_number": association.habilitation_number,
        },
        "donor": {
            "name": getattr(kitchen, "operator_name", "") or kitchen.name,
            "kitchen": kitchen.name,
            "legal_form": getattr(kitchen, "operator_legal_form", ""),
            "siret": kitchen.siret,
            "address": kitchen.address,
        },
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "nature": _("Don en nature : repas excédentaires (denrées alimentaires préparées)"),
        "form": _("Don en nature, remis à l'enlèvement par l'association"),
        "method": _(
            "Valorisation au coût de revient (art. 238 bis 1 du CGI) : pour chaque mois, repas "
            "d'excédents reçus multipliés par (coût des denrées + coût du conditionnement par "
            "repas) déclarés par la cuisine pour ce mois."
        ),
        "lines": valuation["lines"],
        "meals": valuation["meals"],
        "amount": str(valuation["amount"]),
        "tax_reduction_rate": str(TAX_REDUCTION_RATE),
        "issued_by": by.get_full_name() or by.get_username(),
        "cancels": cancels.reference if cancels else None,
    }
