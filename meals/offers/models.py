"""A surplus offered to every association that may take it: the first to accept gets the batch.

A kitchen manager describes a surplus batch once (the same fields as a batch's declaration)
and offers it to the associations of the territory that hold an active, signed donation
convention with the kitchen, within the kitchen's radius when it sets one
(``meals.offers.services.offer_recipients``). Each recipient association is a row of
``OfferRecipient`` (who was told, who declined and why). The first acceptance turns the offer
into a batch on the winner's convention (``Batch``, then the usual flow); an offer nobody takes
by its deadline expires and counts as "offered, not taken" (``meals.offers.figures``).
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

ASSOCIATION_ROLES = (Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR)


class Offer(TerritoryOwned):
    """A surplus batch offered by a kitchen to the associations of its donation conventions."""

    funder_visible = False

    class Status(models.TextChoices):
        OPEN = "open", _("Ouverte")
        ACCEPTED = "accepted", _("Acceptée")
        EXPIRED = "expired", _("Expirée sans preneur")

    kitchen = models.ForeignKey(
        "kitchens.Kitchen", on_delete=models.PROTECT, related_name="offers", verbose_name=_("cuisine")
    )
    # What the batch will be (its declaration's fields, checked by the same rules).
    production_date = models.DateField(_("date de production"))
    service = models.CharField(_("service"), max_length=10, default="lunch")
    meals_count = models.PositiveIntegerField(_("nombre de repas"))
    components = models.JSONField(_("composantes"), default=list, blank=True)
    liaison = models.CharField(_("liaison"), max_length=10)
    lot_number = models.CharField(_("numéro de lot"), max_length=50)
    use_by_date = models.DateField(_("date limite de consommation"))
    dispatch_temperature_c = models.DecimalField(
        _("température au départ (°C)"), max_digits=4, decimal_places=1
    )
    allergens = models.JSONField(_("allergènes"), default=list, blank=True)
    no_regulated_allergens = models.BooleanField(_("aucun des 14 allergènes réglementaires"), default=False)
    dishes = models.TextField(_("plats (menu du lot)"), blank=True)
    portion_type = models.CharField(_("type de portion"), max_length=10, blank=True)
    portion_grams = models.PositiveIntegerField(_("poids d'une portion (g)"), null=True, blank=True)
    reheating_instructions = models.TextField(_("consignes de remise en température"), blank=True)
    respond_by = models.DateTimeField(_("réponse attendue avant"))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposée par")
    )
    created_at = models.DateTimeField(_("proposée le"), auto_now_add=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("acceptée par"),
    )
    accepted_association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="offers_won",
        null=True,
        blank=True,
        verbose_name=_("association preneuse"),
    )
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    batch = models.OneToOneField(
        "meals.Batch",
        on_delete=models.PROTECT,
        related_name="offer",
        null=True,
        blank=True,
        verbose_name=_("lot créé"),
    )
    expired_at = models.DateTimeField(_("expirée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("offre d'excédents")
        verbose_name_plural = _("offres d'excédents")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "respond_by"]),
            models.Index(fields=["territory", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(meals_count__gt=0), name="offer_has_meals"),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(accepted_association__isnull=False),
                name="offer_accepted_has_association",
            ),
        ]

    def __str__(self) -> str:
        return f"Offre {self.lot_number} — {self.meals_count} repas"

    @property
    def allergen_labels(self) -> list[str]:
        from meals.models import Allergen

        labels = dict(Allergen.choices)
        return [str(labels.get(code, code)) for code in self.allergens]

    @property
    def badge(self) -> str:
        """The status badge's style, shared with the batches' (ready, done, lost)."""
        return {"open": "ready", "accepted": "distributed"}.get(self.status, "discarded")

    @classmethod
    def view_rule(cls, membership: Membership) -> Q | None:
        """The kitchen's managers, the associations it was offered to, the territory's
        authority and the evaluators see an offer; the other members of the territory do not."""
        if membership.role == Role.KITCHEN_MANAGER:
            return Q(kitchen_id=membership.kitchen_id) if membership.kitchen_id else None
        if membership.role in ASSOCIATION_ROLES:
            if not membership.association_id:
                return None
            return Q(
                pk__in=OfferRecipient.objects.filter(association_id=membership.association_id).values(
                    "offer_id"
                )
            )
        return super().view_rule(membership)

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.KITCHEN_MANAGER and membership.kitchen_id:
            return Q(kitchen_id=membership.kitchen_id)
        return None

    @classmethod
    def respond_rule(cls, membership: Membership) -> Q | None:
        """An offer is accepted or declined by a volunteer or coordinator of a recipient association."""
        if membership.role in ASSOCIATION_ROLES and membership.association_id:
            return cls.view_rule(membership)
        return None


class OfferRecipient(models.Model):
    """One association an offer went to, through which convention, and its answer if it declined."""

    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, related_name="recipients", verbose_name=_("offre")
    )
    association = models.ForeignKey(
        "associations.Association", on_delete=models.PROTECT, related_name="+", verbose_name=_("association")
    )
    partnership = models.ForeignKey(
        "associations.Partnership",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("convention de don"),
    )
    # The latest moment this association may still collect the meals (the use-by date less its
    # convention's delay, Code de l'environnement D541-310 1°).
    collect_before = models.DateTimeField(_("collecte possible jusqu'au"))
    declined_at = models.DateTimeField(_("déclinée le"), null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("déclinée par"),
    )
    decline_reason = models.TextField(_("motif du refus"), blank=True)

    class Meta:
        verbose_name = _("destinataire d'une offre")
        verbose_name_plural = _("destinataires des offres")
        ordering = ["offer", "association__name"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "association"], name="offer_recipient_unique")
        ]

    def __str__(self) -> str:
        return f"{self.offer} → {self.association}"
