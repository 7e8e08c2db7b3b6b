"""The reports API: ask for a report (evaluators), follow it, download its PDF and its tables.

``POST /api/v1/reports/`` answers 202 with the report's id and status; a Celery task builds it
(``evaluation.tasks.build_report``). ``GET /api/v1/reports/{id}/`` gives its status and
progress; ``/download/`` streams the PDF and ``/export/?table=&format=csv|xlsx`` one of its
tables, both 404 until the report is done. A failed report is asked again under the same id
with ``POST /api/v1/reports/{id}/retry/`` (or a new report with a new POST).

Reports are read through ``for_user`` (funders: the territories they fund, never a synthesis);
out of scope is 404. Only evaluators ask for reports or retry them (others: 403).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from territories import bounds
from territories.api_base import ModelCleanSerializer, ScopedGenericViewSet, acting_user, scoped
from territories.exceptions import Conflict
from territories.models import Territory

from . import exports, reports
from .models import Report


class FileRenderer(BaseRenderer):
    """Lets ``?format=`` and ``Accept`` pick a file download; the file itself bypasses rendering."""

    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()


class PDFRenderer(FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class CSVRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXRenderer(FileRenderer):
    media_type = exports.XLSX_TYPE
    format = "xlsx"


class TableLinkSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    csv = serializers.URLField()
    xlsx = serializers.URLField()


class ReportSerializer(serializers.ModelSerializer):
    territory_name = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(
        help_text="Téléchargement du PDF, quand le rapport est prêt (sinon null)."
    )
    tables = serializers.SerializerMethodField(
        help_text="Les tableaux du rapport, à exporter en CSV ou XLSX, quand il est prêt."
    )

    class Meta:
        model = Report
        fields = [
            "id", "kind", "territory", "territory_name", "period_start", "period_end", "status",
            "progress", "message", "requested_at", "finished_at", "download_url", "tables", "language",
        ]  # fmt: skip
        read_only_fields = fields

    def get_territory_name(self, report: Report) -> str | None:
        return report.territory.name if report.territory_id else None  # type: ignore[union-attr]

    def absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_download_url(self, report: Report) -> str | None:
        if report.status != Report.Status.DONE:
            return None
        return self.absolute(reverse("api:report-download", kwargs={"pk": report.pk}))

    @extend_schema_field(TableLinkSerializer(many=True))
    def get_tables(self, report: Report) -> list[dict[str, Any]]:
        if report.status != Report.Status.DONE:
            return []
        url = reverse("api:report-export", kwargs={"pk": report.pk})
        return [
            {
                "name": name,
                "title": table["title"],
                "csv": self.absolute(f"{url}?table={name}&format=csv"),
                "xlsx": self.absolute(f"{url}?table={name}&format=xlsx"),
            }
            for name, table in exports.tables_of(report).items()
        ]


class ReportCreateSerializer(ModelCleanSerializer):
    class Meta:
        model = Report
        fields = ["kind", "territory", "period_start", "period_end", "language"]
        extra_kwargs = {
            "language": {
                "required": False,
                "help_text": "Langue du rapport (fr, en) ; par défaut celle de la requête (Accept-Language).",
            }
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        errors = bounds.period_errors(
            attrs["period_start"],
            attrs["period_end"],
            start_field="period_start",
            end_field="period_end",
            max_months=reports.MAX_MONTHS,
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ReportFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))

    class Meta:
        model = Report
        fields = ["territory", "kind", "status"]


EXPORT_PARAMETERS = [
    OpenApiParameter("table", OpenApiTypes.STR, required=True, description="Nom d'un tableau du rapport."),
    OpenApiParameter("format", OpenApiTypes.STR, required=True, enum=list(exports.FORMATS)),
]


@extend_schema_view(
    create=extend_schema(
        request=ReportCreateSerializer,
        responses={
            202: ReportSerializer,
            400: OpenApiResponse(description="Paramètres invalides (messages par champ)"),
            403: OpenApiResponse(description="Seuls les évaluateurs demandent des rapports"),
        },
    )
)
class ReportViewSet(ScopedGenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Reports for funders: ask (evaluators), follow, download the PDF, export its tables."""

    model = Report
    related = ("territory",)
    serializer_class = ReportSerializer
    filterset_class = ReportFilter

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = acting_user(request)
        if not reports.may_request_reports(user):
            self.deny()
        serializer = ReportCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            try:
                data = serializer.validated_data
                report = reports.report_request(
                    kind=data["kind"],
                    territory=data.get("territory"),
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    by=user,
                    language=data.get("language"),
                )
            except DjangoValidationError as error:
                raise serializers.ValidationError(serializers.as_serializer_error(error)) from error
            if not self.writable().filter(pk=report.pk).exists():
                self.deny()  # raising inside the block rolls the report (and its queuing) back
        report.refresh_from_db()  # sent on commit: with the broker down, its message says it is queued
        data = ReportSerializer(report, context=self.get_serializer_context()).data
        location = reverse("api:report-detail", kwargs={"pk": report.pk})
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @extend_schema(
        request=None,
        responses={
            202: ReportSerializer,
            409: OpenApiResponse(description="Le rapport n'est pas en échec : rien à relancer"),
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Asks a failed report again, under the same id (evaluators)."""
        report = self.get_object()
        try:
            report = reports.report_retry(report=report)
        except reports.ReportNotRetryable as refusal:
            raise Conflict(str(refusal)) from refusal
        data = ReportSerializer(report, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Introuvable, hors de votre périmètre, ou pas encore prêt"),
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def download(self, request: Request, pk: str | None = None) -> Any:
        """The report's PDF, once it is done."""
        return exports.pdf_response(self.get_object())

    @extend_schema(
        parameters=EXPORT_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.XLSX_TYPE): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="Tableau ou format inconnu"),
            404: OpenApiResponse(description="Introuvable, hors de votre périmètre, ou pas encore prêt"),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer, XLSXRenderer])
    def export(self, request: Request, pk: str | None = None) -> Any:
        """One table of the report, from the figures it printed, as CSV or XLSX."""
        report = self.get_object()
        try:
            return exports.table_response(
                report,
                table=request.query_params.get("table", ""),
                file_format=request.query_params.get("format", ""),
            )
        except exports.UnknownTable as error:
            raise exceptions.ValidationError({"table": [str(error)]}) from error

    def handle_exception(self, exc: Exception) -> Response:
        # Errors of the file actions answer in JSON, whatever file format was asked for.
        response = super().handle_exception(exc)
        if self.action in ("download", "export"):
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response
