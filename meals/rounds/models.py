"""Pickup rounds: a partnership's weekly schedule and the slots the platform plans from it.

A ``RoundSchedule`` says on which weekdays, in which window, how many meals and to which site
an association collects a partnership's meals. ``meals.rounds.services.slots_generate`` plans
a ``RoundSlot`` for each of those days a few weeks ahead (outside the kitchen's closures and
the convention's dates); a volunteer of the association signs up for a slot or the coordinator
assigns one. Reminders and alerts are sent once per slot and threshold (their ``*_at`` fields).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from territories.models import TerritoryOwned
from territories.roles import Role

if TYPE_CHECKING:
    from territories.models import Membership

ASSOCIATION_ROLES = (Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR)


class RoundSchedule(TerritoryOwned):
    """The weekly pickup schedule of a partnership."""

    funder_visible = False

    partnership = models.OneToOneField(
        "associations.Partnership",
        on_delete=models.CASCADE,
        related_name="round_schedule",
        verbose_name=_("partenariat"),
    )
    weekdays = models.JSONField(
        _("jours de collecte"), default=list, help_text=_("Codes des jours : mon, tue, ... sun.")
    )
    window_start = models.TimeField(_("collecte à partir de"))
    window_end = models.TimeField(_("collecte jusqu'à"))
    expected_meals = models.PositiveIntegerField(_("repas attendus"))
    site = models.ForeignKey(
        "associations.DistributionSite",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lieu de destination"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tournée de collecte")
        verbose_name_plural = _("tournées de collecte")
        ordering = ["partnership_id", "window_start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")), name="round_window_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"Tournée {self.partnership}"

    def weekday_labels(self) -> list[str]:
        """The schedule's days by name ("lundi", "jeudi"), in the week's order."""
        from associations.models import Weekday

        return [str(Weekday(code).label) for code in Weekday.values if code in (self.weekdays or [])]

    def clean(self) -> None:
        from associations.models import Weekday

        errors: dict[str, Any] = {}
        if not isinstance(self.weekdays, list) or not self.weekdays:
            errors["weekdays"] = _("Choisissez au moins un jour de collecte.")
        elif any(day not in Weekday.values for day in self.weekdays) or len(set(self.weekdays)) != len(
            self.weekdays
        ):
            errors["weekdays"] = _("Jours de collecte inconnus ou en double.")
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            errors["window_end"] = _("La fin de la collecte doit suivre son début.")
        if self.expected_meals is not None and self.expected_meals < 1:
            errors["expected_meals"] = _("Indiquez au moins un repas attendu.")
        if (
            self.partnership_id
            and self.site_id
            and self.site.association_id != self.partnership.association_id
        ):
            errors["site"] = _("Ce lieu n'appartient pas à l'association du partenariat.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        self.territory_id = self.partnership.territory_id
        super().save(*args, **kwargs)

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id:
            return Q(partnership__association_id=membership.association_id)
        return cls.territory_coordinator_rule(membership)


class RoundSlot(TerritoryOwned):
    """One planned pickup of a round: a day, its window, the meals expected, who collects."""

    funder_visible = False

    class Status(models.TextChoices):
        PLANNED = "planned", _("Prévu")
        CANCELLED = "cancelled", _("Annulé")

    schedule = models.ForeignKey(
        RoundSchedule, on_delete=models.CASCADE, related_name="slots", verbose_name=_("tournée")
    )
    partnership = models.ForeignKey(
        "associations.Partnership", on_delete=models.CASCADE, related_name="+", verbose_name=_("partenariat")
    )
    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.CASCADE,
        related_name="round_slots",
        verbose_name=_("association"),
    )
    kitchen = models.ForeignKey(
        "kitchens.Kitchen", on_delete=models.CASCADE, related_name="+", verbose_name=_("cuisine")
    )
    date = models.DateField(_("jour"))
    window_start = models.TimeField(_("collecte à partir de"))
    window_end = models.TimeField(_("collecte jusqu'à"))
    expected_meals = models.PositiveIntegerField(_("repas attendus"))
    site = models.ForeignKey(
        "associations.DistributionSite",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lieu de destination"),
    )
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    cancel_reason = models.CharField(_("motif de l'annulation"), max_length=300, blank=True)
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="round_slots",
        verbose_name=_("bénévole"),
    )
    batch = models.ForeignKey(
        "meals.Batch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lot du jour"),
    )
    reminded_at = models.DateTimeField(_("rappel envoyé le"), null=True, blank=True)
    alerted_48h_at = models.DateTimeField(_("alerte à 48 h envoyée le"), null=True, blank=True)
    alerted_24h_at = models.DateTimeField(_("alerte à 24 h envoyée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("créneau de collecte")
        verbose_name_plural = _("créneaux de collecte")
        ordering = ["date", "window_start", "pk"]
        constraints = [models.UniqueConstraint(fields=["schedule", "date"], name="round_slot_one_per_day")]
        indexes = [models.Index(fields=["association", "date"]), models.Index(fields=["territory", "date"])]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.window_start:%H:%M}-{self.window_end:%H:%M} — {self.association}"

    @classmethod
    def view_rule(cls, membership: Membership) -> Q | None:
        """The association's members, the kitchen's managers, the authority and evaluators."""
        if membership.role in ASSOCIATION_ROLES:
            return Q(association_id=membership.association_id) if membership.association_id else None
        if membership.role == Role.KITCHEN_MANAGER:
            return Q(kitchen_id=membership.kitchen_id) if membership.kitchen_id else None
        return super().view_rule(membership)

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        """Volunteers sign up and withdraw; the coordinator also assigns (``meals.rounds.services``)."""
        if membership.role in ASSOCIATION_ROLES and membership.association_id:
            return Q(association_id=membership.association_id)
        return None
