"""The legal duties the authority watches for its territory (its page and the dashboard).

- A caterer preparing more than 3,000 meals a day must offer a donation convention to a
  habilitated association (Code de l'environnement L541-15-6, extended to collective catering by
  ordonnance n° 2019-1069 of 21 October 2019): a kitchen whose usual production exceeds 3,000
  meals a day with no active donation convention is listed. 3,000 is not over; 3,001 is.
- A kitchen's sanitary approval (agrément sanitaire, or its exemption and why), which the
  traceability of batches prints: a kitchen with neither is listed.
- An association's habilitation for food aid (CASF L266-2) that ends within 60 days or has
  ended: listed, and its coordinator and the territory's authority are told by e-mail once per
  threshold (``habilitation_alerts_send``, run daily by Celery beat).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from territories.models import TerritoryOwned

from .conventions.selectors import ENDING_SOON_DAYS, conventions_watched

if TYPE_CHECKING:
    from kitchens.models import Kitchen

# Ordonnance n° 2019-1069: the duty applies above 3,000 meals a day.
DONATION_DUTY_MEALS_PER_DAY = 3000
HABILITATION_WARNING_DAYS = 60


class HabilitationAlert(TerritoryOwned):
    """One e-mail sent about an association's habilitation, once per threshold and end date."""

    funder_visible = False

    class Threshold(models.TextChoices):
        SOON = "soon", gettext_lazy("Fin dans moins de 60 jours")
        ENDED = "ended", gettext_lazy("Habilitation terminée")

    association = models.ForeignKey("associations.Association", on_delete=models.CASCADE, related_name="+")
    threshold = models.CharField(max_length=10, choices=Threshold.choices)
    expires_on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "associations"
        verbose_name = gettext_lazy("alerte d'habilitation")
        verbose_name_plural = gettext_lazy("alertes d'habilitation")
        constraints = [
            models.UniqueConstraint(
                fields=["association", "threshold", "expires_on"], name="one_habilitation_alert_per_threshold"
            )
        ]


def active_donation_convention(today: datetime.date) -> Exists:
    """Whether the kitchen of the outer query has an active donation convention today."""
    from .models import Partnership

    return Exists(
        Partnership.objects.filter(
            kitchen=OuterRef("pk"),
            mode=Partnership.Mode.SURPLUS,
            status=Partnership.Status.ACTIVE,
            starts_on__lte=today,
        ).filter(models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=today))
    )


# Over 3,000 meals a day (not 3,000 itself).
OVER_DONATION_THRESHOLD = models.Q(usual_daily_production__gt=DONATION_DUTY_MEALS_PER_DAY)
WITHOUT_SANITARY_APPROVAL = models.Q(sanitary_approval_number="", sanitary_approval_exempt=False)


def kitchen_duties(kitchens: QuerySet, today: datetime.date) -> tuple[list[Kitchen], list[Kitchen]]:
    """Both kitchen duties from one query of the few columns the pages show: (kitchens owing a
    donation convention, kitchens without a sanitary approval), each by name."""
    rows = list(
        kitchens.annotate(donating=active_donation_convention(today))
        .filter(OVER_DONATION_THRESHOLD | WITHOUT_SANITARY_APPROVAL)
        .only("pk", "name", "usual_daily_production", "sanitary_approval_number", "sanitary_approval_exempt")
        .order_by("name", "pk")
    )
    owing = [
        kitchen
        for kitchen in rows
        if kitchen.usual_daily_production > DONATION_DUTY_MEALS_PER_DAY and not kitchen.donating
    ]
    unapproved = [
        kitchen
        for kitchen in rows
        if not kitchen.sanitary_approval_number and not kitchen.sanitary_approval_exempt
    ]
    return owing, unapproved


def habilitations_ending(associations: QuerySet, today: datetime.date) -> QuerySet:
    """Habilitated associations whose habilitation ends within 60 days or has ended."""
    return associations.exclude(habilitation="none").filter(
        habilitation_expires_on__isnull=False,
        habilitation_expires_on__lte=today + datetime.timedelta(days=HABILITATION_WARNING_DAYS),
    )


def territory_duties(*, user: Any, territory: Any, today: datetime.date) -> dict[str, Any]:
    """Everything the authority's page and the dashboard show about duties, read for this user."""
    from kitchens.models import Kitchen

    from .models import Association, Partnership

    kitchens = Kitchen.objects.for_user(user).filter(territory=territory)
    partnerships = Partnership.objects.for_user(user).filter(territory=territory)
    owing_donation, without_sanitary_approval = kitchen_duties(kitchens, today)
    awaiting_signature, ending_soon = conventions_watched(partnerships, today)
    return {
        "awaiting_signature": awaiting_signature,
        "ending_soon": ending_soon,
        "ending_soon_days": ENDING_SOON_DAYS,
        "owing_donation": owing_donation,
        "donation_threshold": DONATION_DUTY_MEALS_PER_DAY,
        "without_sanitary_approval": without_sanitary_approval,
        "habilitations_ending": list(
            habilitations_ending(Association.objects.for_user(user).filter(territory=territory), today)
        ),
        "today": today,
    }


def recipients_of(association: Any) -> list[str]:
    """The association's coordinators and the territory's authority coordinators, by e-mail."""
    from territories.models import Membership
    from territories.roles import Role

    memberships = Membership.objects.filter(
        models.Q(role=Role.ASSOCIATION_COORDINATOR, association=association)
        | models.Q(role=Role.AUTHORITY_COORDINATOR, territory_id=association.territory_id)
    ).select_related("user")
    return sorted({m.user.email for m in memberships if m.user.email and m.user.is_active})


def habilitation_alerts_send(*, today: datetime.date) -> int:
    """Tells each association whose habilitation ends within 60 days, then again once it has
    ended; each threshold once per end date (a renewed habilitation is watched anew)."""
    from .models import Association

    sent = 0
    for association in habilitations_ending(Association.objects.all_territories(), today):
        expires_on = association.habilitation_expires_on
        ended = expires_on < today
        threshold = HabilitationAlert.Threshold.ENDED if ended else HabilitationAlert.Threshold.SOON
        try:
            with transaction.atomic():
                HabilitationAlert.objects.create(
                    territory_id=association.territory_id,
                    association=association,
                    threshold=threshold,
                    expires_on=expires_on,
                )
                recipients = recipients_of(association)
                if recipients:
                    if ended:
                        subject = _("Habilitation terminée : %(name)s") % {"name": association.name}
                        body = _(
                            "L'habilitation à l'aide alimentaire de %(name)s a pris fin le %(day)s. "
                            "Elle ne peut plus recevoir de dons d'excédents avant son renouvellement."
                        )
                    else:
                        subject = _("Habilitation bientôt terminée : %(name)s") % {"name": association.name}
                        body = _(
                            "L'habilitation à l'aide alimentaire de %(name)s prend fin le %(day)s. "
                            "Pensez à demander son renouvellement pour continuer à recevoir des dons."
                        )
                    send_mail(
                        subject,
                        body % {"name": association.name, "day": expires_on.strftime("%d/%m/%Y")},
                        settings.DEFAULT_FROM_EMAIL,
                        recipients,
                    )
                    sent += 1
        except IntegrityError:
            continue  # already told at this threshold
    return sent
