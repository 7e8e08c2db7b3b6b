"""E-mails about offers: to the recipient associations when an offer is made and when it is
taken, to the kitchen when it is taken or expires unclaimed."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from territories.roles import Role

from .. import food_safety
from ..models import Liaison
from ..notifications import association_recipients, in_french
from .models import Offer


def kitchen_recipients(kitchen_id: int) -> list[str]:
    users = get_user_model().objects.filter(
        memberships__kitchen_id=kitchen_id, memberships__role=Role.KITCHEN_MANAGER, is_active=True
    )
    return sorted({email for email in users.values_list("email", flat=True) if email})


def offer_link(offer: Offer) -> str:
    return f"{settings.SITE_URL}{reverse('offer-detail', kwargs={'pk': offer.pk})}"


def local_time(moment) -> str:
    return timezone.localtime(moment, food_safety.TERRITORY_TZ).strftime("%d/%m/%Y à %H:%M")


def offer_summary(offer: Offer) -> str:
    return _(
        "%(meals)s repas (%(liaison)s) de %(kitchen)s, lot %(lot)s, produits le %(produced)s, "
        "à consommer jusqu'au %(use_by)s."
    ) % {
        "meals": offer.meals_count,
        "liaison": dict(Liaison.choices).get(offer.liaison, offer.liaison).lower(),
        "kitchen": offer.kitchen.name,
        "lot": offer.lot_number,
        "produced": offer.production_date.strftime("%d/%m/%Y"),
        "use_by": offer.use_by_date.strftime("%d/%m/%Y"),
    }


def mails(subject: str, body: str, recipients: list[str]) -> list[tuple[str, str, str, list[str]]]:
    return [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients]


@in_french
def offer_made_notify(*, offer_id: int) -> int:
    """Tells every recipient association of an open offer, at once."""
    offer = Offer.objects.select_related("kitchen").get(pk=offer_id)
    if offer.status != Offer.Status.OPEN:
        return 0
    subject = _("Passerelle : %(meals)s repas offerts par %(kitchen)s, réponse avant le %(deadline)s") % {
        "meals": offer.meals_count,
        "kitchen": offer.kitchen.name,
        "deadline": local_time(offer.respond_by),
    }
    body = "\n\n".join(
        [
            offer_summary(offer),
            _("La première association qui accepte reçoit le lot. Accepter ou décliner : %(link)s")
            % {"link": offer_link(offer)},
        ]
    )
    messages = []
    for association_id in offer.recipients.values_list("association_id", flat=True):
        messages += mails(subject, body, association_recipients(association_id))
    return send_mass_mail(messages, fail_silently=False)


@in_french
def offer_taken_notify(*, offer_id: int) -> int:
    """Tells the other recipient associations that the offer is taken, and the kitchen who took it."""
    offer = Offer.objects.select_related("kitchen", "accepted_association").get(pk=offer_id)
    if offer.status != Offer.Status.ACCEPTED or offer.accepted_association is None:
        return 0
    taken = _("Passerelle : l'offre de %(kitchen)s (lot %(lot)s) a été prise") % {
        "kitchen": offer.kitchen.name,
        "lot": offer.lot_number,
    }
    body = "\n\n".join(
        [
            _("Une autre association a accepté cette offre : les repas ne sont plus disponibles."),
            offer_summary(offer),
        ]
    )
    messages = []
    others = offer.recipients.exclude(association_id=offer.accepted_association.pk)
    for association_id in others.values_list("association_id", flat=True):
        messages += mails(taken, body, association_recipients(association_id))
    kitchen_subject = _("Passerelle : votre offre (lot %(lot)s) est acceptée par %(association)s") % {
        "lot": offer.lot_number,
        "association": offer.accepted_association.name,
    }
    kitchen_body = "\n\n".join([offer_summary(offer), offer_link(offer)])
    messages += mails(kitchen_subject, kitchen_body, kitchen_recipients(offer.kitchen_id))
    return send_mass_mail(messages, fail_silently=False)


@in_french
def offer_expired_notify(*, offer_id: int) -> int:
    """Tells the kitchen its offer found no taker: its meals count as offered, not taken."""
    offer = Offer.objects.select_related("kitchen").get(pk=offer_id)
    if offer.status != Offer.Status.EXPIRED:
        return 0
    subject = _("Passerelle : votre offre (lot %(lot)s) n'a pas trouvé preneur") % {"lot": offer.lot_number}
    declined = [
        _("- %(association)s : %(reason)s")
        % {"association": row.association.name, "reason": row.decline_reason}
        for row in offer.recipients.filter(declined_at__isnull=False).select_related("association")
    ]
    parts = [
        _(
            "Aucune association n'a accepté cette offre avant le %(deadline)s : ses %(meals)s repas "
            "sont comptés comme offerts, non pris."
        )
        % {"deadline": local_time(offer.respond_by), "meals": offer.meals_count},
        offer_summary(offer),
    ]
    if declined:
        parts.append(_("Refus motivés :") + "\n" + "\n".join(declined))
    parts.append(offer_link(offer))
    return send_mass_mail(
        mails(subject, "\n\n".join(parts), kitchen_recipients(offer.kitchen_id)), fail_silently=False
    )
