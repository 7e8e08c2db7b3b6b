"""API tokens: issued per device, each with an expiry, revoked by their owner or by the account.

Tokens are django-rest-knox's (``territories.models.ApiToken``): only their hash is stored,
``Authorization: Token <key>`` authenticates, an expired token is refused (and deleted).
What this module adds is the project's rules around them:

- a user lists and revokes only their own tokens (another user's token is a 404);
- every token of a user is revoked when the password changes or the account is deactivated,
  whoever makes the change (the account page, the admin, ``changepassword``, a script):
  the rule sits on the user model's save, not in one view.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from knox.settings import knox_settings

from .models import ApiToken


def token_issue(*, user: Any, device: str = "") -> tuple[ApiToken, str]:
    """A new token for one device; the key is returned once and never stored in clear."""
    instance, key = ApiToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL, device=device)
    return instance, key


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    """The user's tokens still in force, newest first."""
    return ApiToken.objects.filter(user_id=user.pk).filter(
        Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    )


def token_revoke(*, user: Any, token_id: int) -> bool:
    """Revokes one of the user's own tokens; False when the user has no such token."""
    deleted, _details = ApiToken.objects.filter(user_id=user.pk, pk=token_id).delete()
    return deleted > 0


def tokens_revoke_all(*, user: Any) -> int:
    deleted, _details = ApiToken.objects.filter(user_id=user.pk).delete()
    return deleted


@receiver(pre_save, sender=get_user_model(), dispatch_uid="territories.tokens.revoke_on_account_change")
def revoke_on_account_change(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A new password or a deactivated account ends every API token of the user."""
    if instance.pk is None or kwargs.get("raw"):
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # the last-login stamp and other partial saves change neither
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["password"] != instance.password or (before["is_active"] and not instance.is_active):
        tokens_revoke_all(user=instance)
