"""Versions (avenants) of a partnership's convention and the parties' signatures.

A version freezes the partnership's terms (parties, duration, clauses) at the time it is drawn
up; the PDF is rendered from those frozen terms (``associations.conventions.pdf``), so every
earlier version stays readable as it was signed. The current version is the highest number; a
partnership becomes active, and batches are declared on it, only once every party required by
its current version has signed it (``associations.conventions.selectors``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from territories.models import TerritoryOwned
from territories.roles import Role

if TYPE_CHECKING:
    from territories.models import Membership


class Party(models.TextChoices):
    KITCHEN = "kitchen", _("la cuisine (donateur ou fournisseur)")
    ASSOCIATION = "association", _("l'association")
    AUTHORITY = "authority", _("la collectivité coordinatrice")


def signed_scan_upload_to(instance: ConventionVersion, filename: str) -> str:
    return f"conventions/{instance.territory_id}/signed/{filename}"


class ConventionVersion(TerritoryOwned):
    """One numbered version of a partnership's convention (version 1, then each avenant)."""

    funder_visible = False

    partnership = models.ForeignKey(
        "associations.Partnership",
        on_delete=models.CASCADE,
        related_name="versions",
        verbose_name=_("partenariat"),
    )
    number = models.PositiveSmallIntegerField(_("numéro de version"))
    terms = models.JSONField(_("termes figés"), default=dict)
    parties = models.JSONField(_("parties signataires"), default=list)
    signed_scan = models.FileField(
        _("scan signé (PDF)"),
        upload_to=signed_scan_upload_to,
        blank=True,
        validators=[FileExtensionValidator(["pdf"])],
    )
    created_at = models.DateTimeField(_("établie le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("établie par"),
    )

    class Meta:
        verbose_name = _("version de convention")
        verbose_name_plural = _("versions de convention")
        ordering = ["partnership_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "number"], name="one_convention_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.partnership} — v{self.number}"

    @property
    def label(self) -> str:
        return (
            str(_("Convention initiale"))
            if self.number == 1
            else str(_("Avenant n° %(n)s") % {"n": self.number - 1})
        )

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return cls.territory_coordinator_rule(membership)


class ConventionSignature(TerritoryOwned):
    """A party's signature of one version: the date and who signed, recorded on the platform."""

    funder_visible = False

    class Method(models.TextChoices):
        MARKED = "marked", _("Signature marquée sur la plateforme")
        SCAN = "scan", _("Scan signé déposé")
        PRIOR = "prior", _("Convention signée avant la plateforme (reprise)")

    version = models.ForeignKey(
        ConventionVersion, on_delete=models.CASCADE, related_name="signatures", verbose_name=_("version")
    )
    party = models.CharField(_("partie"), max_length=20, choices=Party.choices)
    signed_on = models.DateField(_("signée le"))
    signer_name = models.CharField(_("signataire"), max_length=200, blank=True)
    signer_title = models.CharField(_("qualité du signataire"), max_length=200, blank=True)
    method = models.CharField(
        _("mode de signature"), max_length=20, choices=Method.choices, default=Method.MARKED
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enregistrée par"),
    )
    recorded_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("signature de convention")
        verbose_name_plural = _("signatures de convention")
        ordering = ["version_id", "party"]
        constraints = [
            models.UniqueConstraint(fields=["version", "party"], name="one_signature_per_party_and_version")
        ]

    def __str__(self) -> str:
        return f"{self.version} — {self.get_party_display()}"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        """Each party records its own signature; the authority's coordinator records its own."""
        if membership.role == Role.KITCHEN_MANAGER and membership.kitchen_id:
            return Q(party=Party.KITCHEN, version__partnership__kitchen_id=membership.kitchen_id)
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id:
            return Q(party=Party.ASSOCIATION, version__partnership__association_id=membership.association_id)
        if membership.role == Role.AUTHORITY_COORDINATOR and membership.territory_id:
            return Q(party=Party.AUTHORITY, territory_id=membership.territory_id)
        return None
