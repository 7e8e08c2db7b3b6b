"""REST API of the evaluation: indicators, the observation journal, surveys and their answers.

Querysets start from ``for_user`` (out of scope: 404, a territory of another tenant is an
unknown choice: 400); writes go through ``evaluation.services``, which run the models' rules
and refuse (403, nothing written) what the caller's role may not change. The reports' API
lives in ``evaluation.report_api``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from associations.models import Association
from kitchens.models import Kitchen
from territories import bounds
from territories.api_base import (
    ModelCleanSerializer,
    ScopedModelViewSet,
    ScopedRelatedField,
    acting_user,
    scoped,
)
from territories.models import Authority, Territory

from . import services
from .indicators import (
    FLOW_CACHE_SECONDS,
    IndicatorSet,
    Question,
    assemble,
    cached_flow_parts,
    live_parts,
    rollup_versions,
)
from .models import JournalEntry, Survey, SurveyQuestion, SurveyResponse
from .survey_templates import TEMPLATES, template_of

# --- Indicators -------------------------------------------------------------------------


class IndicatorQuerySerializer(serializers.Serializer):
    territory = serializers.IntegerField(
        required=False,
        help_text="Un territoire ; sans lui, tous les territoires visibles, côte à côte (page par page).",
    )
    start = serializers.DateField(help_text="Premier jour de la période (inclus).")
    end = serializers.DateField(help_text="Dernier jour de la période (inclus).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = bounds.period_errors(attrs["start"], attrs["end"])
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class BreakdownRowSerializer(serializers.DictField):
    """One row detailing an indicator (per choice, per actor kind, per role...)."""


class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    definition = serializers.CharField()
    unit = serializers.CharField()
    question = serializers.ChoiceField(choices=Question.choices)
    question_label = serializers.CharField()
    value = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        allow_null=True,
        coerce_to_string=True,
        help_text="Arrondi à l'affichage ; null : sans objet, ou manquant (voir missing).",
    )
    complete = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField(), help_text="Données manquantes.")
    applicable = serializers.BooleanField()
    breakdown = serializers.ListField(child=BreakdownRowSerializer())


class TerritoryIndicatorsSerializer(serializers.Serializer):
    territory = serializers.IntegerField()
    name = serializers.CharField()
    complete = serializers.BooleanField()
    cost_start = serializers.DateField(help_text="Les coûts portent sur les mois entiers de la période.")
    cost_end = serializers.DateField()
    indicators = IndicatorSerializer(many=True)


class IndicatorsResponseSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    count = serializers.IntegerField(help_text="Nombre de territoires.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    territories = TerritoryIndicatorsSerializer(many=True)


class TerritoryPages(PageNumberPagination):
    page_size = 10


def territory_indicators(territory: Territory, result: IndicatorSet) -> dict[str, Any]:
    data = result.as_dict()
    return {
        "territory": territory.pk,
        "name": territory.name,
        "complete": data["complete"],
        "cost_start": data["cost_start"],
        "cost_end": data["cost_end"],
        "indicators": data["indicators"],
    }


class EncodedRows(list[bytes]):
    """Rows of an answer already encoded by ``IndicatorsRenderer``, spliced in as they are."""


class IndicatorsRenderer(JSONRenderer):
    """The JSON renderer, which takes the answer's ``territories`` (its last key) as
    ``EncodedRows``: the same bytes as the whole answer encoded at once (compact separators,
    so a list is its items joined by commas), without encoding again rows kept encoded."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        rows = data.get("territories") if isinstance(data, dict) else None
        if not isinstance(rows, EncodedRows):
            return super().render(data, accepted_media_type, renderer_context)
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is not None:
            # Indented (the browsable API): decoded and encoded again, at its own pace.
            decoded = [json.loads(row) for row in rows]
            return super().render({**data, "territories": decoded}, accepted_media_type, renderer_context)
        envelope = super().render({**data, "territories": []}, accepted_media_type, renderer_context)
        assert envelope.endswith(b'"territories":[]}'), "the rows are spliced in as the last key"
        return b"%b[%b]}" % (envelope[: -len(b"[]}")], b",".join(rows))


# What a row is kept under besides its territory's roll-up version: the period, the language and
# a digest of the territory's name and of what is read anew on every request.
ROW_CACHE_PREFIX = "evaluation:api:indicators:row:v1"


def encoded_rows(territories: list[Territory], *, start: datetime.date, end: datetime.date) -> EncodedRows:
    """Each territory's row, encoded, as ``territory_indicators`` gives it for ``side_by_side``.

    The territories' roll-up versions and their conventions, people, journal and surveys are
    read on every request (grouped queries); a row is kept, encoded, under both (the live part's
    digest), so that any change to what it shows gives another key. The rows missing are built
    from the cached roll-up part and encoded once."""
    ids = [territory.pk for territory in territories]
    if not ids:
        return EncodedRows()
    versions = rollup_versions(territory_ids=ids, start=start, end=end)
    lives = live_parts(territory_ids=ids, start=start, end=end, split=True)
    language = get_language() or ""

    def key(territory: Territory) -> str:
        live = hashlib.sha256(f"{territory.name}\n{lives[territory.pk].digest()}".encode()).hexdigest()[:32]
        return f"{ROW_CACHE_PREFIX}:{territory.pk}:{start}:{end}:{language}:{versions[territory.pk]}:{live}"

    keys = {territory.pk: key(territory) for territory in territories}
    found: dict[str, bytes] = cache.get_many(list(keys.values()))
    missing = [territory for territory in territories if keys[territory.pk] not in found]
    if missing:
        flows = cached_flow_parts(
            territory_ids=[territory.pk for territory in missing], start=start, end=end, versions=versions
        )
        renderer = IndicatorsRenderer()
        built = {
            keys[territory.pk]: renderer.render(
                territory_indicators(
                    territory,
                    assemble(
                        territory_ids=[territory.pk],
                        start=start,
                        end=end,
                        flow=flows[territory.pk],
                        live=lives[territory.pk],
                    ),
                )
            )
            for territory in missing
        }
        cache.set_many(built, FLOW_CACHE_SECONDS)
        found.update(built)
    return EncodedRows(found[keys[territory.pk]] for territory in territories)


class IndicatorView(APIView):
    """The evaluation's indicators, one set per territory (side by side when several)."""

    renderer_classes = [IndicatorsRenderer, BrowsableAPIRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("territory", OpenApiTypes.INT, description="Facultatif."),
            OpenApiParameter("start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True),
            OpenApiParameter("page", OpenApiTypes.INT, description="Page des territoires (10 par page)."),
        ],
        responses={
            200: IndicatorsResponseSerializer,
            400: OpenApiResponse(description="Paramètres invalides (messages par champ)"),
            404: OpenApiResponse(description="Territoire hors de votre périmètre"),
        },
    )
    def get(self, request: Request) -> Response:
        query = IndicatorQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        territory_id = query.validated_data.get("territory")
        # Every territory the caller sees: all for evaluators, the funded ones for funders.
        territories = Territory.objects.for_user(acting_user(request)).order_by("name", "pk")
        if territory_id is not None:
            territories = territories.filter(pk=territory_id)
            if not territories.exists():
                raise Http404
        paginator = TerritoryPages()
        page = paginator.paginate_queryset(territories, request, view=self) or []
        # The page's territories read together (grouped queries), each row kept encoded.
        rows = encoded_rows(list(page), start=start, end=end)
        return Response(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "count": paginator.page.paginator.count if paginator.page else 0,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "territories": rows,
            }
        )


# --- Observation journal ----------------------------------------------------------------


class JournalEntrySerializer(ModelCleanSerializer):
    author: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id", "territory", "observed_on", "category", "nature", "theme", "title", "text",
            "kitchen", "association", "authority", "shared_with_funders", "author", "created_at",
        ]  # fmt: skip
        read_only_fields = ["author", "created_at"]

    def create(self, validated_data: dict[str, Any]) -> JournalEntry:
        return services.journal_entry_create(by=acting_user(self.context["request"]), **validated_data)

    def update(self, instance: JournalEntry, validated_data: dict[str, Any]) -> JournalEntry:
        return services.journal_entry_update(
            entry=instance, by=acting_user(self.context["request"]), **validated_data
        )


class JournalEntryFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    kitchen = filters.ModelChoiceFilter(queryset=scoped(Kitchen))
    association = filters.ModelChoiceFilter(queryset=scoped(Association))
    authority = filters.ModelChoiceFilter(queryset=scoped(Authority))
    start = filters.DateFilter(field_name="observed_on", lookup_expr="gte", label="Observé à partir du")
    end = filters.DateFilter(field_name="observed_on", lookup_expr="lte", label="Observé jusqu'au")

    class Meta:
        model = JournalEntry
        fields = [
            "territory", "category", "nature", "theme", "kitchen", "association", "authority",
            "shared_with_funders",
        ]  # fmt: skip


class JournalEntryViewSet(ScopedModelViewSet):
    """The observation journal: dated obstacles (freins) and levers (leviers) of a territory.
    Authority coordinators of the territory and evaluators write; the territory's other members
    read; funders read only the entries shared with funders, in the territories they fund."""

    model = JournalEntry
    serializer_class = JournalEntrySerializer
    filterset_class = JournalEntryFilter


# --- Surveys ----------------------------------------------------------------------------


class SurveyQuestionSerializer(serializers.ModelSerializer):
    choices = serializers.ListField(child=serializers.CharField(max_length=100), required=False)

    class Meta:
        model = SurveyQuestion
        fields = ["position", "code", "text", "kind", "choices"]
        extra_kwargs = {"position": {"required": False}}
        # The (survey, code) uniqueness is checked by the service across the whole list.
        validators: list[Any] = []


class SurveySerializer(ModelCleanSerializer):
    questions = SurveyQuestionSerializer(many=True, required=False)
    template = serializers.ChoiceField(
        choices=sorted(TEMPLATES),
        required=False,
        write_only=True,
        help_text="Un questionnaire prêt à l'emploi (personnel des cuisines, bénéficiaires) au lieu de "
        "« questions » ; le titre et l'introduction du modèle s'appliquent s'ils ne sont pas donnés.",
    )
    public_url = serializers.SerializerMethodField(help_text="Le lien du questionnaire en ligne, à diffuser.")
    created_by: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Survey
        fields = [
            "id", "territory", "kind", "title", "introduction", "is_open", "questions", "template",
            "public_token", "public_url", "created_by", "created_at",
        ]  # fmt: skip
        # Given by a template when one is named (``validate``).
        extra_kwargs = {"title": {"required": False}, "kind": {"required": False}}
        read_only_fields = ["public_token", "created_by", "created_at"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_public_url(self, survey: Survey) -> str:
        path = reverse("survey-answer", kwargs={"token": survey.public_token})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        questions = attrs.pop("questions", None)
        template = attrs.pop("template", None)
        if template is not None:
            if questions is not None:
                raise serializers.ValidationError(
                    {"template": [_("Donnez un modèle ou des questions, pas les deux.")]}
                )
            filled = template_of(template)
            questions = filled["questions"]
            attrs.setdefault("kind", template)
            attrs.setdefault("title", filled["title"])
            attrs.setdefault("introduction", filled["introduction"])
        elif self.instance is None and questions is None:
            raise serializers.ValidationError({"questions": [_("Donnez les questions, ou un modèle.")]})
        if self.instance is None and not attrs.get("kind"):
            raise serializers.ValidationError({"kind": [_("Ce champ est obligatoire.")]})
        if self.instance is None and not attrs.get("title"):
            raise serializers.ValidationError({"title": [_("Indiquez le titre.")]})
        attrs = super().validate(attrs)
        if questions is not None:
            attrs["questions"] = questions
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Survey:
        return services.survey_create(by=acting_user(self.context["request"]), **validated_data)

    def update(self, instance: Survey, validated_data: dict[str, Any]) -> Survey:
        return services.survey_update(
            survey=instance, by=acting_user(self.context["request"]), **validated_data
        )


class SurveyFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))

    class Meta:
        model = Survey
        fields = ["territory", "kind", "is_open"]


class SurveyViewSet(ScopedModelViewSet):
    """Short questionnaires with closed questions, defined by evaluators (questions written
    nested; they cannot change once answered). Members of the territory read them, with the
    link of the online form."""

    model = Survey
    serializer_class = SurveySerializer
    filterset_class = SurveyFilter

    def get_queryset(self) -> QuerySet:
        return (
            super()
            .get_queryset()
            .prefetch_related(Prefetch("questions", SurveyQuestion.objects.order_by("position")))
        )


class SurveyResponseSerializer(ModelCleanSerializer):
    """A paper answer as entered: the day it was answered (no time) and the answers by question
    code. There is no field for anything about the respondent."""

    survey = ScopedRelatedField(queryset=Survey.objects.all())
    answers = serializers.JSONField(
        help_text="Code de la question → réponse : note de 1 à 5, true / false, ou l'un des choix."
    )

    class Meta:
        model = SurveyResponse
        fields = ["id", "territory", "survey", "channel", "answered_on", "answers"]
        read_only_fields = ["territory", "channel"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        survey: Survey | None = attrs.get("survey") or (self.instance.survey if self.instance else None)
        if self.instance is not None and "survey" in attrs and attrs["survey"] != self.instance.survey:
            raise serializers.ValidationError(
                {"survey": _("Une réponse reste attachée à son questionnaire.")}
            )
        if survey is not None and self.instance is None and not survey.is_open:
            raise serializers.ValidationError(
                {"survey": _("Ce questionnaire est clos : il ne reçoit plus de réponses.")}
            )
        if survey is not None and "answers" in attrs:
            errors = services.answer_errors(survey.questions.all(), attrs["answers"])
            if errors:
                raise serializers.ValidationError(
                    {"answers": {code or "non_field_errors": messages for code, messages in errors.items()}}
                )
        return super().validate(attrs)

    def create(self, validated_data: dict[str, Any]) -> SurveyResponse:
        return services.survey_response_record(
            by=acting_user(self.context["request"]),
            channel=SurveyResponse.Channel.PAPER,
            **validated_data,
        )

    def update(self, instance: SurveyResponse, validated_data: dict[str, Any]) -> SurveyResponse:
        validated_data.pop("survey", None)
        return services.survey_response_update(
            response=instance, by=acting_user(self.context["request"]), **validated_data
        )


class SurveyResponseFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    survey = filters.ModelChoiceFilter(queryset=scoped(Survey))
    start = filters.DateFilter(field_name="answered_on", lookup_expr="gte", label="Répondu à partir du")
    end = filters.DateFilter(field_name="answered_on", lookup_expr="lte", label="Répondu jusqu'au")

    class Meta:
        model = SurveyResponse
        fields = ["territory", "survey", "channel"]


class SurveyResponseViewSet(ScopedModelViewSet):
    """Anonymous answers to surveys. Paper answers are entered here by evaluators or authority
    coordinators of the territory; online answers come through the survey's link."""

    model = SurveyResponse
    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilter
