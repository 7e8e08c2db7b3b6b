"""Browser forms of the meal flow.

The forms only parse what was typed; the rules (cold chain, dates, counts, who may do what)
live in ``meals.services``, whose ``ValidationError`` is put back on the form's fields
with ``add_service_errors``. Choice lists are built from querysets scoped by ``for_user``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from associations.models import DistributionSite, Partnership

from .models import (
    REACH_FIELDS,
    Allergen,
    Batch,
    Component,
    Liaison,
    PortionType,
    ShortfallReason,
    TransportMode,
    reach_label,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Puts a service's errors on the form: keyed by field when the form has that field,
    otherwise (``batch``, ``picked_up_at``...) among the errors of the whole form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, ValidationError(errors))


class FlowForm(forms.Form):
    """Base of the forms below: lists the fields in error, for the summary at the top."""

    @property
    def fields_with_errors(self) -> list[forms.BoundField]:
        return [bound for bound in self if bound.errors]


_Field = TypeVar("_Field", bound=forms.Field)


def required_when(condition: StrOrPromise, field: _Field) -> _Field:
    """A field the service requires only in some cases: its label says when (``condition``,
    e.g. « obligatoire si la température est hors limites »), instead of « facultatif »."""
    field.required_when = condition  # type: ignore[attr-defined]
    return field


def conditional_text(label: StrOrPromise, condition: StrOrPromise, **kwargs: Any) -> forms.CharField:
    """A free text (a reason, a note) the service requires only when ``condition`` holds."""
    return required_when(
        condition,
        forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 2}), **kwargs),
    )


class DateInput(forms.DateInput):
    """The browser's date picker; it sends ISO dates, which every date field accepts."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def count_input(**attrs: Any) -> forms.NumberInput:
    """A whole number typed on a phone's numeric keypad. No ``min_value`` on the field:
    negative counts reach the service, which answers with the rule's own message."""
    return forms.NumberInput(attrs={"inputmode": "numeric", "min": "0", **attrs})


def temperature_field(label: StrOrPromise, **kwargs: Any) -> forms.DecimalField:
    """A temperature with one decimal, typed with a comma or a dot."""
    return forms.DecimalField(
        label=label,
        max_digits=4,
        decimal_places=1,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        **kwargs,
    )


REASON_HELP = _(
    "Seulement si la température est hors limites : les repas sont alors enregistrés comme écartés."
)
OUT_OF_BOUNDS = _("obligatoire si la température est hors limites")
REHEATING_SITE = _("obligatoire si le lieu réchauffe les repas")


class PartnershipChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} — {obj.get_mode_display()}"


class BatchForm(FlowForm):
    """Declaring a batch: one screen, defaults prefilled by the view."""

    partnership = PartnershipChoiceField(
        label=_("Partenariat"), queryset=Partnership.objects.none(), widget=forms.RadioSelect
    )
    kind = forms.ChoiceField(
        label=_("Nature des repas"), choices=Batch.Kind.choices, widget=forms.RadioSelect
    )
    production_date = forms.DateField(label=_("Date de production"), widget=DateInput)
    service = forms.ChoiceField(label=_("Service"), choices=Batch.Service.choices, widget=forms.RadioSelect)
    meals_count = forms.IntegerField(label=_("Nombre de repas"), widget=count_input(min="1"))
    confirm_unusual = forms.BooleanField(
        label=_("Je confirme ce nombre inhabituel"),
        required=False,
        help_text=_(
            "Seulement pour un lot de plus de trois fois le volume quotidien habituel du partenariat."
        ),
    )
    liaison = forms.ChoiceField(label=_("Liaison"), choices=Liaison.choices, widget=forms.RadioSelect)
    lot_number = forms.CharField(label=_("Numéro de lot"), max_length=50)
    use_by_date = forms.DateField(label=_("Date limite de consommation"), widget=DateInput)
    dispatch_temperature_c = temperature_field(
        _("Température au départ (°C)"),
        help_text=_("Liaison froide : +3 °C ou moins. Liaison chaude : 63 °C ou plus."),
    )
    components = forms.MultipleChoiceField(
        label=_("Composantes du menu"),
        choices=Component.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    allergens = forms.MultipleChoiceField(
        label=_("Allergènes"),
        choices=Allergen.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Les 14 allergènes à déclarer (règlement européen 1169/2011) : cochez ceux du lot, "
            "ou « aucun des 14 allergènes réglementaires »."
        ),
    )
    no_regulated_allergens = forms.BooleanField(
        label=_("Aucun des 14 allergènes réglementaires"), required=False
    )
    dishes = forms.CharField(
        label=_("Plats (menu du lot)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Par exemple : carottes râpées, poulet basquaise, riz, yaourt."),
    )
    portion_type = forms.ChoiceField(
        label=_("Type de portion"),
        choices=[("", _("Non précisé")), *PortionType.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    portion_grams = forms.IntegerField(
        label=_("Poids d'une portion (g)"), required=False, widget=count_input(min="1")
    )
    reheating_instructions = forms.CharField(
        label=_("Consignes de remise en température"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Liaison froide : par exemple « four 180 °C, 25 min, à cœur 63 °C au moins »."),
    )
    discard_reason = conditional_text(_("Motif de l'écart"), OUT_OF_BOUNDS, help_text=REASON_HELP)

    def __init__(self, *args: Any, partnerships: QuerySet[Partnership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = partnerships  # type: ignore[attr-defined]


class PickupForm(FlowForm):
    """Confirming the pickup of a batch, with its transport and the temperature on receipt."""

    meals_received = forms.IntegerField(label=_("Repas reçus"), widget=count_input())
    temperature_c = temperature_field(_("Température à réception (°C)"))
    transport_mode = forms.ChoiceField(
        label=_("Mode de transport"), choices=TransportMode.choices, widget=forms.RadioSelect
    )
    refrigerated_vehicle = forms.BooleanField(label=_("Véhicule réfrigéré"), required=False)
    distance_km = forms.DecimalField(
        label=_("Distance (km)"),
        max_digits=6,
        decimal_places=1,
        localize=True,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    duration_minutes = forms.IntegerField(
        label=_("Durée du trajet (minutes)"), required=False, widget=count_input()
    )
    shortfall_reason = required_when(
        _("obligatoire si vous recevez moins de repas que le lot n'en compte"),
        forms.ChoiceField(
            label=_("Motif de l'écart de quantité"),
            choices=[("", _("Aucun écart")), *ShortfallReason.choices],
            required=False,
            widget=forms.RadioSelect,
        ),
    )
    shortfall_note = conditional_text(
        _("Précision sur l'écart de quantité"), _("obligatoire pour le motif « Autre »")
    )
    discard_reason = conditional_text(_("Motif de l'écart"), OUT_OF_BOUNDS, help_text=REASON_HELP)

    def __init__(self, *args: Any, batch: Batch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["temperature_c"].help_text = (
            _("Liaison froide : +3 °C ou moins.")
            if batch.liaison == Liaison.COLD
            else _("Liaison chaude : 63 °C ou plus.")
        )


class DistributionForm(FlowForm):
    """Meals handed out (and any set aside) at one site on one day. Counts only, no names."""

    site = forms.ModelChoiceField(
        label=_("Lieu de distribution"), queryset=DistributionSite.objects.none(), widget=forms.RadioSelect
    )
    distributed_on = forms.DateField(label=_("Date de la distribution"), widget=DateInput)
    meals_distributed = forms.IntegerField(label=_("Repas distribués"), widget=count_input())
    beneficiaries = forms.IntegerField(label=_("Personnes servies"), widget=count_input())
    households = forms.IntegerField(label=_("Foyers"), required=False, widget=count_input())
    children = forms.IntegerField(label=_("Dont enfants"), required=False, widget=count_input())
    meals_discarded = forms.IntegerField(label=_("Repas écartés"), required=False, widget=count_input())
    discard_reason = conditional_text(_("Motif de l'écart"), _("obligatoire si des repas sont écartés"))
    temperature_c = required_when(
        _("obligatoire, sauf repas consommés dès réception"),
        temperature_field(
            _("Température à la distribution (°C)"),
            required=False,
            help_text=_("Liaison froide : +3 °C ou moins. Au-delà, les repas ne peuvent être qu'écartés."),
        ),
    )
    consumed_on_receipt = forms.BooleanField(
        label=_("Repas consommés dès réception (le jour de la collecte)"), required=False
    )
    reheat_temperature_c = required_when(
        REHEATING_SITE,
        temperature_field(
            _("Température atteinte à la remise en température (°C)"),
            required=False,
            help_text=_("Lieu qui réchauffe : 63 °C ou plus."),
        ),
    )
    reheat_minutes = required_when(
        REHEATING_SITE,
        forms.IntegerField(
            label=_("Minutes entre la sortie du froid et 63 °C"),
            required=False,
            widget=count_input(),
            help_text=_("Une heure (60 minutes) au plus, servis le jour même."),
        ),
    )

    def __init__(self, *args: Any, sites: QuerySet[DistributionSite], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        # Who is reached: optional counts (no names), labelled as the model's fields.
        for name in REACH_FIELDS:
            self.fields[name] = forms.IntegerField(
                label=reach_label(name),
                required=False,
                widget=count_input(),
            )
        self.fields["turned_away"].help_text = _("Personnes venues et reparties sans repas.")


class ReasonForm(FlowForm):
    """The reason to cancel or discard a batch; the service says when it is missing."""

    reason = forms.CharField(label=_("Motif"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RecordImportForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier CSV"),
        help_text=_("Un CSV au format décrit plus bas (ou le modèle). 5 Mo et 20 000 lignes au plus."),
    )

    def clean_file(self) -> Any:
        from .imports import MAX_FILE_BYTES

        file = self.cleaned_data["file"]
        if not file.name.lower().endswith(".csv"):
            raise ValidationError(_("Déposez un fichier .csv (export de tableur, séparateur ; ou ,)."))
        if file.size > MAX_FILE_BYTES:
            raise ValidationError(
                _("Le fichier dépasse %(max)s Mo : découpez-le en plusieurs fichiers.")
                % {"max": MAX_FILE_BYTES // (1024 * 1024)}
            )
        return file
