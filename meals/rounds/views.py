"""The rounds' pages: the coming slots of the user's association (or kitchen, or territory), where
a volunteer signs up or withdraws and a coordinator assigns a volunteer; and a partnership's
weekly schedule, set by the coordinators who may change it (``RoundSchedule.change_rule``)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import ListView
from django.views.generic.base import TemplateResponseMixin
from django.views.generic.detail import SingleObjectMixin

from associations.models import Partnership
from costing.views import may_change
from territories.exceptions import Conflict
from territories.mixins import ScopedQuerysetMixin
from territories.roles import Role
from territories.views import PAGE_SIZE, PageMixin

from .. import food_safety
from ..views import acting_user
from . import services
from .forms import RoundScheduleForm
from .models import RoundSchedule, RoundSlot

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


class RoundScheduleEditView(PageMixin, ScopedQuerysetMixin, SingleObjectMixin, TemplateResponseMixin, View):
    """A partnership's weekly schedule: its form (empty when it has none yet), then the schedule
    written and its slots planned in one transaction (``services.schedule_save``, as the API).
    A partnership out of sight is a 404; a role that may not change the schedule gets 403."""

    model = Partnership
    template_name = "meals/rounds/schedule_form.html"
    nav_section = "partnerships"
    refusal = _lazy("Votre rôle ne permet pas de planifier la tournée de ce partenariat.")

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("territory", "kitchen", "association")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = partnership = self.get_object()  # 404 outside the user's scope
        # The partnership is in sight: its schedule (one at most) is read with it.
        existing = RoundSchedule.objects.all_territories().filter(partnership=partnership).first()
        self.schedule = existing or RoundSchedule(
            partnership=partnership, territory_id=partnership.territory_id
        )
        if not may_change(request.user, self.schedule):
            raise PermissionDenied(self.refusal)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render(RoundScheduleForm(instance=self.schedule, user=acting_user(request)))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = acting_user(request)
        form = RoundScheduleForm(request.POST, instance=self.schedule, user=user)
        if not form.is_valid():
            return self.render(form, status=400)

        def save() -> None:
            schedule = form.save()
            if not RoundSchedule.objects.for_user(user, "change").filter(pk=schedule.pk).exists():
                raise PermissionDenied(self.refusal)  # raised inside the transaction: rolled back

        services.schedule_save(save)
        schedule = form.instance
        if schedule.active:
            count = services.planned_ahead(schedule)
            message = ngettext(
                "Tournée enregistrée : %(count)s créneau prévu dans les quatre semaines à venir.",
                "Tournée enregistrée : %(count)s créneaux prévus dans les quatre semaines à venir.",
                count,
            ) % {"count": count}
        else:
            message = _("Tournée enregistrée et suspendue : aucun créneau n'est plus prévu.")
        messages.success(request, message)
        return redirect("partnership-detail", pk=self.object.pk)

    def render(self, form: RoundScheduleForm, status: int = 200) -> HttpResponse:
        context = self.get_context_data(
            object=self.object, form=form, schedule=self.schedule, creating=self.schedule.pk is None
        )
        return self.render_to_response(context, status=status)
