from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kitchens.models import coordinate_errors
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
    # The food-hygiene training of the volunteers who refer for the association (Règlement (CE)
    # 852/2004, annex II, chapter XII: food handlers are trained in food hygiene).
    hygiene_training_on = models.DateField(
        _("formation à l'hygiène alimentaire des référents (date)"), null=True, blank=True
    )

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
    reheats = models.BooleanField(
        _("remise en température sur place"),
        default=False,
        help_text=_("Les repas en liaison froide y sont réchauffés avant d'être servis."),
    )
    opening_days = models.JSONField(
        _("jours d'ouverture"), default=list, blank=True, help_text=_("Codes des jours : mon, tue, ... sun.")
    )
    # What the site can serve at one distribution (room, queue, staff); the distribution service
    # refuses more people served than this. Empty: only the platform's general bound applies
    # (territories.bounds.PEOPLE_PER_DISTRIBUTION_MAX).
    capacity_people = models.PositiveIntegerField(
        _("capacité (personnes par distribution)"),
        null=True,
        blank=True,
        help_text=_("Nombre de personnes que le lieu peut servir lors d'une distribution."),
    )

    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)

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
        errors.update(coordinate_errors(self.latitude, self.longitude))
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
    """A legal instrument between one kitchen and one association of the same territory.

    Two instruments, never merged (``mode``):

    - a **donation convention** (``surplus``): meals produced and not served, given without
      payment to an association habilitated for food aid (Code de l'environnement L541-15-5 and
      D541-310, loi n° 2016-138 « Garot », loi n° 2018-938 « EGalim », ordonnance n° 2019-1069
      which extends the duty to offer one to caterers preparing more than 3,000 meals a day);
    - a **supply agreement** (``dedicated``): meals produced on purpose for the association,
      paid at an agreed price per meal (``price_per_meal``).

    A pair that does both holds one of each, linked by ``paired_with``. The fields below are the
    current terms; ``ConventionVersion`` freezes them into numbered versions (avenants) that the
    parties sign (``associations.conventions``).
    """

    class Mode(models.TextChoices):
        DEDICATED = "dedicated", _("Convention de fourniture de repas dédiés")
        SURPLUS = "surplus", _("Convention de don d'excédents")

    class Renewal(models.TextChoices):
        NONE = "none", _("Sans reconduction")
        TACIT = "tacit", _("Reconduction tacite")
        EXPRESS = "express", _("Reconduction expresse (avenant)")

    class Transport(models.TextChoices):
        ASSOCIATION = "association", _("L'association enlève les repas")
        KITCHEN = "kitchen", _("La cuisine livre les repas")
        THIRD_PARTY = "third_party", _("Un transporteur tiers")

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
    mode = models.CharField(_("instrument"), max_length=20, choices=Mode.choices)
    paired_with = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("instrument lié"),
        help_text=_("L'autre instrument du même binôme cuisine-association (don ou fourniture)."),
    )
    authority = models.ForeignKey(
        "territories.Authority",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partnerships",
        verbose_name=_("collectivité signataire"),
        help_text=_("La collectivité coordinatrice, quand elle signe la convention."),
    )
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    planned_meals_per_week = models.PositiveIntegerField(_("repas prévus par semaine"))
    production_days_per_week = models.PositiveSmallIntegerField(
        _("jours de production par semaine"),
        default=5,
        help_text=_(
            "Jours où la cuisine produit pour ce partenariat : ils donnent le volume quotidien habituel."
        ),
    )
    convention_document = models.FileField(
        _("convention signée (PDF)"),
        upload_to=convention_upload_to,
        blank=True,
        validators=[FileExtensionValidator(["pdf"]), validate_convention_size, validate_pdf_signature],
    )
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    # Duration and renewal.
    renewal = models.CharField(
        _("reconduction"), max_length=20, choices=Renewal.choices, default=Renewal.NONE
    )
    renewal_months = models.PositiveSmallIntegerField(_("durée d'une reconduction (mois)"), default=12)
    termination_notice_days = models.PositiveSmallIntegerField(
        _("préavis de résiliation (jours)"), default=30
    )
    # Pickup arrangements (D541-310 3°: enlèvement, stockage, transport).
    pickup_days = models.JSONField(
        _("jours d'enlèvement"), default=list, blank=True, help_text=_("Codes des jours : mon, tue, ... sun.")
    )
    pickup_window_start = models.TimeField(_("enlèvement à partir de"), null=True, blank=True)
    pickup_window_end = models.TimeField(_("enlèvement jusqu'à"), null=True, blank=True)
    transport_by = models.CharField(
        _("transport assuré par"), max_length=20, choices=Transport.choices, default=Transport.ASSOCIATION
    )
    cold_chain_terms = models.TextField(
        _("chaîne du froid"),
        blank=True,
        help_text=_(
            "Matériel et températures pendant le transport (véhicule réfrigéré, caissons isothermes)."
        ),
    )
    distribution_delay_hours = models.PositiveSmallIntegerField(
        _("délai de distribution (heures)"),
        default=48,
        help_text=_("Délai dans lequel l'association distribue les repas reçus (D541-310 1°)."),
    )
    # Supply agreement only.
    price_per_meal = models.DecimalField(
        _("prix par repas (€ HT)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    invoicing_terms = models.TextField(_("facturation"), blank=True)
    payment_days = models.PositiveSmallIntegerField(_("délai de paiement (jours)"), null=True, blank=True)

    class Meta:
        verbose_name = _("partenariat")
        verbose_name_plural = _("partenariats")
        ordering = ["-starts_on", "kitchen__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="partnership_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(production_days_per_week__gte=1, production_days_per_week__lte=7),
                name="partnership_production_days_in_week",
            ),
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
        if self.mode == self.Mode.SURPLUS and self.price_per_meal is not None:
            errors["price_per_meal"] = _("Un don d'excédents est sans paiement : pas de prix par repas.")
        days = self.pickup_days
        if not isinstance(days, list) or any(day not in Weekday.values for day in days):
            errors["pickup_days"] = _("Jours attendus parmi : %(days)s.") % {
                "days": ", ".join(Weekday.values)
            }
        if (
            self.pickup_window_start
            and self.pickup_window_end
            and self.pickup_window_end <= self.pickup_window_start
        ):
            errors["pickup_window_end"] = _("La fin du créneau d'enlèvement précède son début.")
        authority = self.authority if self.authority_id else None
        if authority is not None and self.kitchen_id and authority.territory_id != self.kitchen.territory_id:
            errors["authority"] = _("La collectivité signataire doit être du même territoire.")
        if self.paired_with_id:
            other = self.paired_with
            if other is not None and (
                other.pk == self.pk
                or other.kitchen_id != self.kitchen_id
                or other.association_id != self.association_id
                or other.mode == self.mode
            ):
                errors["paired_with"] = _(
                    "L'instrument lié est l'autre instrument (don ou fourniture) de la même cuisine "
                    "et de la même association."
                )
        if self.production_days_per_week is not None and not 1 <= self.production_days_per_week <= 7:
            errors["production_days_per_week"] = _("Entre 1 et 7 jours par semaine.")
        if self.kitchen_id:
            self.territory_id = self.kitchen.territory_id
            if self.association_id and self.association.territory_id != self.kitchen.territory_id:
                errors["association"] = _("L'association et la cuisine doivent être du même territoire.")
        if self.status == self.Status.ACTIVE and not self.was_active():
            from associations.conventions.selectors import convention_missing_signatures

            missing = convention_missing_signatures(self) if self.pk else None
            if missing is None:
                errors["status"] = _(
                    "Le partenariat ne peut devenir actif qu'une fois sa convention établie et signée "
                    "par toutes les parties."
                )
            elif missing:
                errors["status"] = _(
                    "Le partenariat ne peut devenir actif avant que toutes les parties aient signé la "
                    "version en vigueur de sa convention (manquent : %(parties)s)."
                ) % {"parties": ", ".join(str(party.label) for party in missing)}
        if errors:
            raise ValidationError(errors)

    def was_active(self) -> bool:
        """Whether the stored record is already active (the signature rule guards the transition)."""
        if not self.pk:
            return False
        stored = Partnership.objects.filter(pk=self.pk).values_list("status", flat=True).first()
        return stored == self.Status.ACTIVE

    @property
    def is_donation(self) -> bool:
        return self.mode == self.Mode.SURPLUS

    def save(self, *args, **kwargs) -> None:
        self.territory_id = self.kitchen.territory_id
        super().save(*args, **kwargs)


# Models of the concerns kept in their own modules, imported here so Django registers them.
from associations.conventions.models import ConventionSignature, ConventionVersion, Party  # noqa: E402
from associations.duties import HabilitationAlert  # noqa: E402
from associations.receipts.models import DonationReceipt, ReceiptSequence  # noqa: E402

__all__ = [
    "Association",
    "ConventionSignature",
    "ConventionVersion",
    "DistributionSite",
    "DonationReceipt",
    "HabilitationAlert",
    "Partnership",
    "Party",
    "ReceiptSequence",
    "Weekday",
]
