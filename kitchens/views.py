"""Browser pages of the central kitchens; querysets come from the tenant rule."""

from typing import Any

from django.db.models import QuerySet
from django.views.generic import DetailView, ListView

from associations.models import Partnership
from territories.mixins import ScopedQuerysetMixin
from territories.views import PAGE_SIZE, PageMixin, TerritoryFilterMixin

from .models import Kitchen


class KitchenListView(PageMixin, TerritoryFilterMixin, ListView):
    model = Kitchen
    paginate_by = PAGE_SIZE
    nav_section = "kitchens"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().scope_queryset(queryset).select_related("territory")


class KitchenDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    model = Kitchen
    nav_section = "kitchens"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("territory")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["partnerships"] = (
            Partnership.objects.for_user(self.request.user)
            .filter(kitchen=self.object)
            .select_related("association")
        )
        return context
