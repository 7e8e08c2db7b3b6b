from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

from .roles import ROLE_ACTOR_FIELD, TERRITORIAL_ROLES, Role
from .scoping import EVERY_ROW, ScopedModel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

departement_code_validator = RegexValidator(
    r"^(0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6])$",
    _("Code de département invalide (ex. 75, 93, 2A, 974)."),
)


class Territory(ScopedModel):
    """The tenant: one territorial partnership, usually a département or an intercommunality."""

    territory_id_lookup = "id"

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant"), unique=True)
    departement_code = models.CharField(
        _("code du département"), max_length=3, validators=[departement_code_validator]
    )
    region = models.CharField(_("région"), max_length=100)
    is_pilot = models.BooleanField(_("territoire pilote"), default=False)
    has_pat = models.BooleanField(_("projet alimentaire territorial (PAT)"), default=False)

    class Meta:
        verbose_name = _("territoire")
        verbose_name_plural = _("territoires")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.AUTHORITY_COORDINATOR and membership.territory_id:
            return Q(id=membership.territory_id)
        return None


class TerritoryOwned(ScopedModel):
    """Base of every record that belongs to one territory."""

    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="+", verbose_name=_("territoire")
    )

    class Meta:
        abstract = True

    @classmethod
    def territory_coordinator_rule(cls, membership: Membership) -> Q | None:
        """Authority coordinators change the territory's records of this kind."""
        if membership.role == Role.AUTHORITY_COORDINATOR and membership.territory_id:
            return Q(territory_id=membership.territory_id)
        return None


class Authority(TerritoryOwned):
    """A local authority (CCAS, mairie, EPCI...) that coordinates the partnership."""

    class Kind(models.TextChoices):
        CCAS = "ccas", _("CCAS")
        CIAS = "cias", _("CIAS")
        MAIRIE = "mairie", _("Mairie")
        EPCI = "epci", _("EPCI")
        DEPARTEMENT = "departement", _("Département")
        REGION = "region", _("Région")
        OTHER = "other", _("Autre")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("nom"), max_length=200)

    class Meta:
        verbose_name = _("collectivité")
        verbose_name_plural = _("collectivités")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return cls.territory_coordinator_rule(membership)


class Membership(ScopedModel):
    """Links a user to a territory with a role, and to the actor the role acts for."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("utilisateur"),
    )
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("territoire"),
    )
    role = models.CharField(_("rôle"), max_length=30, choices=Role.choices)
    kitchen = models.ForeignKey(
        "kitchens.Kitchen", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("cuisine")
    )
    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("association"),
    )
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("collectivité")
    )
    funded_territories = models.ManyToManyField(
        Territory,
        blank=True,
        related_name="funder_memberships",
        verbose_name=_("territoires financés"),
        help_text=_("Pour un financeur : les territoires de ses subventions."),
    )

    class Meta:
        verbose_name = _("rôle d'un utilisateur")
        verbose_name_plural = _("rôles des utilisateurs")
        ordering = ["user__username", "role"]

    def __str__(self) -> str:
        where = self.territory or _("tous territoires")
        return f"{self.user} — {self.get_role_display()} ({where})"

    @property
    def funded_territory_ids(self) -> list[int]:
        return [territory.pk for territory in self.funded_territories.all()]

    @property
    def actor(self) -> models.Model | None:
        field = ROLE_ACTOR_FIELD.get(self.role)
        return getattr(self, field) if field else None

    @classmethod
    def view_rule(cls, membership: Membership) -> Q | None:
        # Memberships are listed to evaluators only; each user reads their own through /me/.
        return EVERY_ROW if membership.role == Role.EVALUATOR else None

    @classmethod
    def sign_in_link_rule(cls, membership: Membership) -> Q | None:
        """The volunteers a coordinator may send a sign-in link to: those of the association it
        coordinates, or, for the authority's coordinator, every volunteer of the territory."""
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id:
            return Q(role=Role.VOLUNTEER, association_id=membership.association_id)
        if membership.role == Role.AUTHORITY_COORDINATOR and membership.territory_id:
            return Q(role=Role.VOLUNTEER, territory_id=membership.territory_id)
        return None

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        actor_field = ROLE_ACTOR_FIELD.get(self.role)
        if self.role in TERRITORIAL_ROLES and not self.territory_id:
            errors["territory"] = _("Ce rôle s'exerce dans un territoire : indiquez-le.")
        if self.role in (Role.EVALUATOR, Role.FUNDER) and self.territory_id:
            errors["territory"] = _("Ce rôle ne se rattache pas à un territoire.")
        for field in ("kitchen", "association", "authority"):
            value_id = getattr(self, f"{field}_id")
            if field == actor_field:
                if not value_id:
                    errors[field] = _("Ce rôle doit être rattaché à cet acteur.")
                elif self.territory_id and getattr(self, field).territory_id != self.territory_id:
                    errors[field] = _("Cet acteur appartient à un autre territoire.")
            elif value_id:
                errors[field] = _("Ce rôle ne se rattache pas à cet acteur.")
        if errors:
            raise ValidationError(errors)


class ApiToken(AbstractAuthToken):
    """An API token of one user on one device (django-rest-knox's model, with a name and an id).

    Only the token's hash is stored; the token itself is shown once, when it is issued.
    A token expires (``REST_KNOX["TOKEN_TTL"]``), is revoked by its owner (logout, or from the
    list of their tokens), and every token of a user is revoked when the password changes or
    the account is deactivated (``territories.tokens``).
    """

    # knox's base is untyped: the fields say their types themselves.
    id: models.BigAutoField = models.BigAutoField(primary_key=True)
    digest: models.CharField = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    device: models.CharField = models.CharField(
        _("appareil"),
        max_length=100,
        blank=True,
        help_text=_("Nom donné à l'appareil ou au script qui utilise ce jeton."),
    )

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user} — {self.device or self.token_key}"
