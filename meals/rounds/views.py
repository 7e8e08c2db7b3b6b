"""The rounds' page: the coming slots of the user's association (or kitchen, or territory), where
a volunteer signs up or withdraws and a coordinator assigns a volunteer."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from territories.exceptions import Conflict
from territories.mixins import ScopedQuerysetMixin
from territories.roles import Role
from territories.views import PAGE_SIZE, PageMixin

from .. import food_safety
from ..views import acting_user
from . import services
from .models import RoundSlot

AHEAD = datetime.timedelta(weeks=services.DEFAULT_WEEKS)


class RoundSlotListView(PageMixin, ScopedQuerysetMixin, ListView):
    """The slots of the coming weeks, the nearest first, with who collects."""

    model = RoundSlot
    paginate_by = PAGE_SIZE
    template_name = "meals/rounds/slot_list.html"
    nav_section = "rounds"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        today = food_safety.today()
        return (
            queryset.filter(date__gte=today, date__lte=today + AHEAD)
            .select_related("association", "kitchen", "site", "volunteer")
            .order_by("date", "window_start", "pk")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        mine = services.association_ids(user)  # type: ignore[arg-type]
        coordinated = {pk for pk in mine if services.coordinates(user, pk)}  # type: ignore[arg-type]
        context.update(
            my_associations=mine,
            coordinated=coordinated,
            volunteers=list(
                get_user_model()
                .objects.filter(
                    memberships__association_id__in=coordinated,
                    memberships__role__in=(Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR),
                    is_active=True,
                )
                .distinct()
                .order_by("username")
            ),
        )
        return context


class RoundSlotActionView(ScopedQuerysetMixin, View):
    """A POST on a slot: 404 out of sight, 403 to whoever does not act for its association."""

    model = RoundSlot
    http_method_names = ["post"]

    def act(self, slot: RoundSlot) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        slot = get_object_or_404(self.get_queryset(), pk=pk)
        if not RoundSlot.objects.for_user(request.user, "change").filter(pk=slot.pk).exists():
            raise PermissionDenied
        try:
            messages.success(request, self.act(slot))
        except Conflict as conflict:
            messages.error(request, conflict.message)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("round-slot-list")


class RoundSlotSignUpView(RoundSlotActionView):
    def act(self, slot: RoundSlot) -> str:
        services.slot_sign_up(slot=slot, by=acting_user(self.request))
        return _("Vous êtes inscrit à la collecte du %(day)s.") % {"day": slot.date.strftime("%d/%m/%Y")}


class RoundSlotWithdrawView(RoundSlotActionView):
    def act(self, slot: RoundSlot) -> str:
        services.slot_withdraw(slot=slot, by=acting_user(self.request))
        return _("Le créneau du %(day)s est libre.") % {"day": slot.date.strftime("%d/%m/%Y")}


class RoundSlotAssignView(RoundSlotActionView):
    def act(self, slot: RoundSlot) -> str:
        volunteer = get_user_model().objects.filter(pk=self.request.POST.get("volunteer") or 0).first()
        if volunteer is None:
            raise ValidationError({"volunteer": _("Choisissez un bénévole.")})
        services.slot_assign(slot=slot, by=acting_user(self.request), volunteer=volunteer)
        return _("%(name)s est affecté à la collecte du %(day)s.") % {
            "name": volunteer.get_full_name() or volunteer.get_username(),
            "day": slot.date.strftime("%d/%m/%Y"),
        }
