"""Offering a surplus batch to every association that may take it; the first acceptance wins.

- ``offer_recipients``: the associations of the kitchen's territory holding an active donation
  convention with it whose current version every party signed, habilitated on the production
  day (the rule of ``meals.services.check_partnership_allows``), within the kitchen's radius
  when it sets one, and still able to collect the meals under their convention's delay.
- ``offer_create``: the batch's fields are checked by the rules of a declaration
  (``meals.services.check_batch_fields``); the response deadline is two hours by default and
  never later than the last moment a recipient may collect (Code de l'environnement,
  art. D541-310 1°: the donation is handed over with 48 hours of its use-by date left, or the
  shorter delay within which the association's convention says it distributes).
- ``offer_accept``: one conditional ``UPDATE ... WHERE status = 'open'`` decides the winner;
  on PostgreSQL a concurrent acceptance waits for it and finds the offer taken (409). The batch
  is then declared on the winner's convention, inside the same transaction, and follows the
  usual flow.
- ``offer_decline`` records an association's refusal and its reason; ``offers_expire`` closes
  the offers whose deadline passed, once each, and tells their kitchen.
"""

from __future__ import annotations

import datetime
import functools
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.models import Association, Partnership
from config.celery import delay_or_log
from territories import bounds
from territories.exceptions import Conflict
from territories.scoping import memberships_of

from .. import food_safety
from ..models import Batch, Liaison, temperature_ok
from ..services import bounded, check_batch_fields, check_rules, temperature_rule
from .models import ASSOCIATION_ROLES, Offer, OfferRecipient
from .tasks import notify_offer_expired, notify_offer_made, notify_offer_taken

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from kitchens.models import Kitchen

# The fields of the batch an offer becomes, held by the offer as the kitchen described them.
BATCH_FIELDS = (
    "production_date", "service", "meals_count", "components", "liaison", "lot_number", "use_by_date",
    "dispatch_temperature_c", "allergens", "no_regulated_allergens", "dishes", "portion_type",
    "portion_grams", "reheating_instructions",
)  # fmt: skip
# How long associations have to answer, unless the kitchen says otherwise.
DEFAULT_RESPONSE_TIME = datetime.timedelta(hours=2)
EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: Decimal, lon1: Decimal, lat2: Decimal, lon2: Decimal) -> float:
    """The great-circle distance between two points (haversine formula, mean Earth radius)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2) - math.radians(lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def within_radius(kitchen: Kitchen, association: Association) -> bool:
    """No radius: every association. A radius: one of the association's sites lies within it
    (a site without coordinates cannot be placed, so it does not count)."""
    if kitchen.offer_radius_km is None:
        return True
    if kitchen.latitude is None or kitchen.longitude is None:
        return False
    return any(
        distance_km(kitchen.latitude, kitchen.longitude, site.latitude, site.longitude)
        <= kitchen.offer_radius_km
        for site in association.sites.all()
        if site.latitude is not None and site.longitude is not None
    )


def collect_before(partnership: Partnership, use_by_date: datetime.date) -> datetime.datetime:
    """The last moment the association of this convention may collect a donation of this use-by
    date: its end less 48 hours, or the convention's shorter distribution delay (D541-310 1°)."""
    return food_safety.end_of_use_by(use_by_date) - food_safety.donation_delay(partnership)


@dataclass(frozen=True)
class Recipient:
    partnership: Partnership
    collect_before: datetime.datetime


def offer_recipients(
    *, kitchen: Kitchen, production_date: datetime.date, use_by_date: datetime.date, now: datetime.datetime
) -> list[Recipient]:
    """The associations an offer of this kitchen goes to, each with the convention it goes through."""
    from ..services import check_partnership_allows

    partnerships = (
        Partnership.objects.all_territories()
        .filter(kitchen_id=kitchen.pk, mode=Partnership.Mode.SURPLUS, status=Partnership.Status.ACTIVE)
        .select_related("association", "kitchen")
        .prefetch_related("association__sites")
        .order_by("association__name", "pk")
    )
    recipients: dict[int, Recipient] = {}
    for partnership in partnerships:
        if partnership.association_id in recipients:
            continue
        if check_partnership_allows(partnership, Batch.Kind.SURPLUS, production_date):
            continue
        if not within_radius(kitchen, partnership.association):
            continue
        latest = collect_before(partnership, use_by_date)
        if latest > now:
            recipients[partnership.association_id] = Recipient(partnership, latest)
    return list(recipients.values())


def may_offer(user: User | AnonymousUser, kitchen_id: int) -> bool:
    """Whether the user offers this kitchen's surplus: a manager of the kitchen (``Offer.change_rule``)."""
    if user.is_superuser:
        return True
    return any(
        membership.kitchen_id == kitchen_id and Offer.change_rule(membership) is not None
        for membership in memberships_of(user)
    )


def recipients_shown(user: User | AnonymousUser) -> set[int] | None:
    """Which recipients' answers the user reads: ``None`` for all (the kitchen, the authority,
    evaluators), else the user's own associations only."""
    memberships = memberships_of(user)
    if user.is_superuser or any(membership.role not in ASSOCIATION_ROLES for membership in memberships):
        return None
    return {membership.association_id for membership in memberships if membership.association_id}


def lot_offered(*, kitchen_id: int, lot_number: str) -> bool:
    return Offer.objects.filter(
        kitchen_id=kitchen_id, lot_number=lot_number, status=Offer.Status.OPEN
    ).exists()


@transaction.atomic
def offer_create(
    *,
    kitchen: Kitchen,
    by: User,
    production_date: datetime.date,
    meals_count: int,
    liaison: str,
    lot_number: str,
    use_by_date: datetime.date,
    dispatch_temperature_c: Decimal,
    service: str = Batch.Service.LUNCH,
    components: list[str] | None = None,
    allergens: list[str] | None = None,
    no_regulated_allergens: bool = False,
    dishes: str = "",
    portion_type: str = "",
    portion_grams: int | None = None,
    reheating_instructions: str = "",
    respond_by: datetime.datetime | None = None,
) -> Offer:
    """Offers a surplus batch to the associations of ``offer_recipients`` and tells them at once."""
    components, allergens = components or [], allergens or []
    now = timezone.now()
    errors: dict[str, str] = {}
    if respond_by is not None:
        bounded(errors, respond_by=bounds.date_error(respond_by, ahead_years=1))
        check_rules(errors)
    recipients = offer_recipients(
        kitchen=kitchen, production_date=production_date, use_by_date=use_by_date, now=now
    )
    if not recipients:
        check_rules(
            {
                "kitchen": _(
                    "Aucune association ne peut recevoir cette offre : il faut une convention de don active, "
                    "signée par toutes les parties, avec une association habilitée (dans le rayon de la "
                    "cuisine s'il est fixé) et encore le temps de collecter les repas avant leur date "
                    "limite de consommation."
                )
            }
        )
    # The usual daily volume is a convention's; an offer goes to several, so the count is
    # checked against the kitchen's capacity only (confirm_unusual).
    errors = check_batch_fields(
        partnership=recipients[0].partnership,
        kind=Batch.Kind.SURPLUS,
        production_date=production_date,
        meals_count=meals_count,
        liaison=liaison,
        use_by_date=use_by_date,
        components=components,
        allergens=allergens,
        service=service,
        lot_number=lot_number,
        dispatch_temperature_c=dispatch_temperature_c,
        no_regulated_allergens=no_regulated_allergens,
        portion_type=portion_type,
        portion_grams=portion_grams,
        confirm_unusual=True,
    )
    if liaison in Liaison.values and not temperature_ok(liaison, dispatch_temperature_c):
        errors.setdefault(
            "dispatch_temperature_c",
            temperature_rule(liaison) + " " + _("Des repas hors de ces limites ne peuvent pas être offerts."),
        )
    if "lot_number" not in errors and lot_offered(kitchen_id=kitchen.pk, lot_number=lot_number.strip()):
        errors["lot_number"] = _(
            "Une offre ouverte de cette cuisine porte déjà le numéro de lot « %(lot)s »."
        ) % {"lot": lot_number.strip()}
    latest = max(recipient.collect_before for recipient in recipients)
    if respond_by is None:
        respond_by = min(now + DEFAULT_RESPONSE_TIME, latest)
    elif respond_by <= now:
        errors["respond_by"] = _("Le délai de réponse doit être dans le futur.")
    elif respond_by > latest:
        errors["respond_by"] = _(
            "Au plus tard le %(latest)s : après, aucune association destinataire ne pourrait plus collecter "
            "ces repas avant leur date limite de consommation (48 heures, ou le délai plus court de sa "
            "convention : Code de l'environnement, art. D541-310)."
        ) % {"latest": timezone.localtime(latest, food_safety.TERRITORY_TZ).strftime("%d/%m/%Y à %H:%M")}
    bounded(
        errors,
        dishes=bounds.text_error(dishes),
        reheating_instructions=bounds.text_error(reheating_instructions),
    )
    check_rules(errors)
    batch_fields = {
        "production_date": production_date,
        "service": service,
        "meals_count": meals_count,
        "components": components,
        "liaison": liaison,
        "lot_number": lot_number.strip(),
        "use_by_date": use_by_date,
        "dispatch_temperature_c": dispatch_temperature_c,
        "allergens": allergens,
        "no_regulated_allergens": no_regulated_allergens,
        "dishes": dishes.strip(),
        "portion_type": portion_type,
        "portion_grams": portion_grams,
        "reheating_instructions": reheating_instructions.strip(),
    }
    offer = Offer.objects.create(
        territory_id=kitchen.territory_id,
        kitchen=kitchen,
        respond_by=respond_by,
        created_by=by,
        **batch_fields,
    )
    OfferRecipient.objects.bulk_create(
        OfferRecipient(
            offer=offer,
            association_id=recipient.partnership.association_id,
            partnership=recipient.partnership,
            collect_before=recipient.collect_before,
        )
        for recipient in recipients
    )
    transaction.on_commit(lambda: delay_or_log(notify_offer_made, offer.pk))
    return offer


def responding_recipient(offer: Offer, user: User, association: Association | None = None) -> OfferRecipient:
    """The recipient row the user answers for: their association among the offer's recipients
    (the one named, when they act for several)."""
    mine = {
        membership.association_id
        for membership in memberships_of(user)
        if membership.role in ASSOCIATION_ROLES and membership.association_id
    }
    if association is not None:
        mine &= {association.pk}
    rows = list(offer.recipients.filter(association_id__in=mine).select_related("partnership", "association"))
    if not rows:
        raise ValidationError({"association": _("Cette offre n'a pas été faite à votre association.")})
    if len(rows) > 1:
        raise ValidationError(
            {"association": _("Vous agissez pour plusieurs associations destinataires : indiquez laquelle.")}
        )
    return rows[0]


def closed_offer_conflict(offer_id: int) -> Conflict:
    """Why an offer can no longer be answered, in words the association understands."""
    offer = Offer.objects.select_related("accepted_association").get(pk=offer_id)
    if offer.status == Offer.Status.ACCEPTED:
        return Conflict(
            _(
                "Cette offre a déjà été acceptée par une autre association : les repas ne sont plus "
                "disponibles."
            )
        )
    deadline = timezone.localtime(offer.respond_by, food_safety.TERRITORY_TZ).strftime("%d/%m/%Y à %H:%M")
    return Conflict(
        _("Le délai de réponse de cette offre est passé (%(deadline)s) : les repas ne sont plus proposés.")
        % {"deadline": deadline}
    )


@transaction.atomic
def offer_accept(*, offer: Offer, by: User, association: Association | None = None) -> Batch:
    """The first acceptance takes the offer and its meals become a batch of the winner's donation
    convention; any later or concurrent one gets a ``Conflict`` (HTTP 409) and changes nothing."""
    recipient = responding_recipient(offer, by, association)
    now = timezone.now()
    if recipient.collect_before <= now:
        check_rules(
            {
                "association": _(
                    "Votre convention ne permet plus de collecter ces repas : il ne reste pas le délai de "
                    "distribution qu'elle prévoit avant leur date limite de consommation (D541-310)."
                )
            }
        )
    taken = Offer.objects.filter(pk=offer.pk, status=Offer.Status.OPEN, respond_by__gt=now).update(
        status=Offer.Status.ACCEPTED,
        accepted_by=by,
        accepted_association_id=recipient.association_id,
        accepted_at=now,
    )
    if taken != 1:
        raise closed_offer_conflict(offer.pk)
    offer.refresh_from_db()
    from ..services import batch_create

    batch = batch_create(
        partnership=recipient.partnership,
        by=offer.created_by,
        kind=Batch.Kind.SURPLUS,
        confirm_unusual=True,
        **{name: getattr(offer, name) for name in BATCH_FIELDS},
    )
    Offer.objects.filter(pk=offer.pk).update(batch=batch)
    offer.refresh_from_db()
    transaction.on_commit(lambda: delay_or_log(notify_offer_taken, offer.pk))
    return batch


@transaction.atomic
def offer_decline(
    *, offer: Offer, by: User, reason: str, association: Association | None = None
) -> OfferRecipient:
    """An association says it will not take the offer, and why; the offer stays open to the others."""
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = _("Indiquez le motif du refus.")
    bounded(errors, reason=bounds.text_error(reason))
    check_rules(errors)
    recipient = responding_recipient(offer, by, association)
    locked = OfferRecipient.objects.select_for_update().get(pk=recipient.pk)
    if not Offer.objects.filter(
        pk=offer.pk, status=Offer.Status.OPEN, respond_by__gt=timezone.now()
    ).exists():
        raise closed_offer_conflict(offer.pk)
    if locked.declined_at is not None:
        raise Conflict(_("Votre association a déjà décliné cette offre."))
    locked.declined_at = timezone.now()
    locked.declined_by = by
    locked.decline_reason = reason.strip()
    locked.save(update_fields=["declined_at", "declined_by", "decline_reason"])
    return locked


def offers_expire(*, now: datetime.datetime | None = None) -> int:
    """Closes every open offer whose deadline has passed, once (a conditional update per offer),
    and tells each one's kitchen; returns how many it closed. An accepted offer is never closed."""
    now = now or timezone.now()
    due = Offer.objects.all_territories().filter(status=Offer.Status.OPEN, respond_by__lte=now)
    expired = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            closed = Offer.objects.filter(pk=pk, status=Offer.Status.OPEN, respond_by__lte=now).update(
                status=Offer.Status.EXPIRED, expired_at=now
            )
            if closed:
                expired += 1
                transaction.on_commit(functools.partial(delay_or_log, notify_offer_expired, pk))
    return expired
