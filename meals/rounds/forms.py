"""The browser's form of a partnership's weekly pickup schedule.

The form only parses what was typed (days ticked, times to the minute, a count, a site of the
partnership's association); the rules are ``RoundSchedule.clean()``'s, run by the model form
on the instance the view gives it (the partnership already set).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from associations.models import DistributionSite, Weekday

from ..forms import count_input
from .models import RoundSchedule

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CLOCK_FORMAT = "%H:%M"


class ClockInput(forms.TimeInput):
    """The browser's time picker, to the minute (it sends "HH:MM")."""

    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"step": "60", **(attrs or {})}, format=CLOCK_FORMAT)


def clock_field(label: Any) -> forms.TimeField:
    """A time of day to the minute, in the territory's local hour (as the API's "HH:MM")."""
    return forms.TimeField(label=label, input_formats=[CLOCK_FORMAT], widget=ClockInput())


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name  # every choice is a site of the partnership's association


class RoundScheduleForm(forms.ModelForm):
    weekdays = forms.MultipleChoiceField(
        label=capfirst(_("jours de collecte")),
        choices=[(code, capfirst(label)) for code, label in Weekday.choices],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins un jour de collecte.")},
    )
    window_start = clock_field(_("Collecte à partir de"))
    window_end = clock_field(_("Collecte jusqu'à"))
    expected_meals = forms.IntegerField(
        label=capfirst(_("repas attendus")),
        min_value=0,  # 0 reaches the model, which answers with its own message
        max_value=100_000,
        widget=count_input(),
        help_text=_("À chaque collecte."),
    )
    site = SiteChoiceField(
        label=capfirst(_("lieu de destination")),
        queryset=DistributionSite.objects.none(),
        error_messages={"invalid_choice": _("Ce lieu n'appartient pas à l'association du partenariat.")},
    )

    class Meta:
        model = RoundSchedule
        fields = ["weekdays", "window_start", "window_end", "expected_meals", "site", "active"]
        labels = {"active": _("Tournée active")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partnership = self.instance.partnership
        self.fields["site"].queryset = (  # type: ignore[attr-defined]
            DistributionSite.objects.for_user(user)
            .filter(association_id=partnership.association_id)
            .order_by("name", "pk")
        )

    @property
    def fields_with_errors(self) -> list[forms.BoundField]:
        return [bound for bound in self if bound.errors]

    def clean_weekdays(self) -> list[str]:
        """The days in the week's order, Monday first, as the API stores them."""
        chosen = set(self.cleaned_data["weekdays"])
        return [code for code in Weekday.values if code in chosen]
