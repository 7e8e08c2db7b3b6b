"""Browser forms of the programme's money: a funding's budget lines and co-funders (one formset
page), the programme's expenses and revenues, a kitchen's yearly fixed costs.

Every rule lives on the models (their validators and ``clean()``), read here by the model forms
as by the API's serializers: nothing is checked twice in two places."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .forms import MonthField
from .models import BudgetLine, CoFunder, Expense, Funding


class FundingPartFormSet(forms.BaseInlineFormSet):
    """Rows of a funding, placed in the funding's territory before they are validated."""

    instance: Funding

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        form.instance.territory_id = self.instance.territory_id
        return form

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "use_required_attribute": False}


class LocalizedModelForm(forms.ModelForm):
    """Amounts typed as « 1 250,50 » or « 1250.50 », with the decimal keypad on phones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DecimalField):
                field.localize = True
                field.widget.is_localized = True
                field.widget.attrs.update({"inputmode": "decimal"})


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
