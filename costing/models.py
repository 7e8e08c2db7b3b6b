"""Cost inputs per territory and month, reference values, and the roll-up tables.

Every amount is in euros. An input left empty is *missing*, never zero: the cost
method reports it and marks the figure incomplete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from meals.models import TransportMode
from territories.models import Territory, TerritoryOwned
from territories.roles import Role
from territories.scoping import EVERY_ROW, ScopedModel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from territories.models import Membership


def amount(verbose_name: StrOrPromise, **kwargs) -> models.DecimalField:
    """A non-negative amount in euros, empty when not known."""
    return models.DecimalField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        **kwargs,
    )


def hours(verbose_name: StrOrPromise) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )


class MonthlyInput(TerritoryOwned):
    """An input that holds for one calendar month (``month`` is its first day)."""

    month = models.DateField(_("mois"), help_text=_("Premier jour du mois."))

    class Meta:
        abstract = True

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("Indiquez le premier jour du mois.")})


class KitchenCostInput(MonthlyInput):
    """What a kitchen's meals cost at the margin in a month."""

    kitchen = models.ForeignKey(
        "kitchens.Kitchen", on_delete=models.PROTECT, related_name="cost_inputs", verbose_name=_("cuisine")
    )
    food_cost_per_meal = amount(_("denrées par repas"))
    packaging_per_meal = amount(_("conditionnement par repas"))
    energy_per_meal = amount(_("énergie par repas"))
    extra_labour_hours = hours(_("heures de travail supplémentaires (repas dédiés)"))
    labour_hourly_cost = amount(_("coût horaire chargé du travail"))
    surplus_handling_hours = hours(_("heures de manutention des excédents"))
    other_direct_costs = amount(_("autres coûts directs du mois"))

    class Meta:
        verbose_name = _("coûts d'une cuisine (mois)")
        verbose_name_plural = _("coûts des cuisines (mois)")
        ordering = ["-month", "kitchen__name"]
        constraints = [
            models.UniqueConstraint(fields=["kitchen", "month"], name="one_kitchen_cost_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.kitchen} — {self.month:%m/%Y}"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.KITCHEN_MANAGER and membership.kitchen_id:
            return Q(kitchen_id=membership.kitchen_id)
        return None

    def clean(self) -> None:
        super().clean()
        if self.kitchen_id and self.territory_id and self.kitchen.territory_id != self.territory_id:
            raise ValidationError({"kitchen": _("Cette cuisine appartient à un autre territoire.")})


class TransportRate(MonthlyInput):
    """The territory's scale to estimate a pickup's cost when no actual cost was entered."""

    transport_mode = models.CharField(_("mode de transport"), max_length=30, choices=TransportMode.choices)
    cost_per_km = amount(_("coût par km"))
    driver_hourly_cost = amount(_("coût horaire du conducteur"))

    class Meta:
        verbose_name = _("barème de transport (mois)")
        verbose_name_plural = _("barèmes de transport (mois)")
        ordering = ["-month", "transport_mode"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "month", "transport_mode"], name="one_transport_rate_per_mode_and_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_transport_mode_display()} — {self.month:%m/%Y}"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return cls.territory_coordinator_rule(membership)


class AssociationCost(MonthlyInput):
    """An association's costs for the meals it collects and hands out, in a month."""

    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="costs",
        verbose_name=_("association"),
    )
    paid_staff_hours = hours(_("heures de salariés"))
    paid_staff_hourly_cost = amount(_("coût horaire des salariés"))
    volunteer_hours = hours(_("heures de bénévoles"))
    premises_cost = amount(_("locaux"))
    equipment_cost = amount(_("équipement (valeur d'achat)"))
    equipment_amortisation_months = models.PositiveIntegerField(
        _("durée d'amortissement de l'équipement (mois)"), null=True, blank=True
    )
    other_costs = amount(_("autres coûts"))

    class Meta:
        verbose_name = _("coûts d'une association (mois)")
        verbose_name_plural = _("coûts des associations (mois)")
        ordering = ["-month", "association__name"]
        constraints = [
            models.UniqueConstraint(fields=["association", "month"], name="one_association_cost_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.association} — {self.month:%m/%Y}"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id:
            return Q(association_id=membership.association_id)
        return None

    def clean(self) -> None:
        super().clean()
        errors: dict[str, StrOrPromise] = {}
        if self.association_id and self.territory_id and self.association.territory_id != self.territory_id:
            errors["association"] = _("Cette association appartient à un autre territoire.")
        if self.equipment_cost and not self.equipment_amortisation_months:
            errors["equipment_amortisation_months"] = _("Indiquez la durée d'amortissement de l'équipement.")
        if errors:
            raise ValidationError(errors)


class CoordinationCost(MonthlyInput):
    """The time a local authority spends coordinating the partnership, in a month."""

    authority = models.ForeignKey(
        "territories.Authority",
        on_delete=models.PROTECT,
        related_name="coordination_costs",
        verbose_name=_("collectivité"),
    )
    staff_hours = hours(_("heures de coordination"))
    staff_hourly_cost = amount(_("coût horaire chargé"))
    other_costs = amount(_("autres coûts"))

    class Meta:
        verbose_name = _("coût de coordination (mois)")
        verbose_name_plural = _("coûts de coordination (mois)")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "month"], name="one_coordination_cost_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.authority} — {self.month:%m/%Y}"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.AUTHORITY_COORDINATOR and membership.authority_id:
            return Q(authority_id=membership.authority_id)
        return None

    def clean(self) -> None:
        super().clean()
        if self.authority_id and self.territory_id and self.authority.territory_id != self.territory_id:
            raise ValidationError({"authority": _("Cette collectivité appartient à un autre territoire.")})


class Funding(TerritoryOwned):
    """A grant that pays for the partnership over a period."""

    class Funder(models.TextChoices):
        DRIHL = "drihl", _("DRIHL (France Relance)")
        CARASSO = "carasso", _("Fondation Carasso")
        AUTHORITY = "authority", _("Collectivité")
        OTHER = "other", _("Autre")

    funder = models.CharField(_("financeur"), max_length=20, choices=Funder.choices)
    funder_name = models.CharField(_("nom du financeur"), max_length=200, blank=True)
    amount = models.DecimalField(
        _("montant (€)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    period_start = models.DateField(_("début"))
    period_end = models.DateField(_("fin"))
    recipient = models.CharField(
        _("bénéficiaire de la subvention"),
        max_length=12,
        choices=[
            ("authority", _("Collectivité")),
            ("association", _("Association")),
            ("kitchen", _("Cuisine")),
        ],
        default="authority",
        help_text=_("Qui reçoit la subvention : son coût net en tient compte."),
    )

    class Meta:
        verbose_name = _("financement")
        verbose_name_plural = _("financements")
        ordering = ["-period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="funding_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_funder_display()} — {self.amount} €"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.EVALUATOR:
            return EVERY_ROW
        return cls.territory_coordinator_rule(membership)

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": _("La fin précède le début.")})


class ReferenceValue(ScopedModel):
    """A value from outside the platform (cost of a food parcel, CO2 per meal...), with its source."""

    class Code(models.TextChoices):
        FOOD_PARCEL_COST = (
            "food_parcel_cost_per_meal",
            _("Coût d'un colis alimentaire par équivalent repas (€)"),
        )
        SOCIAL_GROCERY_COST = (
            "social_grocery_cost_per_meal",
            _("Coût en épicerie solidaire par équivalent repas (€)"),
        )
        CO2_PER_MEAL = "co2_kg_per_meal", _("CO2 par repas (kg éq. CO2)")
        CO2_PER_KG_WASTE = "co2_kg_per_kg_waste", _("CO2 par kg de gaspillage évité (kg éq. CO2)")
        MEAL_WEIGHT = "meal_weight_kg", _("Poids moyen d'un repas (kg)")
        VOLUNTEER_HOUR = "volunteer_hour_value", _("Valorisation d'une heure de bénévolat (€)")
        SOCIAL_RESTAURANT_COST = (
            "social_restaurant_cost_per_meal",
            _("Coût d'un repas en restaurant social (€)"),
        )

    territory_id_lookup = "pk"  # not owned by a territory: every member may read it

    code = models.CharField(_("valeur"), max_length=40, choices=Code.choices)
    value = models.DecimalField(
        _("valeur"), max_digits=12, decimal_places=4, validators=[MinValueValidator(0)]
    )
    scope = models.TextField(
        _("périmètre"), blank=True, help_text=_("Ce que la valeur mesure exactement, et ce qu'elle exclut.")
    )
    unit = models.CharField(_("unité"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=300)
    source_date = models.DateField(_("date de la source"))
    valid_from = models.DateField(_("valable à partir du"))
    valid_until = models.DateField(
        _("valable jusqu'au"), null=True, blank=True, help_text=_("Vide : jusqu'à la valeur suivante.")
    )

    class Meta:
        verbose_name = _("valeur de référence")
        verbose_name_plural = _("valeurs de référence")
        ordering = ["code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="one_reference_value_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()} : {self.value}"

    @classmethod
    def view_rule(cls, membership: Membership) -> Q | None:
        return EVERY_ROW

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return EVERY_ROW if membership.role == Role.EVALUATOR else None

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("La fin de validité précède son début.")})


class DailyRollup(ScopedModel):
    """The day's flow of one partnership, derived from batches, pickups and distributions.

    Rebuilt from the records by ``costing.rollups``; never edited by hand. Counts only,
    so funders may read them in the territories they fund.

    Derived rows carry no foreign-key constraint in the database: their ids come from the
    records (whose own keys are constrained) in the statement that writes them, Django still
    cascades deletions, and checking four keys per row was 40 % of a full rebuild
    (docs/benchmarks.md). The unique constraint's index (territory, day, partnership) serves
    the territory and territory-day lookups, so they have no index of their own.
    """

    territory = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    partnership = models.ForeignKey(
        "associations.Partnership", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    kitchen = models.ForeignKey(
        "kitchens.Kitchen", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    association = models.ForeignKey(
        "associations.Association", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    day = models.DateField()
    # Batches, by production date.
    batches = models.PositiveIntegerField(default=0)
    meals_produced_dedicated = models.PositiveIntegerField(default=0)
    meals_produced_surplus = models.PositiveIntegerField(default=0)
    batches_cancelled = models.PositiveIntegerField(default=0)
    batches_expired = models.PositiveIntegerField(default=0, help_text="Still ready past their use-by date.")
    dispatch_breaches = models.PositiveIntegerField(default=0)
    meals_expired = models.PositiveIntegerField(
        default=0, help_text="Meals of batches never collected before their use-by date."
    )
    batches_recalled = models.PositiveIntegerField(default=0)
    meals_recalled = models.PositiveIntegerField(default=0, help_text="Meals withdrawn by a recall.")
    # Pickups, by pickup day.
    pickups = models.PositiveIntegerField(default=0)
    pickups_on_time = models.PositiveIntegerField(
        default=0, help_text="Picked up on or before the use-by date."
    )
    meals_picked_up = models.PositiveIntegerField(default=0)
    receipt_breaches = models.PositiveIntegerField(default=0)
    meals_short = models.PositiveIntegerField(
        default=0, help_text="Meals of the batch not received at pickup (shortfall, with its reason)."
    )
    km = models.DecimalField(max_digits=12, decimal_places=1, default=0)
    transport_minutes = models.PositiveIntegerField(default=0)
    transport_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="Recorded, else estimated from the month's rate.",
    )
    pickups_without_cost = models.PositiveIntegerField(
        default=0, help_text="Pickups with neither a recorded cost nor a rate for their mode and month."
    )
    # Distributions, by distribution day.
    distributions = models.PositiveIntegerField(default=0)
    meals_distributed = models.PositiveIntegerField(default=0)
    meals_discarded = models.PositiveIntegerField(default=0)
    people_served = models.PositiveIntegerField(default=0)
    households = models.PositiveIntegerField(default=0)
    children = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("agrégat journalier")
        verbose_name_plural = _("agrégats journaliers")
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "day", "partnership"], name="one_rollup_per_partnership_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partnership_id} {self.day}"


class StaleDay(ScopedModel):
    """A territory-day whose roll-ups (and its month's cost figures) lag behind its records.

    The write that changes the day's records marks it in its own transaction; the roll-up task
    that rebuilt the day clears the mark it read, unless a later write marked it again
    (``marked_at`` moved); the sweeper sends again every mark older than a few minutes
    (``costing.pending``). Such a row means "being brought up to date": dashboards say so.
    """

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField()
    # When the sweeper last sent it (None: never); it waits as long again before sending it anew.
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("journée à recalculer")
        verbose_name_plural = _("journées à recalculer")
        constraints = [models.UniqueConstraint(fields=["territory", "day"], name="one_stale_mark_per_day")]
        indexes = [models.Index(fields=["marked_at"], name="stale_day_marked_at")]

    def __str__(self) -> str:
        return f"{self.territory_id} {self.day}"


class MonthlyCost(TerritoryOwned):
    """The cost method's full result for one territory and month, kept so reports and
    dashboards read frozen figures. Refreshed by ``costing.services.monthly_cost_refresh``."""

    month = models.DateField(_("mois"), help_text=_("Premier jour du mois."))
    figures = models.JSONField(_("chiffres"), default=dict, help_text=_("Le résultat complet de la méthode."))
    complete = models.BooleanField(_("complet"), default=False)
    computed_at = models.DateTimeField(_("calculé le"), auto_now=True)

    class Meta:
        verbose_name = _("coût mensuel d'un territoire")
        verbose_name_plural = _("coûts mensuels des territoires")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "month"], name="one_monthly_cost_per_territory")
        ]

    def __str__(self) -> str:
        return f"{self.territory_id} — {self.month:%m/%Y}"


class RollupVersion(models.Model):
    """A counter per territory and month of what the figures read off the roll-ups depend on.

    Every write that changes a territory-month's roll-ups, its stale-day marks or its monthly
    cost figures bumps it in its own transaction (``costing.versions.bump``): the roll-up of a
    territory-day, a rebuild of a range, a stale mark set or cleared, a cost input saved, the
    month's cost figures refreshed. The cached figures and pages key on the sum of the counters
    of their months (``costing.versions.versions_of``), so a write followed by a read shows the
    new figure, on SQLite as on PostgreSQL. A counter only grows; its row is never deleted but
    with its territory. Never shown to users: no scope."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    month = models.DateField()
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("version des agrégats")
        verbose_name_plural = _("versions des agrégats")
        constraints = [
            models.UniqueConstraint(fields=["territory", "month"], name="one_rollup_version_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.territory_id} {self.month} v{self.version}"


# The programme's budgets, revenues, expenses and the kitchens' fixed costs.
from .finance_models import (  # noqa: E402
    BudgetCategory,
    BudgetLine,
    CoFunder,
    Expense,
    KitchenFixedCost,
    Revenue,
)

__all__ = [
    "AssociationCost", "BudgetCategory", "BudgetLine", "CoFunder", "CoordinationCost", "DailyRollup",
    "Expense", "Funding", "KitchenCostInput", "KitchenFixedCost", "MonthlyCost", "ReferenceValue",
    "Revenue", "RollupVersion", "StaleDay", "TransportRate",
]  # fmt: skip
