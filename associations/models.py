from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from territories.models import TerritoryOwned
from territories.roles import Role
from territories.validators import validate_rna, validate_siret

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from territories.models import Membership


class Association(TerritoryOwned):
    """A food-aid association, with its habilitation to receive food donations."""

    class Habilitation(models.TextChoices):
        NONE = "none", _("Aucune")
        REGIONAL = "regional", _("Régionale")
        NATIONAL = "national", _("Nationale")

    name = models.CharField(_("nom"), max_length=200)
    rna = models.CharField(_("numéro RNA"), max_length=10, blank=True, validators=[validate_rna])
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    habilitation = models.CharField(
        _("habilitation aide alimentaire"), max_length=20, choices=Habilitation.choices, default="none"
    )
    habilitation_number = models.CharField(_("numéro d'habilitation"), max_length=50, blank=True)
    habilitation_expires_on = models.DateField(_("fin de l'habilitation"), null=True, blank=True)

    class Meta:
        verbose_name = _("association")
        verbose_name_plural = _("associations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id:
            return Q(pk=membership.association_id)
        return cls.territory_coordinator_rule(membership)

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if not (self.rna or self.siret):
            errors["rna"] = _("Indiquez le numéro RNA ou le SIRET de l'association.")
        if self.habilitation != self.Habilitation.NONE:
            if not self.habilitation_number:
                errors["habilitation_number"] = _("Indiquez le numéro de l'habilitation.")
            if not self.habilitation_expires_on:
                errors["habilitation_expires_on"] = _("Indiquez la date de fin de l'habilitation.")
        if errors:
            raise ValidationError(errors)


class Weekday(models.TextChoices):
    MONDAY = "mon", _("lundi")
    TUESDAY = "tue", _("mardi")
    WEDNESDAY = "wed", _("mercredi")
    THURSDAY = "thu", _("jeudi")
    FRIDAY = "fri", _("vendredi")
    SATURDAY = "sat", _("samedi")
    SUNDAY = "sun", _("dimanche")


class DistributionSite(TerritoryOwned):
    """A place where an association hands out meals; its territory is its association's."""

    association = models.ForeignKey(
        Association, on_delete=models.PROTECT, related_name="sites", verbose_name=_("association")
    )
    name = models.CharField(_("nom"), max_length=200)
    address = models.TextField(_("adresse"))
    has_cold_storage = models.BooleanField(_("stockage réfrigéré"), default=False)
    cold_storage_litres = models.PositiveIntegerField(_("volume réfrigéré (litres)"), null=True, blank=True)
    opening_days = models.JSONField(
        _("jours d'ouverture"), default=list, blank=True, help_text=_("Codes des jours : mon, tue, ... sun.")
    )

    class Meta:
        verbose_name = _("lieu de distribution")
        verbose_name_plural = _("lieux de distribution")
        ordering = ["association__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.association})"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id:
            return Q(association_id=membership.association_id)
        return cls.territory_coordinator_rule(membership)

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.association_id:
            self.territory_id = self.association.territory_id
        if self.has_cold_storage and not self.cold_storage_litres:
            errors["cold_storage_litres"] = _("Indiquez le volume du stockage réfrigéré.")
        if not self.has_cold_storage and self.cold_storage_litres:
            errors["cold_storage_litres"] = _("Pas de volume réfrigéré sans stockage réfrigéré.")
        days = self.opening_days
        if not isinstance(days, list) or any(day not in Weekday.values for day in days):
            errors["opening_days"] = _("Jours attendus parmi : %(days)s.") % {
                "days": ", ".join(Weekday.values)
            }
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        self.territory_id = self.association.territory_id
        super().save(*args, **kwargs)


def convention_upload_to(instance: Partnership, filename: str) -> str:
    return f"conventions/{instance.territory_id}/{filename}"


def validate_convention_size(file) -> None:
    if file.size > settings.CONVENTION_MAX_BYTES:
        raise ValidationError(
            _("Le fichier dépasse %(mb)s Mo.") % {"mb": settings.CONVENTION_MAX_BYTES // (1024 * 1024)}
        )


def validate_pdf_signature(file) -> None:
    head = file.read(5)
    file.seek(0)
    if head != b"%PDF-":
        raise ValidationError(_("La convention doit être un fichier PDF."))


class Partnership(TerritoryOwned):
    """A convention between one kitchen and one association of the same territory."""

    class Mode(models.TextChoices):
        DEDICATED = "dedicated", _("Repas dédiés")
        SURPLUS = "surplus", _("Dons d'excédents")
        BOTH = "both", _("Repas dédiés et dons d'excédents")

    class Status(models.TextChoices):
        DRAFT = "draft", _("En préparation")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspendue")
        ENDED = "ended", _("Terminée")

    kitchen = models.ForeignKey(
        "kitchens.Kitchen", on_delete=models.PROTECT, related_name="partnerships", verbose_name=_("cuisine")
    )
    association = models.ForeignKey(
        Association, on_delete=models.PROTECT, related_name="partnerships", verbose_name=_("association")
    )
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    planned_meals_per_week = models.PositiveIntegerField(_("repas prévus par semaine"))
    convention_document = models.FileField(
        _("convention signée (PDF)"),
        upload_to=convention_upload_to,
        blank=True,
        validators=[FileExtensionValidator(["pdf"]), validate_convention_size, validate_pdf_signature],
    )
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices, default=Status.DRAFT)

    class Meta:
        verbose_name = _("partenariat")
        verbose_name_plural = _("partenariats")
        ordering = ["-starts_on", "kitchen__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="partnership_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kitchen} → {self.association}"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return cls.territory_coordinator_rule(membership)

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("La fin de la convention précède son début.")
        if self.kitchen_id:
            self.territory_id = self.kitchen.territory_id
            if self.association_id and self.association.territory_id != self.kitchen.territory_id:
                errors["association"] = _("L'association et la cuisine doivent être du même territoire.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        self.territory_id = self.kitchen.territory_id
        super().save(*args, **kwargs)
