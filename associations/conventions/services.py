"""Drawing up and signing a partnership's convention.

The clauses follow the content Code de l'environnement D541-310 requires of a donation
convention (sorting by the donor, the association's right to refuse all or part, pickup and
storage arrangements, information with each batch, the delay before the use-by date) and the
model conventions published for collective catering (DRAAF guide « Donner aux associations
d'aide alimentaire »): parties, duration and renewal, transfer of responsibility at handover,
termination. A supply agreement adds the price per meal, invoicing, payment and planned volumes.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from territories.scoping import memberships_of

from .models import ConventionSignature, ConventionVersion, Party

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from associations.models import Partnership


def iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def partnership_terms(partnership: Partnership) -> dict[str, Any]:
    """The parties and clauses of the partnership as they stand, in plain values (frozen into a
    version, printed by the PDF)."""
    kitchen = partnership.kitchen
    association = partnership.association
    authority = partnership.authority if partnership.authority_id else None
    terms: dict[str, Any] = {
        "instrument": partnership.mode,
        "kitchen": {
            "name": kitchen.name,
            "operator_name": getattr(kitchen, "operator_name", "") or kitchen.name,
            "operator_type": kitchen.operator_type,
            "operator_type_label": str(kitchen.get_operator_type_display()),
            "legal_form": getattr(kitchen, "operator_legal_form", ""),
            "siret": kitchen.siret,
            "address": kitchen.address,
            "sanitary_approval_number": getattr(kitchen, "sanitary_approval_number", ""),
        },
        "association": {
            "name": association.name,
            "rna": association.rna,
            "siret": association.siret,
            "habilitation": association.habilitation,
            "habilitation_label": str(association.get_habilitation_display()),
            "habilitation_number": association.habilitation_number,
            "habilitation_expires_on": iso(association.habilitation_expires_on),
        },
        "authority": (
            {"name": authority.name, "kind_label": str(authority.get_kind_display())} if authority else None
        ),
        "starts_on": iso(partnership.starts_on),
        "ends_on": iso(partnership.ends_on),
        "renewal": partnership.renewal,
        "renewal_months": partnership.renewal_months,
        "termination_notice_days": partnership.termination_notice_days,
        "pickup_days": list(partnership.pickup_days or []),
        "pickup_window_start": partnership.pickup_window_start.strftime("%H:%M")
        if partnership.pickup_window_start
        else None,
        "pickup_window_end": partnership.pickup_window_end.strftime("%H:%M")
        if partnership.pickup_window_end
        else None,
        "transport_by": partnership.transport_by,
        "cold_chain_terms": partnership.cold_chain_terms,
        "distribution_delay_hours": partnership.distribution_delay_hours,
        "planned_meals_per_week": partnership.planned_meals_per_week,
        "price_per_meal": str(partnership.price_per_meal) if partnership.price_per_meal is not None else None,
        "invoicing_terms": partnership.invoicing_terms,
        "payment_days": partnership.payment_days,
    }
    return terms


def required_parties(partnership: Partnership) -> list[str]:
    parties = [Party.KITCHEN.value, Party.ASSOCIATION.value]
    if partnership.authority_id:
        parties.append(Party.AUTHORITY.value)
    return parties


@transaction.atomic
def convention_version_issue(*, partnership: Partnership, by: User | None) -> ConventionVersion:
    """Draws up the next version of the convention (version 1, then avenants) from the current
    terms. Earlier versions and their signatures are kept unchanged; the new one must be signed
    by every party before further batches are declared."""
    from associations.models import Partnership

    # Only the partnership's row is locked: PostgreSQL refuses FOR UPDATE on the nullable side of
    # the outer join that the optional authority brings.
    locked = (
        Partnership.objects.select_for_update(of=("self",))
        .select_related("kitchen", "association", "authority")
        .get(pk=partnership.pk)
    )
    errors: dict[str, str] = {}
    if locked.mode == Partnership.Mode.DEDICATED and locked.price_per_meal is None:
        errors["price_per_meal"] = _("Une convention de fourniture fixe le prix par repas.")
    if locked.mode == Partnership.Mode.SURPLUS and locked.association.habilitation == "none":
        errors["association"] = _(
            "Une convention de don d'excédents est conclue avec une association habilitée à l'aide "
            "alimentaire (CASF L266-2)."
        )
    if errors:
        raise ValidationError(errors)
    last = locked.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return ConventionVersion.objects.create(
        territory_id=locked.territory_id,
        partnership=locked,
        number=last + 1,
        terms=partnership_terms(locked),
        parties=required_parties(locked),
        created_by=by,
    )


def signable_parties(user: User, partnership: Partnership) -> list[Party]:
    """The parties this user may sign for: the kitchen's manager, the association's coordinator,
    the authority's coordinator of the territory (for the authority)."""
    from territories.roles import Role

    if user.is_superuser:
        return list(Party)
    parties: list[Party] = []
    for membership in memberships_of(user):
        if membership.role == Role.KITCHEN_MANAGER and membership.kitchen_id == partnership.kitchen_id:
            parties.append(Party.KITCHEN)
        if (
            membership.role == Role.ASSOCIATION_COORDINATOR
            and membership.association_id == partnership.association_id
        ):
            parties.append(Party.ASSOCIATION)
        if (
            membership.role == Role.AUTHORITY_COORDINATOR
            and membership.territory_id == partnership.territory_id
            and partnership.authority_id
        ):
            parties.append(Party.AUTHORITY)
    return parties


@transaction.atomic
def convention_sign(
    *,
    version: ConventionVersion,
    party: str,
    by: User | None,
    signer_name: str,
    signer_title: str = "",
    signed_on: datetime.date | None = None,
    method: str = ConventionSignature.Method.MARKED,
) -> ConventionSignature:
    """Records one party's signature of the current version, with its date and who signed."""
    locked = ConventionVersion.objects.select_for_update().get(pk=version.pk)
    signed_on = signed_on or timezone.localdate()
    errors: dict[str, str] = {}
    latest = locked.partnership.versions.order_by("-number").values_list("number", flat=True).first()
    if latest != locked.number:
        errors["version"] = _("Seule la version en vigueur de la convention peut être signée.")
    if party not in locked.parties:
        errors["party"] = _("Cette partie ne signe pas cette convention.")
    elif locked.signatures.filter(party=party).exists():
        errors["party"] = _("Cette partie a déjà signé cette version.")
    if by is not None and party not in signable_parties(by, locked.partnership):
        errors["party"] = _("Vous ne pouvez pas signer pour cette partie.")
    if signed_on > timezone.localdate():
        errors["signed_on"] = _("La date de signature ne peut pas être dans le futur.")
    if not signer_name.strip():
        errors["signer_name"] = _("Indiquez le nom du signataire.")
    if errors:
        raise ValidationError(errors)
    return ConventionSignature.objects.create(
        territory_id=locked.territory_id,
        version=locked,
        party=party,
        signed_on=signed_on,
        signer_name=signer_name.strip(),
        signer_title=signer_title.strip(),
        method=method,
        recorded_by=by,
    )


def convention_draw_up_and_sign(
    partnership: Partnership, *, on: datetime.date | None = None
) -> ConventionVersion:
    """Version 1 signed by every party at once: for fixtures, demo data and data taken over."""
    version = convention_version_issue(partnership=partnership, by=None)
    for party in version.parties:
        convention_sign(
            version=version, party=party, by=None, signer_name=str(Party(party).label), signed_on=on
        )
    return version


def partnership_sign(
    *,
    partnership: Partnership,
    by: User,
    signer_name: str,
    signer_title: str = "",
    party: str = "",
) -> ConventionSignature:
    """One party marks its signature of the partnership's current version on the platform (the
    page's button and the API). The user signs only for a party it represents (403 otherwise);
    without ``party``, the one party the user represents that has not signed yet. Signing twice,
    or with no convention drawn up, is refused with a French message."""
    from django.core.exceptions import PermissionDenied

    from .selectors import current_version, missing_parties

    own = [p.value for p in signable_parties(by, partnership)]
    if not own or (party and party not in own):
        raise PermissionDenied(_("Vous ne pouvez pas signer pour cette partie."))
    version = current_version(partnership)
    if version is None:
        raise ValidationError({"version": _("Aucune convention n'a encore été établie pour ce partenariat.")})
    if not party:
        waiting = [p.value for p in missing_parties(version) if p.value in own]
        candidates = [p for p in own if p in version.parties]
        if not candidates:
            raise PermissionDenied(_("Vous ne pouvez pas signer pour cette partie."))
        party = waiting[0] if waiting else candidates[0]
    return convention_sign(
        version=version,
        party=party,
        by=by,
        signer_name=signer_name,
        signer_title=signer_title,
    )
