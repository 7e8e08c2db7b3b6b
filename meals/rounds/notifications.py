"""E-mails of the rounds: the volunteer's reminder, the alerts of a slot with nobody, and the
batch of the slot's day."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from territories.roles import Role

from ..notifications import batch_summary, in_french
from .models import RoundSlot


def coordinators_of(**membership: object) -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True, **{f"memberships__{k}": v for k, v in membership.items()}
    )
    return sorted({email for email in users.values_list("email", flat=True) if email})


def slot_text(slot: RoundSlot) -> str:
    return _("%(day)s, de %(start)s à %(end)s : %(meals)s repas de %(kitchen)s pour %(site)s.") % {
        "day": slot.date.strftime("%d/%m/%Y"),
        "start": slot.window_start.strftime("%H:%M"),
        "end": slot.window_end.strftime("%H:%M"),
        "meals": slot.expected_meals,
        "kitchen": slot.kitchen.name,
        "site": slot.site.name,
    }


def rounds_link() -> str:
    return f"{settings.SITE_URL}{reverse('round-slot-list')}"


@in_french
def slot_notify(*, slot_id: int, kind: str) -> int:
    """``kind``: the field the sender set (``reminded_at``, ``alerted_48h_at``, ``alerted_24h_at``)
    or ``batch`` (the day's batch attached)."""
    slot = RoundSlot.objects.select_related("kitchen", "site", "association", "volunteer", "batch").get(
        pk=slot_id
    )
    if slot.status != RoundSlot.Status.PLANNED:
        return 0
    text = slot_text(slot)
    if kind == "reminded_at":
        if slot.volunteer is None:
            return 0
        subject = _("Passerelle : votre collecte de demain (%(start)s)") % {
            "start": slot.window_start.strftime("%H:%M")
        }
        recipients, body = [slot.volunteer.email], "\n\n".join([text, rounds_link()])
    elif kind == "batch":
        if slot.volunteer is None or slot.batch is None:
            return 0
        subject = _("Passerelle : le lot de votre collecte du %(day)s est déclaré") % {
            "day": slot.date.strftime("%d/%m/%Y")
        }
        recipients, body = (
            [slot.volunteer.email],
            "\n\n".join([text, batch_summary(slot.batch), rounds_link()]),
        )
    elif kind in ("alerted_48h_at", "alerted_24h_at"):
        hours = 48 if kind == "alerted_48h_at" else 24
        subject = _("Passerelle : personne pour la collecte du %(day)s (%(hours)s h avant)") % {
            "day": slot.date.strftime("%d/%m/%Y"),
            "hours": hours,
        }
        body = "\n\n".join(
            [
                _("Aucun bénévole n'est inscrit à ce créneau de %(association)s.")
                % {"association": slot.association.name},
                text,
                rounds_link(),
            ]
        )
        recipients = (
            coordinators_of(role=Role.ASSOCIATION_COORDINATOR, association_id=slot.association_id)
            if hours == 48
            else coordinators_of(role=Role.AUTHORITY_COORDINATOR, territory_id=slot.territory_id)
        )
    else:
        return 0
    recipients = [email for email in recipients if email]
    return send_mass_mail(
        [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients], fail_silently=False
    )
