"""Browser pages of the offers: the kitchen's offer form, the offers' list and one offer's page,
where an association's volunteer accepts or declines it on a phone."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView, ListView

from kitchens.models import Kitchen
from territories.exceptions import Conflict
from territories.mixins import ScopedQuerysetMixin
from territories.views import PAGE_SIZE, PageMixin

from .. import food_safety
from ..forms import add_service_errors
from ..models import Allergen, Component, Offer
from ..views import RoleRequiredMixin, acting_user, choice_labels, managed_kitchen_ids
from . import services
from .forms import DeclineForm, OfferForm


class OfferCreateView(PageMixin, LoginRequiredMixin, RoleRequiredMixin, FormView):
    """Offering a surplus batch: the kitchen's usual values prefilled, as for a batch."""

    form_class = OfferForm
    template_name = "meals/offers/offer_form.html"
    nav_section = "batch-create"

    def role_allowed(self) -> bool:
        return bool(managed_kitchen_ids(self.request.user))

    def kitchens(self) -> QuerySet[Kitchen]:
        return Kitchen.objects.for_user(self.request.user).filter(
            pk__in=managed_kitchen_ids(self.request.user)
        )

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "kitchens": self.kitchens()}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "kitchens": list(self.kitchens())}

    def get_initial(self) -> dict[str, Any]:
        from ..views import BatchCreateView

        kitchen = self.kitchens().first()
        today = timezone.localdate()
        initial: dict[str, Any] = {"production_date": today, "service": "lunch"}
        if kitchen is None:
            return initial
        cold = kitchen.does_cold_liaison
        initial.update(
            kitchen=kitchen.pk,
            liaison="cold" if cold else "hot",
            use_by_date=today + datetime.timedelta(days=kitchen.cold_shelf_life_days) if cold else today,
            lot_number=food_safety.next_lot_number(kitchen, today),
        )
        latest = BatchCreateView.latest_batch(self.request.user, kitchen.pk)
        if latest is not None:
            initial.update(
                components=latest.components,
                allergens=latest.allergens,
                no_regulated_allergens=latest.no_regulated_allergens,
                dishes=latest.dishes,
            )
        return initial

    def form_valid(self, form: OfferForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        try:
            offer = services.offer_create(by=acting_user(self.request), **data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        count = offer.recipients.count()
        messages.success(
            self.request,
            _("Offre envoyée à %(count)s association(s) ; réponse attendue avant le %(deadline)s.")
            % {
                "count": count,
                "deadline": timezone.localtime(offer.respond_by, food_safety.TERRITORY_TZ).strftime(
                    "%d/%m/%Y à %H:%M"
                ),
            },
        )
        return redirect("offer-detail", pk=offer.pk)


class OfferListView(PageMixin, ScopedQuerysetMixin, ListView):
    """The offers the user sees: open ones first, then the latest."""

    model = Offer
    paginate_by = PAGE_SIZE
    template_name = "meals/offers/offer_list.html"
    nav_section = "offers"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        is_open = Case(
            When(status=Offer.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return queryset.select_related("kitchen", "accepted_association").order_by(
            is_open, "-created_at", "-pk"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_offer"] = bool(managed_kitchen_ids(self.request.user))
        return context


class OfferDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    """One offer: what it holds, its deadline, and for an association the buttons to answer."""

    model = Offer
    template_name = "meals/offers/offer_detail.html"
    nav_section = "offers"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("kitchen", "accepted_association", "batch")

    def may_respond(self) -> bool:
        return Offer.objects.for_user(self.request.user, "respond").filter(pk=self.object.pk).exists()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        offer: Offer = self.object
        shown = services.recipients_shown(self.request.user)
        recipients = list(offer.recipients.select_related("association").order_by("association__name"))
        mine = [row for row in recipients if shown is not None and row.association_id in shown]
        is_open = offer.status == Offer.Status.OPEN and offer.respond_by > timezone.now()
        context.update(
            recipients=recipients if shown is None else mine,
            sees_all=shown is None,
            my_answer=mine[0] if mine else None,
            can_respond=is_open and self.may_respond(),
            is_open=is_open,
            component_labels=choice_labels(Component, offer.components),
            allergen_labels=choice_labels(Allergen, offer.allergens),
        )
        context.setdefault("decline_form", DeclineForm(auto_id="refus_%s"))
        return context


class OfferAnswerView(OfferDetailView):
    """A POST-only answer of an association; a conflict or a broken rule shows on the offer's page."""

    http_method_names = ["post"]

    def answer(self, offer: Offer) -> HttpResponse:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()  # 404 out of scope
        if not self.may_respond():
            raise PermissionDenied
        try:
            return self.answer(self.object)
        except Conflict as conflict:
            messages.error(request, conflict.message)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("offer-detail", pk=self.object.pk)


class OfferAcceptView(OfferAnswerView):
    def answer(self, offer: Offer) -> HttpResponse:
        batch = services.offer_accept(offer=offer, by=acting_user(self.request))
        messages.success(
            self.request,
            _("Offre acceptée : le lot %(lot)s (%(count)s repas) est pour votre association.")
            % {"lot": batch.lot_number, "count": batch.meals_count},
        )
        return redirect("batch-detail", pk=batch.pk)


class OfferDeclineView(OfferAnswerView):
    def answer(self, offer: Offer) -> HttpResponse:
        form = DeclineForm(self.request.POST, auto_id="refus_%s")
        form.is_valid()
        try:
            services.offer_decline(
                offer=offer, by=acting_user(self.request), reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict") or "reason" not in error.error_dict:
                raise
            add_service_errors(form, error)
            return self.render_to_response(self.get_context_data(decline_form=form))
        messages.success(self.request, _("Offre déclinée : la cuisine connaît votre motif."))
        return redirect("offer-detail", pk=offer.pk)
