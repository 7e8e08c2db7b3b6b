"""Browser forms of the costing: the period picker and the monthly inputs of each role."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from meals.models import TransportMode
from territories import bounds
from territories.models import Authority

from .models import AssociationCost, CoordinationCost, KitchenCostInput, TransportRate

MONTH_FORMAT = "%Y-%m"


class MonthField(forms.DateField):
    """A calendar month, entered as ``AAAA-MM`` (a month picker on phones); cleaned to its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format=MONTH_FORMAT)
    input_formats = [MONTH_FORMAT]
    default_error_messages = {"invalid": _("Indiquez un mois au format AAAA-MM (par exemple 2025-03).")}

    def to_python(self, value: Any) -> datetime.date | None:
        day = super().to_python(value)
        return day.replace(day=1) if day else None


class PeriodForm(forms.Form):
    """Whole months from ``start`` to ``end``, both included."""

    start = MonthField(label=_("Du mois"))
    end = MonthField(label=_("Au mois (inclus)"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            for name, message in bounds.period_errors(start, end).items():
                self.add_error(name, message)
        return cleaned


# --- Monthly inputs ---------------------------------------------------------------------
#
# Each page has a key form (which row: the month, and the authority or transport mode where
# there are several) and the input form for that row's values. Empty fields stay empty: the
# cost method reports them as missing, never as zero.

EMPTY_HELP = _("Laissez vide si vous ne savez pas ; indiquez 0 s'il n'y en a pas.")


class MonthKeyForm(forms.Form):
    month = MonthField(label=_("Mois"))

    def clean_month(self) -> datetime.date:
        month = self.cleaned_data["month"]
        message = bounds.date_error(
            month, ahead_years=bounds.DATE_AHEAD_YEARS["costing.KitchenCostInput.month"]
        )
        if message:
            raise forms.ValidationError(message)
        return month


class CoordinationKeyForm(MonthKeyForm):
    authority: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=Authority.objects.none(), label=_("Collectivité"), empty_label=None
    )

    def __init__(self, *args: Any, authorities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["authority"].queryset = authorities  # type: ignore[attr-defined]


class TransportKeyForm(MonthKeyForm):
    transport_mode = forms.ChoiceField(label=_("Mode de transport"), choices=TransportMode.choices)


class MonthlyInputForm(forms.ModelForm):
    """The values of a monthly input row; the view sets its actor, territory and month."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            if not field.help_text:
                field.help_text = EMPTY_HELP
            if isinstance(field, forms.DecimalField):
                # Localized: « 1,80 » as well as « 1.80 »; a text box with the decimal keypad.
                field.widget.attrs.update({"inputmode": "decimal"})


class KitchenCostInputForm(MonthlyInputForm):
    class Meta:
        model = KitchenCostInput
        localized_fields = "__all__"
        fields = [
            "food_cost_per_meal", "packaging_per_meal", "energy_per_meal", "extra_labour_hours",
            "labour_hourly_cost", "surplus_handling_hours", "other_direct_costs",
        ]  # fmt: skip
        help_texts = {
            "food_cost_per_meal": _("En euros, pour un repas dédié."),
            "packaging_per_meal": _("En euros, pour un repas (dédié ou d'excédent)."),
            "energy_per_meal": _("En euros, pour un repas dédié."),
            "extra_labour_hours": _("Heures ajoutées dans le mois pour produire les repas dédiés."),
            "labour_hourly_cost": _("En euros, charges comprises."),
            "surplus_handling_hours": _("Heures passées dans le mois à préparer les dons d'excédents."),
            "other_direct_costs": _("En euros, pour le mois (transport assuré par la cuisine exclu)."),
        }


class AssociationCostForm(MonthlyInputForm):
    class Meta:
        model = AssociationCost
        localized_fields = "__all__"
        fields = [
            "paid_staff_hours", "paid_staff_hourly_cost", "volunteer_hours", "premises_cost",
            "equipment_cost", "equipment_amortisation_months", "other_costs",
        ]  # fmt: skip
        help_texts = {
            "paid_staff_hours": _("Heures de salariés consacrées dans le mois aux repas du partenariat."),
            "paid_staff_hourly_cost": _("En euros, charges comprises."),
            "volunteer_hours": _("Valorisées à part, jamais ajoutées aux coûts monétaires."),
            "premises_cost": _("En euros, la part du mois consacrée aux repas."),
            "equipment_cost": _("Valeur d'achat en euros (réfrigérateur, caissons isothermes...)."),
            "equipment_amortisation_months": _("Nombre de mois sur lesquels l'achat est réparti."),
            "other_costs": _("En euros, pour le mois."),
        }


class CoordinationCostForm(MonthlyInputForm):
    class Meta:
        model = CoordinationCost
        localized_fields = "__all__"
        fields = ["staff_hours", "staff_hourly_cost", "other_costs"]
        help_texts = {
            "staff_hours": _("Heures passées dans le mois à coordonner le partenariat."),
            "staff_hourly_cost": _("En euros, charges comprises."),
            "other_costs": _("En euros, pour le mois."),
        }


class TransportRateForm(MonthlyInputForm):
    class Meta:
        model = TransportRate
        localized_fields = "__all__"
        fields = ["cost_per_km", "driver_hourly_cost"]
        help_texts = {
            "cost_per_km": _("En euros : carburant, entretien et assurance du véhicule."),
            "driver_hourly_cost": _("En euros, charges comprises (0 pour un bénévole)."),
        }
