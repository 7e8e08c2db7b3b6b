"""Donation receipts for the surplus meals a company-run kitchen gave to an association.

Art. 238 bis of the Code général des impôts: a company deducts from its tax 60 % of its gifts to
organisations of general interest; a gift in kind is valued at its cost price (« au coût de
revient du bien donné », art. 238 bis 1, last paragraph, loi n° 2016-1918). The receipt carries
the mentions of the official form for companies (Cerfa n° 16216). Once issued a receipt is never
changed: its figures and its PDF are frozen; a correction is a new receipt that cancels it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from territories.models import TerritoryOwned
from territories.roles import Role

if TYPE_CHECKING:
    from territories.models import Membership


class ReceiptSequence(TerritoryOwned):
    """The last receipt number an association used in a year: numbers are never reused."""

    funder_visible = False

    association = models.ForeignKey(
        "associations.Association", on_delete=models.PROTECT, related_name="+", verbose_name=_("association")
    )
    year = models.PositiveSmallIntegerField(_("année"))
    last_number = models.PositiveIntegerField(_("dernier numéro"), default=0)

    class Meta:
        verbose_name = _("séquence de reçus")
        verbose_name_plural = _("séquences de reçus")
        constraints = [
            models.UniqueConstraint(fields=["association", "year"], name="one_receipt_sequence_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.association_id} {self.year}: {self.last_number}"


def receipt_upload_to(instance: DonationReceipt, filename: str) -> str:
    return f"receipts/{instance.territory_id}/{filename}"


class DonationReceipt(TerritoryOwned):
    """A numbered receipt for the surplus meals one kitchen gave one association over a period."""

    funder_visible = False

    class Period(models.TextChoices):
        MONTH = "month", _("Mois")
        QUARTER = "quarter", _("Trimestre")
        YEAR = "year", _("Année")

    class Status(models.TextChoices):
        ISSUED = "issued", _("Émis")
        CANCELLED = "cancelled", _("Annulé")

    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="donation_receipts",
        verbose_name=_("association bénéficiaire"),
    )
    kitchen = models.ForeignKey(
        "kitchens.Kitchen",
        on_delete=models.PROTECT,
        related_name="donation_receipts",
        verbose_name=_("cuisine donatrice"),
    )
    year = models.PositiveSmallIntegerField(_("année"))
    number = models.PositiveIntegerField(_("numéro"))
    period = models.CharField(_("période"), max_length=10, choices=Period.choices)
    period_start = models.DateField(_("début de la période"))
    period_end = models.DateField(_("fin de la période"))
    meals = models.PositiveIntegerField(_("repas donnés"))
    amount = models.DecimalField(_("montant (€)"), max_digits=12, decimal_places=2)
    figures = models.JSONField(_("chiffres figés"), default=dict)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    cancels = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cancelled_by",
        verbose_name=_("annule le reçu"),
    )
    pdf = models.FileField(_("reçu (PDF)"), upload_to=receipt_upload_to, blank=True)
    issued_at = models.DateTimeField(_("émis le"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("émis par")
    )

    class Meta:
        verbose_name = _("reçu de don")
        verbose_name_plural = _("reçus de dons")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["association", "year", "number"], name="one_receipt_number"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="receipt_period"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"{self.year}-{self.number:04d}"

    @classmethod
    def view_rule(cls, membership: Membership) -> Q | None:
        """The association's coordinator and the donor kitchen's manager; nobody else."""
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id:
            return Q(association_id=membership.association_id)
        if membership.role == Role.KITCHEN_MANAGER and membership.kitchen_id:
            return Q(kitchen_id=membership.kitchen_id)
        return None

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        """Only the association's coordinator issues (and cancels by a new receipt)."""
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id:
            return Q(association_id=membership.association_id)
        return None
