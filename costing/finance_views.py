"""Browser pages of the programme's money: a funding's budget (its lines and co-funders, edited
in one page, and the budget against the actual costs of a period, read from ``costing.budget``),
a territory's expenses and revenues (one page each, on one base), and a kitchen's yearly inputs
(its fixed costs and its EGalim shares of a year).

Objects come from the tenant rule (out of scope: 404); writing answers 403 to a role the
models' ``change_rule`` refuses (what the API allows), and every row saved is checked again
against ``for_user(user, "change")`` inside the transaction: all or nothing."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin
from django.views.generic.detail import SingleObjectMixin

from associations.models import Partnership
from kitchens.models import EgalimDeclaration, Kitchen
from territories.mixins import ScopedQuerysetMixin
from territories.models import Territory
from territories.views import PageMixin

from .budget import funding_budget
from .finance_forms import (
    BudgetLineFormSet,
    CoFunderFormSet,
    EgalimShareForm,
    ExpenseForm,
    KitchenFixedCostForm,
    LocalizedModelForm,
    RevenueForm,
    YearForm,
)
from .forms import MONTH_FORMAT, PeriodForm
from .models import BudgetLine, CoFunder, Expense, Funding, KitchenFixedCost, Revenue
from .net_cost import fixed_cost_of
from .services import rounded
from .views import may_change, number

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ScopedObjectPage(PageMixin, ScopedQuerysetMixin, SingleObjectMixin, TemplateResponseMixin, View):
    """A page of one object found in the user's scope (404 otherwise), for signed-in users."""

    nav_section = "territories"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.get_object()  # 404 outside the user's scope
        self.check_role(request)
        return super().dispatch(request, *args, **kwargs)

    def check_role(self, request: HttpRequest) -> None:
        """Raises PermissionDenied for a role that may not open the page (every role may here)."""


class FundingBudgetView(ScopedObjectPage):
    """A funding's budget page: the budget against the actual costs over a chosen period (the
    figures of the report), and, for those who write budgets, its lines and co-funders."""

    model = Funding
    template_name = "costing/funding_budget.html"
    object: Funding

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("territory")

    def editable(self) -> bool:
        funding = self.object
        return may_change(
            self.request.user, BudgetLine(funding=funding, territory_id=funding.territory_id)
        ) and may_change(self.request.user, CoFunder(funding=funding, territory_id=funding.territory_id))

    def formsets(self, data: Any = None) -> tuple[Any, Any]:
        return (
            BudgetLineFormSet(data, instance=self.object, prefix="lignes"),
            CoFunderFormSet(data, instance=self.object, prefix="cofinanceurs"),
        )

    def period(self) -> tuple[PeriodForm, datetime.date | None, datetime.date | None]:
        funding = self.object
        initial = {"start": funding.period_start, "end": funding.period_end}
        picked = "start" in self.request.GET or "end" in self.request.GET
        form = PeriodForm(self.request.GET if picked else None, initial=initial)
        if not form.is_bound:
            form = PeriodForm(
                {
                    "start": funding.period_start.strftime(MONTH_FORMAT),
                    "end": funding.period_end.strftime(MONTH_FORMAT),
                }
            )
        if not form.is_valid():
            return form, None, None
        return form, form.cleaned_data["start"], form.cleaned_data["end"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render(*self.formsets() if self.editable() else (None, None))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.editable():
            raise PermissionDenied(_("Votre rôle ne permet pas de modifier ce budget."))
        lines, co_funders = self.formsets(request.POST)
        if not (lines.is_valid() and co_funders.is_valid()):
            return self.render(lines, co_funders, status=400)
        user = request.user
        with transaction.atomic():
            saved = [*lines.save(), *co_funders.save()]
            for row in saved:
                writable = type(row).objects.for_user(user, "change")
                if not writable.filter(pk=row.pk).exists():
                    raise PermissionDenied(_("Votre rôle ne permet pas de modifier ce budget."))  # rolls back
        messages.success(request, _("Budget enregistré."))
        return redirect(request.get_full_path())

    def render(self, lines: Any, co_funders: Any, status: int = 200) -> HttpResponse:
        period_form, start, end = self.period()
        budget = funding_budget(self.object, start=start, end=end).as_dict() if start and end else None
        context = self.get_context_data(
            object=self.object,
            funding=self.object,
            period_form=period_form,
            budget=budget,
            lines=lines,
            co_funders=co_funders,
            invalid=status == 400,
        )
        return self.render_to_response(context, status=status)


class MonthlyEntryView(ScopedObjectPage):
    """A territory's programme entries of one kind, month by month (expenses, revenues): the
    list, and a form to add one, for the roles the entry's ``change_rule`` admits (evaluators
    and the territory's authority coordinators, as the API allows; others 403, out of scope 404).

    A subclass names the entry's model, its form, its page's words and the columns of its list."""

    model = Territory
    template_name = "costing/monthly_entries.html"
    object: Territory
    entry_model: type[Expense] | type[Revenue]
    form_class: type[LocalizedModelForm]
    title: StrOrPromise
    list_title: StrOrPromise
    empty_text: StrOrPromise
    refused: StrOrPromise
    saved: StrOrPromise

    def new_entry(self) -> Expense | Revenue:
        return self.entry_model(territory=self.object)

    def check_role(self, request: HttpRequest) -> None:
        if not may_change(request.user, self.new_entry()):
            raise PermissionDenied(self.refused)

    def get_form(self, data: Any = None) -> LocalizedModelForm:
        return self.form_class(data, instance=self.new_entry(), **self.form_kwargs())

    def form_kwargs(self) -> dict[str, Any]:
        return {}

    def entries(self) -> Any:
        return self.entry_model.objects.for_user(self.request.user).filter(territory=self.object)

    # The list's columns: the entry's fields shown (labelled by their verbose names), and those
    # of them that hold numbers.
    columns: tuple[str, ...]
    numeric: frozenset[str] = frozenset({"meals", "amount"})

    def cells(self, entry: Any) -> list[str]:
        """The entry's values in the list's columns, as printed."""
        raise NotImplementedError

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render(self.get_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        with transaction.atomic():
            saved = form.save()
            if not self.entry_model.objects.for_user(request.user, "change").filter(pk=saved.pk).exists():
                raise PermissionDenied(self.refused)  # rolls back
        messages.success(request, self.saved)
        return redirect(request.path)

    def render(self, form: LocalizedModelForm, status: int = 200) -> HttpResponse:
        columns = [
            {
                "label": capfirst(getattr(self.entry_model._meta.get_field(name), "verbose_name", name)),
                "numeric": name in self.numeric,
            }
            for name in self.columns
        ]
        rows = [
            [{**column, "text": text} for column, text in zip(columns, self.cells(entry), strict=True)]
            for entry in self.entries()
        ]
        context = self.get_context_data(
            object=self.object,
            territory=self.object,
            form=form,
            title=self.title,
            list_title=self.list_title,
            empty_text=self.empty_text,
            columns=columns,
            rows=rows,
        )
        return self.render_to_response(context, status=status)


class ExpenseView(MonthlyEntryView):
    """A territory's programme expenses."""

    entry_model = Expense
    form_class = ExpenseForm
    title = gettext_lazy("Dépenses du programme")
    list_title = gettext_lazy("Dépenses saisies")
    empty_text = gettext_lazy("Aucune dépense saisie.")
    refused = gettext_lazy("Votre rôle ne permet pas de saisir les dépenses du programme.")
    saved = gettext_lazy("Dépense enregistrée.")
    columns = ("month", "category", "label", "amount")

    def cells(self, entry: Expense) -> list[str]:
        return [
            entry.month.strftime("%m/%Y"),
            entry.get_category_display(),
            entry.label,
            number(entry.amount),
        ]


class RevenueView(MonthlyEntryView):
    """A territory's programme revenues: beneficiaries' contributions, payments of dedicated
    meals by a CCAS or an association (their amount computed at the convention's price when
    left empty), other revenues."""

    entry_model = Revenue
    form_class = RevenueForm
    title = gettext_lazy("Recettes du programme")
    list_title = gettext_lazy("Recettes saisies")
    empty_text = gettext_lazy("Aucune recette saisie.")
    refused = gettext_lazy("Votre rôle ne permet pas de saisir les recettes du programme.")
    saved = gettext_lazy("Recette enregistrée.")
    columns = ("month", "kind", "partnership", "meals", "amount", "received_by")

    def form_kwargs(self) -> dict[str, Any]:
        partnerships = (
            Partnership.objects.for_user(self.request.user)
            .filter(territory=self.object)
            .select_related("kitchen", "association")
        )
        return {"partnerships": partnerships}

    def entries(self) -> Any:
        return super().entries().select_related("partnership__kitchen", "partnership__association")

    def cells(self, entry: Revenue) -> list[str]:
        receiver = entry.receiver
        return [
            entry.month.strftime("%m/%Y"),
            entry.get_kind_display(),
            str(entry.partnership) if entry.partnership_id else "—",
            number(entry.meals),
            number(entry.amount),
            str(Revenue.Receiver(receiver).label) if receiver else "—",
        ]


class KitchenYearView(ScopedObjectPage):
    """A kitchen's yearly inputs: for a chosen year (``?year=``, the last calendar year unless
    chosen), its fixed costs and production, and its EGalim shares entered by hand, each form
    posted on its own and creating or updating the kitchen's one row of that year; then the
    years recorded, with the fixed cost per meal (``costing.net_cost.fixed_cost_of``).

    Evaluators write every kitchen's, a kitchen manager its own (``KitchenYearInput``); other
    roles 403, a kitchen out of scope 404."""

    model = Kitchen
    template_name = "costing/kitchen_year.html"
    nav_section = "kitchens"
    object: Kitchen
    parts: ClassVar[dict[str, tuple[type[KitchenFixedCost] | type[EgalimDeclaration], type[Any]]]] = {
        "couts": (KitchenFixedCost, KitchenFixedCostForm),
        "egalim": (EgalimDeclaration, EgalimShareForm),
    }

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("territory")

    def check_role(self, request: HttpRequest) -> None:
        kitchen = self.object
        for model, _form in self.parts.values():
            if not may_change(request.user, model(kitchen=kitchen, territory_id=kitchen.territory_id)):
                raise PermissionDenied(
                    _("Votre rôle ne permet pas de saisir les données annuelles de cette cuisine.")
                )

    def year_form(self) -> YearForm:
        data = self.request.POST if "year" in self.request.POST else self.request.GET
        if "year" in data:
            return YearForm(data)
        return YearForm({"year": YearForm.default()})

    def row(self, model: Any, year: int) -> Any:
        """The kitchen's row of that year, or a new one."""
        kitchen = self.object
        found = model.objects.for_user(self.request.user).filter(kitchen=kitchen, year=year).first()
        return found or model(kitchen=kitchen, territory_id=kitchen.territory_id, year=year)

    def forms(self, year: int, posted: str = "", data: Any = None) -> dict[str, Any]:
        return {
            part: form_class(data if part == posted else None, instance=self.row(model, year))
            for part, (model, form_class) in self.parts.items()
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        year_form = self.year_form()
        if not year_form.is_valid():
            return self.render(year_form, None, {}, status=400)
        year = year_form.cleaned_data["year"]
        return self.render(year_form, year, self.forms(year))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        year_form = self.year_form()
        if not year_form.is_valid():
            return self.render(year_form, None, {}, status=400)
        year = year_form.cleaned_data["year"]
        posted = request.POST.get("part", "")
        if posted not in self.parts:
            posted = "couts"
        forms = self.forms(year, posted, request.POST)
        form = forms[posted]
        if not form.is_valid():
            return self.render(year_form, year, forms, status=400)
        model = self.parts[posted][0]
        with transaction.atomic():
            saved = form.save()
            if not model.objects.for_user(request.user, "change").filter(pk=saved.pk).exists():
                raise PermissionDenied(
                    _("Votre rôle ne permet pas de saisir les données annuelles de cette cuisine.")
                )  # rolls back
        if posted == "couts":
            messages.success(request, _("Coûts fixes de %(year)s enregistrés.") % {"year": year})
        else:
            messages.success(request, _("Parts EGalim de %(year)s enregistrées.") % {"year": year})
        return redirect(f"{request.path}?{urlencode({'year': year})}")

    def recorded_years(self) -> list[dict[str, Any]]:
        """The years recorded for the kitchen, latest first: fixed costs and EGalim shares side by side."""
        user, kitchen = self.request.user, self.object
        years: dict[int, dict[str, Any]] = {}
        for fixed in KitchenFixedCost.objects.for_user(user).filter(kitchen=kitchen):
            years.setdefault(fixed.year, {"year": fixed.year})["fixed"] = {
                "fixed_costs": number(fixed.fixed_costs),
                "meals_produced": number(fixed.meals_produced),
                "per_meal": number(rounded(fixed_cost_of(fixed))),
            }
        for declaration in EgalimDeclaration.objects.for_user(user).filter(kitchen=kitchen):
            years.setdefault(declaration.year, {"year": declaration.year})["egalim"] = {
                "quality_share": f"{number(declaration.quality_share)}\u00a0%",
                "organic_share": f"{number(declaration.organic_share)}\u00a0%",
                "source": declaration.get_source_display(),
                "imported": declaration.source == EgalimDeclaration.Source.MA_CANTINE,
                "reference": declaration.source_reference,
            }
        return [years[year] for year in sorted(years, reverse=True)]

    def render(
        self, year_form: YearForm, year: int | None, forms: dict[str, Any], status: int = 200
    ) -> HttpResponse:
        recorded = self.recorded_years()
        current = next((row for row in recorded if row["year"] == year), {})
        context = self.get_context_data(
            object=self.object,
            kitchen=self.object,
            year_form=year_form,
            year=str(year) if year else "",
            fixed_form=forms.get("couts"),
            egalim_form=forms.get("egalim"),
            current=current,
            recorded=recorded,
            invalid=status == 400,
        )
        return self.render_to_response(context, status=status)
