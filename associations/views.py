"""Browser pages of the associations and their partnerships; querysets come from the tenant rule."""

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views import View
from django.views.generic import DetailView, ListView
from django.views.generic.detail import SingleObjectMixin

from territories.mixins import ScopedQuerysetMixin
from territories.views import PAGE_SIZE, PageMixin, TerritoryFilterMixin

from .models import Association, ConventionVersion, DistributionSite, Partnership, Weekday


class AssociationListView(PageMixin, TerritoryFilterMixin, ListView):
    model = Association
    paginate_by = PAGE_SIZE
    nav_section = "associations"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().scope_queryset(queryset).select_related("territory")


class AssociationDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    """An association, its distribution sites and its partnerships."""

    model = Association
    nav_section = "associations"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("territory")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        day_labels = dict(Weekday.choices)
        sites = list(DistributionSite.objects.for_user(user).filter(association=self.object))
        context["sites"] = [
            (site, [day_labels.get(day, day) for day in site.opening_days or []]) for site in sites
        ]
        context["partnerships"] = (
            Partnership.objects.for_user(user).filter(association=self.object).select_related("kitchen")
        )
        return context


class PartnershipListView(PageMixin, TerritoryFilterMixin, ListView):
    model = Partnership
    paginate_by = PAGE_SIZE
    nav_section = "partnerships"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().scope_queryset(queryset).select_related("territory", "kitchen", "association")


class PartnershipDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    model = Partnership
    nav_section = "partnerships"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("territory", "kitchen", "association")


class PartnershipConventionView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """Streams the signed convention to those who may see the partnership (not from public media)."""

    model = Partnership

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> FileResponse:
        return convention_response(self.get_object())


def convention_response(partnership: Partnership) -> FileResponse:
    """The signed convention as a PDF download; 404 when there is none or its file is gone."""
    document = partnership.convention_document
    if not document:
        raise Http404
    try:
        handle = document.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    return FileResponse(
        handle,
        content_type="application/pdf",
        filename=f"convention-partenariat-{partnership.pk}.pdf",
    )


class ConventionVersionPdfView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """A version of a convention as a PDF, drawn up from its frozen terms and its signatures."""

    model = ConventionVersion

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from .conventions.pdf import convention_render

        version = self.get_object()
        response = HttpResponse(convention_render(version), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="convention-{version.partnership_id}-v{version.number}.pdf"'
        )
        return response
