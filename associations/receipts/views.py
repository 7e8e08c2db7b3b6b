"""The donation receipts page: the association's coordinator issues; the coordinator and the
donor kitchen's manager list and download (``DonationReceipt.view_rule``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView
from django.views.generic.detail import SingleObjectMixin

from kitchens.models import Kitchen
from territories.mixins import ScopedQuerysetMixin
from territories.roles import Role
from territories.scoping import memberships_of
from territories.views import PAGE_SIZE, PageMixin

from .api import receipt_file_response
from .models import DonationReceipt
from .services import receipt_issue


class ReceiptForm(forms.Form):
    kitchen = forms.ModelChoiceField(label=gettext_lazy("Cuisine donatrice"), queryset=Kitchen.objects.none())
    period = forms.ChoiceField(label=gettext_lazy("Période"), choices=DonationReceipt.Period.choices)
    year = forms.IntegerField(label=gettext_lazy("Année"), min_value=2000, max_value=2100)
    index = forms.IntegerField(
        label=gettext_lazy("Mois (1 à 12) ou trimestre (1 à 4)"), required=False, min_value=1, max_value=12
    )
    cancels = forms.ModelChoiceField(
        label=gettext_lazy("Annule le reçu"), queryset=DonationReceipt.objects.none(), required=False
    )

    def __init__(self, *args: Any, kitchens: QuerySet, receipts: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kitchen"].queryset = kitchens  # type: ignore[attr-defined]
        self.fields["cancels"].queryset = receipts  # type: ignore[attr-defined]


def coordinated_association_id(user: Any) -> int | None:
    for membership in memberships_of(user):
        if membership.role == Role.ASSOCIATION_COORDINATOR and membership.association_id:
            return membership.association_id
    return None


class DonationReceiptListView(PageMixin, ScopedQuerysetMixin, ListView):
    model = DonationReceipt
    paginate_by = PAGE_SIZE
    nav_section = "receipts"
    template_name = "associations/donation_receipts.html"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("association", "kitchen", "cancels")

    def form(self, data: Any = None) -> ReceiptForm | None:
        association_id = coordinated_association_id(self.request.user)
        if association_id is None:
            return None
        kitchens = (
            Kitchen.objects.for_user(self.request.user)
            .filter(
                partnerships__association_id=association_id,
                operator_type__in=[Kitchen.OperatorType.PRIVATE, Kitchen.OperatorType.SPL],
            )
            .distinct()
        )
        receipts = self.get_queryset().filter(
            association_id=association_id, status=DonationReceipt.Status.ISSUED
        )
        initial = {"period": DonationReceipt.Period.QUARTER, "year": timezone.localdate().year}
        return ReceiptForm(data, kitchens=kitchens, receipts=receipts, initial=initial)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.form())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form(request.POST)
        if form is None:
            return HttpResponse(status=403)
        if form.is_valid():
            from associations.models import Association

            association = Association.objects.for_user(request.user).get(
                pk=coordinated_association_id(request.user) or 0
            )
            try:
                receipt = receipt_issue(
                    association=association,
                    kitchen=form.cleaned_data["kitchen"],
                    period=form.cleaned_data["period"],
                    year=form.cleaned_data["year"],
                    index=form.cleaned_data["index"],
                    cancels=form.cleaned_data["cancels"],
                    by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Reçu n° %(ref)s émis.") % {"ref": receipt.reference})
                return redirect("donation-receipt-list")
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form))


class DonationReceiptPdfView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """The receipt's PDF as it was issued."""

    model = DonationReceipt

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> FileResponse:
        return receipt_file_response(self.get_object())
