"""The tenant rule, written once.

Every queryset that reaches a user goes through ``Model.objects.for_user(user, action)``.
Each model states, per membership, which rows that membership may view and which
it may change (``view_rule`` / ``change_rule`` returning a ``Q`` or ``None``).
The user's reach is the union over their memberships; no membership, an unknown
role or an anonymous user gives ``none()``: the rule fails closed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from .models import Membership

# "view" and "change" apply to every model; a model may add actions of its own
# (``pickup_rule``, ``recall_rule`` on batches, ``sign_in_link_rule`` on memberships) by
# defining ``<action>_rule``.
Action = Literal["view", "change", "pickup", "recall", "respond", "sign_in_link"]

_Model = TypeVar("_Model", bound=models.Model, covariant=True)

# A rule meaning "every row", kept as a real condition so it composes with OR.
EVERY_ROW = Q(pk__isnull=False)


def memberships_of(user: Any) -> list[Membership]:
    """The user's memberships, loaded once per user object (so once per request)."""
    cached = getattr(user, "_passerelle_memberships", None)
    if cached is None:
        from .models import Membership

        cached = list(Membership.objects.filter(user_id=user.pk).prefetch_related("funded_territories"))
        user._passerelle_memberships = cached
    return cached


class TerritoryQuerySet(models.QuerySet[_Model]):
    def for_user(self, user: Any, action: Action = "view") -> Self:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all_territories()
        rule = getattr(self.model, f"{action}_rule")
        allowed: Q | None = None
        for membership in memberships_of(user):
            condition = rule(membership)
            if condition is not None:
                allowed = condition if allowed is None else allowed | condition
        if allowed is None:
            return self.none()
        return self.filter(allowed)

    def all_territories(self) -> Self:
        """The deliberate bypass of the tenant rule, for tasks and staff tools."""
        return self.all()


TerritoryManager = models.Manager.from_queryset(TerritoryQuerySet)


class ScopedModel(models.Model):
    """Shared rule helpers; subclasses say how their rows relate to a territory."""

    # The lookup that leads from a row to its territory's id.
    territory_id_lookup = "territory_id"
    # Whether funders see rows of this model in the territories they fund.
    funder_visible = True

    objects = TerritoryManager()

    class Meta:
        abstract = True

    @classmethod
    def in_territories(cls, territory_ids: list[int]) -> Q:
        return Q(**{f"{cls.territory_id_lookup}__in": territory_ids})

    @classmethod
    def view_rule(cls, membership: Membership) -> Q | None:
        from .roles import ALL_TERRITORY_ROLES, TERRITORIAL_ROLES, Role

        if membership.role in ALL_TERRITORY_ROLES:
            return EVERY_ROW
        if membership.role == Role.FUNDER:
            return cls.in_territories(membership.funded_territory_ids) if cls.funder_visible else None
        if membership.role in TERRITORIAL_ROLES and membership.territory_id:
            return cls.in_territories([membership.territory_id])
        return None

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return None

    def clean_fields(self, exclude: Any = None) -> None:
        """Django's field checks, then the platform's bounds (``territories.bounds``), so that
        forms and the admin refuse what the API refuses, on SQLite as on PostgreSQL."""
        from django.core.exceptions import ValidationError

        from .bounds import instance_errors

        errors: dict[str, list[Any]] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = dict(error.error_dict)
        names = [field.name for field in self._meta.concrete_fields if field.name not in (exclude or ())]
        for name, messages in instance_errors(self, names).items():
            errors.setdefault(name, messages)
        if errors:
            raise ValidationError(errors)
