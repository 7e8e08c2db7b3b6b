"""Browser pages of the central kitchens; querysets come from the tenant rule."""

from typing import Any, cast

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, ListView, TemplateView

from associations.models import Partnership
from territories.mixins import ScopedQuerysetMixin
from territories.views import PAGE_SIZE, PageMixin, TerritoryFilterMixin

from .egalim import MAX_BYTES, EgalimFileError, declaring_kitchens, egalim_import
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
        context["declares_egalim"] = self.object.siret in declaring_kitchens(cast(User, self.request.user))
        return context


class EgalimUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Export CSV de ma-cantine"),
        help_text=gettext_lazy(
            "Les télédéclarations de vos cuisines, colonnes du schéma ouvert de ma-cantine."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("Le fichier dépasse 5 Mo."))
        return upload


class EgalimImportView(LoginRequiredMixin, PageMixin, TemplateView):
    """Imports a ma-cantine export for the kitchens the user declares for (its kitchen manager, an
    evaluator), then lists each refused line with its number and reason (``kitchens.egalim``).
    Other roles get 403; an unreadable file a 400 with the form's error, nothing imported."""

    template_name = "kitchens/egalim_import.html"
    nav_section = "kitchens"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not declaring_kitchens(cast(User, request.user)):
            raise PermissionDenied(_("Votre rôle ne permet pas de déclarer les parts EGalim d'une cuisine."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", EgalimUploadForm())
        kitchens = declaring_kitchens(cast(User, self.request.user))
        context["kitchens"] = sorted(kitchens.values(), key=lambda kitchen: kitchen.name)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = EgalimUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = egalim_import(content=form.cleaned_data["file"].read(), by=cast(User, request.user))
            except EgalimFileError as error:
                form.add_error("file", str(error))
            else:
                return self.render_to_response(self.get_context_data(form=EgalimUploadForm(), result=result))
        return self.render_to_response(self.get_context_data(form=form), status=400)
