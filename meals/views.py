"""Browser pages of the meal flow: a kitchen declares a batch, its association collects and
distributes it, coordinators follow the week.

Views stay thin. Querysets start from ``for_user`` (out of scope: 404), the role comes on
top (in scope but not allowed: 403), writes go through ``meals.services`` whose
``ValidationError`` lands on the form's fields, and a ``Conflict`` (someone else did it
first) becomes a message on the batch page.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, ListView, TemplateView, View
from django.views.generic.detail import SingleObjectMixin

from associations.models import DistributionSite, Partnership
from config import leases
from config.celery import work_after_response
from kitchens.capacity import capacity_alert
from territories import bounds
from territories.exceptions import Conflict
from territories.mixins import ScopedQuerysetMixin
from territories.models import Territory
from territories.roles import Role
from territories.scoping import Action, memberships_of
from territories.views import PAGE_SIZE, PageMixin, TerritoryFilterMixin

from . import food_safety, import_format, imports, selectors, services, sheets
from .forms import BatchForm, DistributionForm, PickupForm, ReasonForm, RecordImportForm, add_service_errors
from .models import (
    REACH_FIELDS,
    Allergen,
    Batch,
    Component,
    Distribution,
    Liaison,
    Pickup,
    RecordImport,
    temperature_ok,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db import models

# Roles that follow the whole flow of their territory (evaluators: of every territory).
FLOW_ROLES = frozenset({Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR, Role.EVALUATOR})


def acting_user(request: HttpRequest) -> User:
    """The logged-in user (every page here requires a login)."""
    return cast("User", request.user)


def may(user: Any, action: Action) -> bool:
    """Whether one of the user's memberships grants ``action`` on batches, by the same rule
    ``Batch.objects.for_user(user, action)`` applies."""
    if user.is_superuser:
        return True
    rule = getattr(Batch, f"{action}_rule")
    return any(rule(membership) is not None for membership in memberships_of(user))


def managed_kitchen_ids(user: Any) -> list[int]:
    """The kitchens whose batches the user declares (kitchen managers)."""
    return [
        membership.kitchen_id
        for membership in memberships_of(user)
        if membership.kitchen_id and Batch.change_rule(membership) is not None
    ]


def spans_territories(user: Any) -> bool:
    """Whether the user sees more than one territory, so that a territory filter is worth showing."""
    memberships = memberships_of(user)
    territories = {membership.territory_id for membership in memberships}
    return user.is_superuser or None in territories or len(territories) > 1


def follows_flow(user: Any) -> bool:
    return user.is_superuser or any(membership.role in FLOW_ROLES for membership in memberships_of(user))


class RoleRequiredMixin:
    """Answers 403 to a logged-in user whose roles do not open the page (login is checked apart)."""

    request: HttpRequest

    def role_allowed(self) -> bool:
        raise NotImplementedError

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not self.role_allowed():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


# Weeks


WEEK_PATTERN = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


@dataclass(frozen=True)
class Week:
    """An ISO week, named ``YYYY-Www`` in the ``?semaine=`` (or ``?week=``) parameter."""

    monday: datetime.date

    @classmethod
    def containing(cls, day: datetime.date) -> Week:
        return cls(day - datetime.timedelta(days=day.weekday()))

    @classmethod
    def from_request(cls, request: HttpRequest) -> Week:
        """The week asked for; none: the current week. A week that does not exist, or lies
        outside the dates the platform holds (``territories.bounds``), raises ``ValueError``
        with the message to show."""
        raw = (request.GET.get("semaine") or request.GET.get("week") or "").strip()
        if not raw:
            return cls.containing(timezone.localdate())
        match = WEEK_PATTERN.fullmatch(raw)
        try:
            if not match:
                raise ValueError
            monday = datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise ValueError(
                _("Semaine « %(week)s » inconnue : écrivez-la AAAA-Wnn (par exemple 2025-W07).")
                % {"week": raw[:20]}
            ) from None
        message = bounds.date_error(monday, ahead_years=1)
        if message:
            raise ValueError(_("Semaine hors de la période couverte. %(reason)s") % {"reason": message})
        return cls(monday)

    @property
    def sunday(self) -> datetime.date:
        return self.monday + datetime.timedelta(days=6)

    @property
    def param(self) -> str:
        year, number, _day = self.monday.isocalendar()
        return f"{year}-W{number:02d}"

    @property
    def number(self) -> int:
        return self.monday.isocalendar()[1]

    @property
    def previous(self) -> Week:
        return Week(self.monday - datetime.timedelta(days=7))

    @property
    def next(self) -> Week:
        return Week(self.monday + datetime.timedelta(days=7))

    @property
    def is_current(self) -> bool:
        return self.monday <= timezone.localdate() <= self.sunday

    @property
    def has_next(self) -> bool:
        """Batches are never produced in the future: no link past the current week."""
        return self.sunday < timezone.localdate()

    def of(self, batches: QuerySet) -> QuerySet:
        return batches.filter(production_date__range=(self.monday, self.sunday))


class WeekMixin:
    """The week of ``?semaine=``; a week that cannot be shown answers 400 with the current week
    and the reason."""

    request: HttpRequest
    week_error = ""

    @cached_property
    def week(self) -> Week:
        try:
            return Week.from_request(self.request)
        except ValueError as error:
            self.week_error = str(error)
            return Week.containing(timezone.localdate())

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if self.week_error:
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)  # type: ignore[misc]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["week"] = self.week
        context["week_error"] = self.week_error
        context["show_territory_filter"] = spans_territories(self.request.user)
        return context


# Kitchen managers: declare a batch, the week's batches


class BatchCreateView(PageMixin, LoginRequiredMixin, RoleRequiredMixin, FormView):
    """Declaring a batch in under a minute: everything but the count and the temperature is prefilled."""

    form_class = BatchForm
    template_name = "meals/batch_form.html"
    nav_section = "batch-create"

    def role_allowed(self) -> bool:
        return bool(managed_kitchen_ids(self.request.user))

    @cached_property
    def partnerships(self) -> QuerySet[Partnership]:
        user = self.request.user
        return (
            Partnership.objects.for_user(user)
            .filter(kitchen_id__in=managed_kitchen_ids(user), status=Partnership.Status.ACTIVE)
            .select_related("kitchen", "association")
            .order_by("kitchen__name", "association__name", "pk")
        )

    @cached_property
    def defaults_from(self) -> tuple[Partnership | None, Batch | None]:
        """The partnership the defaults are taken from (the first one) and its kitchen's latest batch."""
        partnership = self.partnerships.first()
        if partnership is None:
            return None, None
        return partnership, self.latest_batch(self.request.user, partnership.kitchen_id)

    @staticmethod
    def latest_batch(user: Any, kitchen_id: int) -> Batch | None:
        """The kitchen's latest batch, whose menu the next declaration (or offer) starts from."""
        return (
            Batch.objects.for_user(user)
            .filter(kitchen_id=kitchen_id)
            .order_by("-production_date", "-id")
            .first()
        )

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "partnerships": self.partnerships}

    def get_initial(self) -> dict[str, Any]:
        today = timezone.localdate()
        initial: dict[str, Any] = {"production_date": today, "service": Batch.Service.LUNCH}
        partnership, latest = self.defaults_from
        if partnership is None:
            return initial
        kitchen = partnership.kitchen
        liaison = Liaison.COLD if kitchen.does_cold_liaison else Liaison.HOT
        initial.update(
            kind=Batch.Kind.SURPLUS if partnership.mode == Partnership.Mode.SURPLUS else Batch.Kind.DEDICATED,
            liaison=liaison,
            use_by_date=today + datetime.timedelta(days=kitchen.cold_shelf_life_days)
            if liaison == Liaison.COLD
            else today,
            lot_number=food_safety.next_lot_number(kitchen, today),
            components=latest.components if latest else [],
            allergens=latest.allergens if latest else [],
            no_regulated_allergens=latest.no_regulated_allergens if latest else False,
            dishes=latest.dishes if latest else "",
            portion_type=latest.portion_type if latest else "",
            portion_grams=latest.portion_grams if latest else None,
            reheating_instructions=latest.reheating_instructions if latest else "",
        )
        if len(self.partnerships) == 1:
            initial["partnership"] = partnership.pk
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["has_partnerships"] = bool(self.partnerships)
        context["menu_from"] = self.defaults_from[1]
        return context

    def form_valid(self, form: BatchForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        partnership = data.pop("partnership")
        try:
            batch = services.batch_create(partnership=partnership, by=acting_user(self.request), **data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        if batch.status == Batch.Status.DISCARDED:
            messages.warning(
                self.request,
                _("Lot %(lot)s enregistré comme écarté : sa température au départ est hors limites.")
                % {"lot": batch.lot_number},
            )
        else:
            messages.success(
                self.request,
                _("Lot %(lot)s déclaré : %(count)s repas prêts à collecter.")
                % {"lot": batch.lot_number, "count": batch.meals_count},
            )
        if batch.kind == Batch.Kind.DEDICATED:
            alert = capacity_alert(kitchen=batch.kitchen, day=batch.production_date)
            if alert:
                messages.warning(self.request, alert)
        return redirect("batch-detail", pk=batch.pk)


class BatchWeekView(PageMixin, WeekMixin, TerritoryFilterMixin, ListView):
    """The week's batches: a kitchen manager's own kitchen, everyone else the batches they can see."""

    model = Batch
    paginate_by = PAGE_SIZE
    template_name = "meals/batch_week.html"
    nav_section = "batch-week"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().scope_queryset(queryset)
        kitchens = managed_kitchen_ids(self.request.user)
        if kitchens:
            queryset = queryset.filter(kitchen_id__in=kitchens)
        return (
            self.week.of(queryset)
            .select_related("kitchen", "association")
            .order_by("production_date", "kitchen__name", "id")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_declare"] = bool(managed_kitchen_ids(self.request.user))
        return context


# Associations: what to collect, the pickup, the distribution


class PickupTodoView(PageMixin, ScopedQuerysetMixin, RoleRequiredMixin, ListView):
    """Batches ready for the user's association, the soonest use-by date first."""

    model = Batch
    scope_action = "pickup"
    paginate_by = PAGE_SIZE
    template_name = "meals/pickup_todo.html"
    nav_section = "pickup-todo"

    def role_allowed(self) -> bool:
        return may(self.request.user, "pickup")

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return (
            queryset.filter(status=Batch.Status.READY, use_by_date__gte=timezone.localdate())
            .select_related("kitchen", "association")
            .order_by("use_by_date", "production_date", "id")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from .offers.selectors import open_offers_for

        context = super().get_context_data(**kwargs)
        context["today"] = timezone.localdate()
        context["open_offers"] = open_offers_for(self.request.user)[:PAGE_SIZE]
        return context


class DistributionTodoView(PageMixin, LoginRequiredMixin, RoleRequiredMixin, ListView):
    """The association's collected batches with meals left to hand out, the soonest use-by date
    first, each with its "Enregistrer une distribution" button."""

    model = Pickup
    paginate_by = PAGE_SIZE
    template_name = "meals/distribution_todo.html"
    nav_section = "distribution-todo"

    def role_allowed(self) -> bool:
        return may(self.request.user, "pickup")

    def get_queryset(self) -> QuerySet[Pickup]:
        return selectors.pickups_to_distribute(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["today"] = timezone.localdate()
        return context


class BatchPickupView(PageMixin, LoginRequiredMixin, FormView):
    """Confirming a pickup on one screen; 404 out of scope, 403 when not the user's association."""

    form_class = PickupForm
    template_name = "meals/pickup_form.html"
    nav_section = "pickup-todo"
    batch: Batch

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.batch = get_object_or_404(
                Batch.objects.for_user(request.user).select_related("kitchen", "association"),
                pk=kwargs["pk"],
            )
            if not Batch.objects.for_user(request.user, "pickup").filter(pk=self.batch.pk).exists():
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.batch.status != Batch.Status.READY:
            messages.info(
                request,
                _("Ce lot est « %(status)s » : il n'est plus à collecter.")
                % {"status": self.batch.get_status_display()},
            )
            return redirect("batch-detail", pk=self.batch.pk)
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "batch": self.batch}

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = {"meals_received": self.batch.meals_count}
        # The same trip as last time from this kitchen, so a usual pickup is one tap.
        last = (
            Pickup.objects.for_user(self.request.user)
            .filter(association_id=self.batch.association_id, batch__kitchen_id=self.batch.kitchen_id)
            .order_by("-picked_up_at")
            .first()
        )
        if last:
            initial.update(
                transport_mode=last.transport_mode,
                refrigerated_vehicle=last.refrigerated_vehicle,
                distance_km=last.distance_km,
                duration_minutes=last.duration_minutes,
            )
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["batch"] = self.batch
        return context

    def form_valid(self, form: PickupForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            pickup = services.pickup_confirm(
                batch=self.batch,
                by=acting_user(self.request),
                meals_received=data["meals_received"],
                temperature_c=data["temperature_c"],
                transport_mode=data["transport_mode"],
                refrigerated_vehicle=data["refrigerated_vehicle"],
                distance_km=data["distance_km"] if data["distance_km"] is not None else Decimal("0"),
                duration_minutes=data["duration_minutes"] or 0,
                discard_reason=data["discard_reason"],
                shortfall_reason=data["shortfall_reason"],
                shortfall_note=data["shortfall_note"],
            )
        except Conflict as conflict:
            messages.error(self.request, conflict.message)
            return redirect("batch-detail", pk=self.batch.pk)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        if pickup.batch.status == Batch.Status.DISCARDED:
            messages.warning(
                self.request,
                _("Collecte enregistrée, repas écartés : la température à réception est hors limites."),
            )
        else:
            messages.success(
                self.request,
                _("Collecte confirmée : %(count)s repas reçus.") % {"count": pickup.meals_received},
            )
        return redirect("batch-detail", pk=self.batch.pk)


def meals_left(pickup: Pickup, user: Any) -> int:
    """Meals of a pickup neither distributed nor set aside yet."""
    done = (
        Distribution.objects.for_user(user)
        .filter(pickup=pickup)
        .aggregate(
            distributed=Sum("meals_distributed", default=0), discarded=Sum("meals_discarded", default=0)
        )
    )
    return pickup.meals_received - done["distributed"] - done["discarded"]


class DistributionCreateView(PageMixin, LoginRequiredMixin, FormView):
    """Recording a distribution of a pickup's meals; 404 out of scope, 403 when not the user's association."""

    form_class = DistributionForm
    template_name = "meals/distribution_form.html"
    nav_section = "pickup-todo"
    pickup: Pickup

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.pickup = get_object_or_404(
                Pickup.objects.for_user(request.user).select_related(
                    "batch", "batch__kitchen", "association"
                ),
                pk=kwargs["pk"],
            )
            if not Pickup.objects.for_user(request.user, "change").filter(pk=self.pickup.pk).exists():
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def remaining(self) -> int:
        return meals_left(self.pickup, self.request.user)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.remaining <= 0:
            messages.info(request, _("Tous les repas de cette collecte ont déjà été distribués ou écartés."))
            return redirect("batch-detail", pk=self.pickup.batch_id)
        return super().get(request, *args, **kwargs)

    @cached_property
    def sites(self) -> QuerySet[DistributionSite]:
        return DistributionSite.objects.for_user(self.request.user).filter(
            association_id=self.pickup.association_id
        )

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "sites": self.sites}

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "distributed_on": timezone.localdate(),
            "meals_distributed": max(self.remaining, 0),
            "meals_discarded": 0,
        }
        sites = list(self.sites[:2])
        if len(sites) == 1:
            initial["site"] = sites[0].pk
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            pickup=self.pickup,
            batch=self.pickup.batch,
            remaining=self.remaining,
            reheating_site=any(site.reheats for site in self.sites),
        )
        return context

    def form_valid(self, form: DistributionForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            distribution = services.distribution_record(
                pickup=self.pickup,
                by=acting_user(self.request),
                site=data["site"],
                distributed_on=data["distributed_on"],
                meals_distributed=data["meals_distributed"],
                beneficiaries=data["beneficiaries"],
                households=data["households"],
                children=data["children"],
                meals_discarded=data["meals_discarded"] or 0,
                discard_reason=data["discard_reason"],
                temperature_c=data["temperature_c"],
                consumed_on_receipt=data["consumed_on_receipt"],
                reheat_temperature_c=data["reheat_temperature_c"],
                reheat_minutes=data["reheat_minutes"],
                **{name: data[name] for name in REACH_FIELDS},
            )
        except Conflict as conflict:
            messages.error(self.request, conflict.message)
            return redirect("batch-detail", pk=self.pickup.batch_id)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Distribution enregistrée : %(count)s repas distribués à %(people)s personnes.")
            % {"count": distribution.meals_distributed, "people": distribution.beneficiaries},
        )
        # Back to what is left to hand out, the volunteer's next task.
        return redirect("distribution-todo")


# Kitchen managers: what became of their batches


class KitchenBatchesView(PageMixin, WeekMixin, LoginRequiredMixin, RoleRequiredMixin, TemplateView):
    """« Mes lots »: each batch of the week from the manager's kitchens, with what became of it
    (collected when and by which association, meals received, distributed, people served,
    discarded or recalled with the reason) and the week's totals."""

    template_name = "meals/kitchen_batches.html"
    nav_section = "kitchen-batches"

    def role_allowed(self) -> bool:
        return bool(managed_kitchen_ids(self.request.user))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        batches = selectors.kitchen_batches(self.request.user, start=self.week.monday, end=self.week.sunday)
        rows, totals = selectors.flow_of(batches)
        context.update(
            rows=rows,
            totals=totals,
            show_territory_filter=False,
            managed_kitchens_count=len(managed_kitchen_ids(self.request.user)),
        )
        return context


# Coordinators: the flow of the week


class FlowWeekView(PageMixin, WeekMixin, TerritoryFilterMixin, RoleRequiredMixin, ListView):
    """The territory's batches of the week with their totals and the alerts: batches not
    picked up in time, cold-chain breaches, unusual counts and recalled lots (with the reason
    of their recall; a recalled lot is counted whatever its status, cancelled included)."""

    model = Batch
    template_name = "meals/flow_week.html"
    nav_section = "flow-week"

    def role_allowed(self) -> bool:
        return follows_flow(self.request.user)

    def territory_batches(self) -> QuerySet:
        """The batches in the user's scope and the territory filter, any week."""
        return super().scope_queryset(Batch.objects.for_user(self.request.user))

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        batches = self.week.of(super().scope_queryset(queryset))
        return selectors.with_outcome(batches, self.request.user).order_by(
            "production_date", "kitchen__name", "id"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows, totals = selectors.flow_of(context["object_list"])
        today = timezone.localdate()
        # Still ready on or after their use-by date, counted in the week of that date.
        context["late"] = (
            self.territory_batches()
            .filter(
                status=Batch.Status.READY,
                use_by_date__range=(self.week.monday, min(self.week.sunday, today)),
            )
            .select_related("kitchen", "association")
            .order_by("use_by_date", "id")
        )
        context.update(
            rows=rows,
            totals=totals,
            breaches=[row for row in rows if row.breach],
            unusual=[row for row in rows if row.batch.unusual_confirmed],
            recalled=[row for row in rows if row.batch.recalled],
            today=today,
        )
        return context


# The batch page and its actions


HISTORY_TYPES = {
    "+": gettext_lazy("Création"),
    "~": gettext_lazy("Modification"),
    "-": gettext_lazy("Suppression"),
}


@dataclass
class HistoryEntry:
    when: datetime.datetime
    who: Any
    subject: str
    kind: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


def choice_labels(choices: type[models.TextChoices], values: list[str]) -> list[str]:
    labels = dict(choices.choices)
    return [str(labels.get(value, value)) for value in values]


def shown(model_field: models.Field, value: Any) -> Any:
    """A history value as people read it: labels of choices, lists joined, "—" for nothing."""
    if value is None or value in ("", []):
        return "—"
    if isinstance(value, list):
        labels = {**dict(Component.choices), **dict(Allergen.choices)}
        return ", ".join(str(labels.get(item, item)) for item in value)
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    return value


def batch_history(batch: Batch) -> list[HistoryEntry]:
    """Every change to the batch, its pickup and its distributions, oldest first, with who
    made it and, for a change, the fields that moved (each record against the one before)."""
    sources: list[tuple[type[models.Model], str, str]] = [
        (Batch, _("Lot"), "id"),
        (Pickup, _("Collecte"), "batch_id"),
        (Distribution, _("Distribution"), "batch_id"),
    ]
    entries: list[HistoryEntry] = []
    for model, subject, link in sources:
        records = (
            cast(Any, model)
            .history.filter(**{link: batch.pk})
            .select_related("history_user")
            .order_by("history_date", "history_id")
        )
        previous: dict[int, Any] = {}
        for record in records:
            before = previous.get(record.id)
            changes = []
            if before is not None:
                for change in record.diff_against(before).changes:
                    model_field = model._meta.get_field(change.field)
                    label = capfirst(str(getattr(model_field, "verbose_name", change.field)))
                    changes.append((label, shown(model_field, change.old), shown(model_field, change.new)))  # type: ignore[arg-type]
            previous[record.id] = record
            entries.append(
                HistoryEntry(
                    when=record.history_date,
                    who=record.history_user,
                    subject=subject,
                    kind=str(HISTORY_TYPES.get(record.history_type, record.history_type)),
                    changes=changes,
                )
            )
    entries.sort(key=lambda entry: entry.when)
    return entries


class BatchDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    """Everything about a batch, the actions open to the user, and its history."""

    model = Batch
    template_name = "meals/batch_detail.html"
    nav_section = "batch-week"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related(
            "territory",
            "kitchen",
            "association",
            "partnership",
            "created_by",
            "pickup",
            "pickup__picked_up_by",
        )

    def may_act(self, action: Action) -> bool:
        return Batch.objects.for_user(self.request.user, action).filter(pk=self.object.pk).exists()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        batch: Batch = self.object
        pickup: Pickup | None = getattr(batch, "pickup", None)
        distributions = list(
            Distribution.objects.for_user(self.request.user)
            .filter(batch=batch)
            .select_related("site", "recorded_by")
            .order_by("distributed_on", "id")
        )
        distributed = sum(item.meals_distributed for item in distributions)
        set_aside = sum(item.meals_discarded for item in distributions)
        remaining = pickup.meals_received - distributed - set_aside if pickup else 0
        can_change, can_pickup = self.may_act("change"), self.may_act("pickup")
        status = batch.status
        context.update(
            pickup=pickup,
            distributions=distributions,
            distributed=distributed,
            set_aside=set_aside,
            remaining=remaining,
            can_confirm_pickup=can_pickup and status == Batch.Status.READY and not batch.expired,
            can_cancel=can_change and status == Batch.Status.READY,
            can_discard=(can_change or can_pickup) and status in (Batch.Status.READY, Batch.Status.PICKED_UP),
            can_distribute=can_pickup and pickup is not None and remaining > 0 and not batch.recalled,
            can_recall=not batch.recalled and self.may_act("recall"),
            receipt_ok=pickup is None or temperature_ok(batch.liaison, pickup.temperature_c),
            component_labels=choice_labels(Component, batch.components),
            allergen_labels=choice_labels(Allergen, batch.allergens),
            week_param=Week.containing(batch.production_date).param,
            history=batch_history(batch),
        )
        context.setdefault("cancel_form", ReasonForm(auto_id="annulation_%s"))
        context.setdefault("discard_form", ReasonForm(auto_id="ecart_%s"))
        context.setdefault("recall_form", ReasonForm(auto_id="rappel_%s"))
        return context


class BatchActionView(BatchDetailView):
    """A POST-only action on a batch with a reason; its errors show on the batch page."""

    http_method_names = ["post"]
    form_name = ""
    form_auto_id = ""

    def allowed(self) -> bool:
        raise NotImplementedError

    def act(self, reason: str) -> str:
        """Runs the service and returns the success message."""
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()  # 404 out of scope
        if not self.allowed():
            raise PermissionDenied
        form = ReasonForm(request.POST, auto_id=self.form_auto_id)
        if form.is_valid():
            try:
                done = self.act(form.cleaned_data["reason"])
            except Conflict as conflict:
                messages.error(request, conflict.message)
                return redirect("batch-detail", pk=self.object.pk)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, done)
                return redirect("batch-detail", pk=self.object.pk)
        return self.render_to_response(self.get_context_data(**{self.form_name: form}))


class BatchCancelView(BatchActionView):
    """The kitchen withdraws a batch not yet picked up."""

    form_name = "cancel_form"
    form_auto_id = "annulation_%s"

    def allowed(self) -> bool:
        return self.may_act("change")

    def act(self, reason: str) -> str:
        services.batch_cancel(batch=self.object, by=acting_user(self.request), reason=reason)
        return _("Lot annulé.")


class BatchDiscardView(BatchActionView):
    """The kitchen or the association sets a batch's meals aside."""

    form_name = "discard_form"
    form_auto_id = "ecart_%s"

    def allowed(self) -> bool:
        return self.may_act("change") or self.may_act("pickup")

    def act(self, reason: str) -> str:
        services.batch_discard(batch=self.object, by=acting_user(self.request), reason=reason)
        return _("Lot écarté : ses repas ne seront pas distribués.")


class BatchRecallView(BatchActionView):
    """A manager of the lot's kitchen or a coordinator of its territory recalls it, at any status."""

    form_name = "recall_form"
    form_auto_id = "rappel_%s"

    def allowed(self) -> bool:
        return self.may_act("recall")

    def act(self, reason: str) -> str:
        services.batch_recall(batch=self.object, by=acting_user(self.request), reason=reason)
        return _("Lot rappelé : l'association a été prévenue par courriel.")


class BatchSheetView(BatchDetailView):
    """The batch's one-page traceability sheet (PDF), for whoever sees the batch."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()  # 404 out of scope
        return sheet_response(self.object)


def sheet_response(batch: Batch) -> HttpResponse:
    pdf = sheets.batch_sheet_pdf(batch)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{sheets.sheet_file_name(batch)}"'
    return response


# Imports of past records


class RecordImportView(PageMixin, ScopedQuerysetMixin, DetailView):
    """A territory's imports, and the form to upload a new file (authority coordinators)."""

    model = Territory
    template_name = "meals/record_import.html"
    nav_section = "territories"

    def may_import(self) -> bool:
        return Territory.objects.for_user(self.request.user, "change").filter(pk=self.object.pk).exists()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["may_import"] = self.may_import()
        context["form"] = kwargs.get("form") or RecordImportForm()
        context["format_tables"] = import_format.format_tables()
        context["imports"] = (
            RecordImport.objects.for_user(self.request.user)
            .filter(territory=self.object)
            .select_related("uploaded_by")[:20]
        )
        return context

    @method_decorator(work_after_response)
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        if not self.may_import():
            raise PermissionDenied
        form = RecordImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        record_import = imports.record_import_request(
            territory=self.object, file=form.cleaned_data["file"], by=cast("User", request.user)
        )
        # Straight to its page, which says where it stands (queued, being loaded, done or refused).
        return redirect("record-import-detail", pk=record_import.pk)


class RecordImportRetryView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """Runs a failed or interrupted import again, with the same file (authority coordinators)."""

    model = RecordImport
    http_method_names = ["post"]

    @method_decorator(work_after_response)
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        record_import = self.get_object()
        if not RecordImport.objects.for_user(request.user, "change").filter(pk=record_import.pk).exists():
            raise PermissionDenied
        try:
            record_import = imports.record_import_retry(record_import=record_import)
        except imports.ImportNotRetryable as refusal:
            messages.error(request, str(refusal))
        return redirect("record-import-detail", pk=record_import.pk)


class RecordImportTemplateView(LoginRequiredMixin, View):
    """The import's template CSV: its header and two example lines (no territory data)."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = HttpResponse(import_format.template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="modele-import-passerelle.csv"'
        return response


class RecordImportDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    """Where an import stands; the page refreshes itself while the file is being loaded."""

    model = RecordImport
    template_name = "meals/record_import_detail.html"
    nav_section = "territories"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        writable = RecordImport.objects.for_user(self.request.user, "change").filter(pk=self.object.pk)
        context["may_retry"] = leases.may_retry(self.object) and writable.exists()
        return context
