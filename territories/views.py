"""Browser pages: the home page that sends each role to its daily page, and the territories.

The page bases shared by the other apps' views live here too: ``PageMixin`` (what the
layout needs) and ``TerritoryFilterMixin`` (the optional ``?territory=<id>`` filter of
lists, whose choices come from the tenant rule).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, ListView, TemplateView

from associations.hygiene import associations_without_training
from associations.models import Association, Partnership
from kitchens.models import Kitchen

from .mixins import ScopedQuerysetMixin
from .models import Authority, Territory
from .navigation import landing_url_for
from .scoping import memberships_of

PAGE_SIZE = 25


class PageMixin:
    """Gives the layout the user's memberships (for the role shown in the header) and the nav section."""

    request: HttpRequest
    nav_section = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        memberships = memberships_of(self.request.user)
        context["user_memberships"] = memberships
        # The roles' values, for the links of the main navigation.
        context["user_roles"] = {membership.role for membership in memberships}
        context["nav_section"] = self.nav_section
        return context


class TerritoryFilterForm(forms.Form):
    """The territory filter of list pages; only the user's territories are valid choices."""

    territory = forms.ModelChoiceField(
        queryset=Territory.objects.none(),
        required=False,
        label=_("Territoire"),
        empty_label=_("Tous mes territoires"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = Territory.objects.for_user(user)  # type: ignore[attr-defined]


class TerritoryFilterMixin(ScopedQuerysetMixin):
    """Narrows a scoped list to one of the user's territories; an invalid choice shows nothing."""

    request: HttpRequest
    _filter_form: TerritoryFilterForm | None = None

    def get_filter_form(self) -> TerritoryFilterForm:
        if self._filter_form is None:
            data = self.request.GET if "territory" in self.request.GET else None
            self._filter_form = TerritoryFilterForm(data, user=self.request.user)
        return self._filter_form

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().scope_queryset(queryset)
        form = self.get_filter_form()
        if not form.is_bound:
            return queryset
        if not form.is_valid():
            # Another territory's id (or garbage) fails closed: nothing, not everything.
            return queryset.none()
        territory = form.cleaned_data["territory"]
        return queryset.filter(territory=territory) if territory else queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["filter_form"] = self.get_filter_form()
        return context


class HomeView(LoginRequiredMixin, PageMixin, TemplateView):
    """Sends each role to its daily page (``territories.navigation.LANDING``); a user with no
    role yet gets a page that says so."""

    template_name = "territories/no_role.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        target = landing_url_for(request.user)
        if target:
            return redirect(target)
        return super().get(request, *args, **kwargs)


class TerritoryListView(PageMixin, ScopedQuerysetMixin, ListView):
    model = Territory
    paginate_by = PAGE_SIZE
    nav_section = "territories"


class TerritoryDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    model = Territory
    nav_section = "territories"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user, territory = self.request.user, self.object
        context["authorities"] = Authority.objects.for_user(user).filter(territory=territory)
        context["kitchens"] = Kitchen.objects.for_user(user).filter(territory=territory)
        context["associations"] = Association.objects.for_user(user).filter(territory=territory)
        context["untrained_associations"] = associations_without_training(
            context["associations"], timezone.localdate()
        )
        context["partnerships"] = (
            Partnership.objects.for_user(user)
            .filter(territory=territory)
            .select_related("kitchen", "association")
        )
        from associations.duties import territory_duties

        context["duties"] = territory_duties(user=user, territory=territory, today=timezone.localdate())
        return context
