"""The kitchen's offer form: a batch's declaration without its partnership, plus the deadline."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kitchens.models import Kitchen

from ..forms import BatchForm, FlowForm


class OfferForm(BatchForm):
    """The fields of a batch (the rules are the same), sent to every association that may take it."""

    partnership = None  # type: ignore[assignment]
    kind = None  # type: ignore[assignment]
    confirm_unusual = None  # type: ignore[assignment]
    discard_reason = None  # type: ignore[assignment]
    kitchen = forms.ModelChoiceField(label=_("Cuisine"), queryset=Kitchen.objects.none(), empty_label=None)
    respond_by = forms.DateTimeField(
        label=_("Réponse attendue avant"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_(
            "Vide : deux heures. Jamais après la dernière collecte possible (48 heures avant la fin de la "
            "date limite de consommation, ou le délai plus court de la convention)."
        ),
    )

    def __init__(self, *args: Any, kitchens: QuerySet[Kitchen], **kwargs: Any) -> None:
        forms.Form.__init__(self, *args, **kwargs)
        self.fields["kitchen"].queryset = kitchens  # type: ignore[attr-defined]
        if len(kitchens) == 1:
            self.fields["kitchen"].widget = forms.HiddenInput()


class DeclineForm(FlowForm):
    reason = forms.CharField(
        label=_("Motif du refus"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Par exemple : pas de bénévole disponible, pas de place au froid."),
    )
