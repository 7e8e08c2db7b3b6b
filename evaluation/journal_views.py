"""Browser pages of the observation journal: the list with its filters, and the entry form.

Every member of a territory reads its journal (evaluators every territory's; funders the entries
shared with funders of the territories they fund);
authority coordinators of the territory and evaluators write. The list starts from
``for_user``; the form offers only the territories the user may write in and their actors,
and ``evaluation.services`` checks the write again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView

from associations.models import Association
from kitchens.models import Kitchen
from meals.forms import add_service_errors
from meals.views import RoleRequiredMixin, acting_user, spans_territories
from territories.models import Authority, Territory
from territories.views import PAGE_SIZE, PageMixin, TerritoryFilterMixin

from . import services
from .forms import JournalEntryForm, JournalFilterForm
from .models import JournalEntry
from .selectors import writable_territories


def journal_territories(user: Any) -> QuerySet[Territory]:
    return writable_territories(JournalEntry, user)


class JournalListView(PageMixin, TerritoryFilterMixin, ListView):
    """The journal's entries, the latest first, filtered by territory, category and nature."""

    model = JournalEntry
    paginate_by = PAGE_SIZE
    template_name = "evaluation/journal/journal_list.html"
    nav_section = "journal"

    @cached_property
    def journal_filter(self) -> JournalFilterForm:
        return JournalFilterForm(self.request.GET)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().scope_queryset(queryset)
        form = self.journal_filter
        if form.is_valid():
            if form.cleaned_data["category"]:
                queryset = queryset.filter(category=form.cleaned_data["category"])
            if form.cleaned_data["nature"]:
                queryset = queryset.filter(nature=form.cleaned_data["nature"])
        else:
            queryset = queryset.none()
        return queryset.select_related("territory", "author", "kitchen", "association", "authority")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["journal_filter"] = self.journal_filter
        context["can_write"] = journal_territories(self.request.user).exists()
        context["show_territory"] = spans_territories(self.request.user)
        return context


class JournalCreateView(PageMixin, LoginRequiredMixin, RoleRequiredMixin, FormView):
    """Writing an observation: authority coordinators for their territory, evaluators anywhere."""

    form_class = JournalEntryForm
    template_name = "evaluation/journal/journal_form.html"
    nav_section = "journal"

    def role_allowed(self) -> bool:
        return self.territories.exists()

    @cached_property
    def territories(self) -> QuerySet[Territory]:
        return journal_territories(self.request.user)

    def actors(self, model: type[Kitchen | Association | Authority]) -> QuerySet:
        return (
            model.objects.for_user(self.request.user)
            .filter(territory__in=self.territories)
            .select_related("territory")
            .order_by("territory__name", "name")
        )

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "territories": self.territories,
            "kitchens": self.actors(Kitchen),
            "associations": self.actors(Association),
            "authorities": self.actors(Authority),
        }

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = {"observed_on": timezone.localdate()}
        territories = list(self.territories[:2])
        if len(territories) == 1:
            initial["territory"] = territories[0].pk
        return initial

    def form_valid(self, form: JournalEntryForm) -> HttpResponse:
        try:
            entry = services.journal_entry_create(by=acting_user(self.request), **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Observation enregistrée : %(title)s.") % {"title": entry.title},
        )
        return redirect(f"{reverse('journal-list')}?territory={entry.territory_id}")
