"""Browser pages of the surveys: the list, the paper-answer entry form, and the public answer page.

The list and the entry form are for evaluators and the authority coordinators of the
survey's territory (others: 403; another territory's survey: 404). The public page is
reached by the survey's unguessable link, without an account: one submit stores one
anonymous answer, and nothing about the respondent — no account, no address, no browser,
no time of day — nor any session entry (the thanks come from the address, not a message).
Its answers are limited per client and per link (``evaluation.survey_limits``); an evaluator
closes a link (the survey's ``is_open``), and a closed link takes no answer.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, ListView, TemplateView
from django.views.generic.detail import SingleObjectMixin

from meals.forms import add_service_errors
from meals.views import RoleRequiredMixin, acting_user, spans_territories
from territories.mixins import ScopedQuerysetMixin
from territories.views import PAGE_SIZE, PageMixin, TerritoryFilterMixin

from . import services
from .forms import (
    PaperAnswerForm,
    QuestionFormSet,
    SurveyAnswerForm,
    SurveyForm,
    question_initial,
    question_list,
    questions_of,
)
from .models import Survey, SurveyRefusal, SurveyResponse
from .selectors import writable_territories
from .survey_limits import answer_limits


def answer_territories(user: Any) -> QuerySet:
    """The territories where the user enters paper answers."""
    return writable_territories(SurveyResponse, user)


class SurveyListView(PageMixin, TerritoryFilterMixin, RoleRequiredMixin, ListView):
    """The surveys of the user's territories, with their link and their number of answers."""

    model = Survey
    paginate_by = PAGE_SIZE
    template_name = "evaluation/surveys/survey_list.html"
    nav_section = "surveys"

    def role_allowed(self) -> bool:
        return answer_territories(self.request.user).exists()

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return (
            super()
            .scope_queryset(queryset)
            .select_related("territory")
            .annotate(
                answer_count=Count("responses", distinct=True),
                question_count=Count("questions", distinct=True),
                refused_count=Coalesce(
                    Subquery(
                        SurveyRefusal.objects.filter(survey=OuterRef("pk"))
                        .values("survey")
                        .annotate(total=Sum("count"))
                        .values("total")[:1]
                    ),
                    0,
                ),
            )
            .order_by("-is_open", "-created_at", "-pk")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        writable = set(answer_territories(self.request.user).values_list("pk", flat=True))
        shown = [survey.pk for survey in context["object_list"]]
        changeable = set(
            Survey.objects.for_user(self.request.user, "change")
            .filter(pk__in=shown)
            .values_list("pk", flat=True)
        )
        context["rows"] = [
            {
                "survey": survey,
                "link": self.request.build_absolute_uri(
                    reverse("survey-answer", kwargs={"token": survey.public_token})
                ),
                "can_enter": survey.is_open and survey.territory_id in writable,
                "can_change": survey.pk in changeable,
            }
            for survey in context["object_list"]
        ]
        context["show_territory"] = spans_territories(self.request.user)
        context["can_define"] = survey_territories(self.request.user).exists()
        return context


class SurveyResponseCreateView(PageMixin, LoginRequiredMixin, FormView):
    """Typing in a paper questionnaire: the day it was answered, then the answers."""

    form_class = PaperAnswerForm
    template_name = "evaluation/surveys/paper_answer_form.html"
    nav_section = "surveys"
    survey: Survey

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.survey = get_object_or_404(
                Survey.objects.for_user(request.user).select_related("territory"),
                pk=kwargs["pk"],
            )
            if not answer_territories(request.user).filter(pk=self.survey.territory_id).exists():
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "questions": question_list(self.survey)}

    def get_initial(self) -> dict[str, Any]:
        return {"answered_on": timezone.localdate()}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.survey.is_open:
            return self.get(request, *args, **kwargs)  # the page says it is closed; nothing is written
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["survey"] = self.survey
        context["answer_count"] = self.survey.responses.count()
        return context

    def form_valid(self, form: PaperAnswerForm) -> HttpResponse:
        try:
            services.survey_response_record(
                survey=self.survey,
                channel=SurveyResponse.Channel.PAPER,
                answers=form.answers(),
                answered_on=form.cleaned_data["answered_on"],
                by=acting_user(self.request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Questionnaire enregistré. Vous pouvez saisir le suivant."))
        return redirect("survey-response-create", pk=self.survey.pk)


THANKS_PARAM = "envoye"


@method_decorator(never_cache, name="dispatch")
class SurveyAnswerView(View):
    """The public answer page: no login, CSRF on, one submit = one anonymous online answer.

    It reads the survey and its questions and writes one ``SurveyResponse`` (survey, day,
    answers): the request's address, browser and user are never read, and no session or
    message is written."""

    template_name = "evaluation/surveys/answer.html"
    closed_template_name = "evaluation/surveys/answer_closed.html"
    refused_template_name = "evaluation/surveys/answer_refused.html"

    def survey(self, token: str) -> Survey:
        return get_object_or_404(
            Survey.objects.all_territories().select_related("territory"),
            public_token=token,
        )

    def render_page(
        self, request: HttpRequest, survey: Survey, form: SurveyAnswerForm | None = None
    ) -> HttpResponse:
        if not survey.is_open:
            return render(request, self.closed_template_name, {"survey": survey})
        questions = question_list(survey)
        context = {
            "survey": survey,
            "form": form or SurveyAnswerForm(questions=questions),
            "thanks": THANKS_PARAM in request.GET,
        }
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self.render_page(request, self.survey(token))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        survey = self.survey(token)
        if not survey.is_open:
            return self.render_page(request, survey)
        limits = answer_limits(survey, request)
        over = [limit for limit in limits if not limit.allows()]
        if over:
            services.survey_answer_refused(survey=survey)
            response = render(request, self.refused_template_name, {"survey": survey}, status=429)
            response["Retry-After"] = str(max(limit.duration for limit in over))
            return response
        form = SurveyAnswerForm(request.POST, questions=question_list(survey))
        if form.is_valid():
            try:
                services.survey_response_record(
                    survey=survey, channel=SurveyResponse.Channel.ONLINE, answers=form.answers()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                for limit in limits:
                    limit.record()
                return redirect(f"{reverse('survey-answer', kwargs={'token': token})}?{THANKS_PARAM}=1")
        return self.render_page(request, survey, form)


class SurveyCloseView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """Closes a survey's public link (evaluators; others 403, another territory's survey 404):
    the page then says the survey is closed and takes no answer."""

    model = Survey
    http_method_names = ["post"]
    is_open = False

    def done_message(self) -> str:
        return _("Le lien du questionnaire est clos : il ne reçoit plus de réponses.")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        survey = self.get_object()
        services.survey_update(survey=survey, by=acting_user(request), is_open=self.is_open)
        messages.success(request, self.done_message())
        return redirect(f"{reverse('survey-list')}?territory={survey.territory_id}")


class SurveyOpenView(SurveyCloseView):
    """Opens a survey's public link again (evaluators; others 403, another territory's 404)."""

    is_open = True

    def done_message(self) -> str:
        return _("Le lien du questionnaire est ouvert : il reçoit de nouveau des réponses.")


def survey_territories(user: Any) -> QuerySet:
    """The territories where the user defines surveys (evaluators: every one)."""
    return writable_territories(Survey, user)


class SurveyEditView(PageMixin, LoginRequiredMixin, TemplateView):
    """Defining a survey and its questions, or changing one (evaluators; others 403, a survey
    out of sight 404). Its questions change only while nobody has answered it; the survey and
    its questions are written together or not at all (``evaluation.services``)."""

    template_name = "evaluation/surveys/survey_form.html"
    nav_section = "surveys"
    survey: Survey | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            if "pk" in kwargs:
                self.survey = get_object_or_404(
                    Survey.objects.for_user(request.user).select_related("territory"), pk=kwargs["pk"]
                )
                if not Survey.objects.for_user(request.user, "change").filter(pk=self.survey.pk).exists():
                    raise PermissionDenied
            elif not survey_territories(request.user).exists():
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @property
    def answered(self) -> bool:
        return self.survey is not None and self.survey.responses.exists()

    def forms(self, data: Any = None) -> tuple[SurveyForm, Any]:
        survey = self.survey
        initial: dict[str, Any] = {"is_open": True}
        if survey is not None:
            initial = {
                "territory": survey.territory_id,
                "kind": survey.kind,
                "title": survey.title,
                "introduction": survey.introduction,
                "is_open": survey.is_open,
            }
        form = SurveyForm(data, initial=initial, territories=survey_territories(self.request.user))
        questions = None
        if not self.answered:
            questions = QuestionFormSet(
                data, initial=question_initial(survey) if survey else None, prefix="questions"
            )
        return form, questions

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if "form" not in context:
            context["form"], context["questions"] = self.forms()
        context["survey"] = self.survey
        context["answered"] = self.answered
        if self.answered and self.survey is not None:
            context["frozen_questions"] = question_list(self.survey)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, questions = self.forms(request.POST)
        valid = form.is_valid() and (questions is None or questions.is_valid())
        if valid:
            try:
                survey = self.save(form, questions)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Questionnaire enregistré : %(title)s.") % {"title": survey.title}
                )
                return redirect(f"{reverse('survey-list')}?territory={survey.territory_id}")
        context = self.get_context_data(form=form, questions=questions)
        return self.render_to_response(context, status=400)

    def save(self, form: SurveyForm, questions: Any) -> Survey:
        fields = form.cleaned_data
        user = acting_user(self.request)
        if self.survey is None:
            return services.survey_create(by=user, questions=questions_of(questions), **fields)
        return services.survey_update(
            survey=self.survey,
            by=user,
            questions=None if questions is None else questions_of(questions),
            **fields,
        )
