"""Sign-in links: a coordinator e-mails a volunteer a link that signs them in without a password.

The tokens are django-sesame's (``SESAME_*`` in ``config.settings``):

- **single use**: a token carries the user's last login, which signing in changes;
- **expiring**: ``SESAME_MAX_AGE`` (4 hours unless ``PASSERELLE_SIGN_IN_LINK_HOURS`` says
  otherwise), and a password change kills every link sent before it;
- **bound to one membership**: the token's scope names the volunteer membership it was sent
  for, and the link is refused once that membership is removed (or no longer a volunteer's),
  even within its hours.

Opening the link shows a page with one button; the token is spent only when it is pressed
(a POST), so a mail client or a virus scanner that fetches the link does not use it up. The
volunteer then lands on "À collecter". Passwords keep working: a link is one more way in.

Who sends: the coordinator of the volunteer's association, or the authority coordinator of the
volunteer's territory (``Membership.sign_in_link_rule``); any other membership answers 404.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from sesame.backends import ModelBackend as SesameBackend
from sesame.utils import get_token

from .models import Membership
from .roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TOKEN_PARAM = "sesame"  # noqa: S105 (the name of the query parameter, not a secret)


def link_hours() -> int:
    return math.ceil(settings.SESAME_MAX_AGE / 3600)


def scope_of(membership_id: int) -> str:
    return f"membership:{membership_id}"


def reachable_volunteers(user: Any) -> QuerySet[Membership]:
    """The volunteer memberships ``user`` may send a sign-in link to (tenant rule)."""
    return Membership.objects.for_user(user, "sign_in_link").select_related("user", "association")


def sign_in_link_send(*, membership: Membership, request: HttpRequest) -> str:
    """E-mails the volunteer a sign-in link; returns the address it went to.

    The caller found ``membership`` through ``reachable_volunteers``."""
    volunteer: User = membership.user
    token = get_token(volunteer, scope=scope_of(membership.pk))
    path = reverse("sign-in-link", kwargs={"pk": membership.pk})
    link = request.build_absolute_uri(f"{path}?{TOKEN_PARAM}={token}")
    hours = link_hours()
    body = "\n\n".join(
        [
            _("Bonjour,"),
            _(
                "Voici votre lien pour vous connecter à Passerelle sans mot de passe, pour "
                "l'association %(association)s :"
            )
            % {"association": membership.association},
            link,
            ngettext(
                "Il ne sert qu'une fois et expire dans %(hours)s heure. Votre mot de passe, si vous "
                "en avez un, reste valable.",
                "Il ne sert qu'une fois et expire dans %(hours)s heures. Votre mot de passe, si vous "
                "en avez un, reste valable.",
                hours,
            )
            % {"hours": hours},
            _("Si vous n'attendiez pas ce message, ignorez-le."),
        ]
    )
    send_mail(_("Votre lien de connexion à Passerelle"), body, None, [volunteer.email])
    return volunteer.email


def sign_in_user(*, request: HttpRequest, membership_id: int, token: str | None) -> User | None:
    """The volunteer a link signs in, or None: a bad, used or expired token, or a membership
    that was removed (or is no longer a volunteer's). Spends nothing: ``login`` does.

    The token is checked by sesame's backend itself: the login-failure counter (django-axes)
    is for passwords, and an address shared by a whole association must not be locked out
    by a few stale links."""
    if not token:
        return None
    # Reached without an account: the link itself names the membership.
    membership = Membership.objects.all_territories().filter(pk=membership_id, role=Role.VOLUNTEER).first()
    if membership is None:
        return None
    user = SesameBackend().authenticate(request, sesame=token, scope=scope_of(membership_id))
    if user is None or user.pk != membership.user_id:
        return None
    return user
