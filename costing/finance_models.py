# ruff: noqa: RUF002, RUF003 - written with the sign × of French arithmetic
"""The programme's money beside the cost method: budgets, co-funders, expenses, revenues, and the
kitchens' yearly fixed costs.

- A funding's **budget** (``BudgetLine``, one per category) and its **co-funders** (``CoFunder``)
  follow the shape of the financial report of a subsidy, Cerfa n° 15059*02 (« compte rendu
  financier de subvention », to be returned to the authority that paid the grant within six
  months of the end of the financial year; service-public.fr, fiche R46623): the action's
  planned and actual charges, by category, with the explanation of each gap, and its
  resources, the grant among its co-funders.
- **Expenses** (``Expense``) are the programme's costs outside the meal flow's inputs
  (evaluation, equipment bought by the authority...), by category and month.
- **Revenues** (``Revenue``) are what the programme receives, by month: beneficiaries'
  contributions, payments by a CCAS or an association for dedicated meals at the convention's
  agreed price, other revenues.
- A kitchen's **fixed costs** of a year (``KitchenFixedCost``) and its production that year
  give the fixed cost per meal, for the full cost including the kitchen's fixed share, kept
  apart from the marginal cost (``costing.net_cost``).

Imported by ``costing.models``. Every amount is in euros; an empty amount is missing, never zero.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Imported at the end of ``costing.models``, once its monthly input is defined.
from kitchens.models import KitchenYearInput
from territories.models import TerritoryOwned
from territories.roles import Role
from territories.scoping import EVERY_ROW

from .models import MonthlyInput

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from territories.models import Membership


class BudgetCategory(models.TextChoices):
    """The categories of a budget, each read from the platform's inputs (``costing.budget``)."""

    FOOD_PRODUCTION = "food_production", _("Denrées et production des repas")
    TRANSPORT = "transport", _("Transport")
    ASSOCIATION_STAFF = "association_staff", _("Personnel des associations")
    COORDINATION = "coordination", _("Coordination")
    EQUIPMENT = "equipment", _("Équipement")
    EVALUATION = "evaluation", _("Évaluation")
    OTHER = "other", _("Autres")


def euros(verbose_name: StrOrPromise, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=12, decimal_places=2, validators=[MinValueValidator(0)], **kwargs
    )


def evaluator_or_coordinator(cls: type[TerritoryOwned], membership: Membership) -> Q | None:
    if membership.role == Role.EVALUATOR:
        return EVERY_ROW
    return cls.territory_coordinator_rule(membership)


class FundingPart(TerritoryOwned):
    """A row attached to one funding, in the funding's territory."""

    funding = models.ForeignKey("costing.Funding", on_delete=models.CASCADE, verbose_name=_("financement"))

    class Meta:
        abstract = True

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return evaluator_or_coordinator(cls, membership)

    def clean(self) -> None:
        if self.funding_id and self.territory_id and self.funding.territory_id != self.territory_id:
            raise ValidationError({"funding": _("Ce financement appartient à un autre territoire.")})


class BudgetLine(FundingPart):
    """The planned amount of one category of a funding's budget, and why the actual differs."""

    funding = models.ForeignKey(
        "costing.Funding",
        on_delete=models.CASCADE,
        related_name="budget_lines",
        verbose_name=_("financement"),
    )
    category = models.CharField(_("catégorie"), max_length=20, choices=BudgetCategory.choices)
    planned = euros(_("montant prévu (€)"))
    explanation = models.TextField(
        _("explication de l'écart"),
        blank=True,
        help_text=_("Ce qui explique l'écart entre le prévu et le réalisé (compte rendu financier)."),
    )

    class Meta:
        verbose_name = _("ligne de budget")
        verbose_name_plural = _("lignes de budget")
        ordering = ["funding", "category"]
        constraints = [
            models.UniqueConstraint(fields=["funding", "category"], name="one_budget_line_per_category")
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} : {self.planned} €"


class CoFunder(FundingPart):
    """Another source of the action's resources, beside the funding (a public body, a foundation)."""

    class Kind(models.TextChoices):
        STATE = "state", _("État")
        REGION = "region", _("Région")
        DEPARTEMENT = "departement", _("Département")
        MUNICIPALITY = "municipality", _("Commune ou intercommunalité")
        CAF = "caf", _("CAF")
        FOUNDATION = "foundation", _("Fondation")
        OWN = "own", _("Fonds propres")
        OTHER = "other", _("Autre")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Demandé")
        GRANTED = "granted", _("Obtenu")

    funding = models.ForeignKey(
        "costing.Funding", on_delete=models.CASCADE, related_name="co_funders", verbose_name=_("financement")
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    organisation = models.CharField(_("organisme"), max_length=200)
    amount = euros(_("montant (€)"))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.GRANTED)

    class Meta:
        verbose_name = _("cofinanceur")
        verbose_name_plural = _("cofinanceurs")
        ordering = ["funding", "-amount", "organisation"]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.amount} €"


class Expense(MonthlyInput):
    """A cost of the programme outside the meal flow's inputs, in one month (its first day)."""

    category = models.CharField(_("catégorie"), max_length=20, choices=BudgetCategory.choices)
    amount = euros(_("montant (€)"))
    label = models.CharField(_("libellé"), max_length=200)

    class Meta:
        verbose_name = _("dépense du programme")
        verbose_name_plural = _("dépenses du programme")
        ordering = ["-month", "category"]

    def __str__(self) -> str:
        return f"{self.label} — {self.month:%m/%Y}"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return evaluator_or_coordinator(cls, membership)


class Revenue(MonthlyInput):
    """What the programme received in one month (its first day).

    A payment for dedicated meals names its partnership and the meals paid: its amount is then
    meals × the convention's agreed price per meal, unless entered."""

    class Kind(models.TextChoices):
        BENEFICIARIES = "beneficiaries", _("Participation des bénéficiaires")
        CCAS_PAYMENT = "ccas_payment", _("Paiement par un CCAS de repas dédiés")
        ASSOCIATION_PAYMENT = "association_payment", _("Paiement par une association de repas dédiés")
        OTHER = "other", _("Autre recette")

    class Receiver(models.TextChoices):
        KITCHEN = "kitchen", _("Cuisine")
        ASSOCIATION = "association", _("Association")
        AUTHORITY = "authority", _("Collectivité")

    PAYMENTS = (Kind.CCAS_PAYMENT, Kind.ASSOCIATION_PAYMENT)

    kind = models.CharField(_("type de recette"), max_length=20, choices=Kind.choices)
    partnership = models.ForeignKey(
        "associations.Partnership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("partenariat"),
        help_text=_("Pour un paiement de repas dédiés : la convention et son prix par repas."),
    )
    meals = models.PositiveIntegerField(_("repas payés"), null=True, blank=True)
    amount = euros(_("montant (€)"), null=True, blank=True)
    received_by = models.CharField(
        _("reçue par"),
        max_length=12,
        choices=Receiver.choices,
        blank=True,
        help_text=_("Pour une autre recette : qui la reçoit."),
    )

    class Meta:
        verbose_name = _("recette du programme")
        verbose_name_plural = _("recettes du programme")
        ordering = ["-month", "kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.month:%m/%Y}"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return evaluator_or_coordinator(cls, membership)

    @property
    def receiver(self) -> str:
        """Who receives it: the kitchen for a payment of dedicated meals, the association for the
        beneficiaries' contributions, else ``received_by``."""
        if self.kind in self.PAYMENTS:
            return self.Receiver.KITCHEN
        if self.kind == self.Kind.BENEFICIARIES:
            return self.Receiver.ASSOCIATION
        return self.received_by

    def clean(self) -> None:
        super().clean()
        errors: dict[str, StrOrPromise] = {}
        partnership = self.partnership if self.partnership_id else None
        if partnership is not None and self.territory_id and partnership.territory_id != self.territory_id:
            errors["partnership"] = _("Ce partenariat appartient à un autre territoire.")
        if self.kind in self.PAYMENTS:
            if partnership is None:
                errors["partnership"] = _("Indiquez le partenariat dont les repas dédiés sont payés.")
            elif self.amount is None:
                if self.meals is None:
                    errors["meals"] = _("Indiquez les repas payés, ou le montant.")
                elif partnership.price_per_meal is None:
                    errors["amount"] = _("La convention n'a pas de prix par repas : indiquez le montant.")
                else:
                    self.amount = (Decimal(self.meals) * partnership.price_per_meal).quantize(Decimal("0.01"))
        elif self.amount is None:
            errors["amount"] = _("Indiquez le montant.")
        if self.kind == self.Kind.OTHER and not self.received_by:
            errors["received_by"] = _("Indiquez qui reçoit cette recette.")
        if errors:
            raise ValidationError(errors)


class KitchenFixedCost(KitchenYearInput):
    """A kitchen's fixed costs over a calendar year (premises, permanent staff, equipment,
    management) and its production that year: the fixed cost per meal."""

    kitchen = models.ForeignKey(
        "kitchens.Kitchen", on_delete=models.PROTECT, related_name="fixed_costs", verbose_name=_("cuisine")
    )
    year = models.PositiveSmallIntegerField(_("année"))
    fixed_costs = euros(_("coûts fixes de l'année (€)"))
    meals_produced = models.PositiveIntegerField(_("repas produits dans l'année"))
    source = models.CharField(
        _("source"), max_length=300, blank=True, help_text=_("Compte administratif, rapport...")
    )

    class Meta:
        verbose_name = _("coûts fixes d'une cuisine (année)")
        verbose_name_plural = _("coûts fixes des cuisines (année)")
        ordering = ["-year", "kitchen__name"]
        constraints = [
            models.UniqueConstraint(fields=["kitchen", "year"], name="one_fixed_cost_per_kitchen_year")
        ]

    def __str__(self) -> str:
        return f"{self.kitchen} — {self.year}"

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.kitchen_id and self.territory_id and self.kitchen.territory_id != self.territory_id:
            errors["kitchen"] = _("Cette cuisine appartient à un autre territoire.")
        if self.meals_produced == 0:
            errors["meals_produced"] = _("Une année de coûts fixes compte au moins un repas produit.")
        if errors:
            raise ValidationError(errors)
