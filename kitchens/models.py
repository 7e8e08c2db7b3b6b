from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from territories.models import TerritoryOwned
from territories.roles import Role
from territories.validators import validate_siret

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from territories.models import Membership


def coordinate_errors(latitude: Decimal | None, longitude: Decimal | None) -> dict[str, StrOrPromise]:
    """A place's coordinates come in pairs, in degrees of WGS 84."""
    errors: dict[str, StrOrPromise] = {}
    if (latitude is None) != (longitude is None):
        errors["longitude" if longitude is None else "latitude"] = _(
            "Indiquez la latitude et la longitude, ou aucune."
        )
    if latitude is not None and not -90 <= latitude <= 90:
        errors["latitude"] = _("Une latitude est comprise entre -90 et 90 degrés.")
    if longitude is not None and not -180 <= longitude <= 180:
        errors["longitude"] = _("Une longitude est comprise entre -180 et 180 degrés.")
    return errors


class Kitchen(TerritoryOwned):
    """A central kitchen of collective catering and its production capacity."""

    class OperatorType(models.TextChoices):
        PUBLIC_REGIE = "regie", _("Régie publique")
        SYNDICATE = "syndicate", _("SIVU / syndicat")
        SPL = "spl", _("SPL")
        PRIVATE = "private", _("Prestataire privé")

    name = models.CharField(_("nom"), max_length=200)
    operator_type = models.CharField(_("mode de gestion"), max_length=20, choices=OperatorType.choices)
    daily_capacity = models.PositiveIntegerField(_("capacité journalière (repas)"))
    usual_daily_production = models.PositiveIntegerField(_("production journalière habituelle (repas)"))
    does_cold_liaison = models.BooleanField(_("liaison froide"), default=True)
    does_hot_liaison = models.BooleanField(_("liaison chaude"), default=False)
    # Arrêté du 21 décembre 2009, annexe IV point 4: the use-by date of a dish prepared in
    # advance (préparation culinaire élaborée à l'avance) is at most 3 days after the day it was
    # made, unless the kitchen's HACCP plan validates a longer shelf life (DGAL note on the
    # microbiological shelf life of foods).
    cold_shelf_life_days = models.PositiveSmallIntegerField(
        _("durée de vie validée en liaison froide (jours)"),
        default=3,
        help_text=_(
            "Jours entre la production et la date limite de consommation au plus. 3 jours selon "
            "l'arrêté du 21 décembre 2009 (annexe IV), davantage seulement si le plan de maîtrise "
            "sanitaire de la cuisine l'a validé."
        ),
    )
    address = models.TextField(_("adresse"))
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    operator_name = models.CharField(
        _("raison sociale de l'exploitant"),
        max_length=200,
        blank=True,
        help_text=_("La personne morale qui exploite la cuisine (commune, syndicat, SPL, société)."),
    )
    operator_legal_form = models.CharField(
        _("forme juridique de l'exploitant"),
        max_length=100,
        blank=True,
        help_text=_("Ex. : commune, SPL, SAS."),
    )
    # Règlement (CE) 853/2004 art. 4 and arrêté du 8 juin 2006: a kitchen that supplies other
    # establishments holds a sanitary approval (agrément sanitaire, "FR 93.066.001 CE"), unless
    # it is exempted (dérogation, arrêté du 8 juin 2006 art. 12: limited quantities, short distance).
    sanitary_approval_number = models.CharField(_("numéro d'agrément sanitaire"), max_length=40, blank=True)
    sanitary_approval_exempt = models.BooleanField(_("dispensée d'agrément sanitaire"), default=False)
    sanitary_exemption_reason = models.TextField(_("motif de la dispense d'agrément"), blank=True)
    # Where the kitchen is (WGS 84), and how far its surplus offers go: an offer reaches only the
    # associations with a distribution site within this many kilometres (meals.offers).
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    offer_radius_km = models.PositiveSmallIntegerField(
        _("rayon des offres d'excédents (km)"),
        null=True,
        blank=True,
        help_text=_(
            "Vide : les offres vont à toutes les associations ayant une convention de don signée avec la "
            "cuisine. Sinon, seulement à celles dont un lieu de distribution est dans ce rayon."
        ),
    )

    class Meta:
        verbose_name = _("cuisine centrale")
        verbose_name_plural = _("cuisines centrales")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_company(self) -> bool:
        """Whether a company runs the kitchen: only then do its gifts open the tax reduction of
        art. 238 bis CGI (a public body pays no corporate tax on this activity)."""
        return self.operator_type in (self.OperatorType.PRIVATE, self.OperatorType.SPL)

    def sanitary_approval_text(self) -> str:
        """What a traceability sheet prints: the number, the exemption and its reason, or that
        nothing was recorded."""
        if self.sanitary_approval_number:
            return self.sanitary_approval_number
        if self.sanitary_approval_exempt:
            return str(
                _("Dispensée d'agrément sanitaire : %(reason)s") % {"reason": self.sanitary_exemption_reason}
            )
        return str(_("Agrément sanitaire non renseigné"))

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.KITCHEN_MANAGER and membership.kitchen_id:
            return Q(pk=membership.kitchen_id)
        return cls.territory_coordinator_rule(membership)

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if (
            self.daily_capacity is not None
            and self.usual_daily_production is not None
            and self.usual_daily_production > self.daily_capacity
        ):
            errors["usual_daily_production"] = _("La production habituelle dépasse la capacité journalière.")
        if self.sanitary_approval_exempt and self.sanitary_approval_number:
            errors["sanitary_approval_number"] = _(
                "Une cuisine dispensée d'agrément n'a pas de numéro d'agrément : choisissez l'un ou l'autre."
            )
        if self.sanitary_approval_exempt and not self.sanitary_exemption_reason.strip():
            errors["sanitary_exemption_reason"] = _("Indiquez le motif de la dispense d'agrément sanitaire.")
        if self.cold_shelf_life_days is not None and not 1 <= self.cold_shelf_life_days <= 60:
            errors["cold_shelf_life_days"] = _("La durée de vie se compte entre 1 et 60 jours.")
        errors.update(coordinate_errors(self.latitude, self.longitude))
        if self.offer_radius_km is not None and (self.latitude is None or self.longitude is None):
            errors["offer_radius_km"] = _(
                "Un rayon se mesure depuis la cuisine : indiquez sa latitude et sa longitude."
            )
        if not (self.does_cold_liaison or self.does_hot_liaison):
            errors["does_cold_liaison"] = _("Indiquez au moins un type de liaison (froide ou chaude).")
        if errors:
            raise ValidationError(errors)


class Closure(TerritoryOwned):
    """Days on which kitchens serve no lunch: the school holidays of the territory's académie
    (``kitchen`` empty: every kitchen of the territory) or one kitchen's own closure.

    ``starts_on`` and ``ends_on`` are the first and last days without service, both included:
    for a school holiday, from the Monday after the last day of classes to the day before
    classes resume (the official calendar's "fin des cours samedi 18 octobre, reprise lundi
    3 novembre" is 20 October to 2 November). No dedicated meal is planned or produced on
    those days; planned meals count only the days outside every closure
    (``associations.planning``, docs/indicators.md)."""

    class Kind(models.TextChoices):
        SCHOOL_HOLIDAY = "school_holiday", _("Vacances scolaires")
        KITCHEN_CLOSURE = "kitchen_closure", _("Fermeture de la cuisine")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    kitchen = models.ForeignKey(
        Kitchen,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("cuisine"),
        help_text=_("Vide : toutes les cuisines du territoire (vacances scolaires)."),
    )
    label = models.CharField(_("libellé"), max_length=200)
    starts_on = models.DateField(_("premier jour sans service"))
    ends_on = models.DateField(_("dernier jour sans service"))
    source = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures et vacances scolaires")
        ordering = ["starts_on", "kitchen__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="closure_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.starts_on:%d/%m/%Y} - {self.ends_on:%d/%m/%Y})"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.KITCHEN_MANAGER and membership.kitchen_id:
            return Q(kitchen_id=membership.kitchen_id, kind=cls.Kind.KITCHEN_CLOSURE)
        return cls.territory_coordinator_rule(membership)

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("La fin précède le début.")
        kitchen = self.kitchen if self.kitchen_id else None
        if kitchen is not None and self.territory_id and kitchen.territory_id != self.territory_id:
            errors["kitchen"] = _("Cette cuisine appartient à un autre territoire.")
        if self.kind == self.Kind.KITCHEN_CLOSURE and not self.kitchen_id:
            errors["kitchen"] = _("Indiquez la cuisine fermée.")
        if errors:
            raise ValidationError(errors)


class KitchenYearInput(TerritoryOwned):
    """A kitchen's figure for a year: evaluators write every one, a kitchen manager its own."""

    class Meta:
        abstract = True

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.EVALUATOR:
            from territories.scoping import EVERY_ROW

            return EVERY_ROW
        if membership.role == Role.KITCHEN_MANAGER and membership.kitchen_id:
            return Q(kitchen_id=membership.kitchen_id)
        return None


class EgalimDeclaration(KitchenYearInput):
    """A kitchen's shares of sustainable and quality products in its food purchases over a
    calendar year, as it declares them each year on ma-cantine (the EGalim law: at least 50 %
    of purchases, in value excluding VAT, of sustainable and quality products, of which at
    least 20 % organic — article L230-5-1 of the Code rural et de la pêche maritime).

    Entered by hand or imported from a ma-cantine export (``kitchens.egalim``), whose columns
    ``teledeclaration_ratio_bio`` and ``teledeclaration_ratio_egalim_hors_bio`` give the shares
    (the published schema of the teledeclarations' open data, betagouv/ma-cantine,
    ``data/schemas/export_opendata/schema_teledeclarations.json``). Nothing of the declarant
    is kept."""

    class Source(models.TextChoices):
        ENTERED = "entered", _("Saisie")
        MA_CANTINE = "ma_cantine", _("Export ma-cantine")

    kitchen = models.ForeignKey(
        Kitchen, on_delete=models.PROTECT, related_name="egalim_declarations", verbose_name=_("cuisine")
    )
    year = models.PositiveSmallIntegerField(_("année des achats"))
    quality_share = models.DecimalField(
        _("part des produits durables et de qualité, bio compris (%)"), max_digits=5, decimal_places=2
    )
    organic_share = models.DecimalField(_("dont part des produits bio (%)"), max_digits=5, decimal_places=2)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.ENTERED)
    source_reference = models.CharField(
        _("référence de la source"),
        max_length=100,
        blank=True,
        help_text=_("Identifiant de la télédéclaration."),
    )

    class Meta:
        verbose_name = _("déclaration EGalim d'une cuisine")
        verbose_name_plural = _("déclarations EGalim des cuisines")
        ordering = ["-year", "kitchen__name"]
        constraints = [
            models.UniqueConstraint(fields=["kitchen", "year"], name="one_egalim_per_kitchen_year")
        ]

    def __str__(self) -> str:
        return f"{self.kitchen} — {self.year}"

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.kitchen_id and self.territory_id and self.kitchen.territory_id != self.territory_id:
            errors["kitchen"] = _("Cette cuisine appartient à un autre territoire.")
        for name in ("quality_share", "organic_share"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                errors[name] = _("Une part se compte entre 0 et 100 %.")
        if (
            "quality_share" not in errors
            and "organic_share" not in errors
            and self.quality_share is not None
            and self.organic_share is not None
            and self.organic_share > self.quality_share
        ):
            errors["organic_share"] = _(
                "La part bio est comprise dans la part durable et de qualité : elle ne peut la dépasser."
            )
        if errors:
            raise ValidationError(errors)
