"""The roles of a Membership and what each needs to be attached to."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    KITCHEN_MANAGER = "kitchen_manager", _("Responsable de cuisine")
    VOLUNTEER = "volunteer", _("Bénévole d'association")
    ASSOCIATION_COORDINATOR = "association_coordinator", _("Coordinateur d'association")
    AUTHORITY_COORDINATOR = "authority_coordinator", _("Coordinateur de collectivité")
    EVALUATOR = "evaluator", _("Évaluateur")
    FUNDER = "funder", _("Financeur")


# The actor a role must name, by the Membership field that holds it.
ROLE_ACTOR_FIELD: dict[str, str | None] = {
    Role.KITCHEN_MANAGER: "kitchen",
    Role.VOLUNTEER: "association",
    Role.ASSOCIATION_COORDINATOR: "association",
    Role.AUTHORITY_COORDINATOR: "authority",
    Role.EVALUATOR: None,
    Role.FUNDER: None,
}

# Roles whose sight covers every territory, and roles bound to the territories they fund.
ALL_TERRITORY_ROLES = frozenset({Role.EVALUATOR})
TERRITORIAL_ROLES = frozenset(
    {Role.KITCHEN_MANAGER, Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR}
)
