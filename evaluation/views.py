"""Browser pages of the evaluation: the dashboards, and the reports (ask, follow, download, export).

Objects come from the tenant rule (out of scope: 404). The dashboards read the figures of
``evaluation.figures`` — the ones the reports freeze — and draw the same SVG charts inline
(made CSP-safe by ``evaluation.charts``); a table of the same numbers follows each chart. Pages
carry no inline script or style: the report's status page refreshes itself with a
``<meta http-equiv="refresh">`` while the report is being built.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy
from django.views.generic import DetailView, ListView, TemplateView, View
from django.views.generic.detail import SingleObjectMixin

from associations.duties import territory_duties
from config.celery import work_after_response
from costing.selectors import stale_day_count
from territories import bounds
from territories.mixins import ScopedQuerysetMixin
from territories.models import Territory
from territories.roles import ALL_TERRITORY_ROLES
from territories.scoping import memberships_of
from territories.views import PageMixin

from . import exports, figures, reports
from .charts import Chart, charts_of, comparison_charts
from .indicators import live_parts, rollup_versions
from .models import JournalEntry, Report

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Longer periods are for reports (built by a task), not for a page drawn on request.
MAX_MONTHS = bounds.PERIOD_MAX_MONTHS
JOURNAL_ENTRIES = 5


def sees_every_territory(user: Any) -> bool:
    return bool(user.is_superuser) or any(
        membership.role in ALL_TERRITORY_ROLES for membership in memberships_of(user)
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class PeriodForm(forms.Form):
    """From ``start`` to ``end``, both included; at most ``MAX_MONTHS`` months."""

    start = forms.DateField(label=gettext_lazy("Du"), widget=DateInput())
    end = forms.DateField(label=gettext_lazy("Au (inclus)"), widget=DateInput())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            for name, message in bounds.period_errors(start, end, max_months=MAX_MONTHS).items():
                self.add_error(name, message)
        return cleaned


def picked_period(request: HttpRequest) -> tuple[PeriodForm, datetime.date | None, datetime.date | None]:
    """The period form and the period it gives: the last three whole months by default."""
    start, end = figures.default_dashboard_period(timezone.localdate())
    picked = "start" in request.GET or "end" in request.GET
    form = PeriodForm(request.GET if picked else None, initial={"start": start, "end": end})
    if not form.is_bound:
        return form, start, end
    if not form.is_valid():
        return form, None, None
    return form, form.cleaned_data["start"], form.cleaned_data["end"]


# --- Dashboards -------------------------------------------------------------------------------


HEADLINE_VOLUMES = [
    ("meals_distributed", gettext_lazy("Repas distribués")),
    ("people_served", gettext_lazy("Passages (personnes servies)")),
    ("meals_per_person", gettext_lazy("Repas par passage")),
    ("meals_produced_dedicated", gettext_lazy("Repas dédiés produits")),
    ("meals_produced_surplus", gettext_lazy("Repas d'excédents donnés")),
    ("meals_lost", gettext_lazy("Repas perdus")),
]


def indicator_groups(indicators: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The indicators by evaluation question, in their order, with how many are incomplete."""
    groups: dict[str, dict[str, Any]] = {}
    for indicator in indicators:
        group = groups.setdefault(
            indicator["question"], {"label": indicator["question_label"], "rows": [], "incomplete": 0}
        )
        group["rows"].append(indicator)
        group["incomplete"] += 0 if indicator["complete"] else 1
    return list(groups.values())


# The tables the charts are drawn from (``charts.charts_of``), and how long a drawing is kept.
CHART_TABLES = ("weekly", "monthly_costs", "temperature", "losses", "comparison")
CHART_CACHE_SECONDS = 60 * 60


def dashboard_charts(data: dict[str, Any]) -> dict[str, Chart]:
    """``charts_of(data)``, kept in the cache under a digest of the tables it draws (and the
    language): drawing with matplotlib costs most of the page, and the same numbers always
    give the same drawing, so a kept one is never out of date."""
    tables = {name: data["tables"][name] for name in CHART_TABLES if name in data["tables"]}
    digest = hashlib.sha256(json.dumps(tables, sort_keys=True, default=str).encode()).hexdigest()
    key = f"evaluation:dashboard:charts:v1:{get_language() or ''}:{digest}"
    charts: dict[str, Chart] | None = cache.get(key)
    if charts is None:
        charts = charts_of(data)
        cache.set(key, charts, CHART_CACHE_SECONDS)
    return charts


SECTION_CACHE_PREFIX = "evaluation:dashboard:section:v2"


def figures_section(
    territory: Territory, *, start: datetime.date, end: datetime.date
) -> tuple[SafeString, int]:
    """The dashboard's figures rendered (headline, charts and their tables, indicators) and the
    number of the period's days that owe a rebuild (``stale_day_count``), kept in the cache under
    what they are drawn from: the territory's roll-up version (``rollup_versions``, which keys
    the cached figures too, and which a stale mark set or cleared bumps), a digest of its
    conventions, people, journal and surveys (``LivePart.digest``, read on every request) and of
    the territory's own row, the period and the language. A page drawn from cached figures spent
    about a quarter of its time completing them with the live part and rendering them."""
    ids = [territory.pk]
    version = rollup_versions(territory_ids=ids, start=start, end=end)[territory.pk]
    live = live_parts(territory_ids=ids, start=start, end=end, split=False)[None]
    row = tuple(getattr(territory, column.attname) for column in Territory._meta.concrete_fields)
    read_anew = hashlib.sha256(f"{row!r}\n{live.digest()}".encode()).hexdigest()[:32]
    key = f"{SECTION_CACHE_PREFIX}:{territory.pk}:{start}:{end}:{get_language() or ''}:{version}:{read_anew}"
    kept: tuple[SafeString, int] | None = cache.get(key)
    if kept is None:
        data = figures.dashboard_figures(territory_id=territory.pk, start=start, end=end)
        section = render_to_string(
            "evaluation/dashboard_figures.html",
            {
                "start": start,
                "end": end,
                "figures": data,
                "tables": data["tables"],
                "charts": dashboard_charts(data),
                "headline": HEADLINE_VOLUMES,
                "headline_costs": [
                    figure for figure in data["costs"] if figure["key"] in figures.HEADLINE_COSTS
                ],
                "indicator_groups": indicator_groups(data["indicators"]),
            },
        )
        kept = (section, stale_day_count(territory_id=territory.pk, start=start, end=end))
        # The figures' own bound on what the roll-up version does not see (a kitchen renamed).
        cache.set(key, kept, figures.DASHBOARD_CACHE_SECONDS)
    return kept


class TerritoryDashboardView(PageMixin, ScopedQuerysetMixin, DetailView):
    """A territory's headline figures, weekly series, costs by month, cold chain, losses and journal."""

    model = Territory
    template_name = "evaluation/dashboard.html"
    nav_section = "dashboard"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        territory: Territory = self.object
        form, start, end = picked_period(self.request)
        context["period_form"] = form
        user = self.request.user
        context["journal"] = (
            JournalEntry.objects.for_user(user)
            .filter(territory=territory)
            .order_by("-observed_on", "-pk")[:JOURNAL_ENTRIES]
        )
        # Read live for this user, like the journal: never part of the cached figures.
        duties = territory_duties(user=user, territory=territory, today=timezone.localdate())
        context["duties"] = duties
        context["duties_count"] = sum(
            len(duties[key])
            for key in (
                "awaiting_signature",
                "ending_soon",
                "owing_donation",
                "without_sanitary_approval",
                "habilitations_ending",
            )
        )
        if start is None or end is None:
            return context
        section, days_updating = figures_section(territory, start=start, end=end)
        context.update(start=start, end=end, figures_section=section, days_updating=days_updating)
        return context


class TerritoryComparisonView(PageMixin, LoginRequiredMixin, TemplateView):
    """Every territory side by side, for evaluators."""

    template_name = "evaluation/dashboard_comparison.html"
    nav_section = "comparison"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not sees_every_territory(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form, start, end = picked_period(self.request)
        context["period_form"] = form
        if start is None or end is None:
            return context
        territory_ids = list(Territory.objects.for_user(self.request.user).values_list("pk", flat=True))
        comparison = figures.comparison_table(territory_ids=territory_ids, start=start, end=end)
        context.update(
            start=start,
            end=end,
            comparison=comparison,
            charts=comparison_charts(comparison["rows"]) if comparison["rows"] else {},
        )
        return context


# --- Reports ----------------------------------------------------------------------------------


class ReportRequestForm(forms.Form):
    """Ask for a report: its kind, its territory (none for a synthesis) and its period."""

    kind = forms.ChoiceField(label=gettext_lazy("Type de rapport"), choices=Report.Kind.choices)
    territory = forms.ModelChoiceField(
        label=gettext_lazy("Territoire"),
        queryset=Territory.objects.none(),
        required=False,
        empty_label=gettext_lazy("Tous les territoires (synthèse)"),
    )
    period_start = forms.DateField(label=gettext_lazy("Du"), widget=DateInput())
    period_end = forms.DateField(label=gettext_lazy("Au (inclus)"), widget=DateInput())

    def __init__(self, *args: Any, user: Any, territory: Territory | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        territories = Territory.objects.for_user(user)
        territory_field = cast("forms.ModelChoiceField", self.fields["territory"])
        territory_field.queryset = territories
        if territory is not None:
            # The territory's own page asks for that territory's reports only.
            territory_field.queryset = territories.filter(pk=territory.pk)
            territory_field.required = True
            territory_field.empty_label = None
            kind_field = cast("forms.ChoiceField", self.fields["kind"])
            kind_field.choices = [
                choice for choice in Report.Kind.choices if choice[0] != Report.Kind.SYNTHESIS
            ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end:
            errors = bounds.period_errors(
                start, end, start_field="period_start", end_field="period_end", max_months=reports.MAX_MONTHS
            )
            for name, message in errors.items():
                self.add_error(name, message)
        return cleaned


class ReportRequestMixin:
    """The request form of the report pages, and its handling (evaluators only)."""

    request: HttpRequest
    form_territory: Territory | None = None

    def may_request(self) -> bool:
        return reports.may_request_reports(self.request.user)

    def request_form(self, data: Any = None) -> ReportRequestForm:
        start, end = figures.default_dashboard_period(timezone.localdate())
        kind = Report.Kind.DRIHL if self.form_territory else Report.Kind.SYNTHESIS
        return ReportRequestForm(
            data,
            user=self.request.user,
            territory=self.form_territory,
            initial={
                "period_start": start,
                "period_end": end,
                "kind": kind,
                "territory": self.form_territory,
            },
        )

    def handle_request(self) -> HttpResponse | ReportRequestForm:
        if not self.may_request():
            raise PermissionDenied
        form = self.request_form(self.request.POST)
        if not form.is_valid():
            return form
        try:
            report = reports.report_request(
                kind=form.cleaned_data["kind"],
                territory=form.cleaned_data["territory"],
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
                by=cast("User", self.request.user),
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return form
        # Straight to its page, which says where it stands (queued, being built, ready or failed).
        return redirect("report-detail", pk=report.pk)


class ReportListView(ReportRequestMixin, PageMixin, ScopedQuerysetMixin, ListView):
    """The reports a user can see; evaluators ask for new ones here (a synthesis of all, or one territory)."""

    model = Report
    template_name = "evaluation/reports/report_list.html"
    paginate_by = 25
    nav_section = "reports"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("territory", "requested_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["may_request"] = self.may_request()
        if context["may_request"]:
            context["form"] = kwargs.get("form") or self.request_form()
        return context

    @method_decorator(work_after_response)
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        result = self.handle_request()
        if isinstance(result, HttpResponse):
            return result
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=result), status=400)


class TerritoryReportsView(ReportRequestMixin, PageMixin, ScopedQuerysetMixin, DetailView):
    """A territory's reports, and for evaluators the form to ask for one."""

    model = Territory
    template_name = "evaluation/reports/territory_reports.html"
    nav_section = "territories"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        self.form_territory = self.object
        context["reports"] = (
            Report.objects.for_user(self.request.user)
            .filter(territory=self.object)
            .select_related("requested_by")[:50]
        )
        context["may_request"] = self.may_request()
        if context["may_request"]:
            context["form"] = kwargs.get("form") or self.request_form()
        return context

    @method_decorator(work_after_response)
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        self.form_territory = self.object
        result = self.handle_request()
        if isinstance(result, HttpResponse):
            return result
        return self.render_to_response(self.get_context_data(form=result), status=400)


class ReportDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    """Where a report stands; the page refreshes itself while it is being built."""

    model = Report
    template_name = "evaluation/reports/report_detail.html"
    nav_section = "reports"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("territory", "requested_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        report: Report = self.object
        in_progress = report.status in (Report.Status.PENDING, Report.Status.RUNNING)
        context.update(
            in_progress=in_progress,
            may_retry=reports.may_request_reports(self.request.user) and reports.may_retry(report),
            exports=exports.table_links(report) if report.status == Report.Status.DONE else [],
        )
        return context


class ReportRetryView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """Asks a failed report again (evaluators), under the same id."""

    model = Report
    http_method_names = ["post"]

    @method_decorator(work_after_response)
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = self.get_object()
        if not Report.objects.for_user(request.user, "change").filter(pk=report.pk).exists():
            raise PermissionDenied
        try:
            reports.report_retry(report=report)
        except reports.ReportNotRetryable as refusal:
            messages.error(request, str(refusal))
        return redirect("report-detail", pk=report.pk)


class ReportDownloadView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """The report's PDF, streamed; 404 until it is done."""

    model = Report

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return exports.pdf_response(self.get_object())


class ReportExportView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """One table of the report, from its frozen figures: ``?table=<name>&format=csv|xlsx``."""

    model = Report

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        report = self.get_object()
        try:
            return exports.table_response(
                report, table=request.GET.get("table", ""), file_format=request.GET.get("format", "")
            )
        except exports.UnknownTable as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
