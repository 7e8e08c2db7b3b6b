# ruff: noqa: RUF001, RUF002, RUF003 - the amount of a payment is written with the sign × of French arithmetic
"""Browser forms of the programme's money: a funding's budget lines and co-funders (one formset
page), the programme's expenses and revenues, a kitchen's yearly fixed costs and EGalim shares.

Every rule lives on the models (their validators and ``clean()``), read here by the model forms
as by the API's serializers: nothing is checked twice in two places."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kitchens.models import EgalimDeclaration
from territories import bounds

from .forms import MonthField
from .models import BudgetLine, CoFunder, Expense, Funding, KitchenFixedCost, Revenue


class FundingPartFormSet(forms.BaseInlineFormSet):
    """Rows of a funding, placed in the funding's territory before they are validated."""

    instance: Funding

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        form.instance.territory_id = self.instance.territory_id
        return form

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "use_required_attribute": False}


class DecimalInput(forms.TextInput):
    """A number typed as it is written: the spaces grouping its digits (« 1 250,50 », with a
    space, a no-break or a narrow no-break space) are left out before it is read. A text input
    with the decimal keypad on phones: a number input would refuse the space and the comma."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = super().value_from_datadict(data, files, name)
        return "".join(value.split()) if isinstance(value, str) else value


class LocalizedModelForm(forms.ModelForm):
    """Amounts typed as « 1 250,50 », « 1250,50 » or « 1250.50 », with the decimal keypad on phones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DecimalField):
                field.localize = True
                field.widget = DecimalInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
                field.widget.is_localized = True

    @property
    def fields_with_errors(self) -> list[forms.BoundField]:
        """The fields in error, linked from the summary at the top of the form."""
        return [bound for bound in self if bound.errors]


class BudgetLineForm(LocalizedModelForm):
    class Meta:
        model = BudgetLine
        fields = ["category", "planned", "explanation"]
        widgets = {"explanation": forms.Textarea(attrs={"rows": 2})}


class CoFunderForm(LocalizedModelForm):
    class Meta:
        model = CoFunder
        fields = ["kind", "organisation", "amount", "status"]


BudgetLineFormSet = forms.inlineformset_factory(
    Funding, BudgetLine, form=BudgetLineForm, formset=FundingPartFormSet, extra=1, can_delete=True
)
CoFunderFormSet = forms.inlineformset_factory(
    Funding, CoFunder, form=CoFunderForm, formset=FundingPartFormSet, extra=1, can_delete=True
)


class ExpenseForm(LocalizedModelForm):
    month = MonthField(label=_("Mois"))

    class Meta:
        model = Expense
        fields = ["month", "category", "amount", "label"]


class RevenueForm(LocalizedModelForm):
    """A revenue of the territory's programme; the partnerships offered are the territory's
    within the user's scope. The amount of a payment of dedicated meals left empty is computed
    by ``Revenue.clean()`` (meals × the convention's price per meal)."""

    month = MonthField(label=_("Mois"))

    class Meta:
        model = Revenue
        fields = ["month", "kind", "partnership", "meals", "amount", "received_by"]
        help_texts = {
            "partnership": _(
                "Obligatoire pour un paiement de repas dédiés (par un CCAS ou une association) : "
                "la convention et son prix par repas."
            ),
            "meals": _(
                "Pour un paiement de repas dédiés : les repas payés. Le montant, laissé vide, est "
                "alors calculé (repas × prix par repas de la convention)."
            ),
            "amount": _(
                "Obligatoire, sauf pour un paiement de repas dédiés dont la convention a un prix par "
                "repas : laissé vide, il est calculé."
            ),
            "received_by": _(
                "Obligatoire pour une autre recette : qui la reçoit. Un paiement de repas dédiés va "
                "à la cuisine, la participation des bénéficiaires à l'association."
            ),
        }

    def __init__(self, *args: Any, partnerships: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = partnerships  # type: ignore[attr-defined]


class YearForm(forms.Form):
    """The calendar year of a kitchen's yearly inputs: one of the last ``PAST_YEARS`` years, or
    the current one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = bounds.today().year
        self.fields["year"] = forms.IntegerField(
            label=_("Année"), min_value=current - bounds.PAST_YEARS, max_value=current
        )

    @staticmethod
    def default() -> int:
        """The last calendar year: the last whole year of accounts and purchases."""
        return bounds.today().year - 1


class KitchenFixedCostForm(LocalizedModelForm):
    """A kitchen's fixed costs of a year and its production that year."""

    class Meta:
        model = KitchenFixedCost
        fields = ["fixed_costs", "meals_produced", "source"]


class EgalimShareForm(LocalizedModelForm):
    """A kitchen's EGalim shares of a year entered by hand: saved with the source « saisie »,
    even over a declaration imported from ma-cantine (its reference no longer describes it)."""

    class Meta:
        model = EgalimDeclaration
        fields = ["quality_share", "organic_share"]

    def save(self, commit: bool = True) -> EgalimDeclaration:
        self.instance.source = EgalimDeclaration.Source.ENTERED
        self.instance.source_reference = ""
        return super().save(commit)
