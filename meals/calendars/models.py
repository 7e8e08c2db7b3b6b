"""Private calendar feeds (iCalendar): one per volunteer and one per association.

A feed is reached by the secret token in its address, without a login, so that a phone's
calendar app can subscribe to it; its owner revokes it (the address then answers 404) and may
draw a new one. Only the owner's items are in it (``meals.calendars.feeds``)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    """43 URL-safe characters drawn from 256 random bits."""
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """The secret address of a user's or an association's calendar."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
        verbose_name=_("bénévole"),
    )
    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
        verbose_name=_("association"),
    )
    token = models.CharField(_("jeton"), max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("agenda privé")
        verbose_name_plural = _("agendas privés")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True, association__isnull=False)
                | Q(user__isnull=False, association__isnull=True),
                name="calendar_feed_one_owner",
            ),
            # One address in use per owner: drawing a new one revokes the old.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True, user__isnull=False),
                name="calendar_feed_user_live",
            ),
            models.UniqueConstraint(
                fields=["association"],
                condition=Q(revoked_at__isnull=True, association__isnull=False),
                name="calendar_feed_association_live",
            ),
        ]

    def __str__(self) -> str:
        owner = self.user if self.user_id else self.association
        return f"Agenda de {owner}"
