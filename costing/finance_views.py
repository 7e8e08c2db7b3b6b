"""Browser pages of the programme's money: a funding's budget (its lines and co-funders, edited
in one page, and the budget against the actual costs of a period, read from ``costing.budget``).

Objects come from the tenant rule (out of scope: 404); writing answers 403 to a role the
models' ``change_rule`` refuses (what the API allows), and every row saved is checked again
against ``for_user(user, "change")`` inside the transaction: all or nothing."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import View
from django.views.generic.base import TemplateResponseMixin
from django.views.generic.detail import SingleObjectMixin

from territories.mixins import ScopedQuerysetMixin
from territories.models import Territory
from territories.views import PageMixin

from .budget import funding_budget
from .finance_forms import BudgetLineFormSet, CoFunderFormSet, ExpenseForm
from .forms import MONTH_FORMAT, PeriodForm
from .models import BudgetLine, CoFunder, Expense, Funding
from .views import may_change


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


class ExpenseView(ScopedObjectPage):
    """A territory's programme expenses: the list, and a form to add one (evaluators and the
    territory's authority coordinators, as the API allows; others 403, out of scope 404)."""

    model = Territory
    template_name = "costing/expenses.html"
    object: Territory

    def check_role(self, request: HttpRequest) -> None:
        if not may_change(request.user, Expense(territory=self.object)):
            raise PermissionDenied(_("Votre rôle ne permet pas de saisir les dépenses du programme."))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render(ExpenseForm(instance=Expense(territory=self.object)))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ExpenseForm(request.POST, instance=Expense(territory=self.object))
        if not form.is_valid():
            return self.render(form, status=400)
        with transaction.atomic():
            saved = form.save()
            if not Expense.objects.for_user(request.user, "change").filter(pk=saved.pk).exists():
                raise PermissionDenied(_("Votre rôle ne permet pas de saisir les dépenses du programme."))
        messages.success(request, _("Dépense enregistrée."))
        return redirect(request.path)

    def render(self, form: ExpenseForm, status: int = 200) -> HttpResponse:
        expenses = Expense.objects.for_user(self.request.user).filter(territory=self.object)
        context = self.get_context_data(
            object=self.object, territory=self.object, form=form, expenses=expenses
        )
        return self.render_to_response(context, status=status)
