"""Browser pages of the costing: a territory's cost breakdown, and the monthly input forms.

Objects come from the tenant rule (out of scope: 404); a form's page answers 403 to a role
that may not write its inputs (the models' ``change_rule``), and a write is checked again
against ``for_user(user, "change")`` inside its transaction.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, View
from django.views.generic.base import TemplateResponseMixin
from django.views.generic.detail import SingleObjectMixin

from associations.models import Association
from kitchens.models import Kitchen
from meals.models import TransportMode
from territories.mixins import ScopedQuerysetMixin
from territories.models import Authority, Territory
from territories.scoping import EVERY_ROW, memberships_of
from territories.views import PageMixin

from . import display, selectors, services
from .forms import (
    MONTH_FORMAT,
    AssociationCostForm,
    CoordinationCostForm,
    CoordinationKeyForm,
    KitchenCostInputForm,
    MonthKeyForm,
    MonthlyInputForm,
    PeriodForm,
    TransportKeyForm,
    TransportRateForm,
)
from .models import (
    AssociationCost,
    CoordinationCost,
    Expense,
    Funding,
    KitchenCostInput,
    KitchenFixedCost,
    Revenue,
    TransportRate,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# --- Who may write an input row ---------------------------------------------------------


def rule_admits(condition: Q, instance: models.Model) -> bool:
    """Whether a row (saved or not) satisfies a ``change_rule`` condition, evaluated in Python.

    The rules compare the row's own columns (``kitchen_id=…``, ``territory_id__in=…``), a
    column of a row it points to (``partnership__association_id=…``, through foreign keys
    only) or admit every row; any other shape fails closed. The database check after saving
    stays the authority: this only decides what the page offers."""
    if condition == EVERY_ROW:
        return True
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(rule_admits(child, instance))
            continue
        lookup, expected = child  # type: ignore[misc]
        found, actual, operator = column_value(instance, lookup)
        if not found:
            return False
        results.append(actual in expected if operator == "in" else actual == expected)
    admitted = all(results) if condition.connector == Q.AND else any(results)
    return not admitted if condition.negated else admitted


def column_value(instance: models.Model, lookup: str) -> tuple[bool, Any, str]:
    """The value a lookup reads on a row (following its foreign keys) and its operator;
    ``found`` is false when the lookup is not a column of the row or of a row it points to."""
    *path, last = lookup.split("__")
    operator = "exact"
    if last in ("exact", "in") and path:
        operator = last
    else:
        path.append(last)
    target: Any = instance
    for depth, name in enumerate(path):
        fields = {field.attname: field for field in target._meta.concrete_fields}
        fields.update({field.name: field for field in target._meta.concrete_fields})
        field = fields.get(name)
        if field is None:
            return False, None, operator
        if depth < len(path) - 1:
            if not (field.many_to_one or field.one_to_one) or getattr(target, field.attname) is None:
                return False, None, operator
            target = getattr(target, field.name)
        else:
            if field.is_relation and name != field.attname:
                return False, None, operator  # a related object, not its id
            target = getattr(target, name)
    return True, target, operator


def may_change(user: Any, instance: models.Model) -> bool:
    """Whether the user's role lets them write this input row (in scope or not: check scope first)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    rule = type(instance).change_rule  # type: ignore[attr-defined]
    for membership in memberships_of(user):
        condition = rule(membership)
        if condition is not None and rule_admits(condition, instance):
            return True
    return False


def params_of(keys: dict[str, Any]) -> list[tuple[str, Any]]:
    """The keys of an input row as query parameters (month as AAAA-MM, objects by id)."""
    return [
        (
            name,
            value.strftime(MONTH_FORMAT) if isinstance(value, datetime.date) else getattr(value, "pk", value),
        )
        for name, value in keys.items()
    ]


def previous_month(today: datetime.date) -> datetime.date:
    return services.first_of_month(services.first_of_month(today) - datetime.timedelta(days=1))


# --- Figures as shown -------------------------------------------------------------------


def number(value: Any, decimals: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) or (isinstance(value, Decimal) and value.as_tuple().exponent == 0):
        decimals = 0  # counts stay whole
    return formats.number_format(value, decimals, use_l10n=True, force_grouping=True)


def shown(figure: services.Figure) -> dict[str, Any]:
    """A figure ready for the template: its value with its completeness (``costing.display``)."""
    text = display.figure_text(
        figure.value,
        unit=figure.unit,
        complete=figure.complete,
        applicable=figure.applicable,
        bound=display.is_bound(figure.key),
    )
    return {
        "key": figure.key,
        "label": figure.label,
        "text": text,
        "method": figure.method,
        "inputs": [(item.label, number(item.value)) for item in figure.inputs],
        "missing": figure.missing,
        "complete": figure.complete,
        "applicable": figure.applicable,
    }


# --- The cost page of a territory ---------------------------------------------------------

MAIN_FIGURES = [
    "total_cost", "full_cost_per_meal", "full_cost_per_meal_with_volunteers", "cost_per_person",
    "marginal_cost_dedicated", "marginal_cost_surplus", "loss_rate",
]  # fmt: skip
ITEM_FIGURES = ["kitchen_cost", "transport_cost", "association_cost", "coordination_cost"]


class TerritoryCostView(PageMixin, ScopedQuerysetMixin, DetailView):
    """A territory's cost breakdown over a period of whole months, with its completeness."""

    model = Territory
    template_name = "costing/territory_costs.html"
    nav_section = "territories"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        territory: Territory = self.object
        start, end = selectors.default_period(timezone.localdate())
        picked = "start" in self.request.GET or "end" in self.request.GET
        data = self.request.GET if picked else None
        initial = {"start": start, "end": end}
        form = PeriodForm(data, initial=initial)
        context["period_form"] = form
        if form.is_bound:
            if not form.is_valid():
                return context
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        report = services.territory_cost(territory_ids=[territory.pk], start=start, end=end)
        figures = {figure.key: figure for figure in report.figures}
        total = figures["total_cost"]
        context.update(
            report=report,
            main=[shown(figures[key]) for key in MAIN_FIGURES],
            items=[(shown(figures[key]), shown(figures[f"share_{key}"])) for key in ITEM_FIGURES],
            total=shown(total),
            volunteers=shown(figures["volunteer_value"]),
            comparisons=[
                shown(figure) for figure in report.figures if figure.key.endswith(("_ratio", "_difference"))
            ],
            # Each row with the anchor of its group in the list of missing inputs.
            kitchens=[
                (
                    row,
                    shown(row.marginal_dedicated),
                    shown(row.marginal_surplus),
                    shown(row.total),
                    display.missing_anchor(row),
                )
                for row in report.kitchens
            ],
            associations=[
                (
                    row,
                    shown(row.cash),
                    shown(row.volunteers),
                    display.missing_anchor(row),
                    {
                        "label": row.association_name,
                        "missing": services.dedup([*row.cash.missing, *row.volunteers.missing]),
                    },
                )
                for row in report.associations
            ],
            coordination=[
                (row, shown(row.total), display.missing_anchor(row)) for row in report.coordination
            ],
            # What is missing, listed once, grouped by actor and month.
            missing_groups=display.missing_groups(report),
            volumes=report.volumes,
            every_figure=[shown(figure) for figure in report.figures],
            input_links=input_links(self.request.user, territory, costs_page=False),
        )
        return context


# --- Monthly input forms ----------------------------------------------------------------


class MonthlyInputView(PageMixin, ScopedQuerysetMixin, SingleObjectMixin, TemplateResponseMixin, View):
    """Creates or updates the month's input row of an actor (one row per actor and month).

    ``model`` is the page's object (kitchen, association or territory), found in the user's
    scope (404 otherwise); a role that may not write the inputs gets 403; nothing is saved
    unless the whole form is valid."""

    template_name = "costing/input_form.html"
    input_model: type[models.Model]
    form_class: type[MonthlyInputForm]
    key_form_class: type[forms.Form] = MonthKeyForm
    actor_field: str | None = None
    title: StrOrPromise = ""
    object: Any

    # The row ------------------------------------------------------------------------

    def territory(self) -> Territory:
        return self.object if isinstance(self.object, Territory) else self.object.territory

    def actor_kwargs(self) -> dict[str, Any]:
        return {self.actor_field: self.object} if self.actor_field else {}

    def new_row(self, keys: dict[str, Any]) -> models.Model:
        return self.input_model(territory=self.territory(), **self.actor_kwargs(), **keys)

    def find_or_new(self, keys: dict[str, Any]) -> models.Model:
        existing = self.input_model.objects.filter(  # type: ignore[attr-defined]
            territory=self.territory(), **self.actor_kwargs(), **keys
        ).first()
        return existing or self.new_row(keys)

    def key_form(self, data: Any = None) -> forms.Form:
        return self.key_form_class(data, initial={"month": previous_month(timezone.localdate())})

    def default_keys(self) -> dict[str, Any]:
        form = self.key_form()
        return {name: form.get_initial_for_field(field, name) for name, field in form.fields.items()}

    def allowed(self) -> bool:
        return may_change(self.request.user, self.new_row(self.default_keys()))

    def recent_rows(self) -> models.QuerySet:
        """The actor's latest rows, linked from the page so they can be corrected."""
        return (
            self.input_model.objects.for_user(self.request.user)  # type: ignore[attr-defined]
            .filter(territory=self.territory(), **self.actor_kwargs())
            .order_by("-month")
        )

    def keys_query(self, keys: dict[str, Any]) -> str:
        return urlencode(params_of(keys))

    # The request ----------------------------------------------------------------------

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.get_object()  # 404 outside the user's scope
        if not self.allowed():
            raise PermissionDenied(_("Votre rôle ne permet pas de saisir ces coûts."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key_names = set(self.key_form().fields)
        picker = self.key_form(request.GET if key_names & set(request.GET) else None)
        keys = picker.cleaned_data if picker.is_bound and picker.is_valid() else self.default_keys()
        form = self.form_class(instance=self.find_or_new(keys))
        return self.render(picker, None, form, keys)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key_form = self.key_form(request.POST)
        keys = key_form.cleaned_data if key_form.is_valid() else {}
        row = self.find_or_new(keys) if keys else self.new_row({})
        form = self.form_class(request.POST, instance=row)
        if not (key_form.is_valid() and form.is_valid()):
            keys = keys or self.default_keys()
            return self.render(self.key_form(), key_form, form, keys)
        user = request.user
        if not may_change(user, form.instance):
            raise PermissionDenied(_("Votre rôle ne permet pas de saisir ces coûts."))
        with transaction.atomic():
            saved = form.save()
            writable = self.input_model.objects.for_user(user, "change")  # type: ignore[attr-defined]
            if not writable.filter(pk=saved.pk).exists():
                raise PermissionDenied(_("Votre rôle ne permet pas de saisir ces coûts."))  # rolls back
            services.cost_input_saved(
                territory_id=saved.territory_id,
                month=saved.month,
                transport=isinstance(saved, TransportRate),
            )
        messages.success(
            request,
            _("Coûts de %(month)s enregistrés.")
            % {"month": formats.date_format(keys["month"], "YEAR_MONTH_FORMAT")},
        )
        return redirect(f"{request.path}?{self.keys_query(keys)}")

    def render(
        self,
        picker: forms.Form,
        key_form: forms.Form | None,
        form: MonthlyInputForm,
        keys: dict[str, Any],
        status: int = 200,
    ) -> HttpResponse:
        """The page: a month picker (GET), then the values of the chosen row (POST)."""
        picker.auto_id = "choix_%s"
        context = self.get_context_data(
            object=self.object,
            picker=picker,
            key_form=key_form,
            form=form,
            keys=keys,
            key_params=params_of(keys),
            key_labels=self.key_labels(keys),
            month=keys.get("month"),
            title=self.title,
            actor=self.object,
            territory=self.territory(),
            recent=[(row, self.keys_query(self.row_keys(row))) for row in self.recent_rows()[:12]],
            back_url=self.back_url(),
        )
        return self.render_to_response(context, status=status)

    def key_labels(self, keys: dict[str, Any]) -> str:
        """The chosen row in words: « mars 2025 », « mars 2025 — Véhicule de l'association »."""
        parts = [formats.date_format(keys["month"], "YEAR_MONTH_FORMAT")] if keys.get("month") else []
        for name, value in keys.items():
            if name == "transport_mode":
                parts.append(str(TransportMode(value).label))
            elif name != "month" and value is not None:
                parts.append(str(value))
        return " — ".join(parts)

    def row_keys(self, row: Any) -> dict[str, Any]:
        return {name: getattr(row, name) for name in self.key_form().fields}

    def back_url(self) -> str:
        return self.object.get_absolute_url() if hasattr(self.object, "get_absolute_url") else ""


class KitchenCostInputView(MonthlyInputView):
    """The kitchen manager enters their kitchen's monthly inputs."""

    model = Kitchen
    input_model = KitchenCostInput
    form_class = KitchenCostInputForm
    actor_field = "kitchen"
    nav_section = "kitchen-costs"
    title = gettext_lazy("Coûts de la cuisine")

    def back_url(self) -> str:
        return reverse("kitchen-detail", kwargs={"pk": self.object.pk})


class AssociationCostInputView(MonthlyInputView):
    """The association coordinator enters the association's monthly costs."""

    model = Association
    input_model = AssociationCost
    form_class = AssociationCostForm
    actor_field = "association"
    nav_section = "association-costs"
    title = gettext_lazy("Coûts de l'association")

    def back_url(self) -> str:
        return reverse("association-detail", kwargs={"pk": self.object.pk})


class TerritoryInputView(MonthlyInputView):
    model = Territory
    nav_section = "territories"

    def back_url(self) -> str:
        return reverse("territory-costs", kwargs={"pk": self.object.pk})


class TransportRateInputView(TerritoryInputView):
    """The authority coordinator enters the territory's transport scale, per mode and month."""

    input_model = TransportRate
    form_class = TransportRateForm
    key_form_class = TransportKeyForm
    title = gettext_lazy("Barème de transport")

    def default_keys(self) -> dict[str, Any]:
        return {**super().default_keys(), "transport_mode": TransportMode.ASSOCIATION_VEHICLE.value}


class CoordinationCostInputView(TerritoryInputView):
    """The authority coordinator enters their authority's coordination costs."""

    input_model = CoordinationCost
    form_class = CoordinationCostForm
    key_form_class = CoordinationKeyForm
    title = gettext_lazy("Coûts de coordination")

    def writable_authorities(self) -> list[Authority]:
        if not hasattr(self, "_authorities"):
            territory = self.object
            candidates = Authority.objects.for_user(self.request.user).filter(territory=territory)
            self._authorities = [
                authority
                for authority in candidates
                if may_change(self.request.user, CoordinationCost(territory=territory, authority=authority))
            ]
        return self._authorities

    def key_form(self, data: Any = None) -> forms.Form:
        authorities = self.writable_authorities()
        ids = [authority.pk for authority in authorities]
        initial = {"month": previous_month(timezone.localdate()), "authority": ids[0] if ids else None}
        return CoordinationKeyForm(
            data, initial=initial, authorities=Authority.objects.filter(pk__in=ids).order_by("name")
        )

    def default_keys(self) -> dict[str, Any]:
        authorities = self.writable_authorities()
        return {
            "month": previous_month(timezone.localdate()),
            "authority": authorities[0] if authorities else None,
        }

    def allowed(self) -> bool:
        return bool(self.writable_authorities())

    def recent_rows(self) -> models.QuerySet:
        return (
            super()
            .recent_rows()
            .filter(authority__in=self.writable_authorities())
            .select_related("authority")
        )


# --- Links to the forms -----------------------------------------------------------------


def input_links(user: Any, actor: models.Model, *, costs_page: bool = True) -> list[tuple[str, str]]:
    """The cost pages and input forms the user may open from an actor's page."""
    links: list[tuple[str, str]] = []
    if costs_page:
        territory_id = actor.pk if isinstance(actor, Territory) else actor.territory_id  # type: ignore[attr-defined]
        links.append(
            (reverse("territory-costs", kwargs={"pk": territory_id}), _("Coût des repas du territoire"))
        )
    if isinstance(actor, Kitchen):
        if may_change(user, KitchenCostInput(kitchen=actor, territory_id=actor.territory_id)):
            links.append(
                (reverse("kitchen-cost-input", kwargs={"pk": actor.pk}), _("Saisir les coûts de la cuisine"))
            )
        if may_change(user, KitchenFixedCost(kitchen=actor, territory_id=actor.territory_id)):
            links.append(
                (
                    reverse("kitchen-year-inputs", kwargs={"pk": actor.pk}),
                    _("Saisir les coûts fixes et les parts EGalim de l'année"),
                )
            )
    elif isinstance(actor, Association):
        if may_change(user, AssociationCost(association=actor, territory_id=actor.territory_id)):
            links.append(
                (
                    reverse("association-cost-input", kwargs={"pk": actor.pk}),
                    _("Saisir les coûts de l'association"),
                )
            )
    elif isinstance(actor, Territory):
        for funding in Funding.objects.for_user(user).filter(territory=actor):
            links.append(
                (
                    reverse("funding-budget", kwargs={"pk": funding.pk}),
                    _("Budget : %(funding)s") % {"funding": funding},
                )
            )
        if may_change(user, Expense(territory=actor)):
            links.append(
                (
                    reverse("territory-expenses", kwargs={"pk": actor.pk}),
                    _("Saisir les dépenses du programme"),
                )
            )
        if may_change(user, Revenue(territory=actor)):
            links.append(
                (
                    reverse("territory-revenues", kwargs={"pk": actor.pk}),
                    _("Saisir les recettes du programme"),
                )
            )
        if may_change(user, TransportRate(territory=actor)):
            links.append(
                (reverse("transport-rate-input", kwargs={"pk": actor.pk}), _("Saisir le barème de transport"))
            )
        authorities = Authority.objects.for_user(user).filter(territory=actor)
        if any(may_change(user, CoordinationCost(territory=actor, authority=a)) for a in authorities):
            links.append(
                (
                    reverse("coordination-cost-input", kwargs={"pk": actor.pk}),
                    _("Saisir les coûts de coordination"),
                )
            )
    return links
