"""Emails about batches to the association that collects them."""

from __future__ import annotations

import datetime
import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from territories.roles import Role

from .models import Batch

ASSOCIATION_ROLES = (Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR)


def association_recipients(association_id: int) -> list[str]:
    users = get_user_model().objects.filter(
        memberships__association_id=association_id, memberships__role__in=ASSOCIATION_ROLES, is_active=True
    )
    return sorted({email for email in users.values_list("email", flat=True) if email})


def batch_link(batch: Batch) -> str:
    return f"{settings.SITE_URL}{reverse('batch-detail', kwargs={'pk': batch.pk})}"


def batch_summary(batch: Batch) -> str:
    return _(
        "%(meals)s repas (%(kind)s, %(liaison)s) de %(kitchen)s, lot %(lot)s, "
        "produits le %(produced)s, à consommer jusqu'au %(use_by)s."
    ) % {
        "meals": batch.meals_count,
        "kind": batch.get_kind_display().lower(),
        "liaison": batch.get_liaison_display().lower(),
        "kitchen": batch.kitchen.name,
        "lot": batch.lot_number,
        "produced": batch.production_date.strftime("%d/%m/%Y"),
        "use_by": batch.use_by_date.strftime("%d/%m/%Y"),
    }


def allergens_text(batch: Batch) -> str:
    if batch.allergens:
        return _("Allergènes : %(list)s.") % {"list": ", ".join(batch.allergen_labels)}
    if batch.no_regulated_allergens:
        return _("Allergènes : aucun des 14 allergènes réglementaires.")
    return _("Allergènes : non déclarés.")


def travelling_details(batch: Batch) -> list[str]:
    """What travels with the batch: allergens, dishes, portions and reheating instructions."""
    lines = [allergens_text(batch)]
    if batch.dishes:
        lines.append(_("Plats : %(dishes)s") % {"dishes": batch.dishes})
    if batch.portion_type:
        portion = batch.get_portion_type_display()
        if batch.portion_grams:
            portion = _("%(type)s, %(grams)s g") % {"type": portion, "grams": batch.portion_grams}
        lines.append(_("Portions : %(portion)s") % {"portion": portion})
    if batch.reheating_instructions:
        lines.append(_("Remise en température : %(text)s") % {"text": batch.reheating_instructions})
    return lines


def in_french(function):
    """Emails go out in the platform's language, whatever the language of the request that caused them."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return function(*args, **kwargs)

    return wrapper


@in_french
def batch_ready_notify(*, batch_id: int) -> int:
    """Tells the association a batch is ready for it; returns the number of emails sent."""
    batch = Batch.objects.select_related("kitchen").get(pk=batch_id)
    if batch.status != Batch.Status.READY:
        return 0
    recipients = association_recipients(batch.association_id)
    subject = _("Passerelle : un lot de %(meals)s repas est prêt à collecter") % {"meals": batch.meals_count}
    body = "\n\n".join(
        [
            batch_summary(batch),
            "\n".join(travelling_details(batch)),
            _("Confirmer la collecte : %(link)s") % {"link": batch_link(batch)},
        ]
    )
    return send_mass_mail(
        [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients], fail_silently=False
    )


@in_french
def use_by_reminders_send(*, today: datetime.date) -> int:
    """Reminds associations of batches still not picked up the day before their use-by date."""
    due = Batch.objects.all_territories().filter(
        status=Batch.Status.READY, use_by_date=today + datetime.timedelta(days=1)
    )
    messages = []
    for batch in due.select_related("kitchen"):
        subject = _("Passerelle : lot %(lot)s à collecter avant demain") % {"lot": batch.lot_number}
        body = "\n\n".join(
            [
                _("Ce lot n'a pas encore été collecté et sa date limite de consommation est demain."),
                batch_summary(batch),
                batch_link(batch),
            ]
        )
        messages += [
            (subject, body, settings.DEFAULT_FROM_EMAIL, [email])
            for email in association_recipients(batch.association_id)
        ]
    return send_mass_mail(messages, fail_silently=False)


@in_french
def batch_recall_notify(*, batch_id: int) -> int:
    """Tells the association concerned by a recalled lot, at once: what the lot is, why it is
    recalled, and where its meals went (every distribution recorded so far)."""
    batch = Batch.objects.select_related("kitchen").get(pk=batch_id)
    if batch.recalled_at is None:
        return 0
    distributions = [
        _("- %(site)s, le %(day)s : %(meals)s repas")
        % {
            "site": row.site.name,
            "day": row.distributed_on.strftime("%d/%m/%Y"),
            "meals": row.meals_distributed,
        }
        for row in batch.distributions.select_related("site").order_by("distributed_on", "pk")
    ]
    subject = _("Passerelle : RAPPEL du lot %(lot)s — ne pas consommer") % {"lot": batch.lot_number}
    parts = [
        _("La cuisine ou la collectivité a rappelé ce lot : ses repas ne doivent pas être consommés."),
        _("Motif du rappel : %(reason)s") % {"reason": batch.recall_reason},
        batch_summary(batch),
    ]
    if distributions:
        parts.append(_("Distributions déjà enregistrées :") + "\n" + "\n".join(distributions))
    parts.append(batch_link(batch))
    body = "\n\n".join(parts)
    recipients = association_recipients(batch.association_id)
    return send_mass_mail(
        [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients], fail_silently=False
    )
