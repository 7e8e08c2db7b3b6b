"""Field rights, written once beside the tenant rule (``territories/scoping.py``).

Some fields are granted, not declared: an association's habilitation to receive food aid
(kind, number, end date), a kitchen's daily capacity and its sanitary approval (number, or
exemption with its reason), a
partnership's status. The platform's rules rest on them (surplus goes only to a habilitated
association, a batch stays within the kitchen's capacity, batches are declared on an active
partnership), so the actor they describe must not grant them to itself. Only the territory's
authority coordinator, an evaluator or an administrator (superuser) changes them; every
other role reads them and sees them read-only.

The row rule (``change_rule``) still decides who writes the record at all; this rule narrows
which of its fields a writer may change. Both apply: the API refuses a changed granted field
with a 400 and a French message on that field (``api_base.ModelCleanSerializer``), and forms
show the field disabled and keep its stored value (``locked_fields`` for a form's fields).
Sending the stored value back unchanged is not a change, so a client that sends whole
records (PUT) keeps working.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import Role
from .scoping import memberships_of

# Model label → the fields only the territory's authority, an evaluator or an administrator change.
GRANTED_FIELDS: dict[str, tuple[str, ...]] = {
    "associations.Association": ("habilitation", "habilitation_number", "habilitation_expires_on"),
    "kitchens.Kitchen": (
        "daily_capacity",
        "sanitary_approval_number",
        "sanitary_approval_exempt",
        "sanitary_exemption_reason",
    ),
    "associations.Partnership": ("status",),
}

GRANTED_MESSAGE = _(
    "Ce champ est accordé par la collectivité du territoire : seuls son coordinateur, un "
    "évaluateur ou un administrateur le modifient."
)
GRANTED_HELP = _(
    "Accordé : modifiable par le coordinateur de la collectivité du territoire, un évaluateur "
    "ou un administrateur."
)


def granted_fields(model: type[models.Model] | models.Model) -> tuple[str, ...]:
    return GRANTED_FIELDS.get(model._meta.label, ())


def may_grant(user: Any, territory_id: int | None) -> bool:
    """Whether ``user`` changes the granted fields of a record of this territory (fails closed)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    for membership in memberships_of(user):
        if membership.role == Role.EVALUATOR:
            return True
        if (
            membership.role == Role.AUTHORITY_COORDINATOR
            and territory_id is not None
            and membership.territory_id == territory_id
        ):
            return True
    return False


def locked_fields(user: Any, model: type[models.Model], instance: models.Model | None) -> tuple[str, ...]:
    """The granted fields of ``model`` that ``user`` sees read-only on ``instance`` (None: a new record)."""
    fields = granted_fields(model)
    if not fields:
        return ()
    territory_id = getattr(instance, "territory_id", None) if instance is not None else None
    return () if may_grant(user, territory_id) else fields


def territory_of(values: dict[str, Any]) -> int | None:
    """The territory a new record will belong to: named, or that of its kitchen or association."""
    territory = values.get("territory")
    if territory is not None:
        return getattr(territory, "pk", territory)
    for actor in ("kitchen", "association"):
        if values.get(actor) is not None:
            return getattr(values[actor], "territory_id", None)
    return None


def refused_changes(
    user: Any, model: type[models.Model], instance: models.Model | None, values: dict[str, Any]
) -> dict[str, Any]:
    """The granted fields that ``values`` would change and ``user`` may not, with their message.

    On a new record, a granted field may only be left at its default (nothing granted yet); a
    territory named in ``values`` counts (an authority coordinator creating in its own territory)."""
    fields = granted_fields(model)
    if not fields:
        return {}
    if instance is not None:
        allowed = may_grant(user, getattr(instance, "territory_id", None))
    else:
        allowed = may_grant(user, territory_of(values))
    if allowed:
        return {}
    refused = {}
    for name in fields:
        if name not in values:
            continue
        if instance is not None:
            current = getattr(instance, name)
        else:
            field = model._meta.get_field(name)
            current = field.get_default() if field.has_default() else None  # type: ignore[union-attr]
        if values[name] != current:
            refused[name] = [GRANTED_MESSAGE]
    return refused


def lock_form_fields(form: Any, fields: tuple[str, ...]) -> None:
    """Shows ``fields`` disabled: the browser sends nothing for them and Django keeps the stored value."""
    for name in fields:
        field = form.fields.get(name)
        if field is not None:
            field.disabled = True
            field.help_text = GRANTED_HELP


class GrantedFieldsAdminMixin:
    """For a ModelAdmin: the granted fields are disabled for a user who may not grant them."""

    model: type[models.Model]

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        locked = locked_fields(request.user, self.model, obj)
        if not locked:
            return form_class

        class LockedForm(form_class):  # type: ignore[misc,valid-type]
            def __init__(self, *args: Any, **form_kwargs: Any) -> None:
                super().__init__(*args, **form_kwargs)
                lock_form_fields(self, locked)

        return LockedForm
