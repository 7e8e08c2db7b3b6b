"""``/api/v1/donation-receipts/``: the association's coordinator issues, the donor kitchen's
manager and the coordinator read and download; nobody changes an issued receipt (no update,
no delete: a correction is a new receipt that cancels it)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from associations.models import Association
from evaluation.report_api import PDFRenderer
from kitchens.models import Kitchen
from territories.api_base import ScopedGenericViewSet, ScopedRelatedField, acting_user

from .models import DonationReceipt
from .services import receipt_issue


class DonationReceiptSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)

    class Meta:
        model = DonationReceipt
        fields = [
            "id", "territory", "reference", "association", "kitchen", "year", "number", "period",
            "period_start", "period_end", "meals", "amount", "status", "cancels", "figures", "issued_at",
        ]  # fmt: skip
        read_only_fields = fields


class DonationReceiptCreateSerializer(serializers.Serializer):
    association = ScopedRelatedField(queryset=Association.objects.all())
    kitchen = ScopedRelatedField(queryset=Kitchen.objects.all())
    period = serializers.ChoiceField(choices=DonationReceipt.Period.choices)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    index = serializers.IntegerField(
        required=False, allow_null=True, help_text="Mois (1-12) ou trimestre (1-4)."
    )
    cancels = ScopedRelatedField(queryset=DonationReceipt.objects.all(), required=False, allow_null=True)


@extend_schema_view(
    create=extend_schema(
        request=DonationReceiptCreateSerializer,
        responses={201: DonationReceiptSerializer, 400: OpenApiResponse(description="Messages par champ")},
    )
)
class DonationReceiptViewSet(ScopedGenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Donation receipts (art. 238 bis CGI) of the associations and kitchens the caller acts for."""

    model = DonationReceipt
    related = ("association", "kitchen")
    serializer_class = DonationReceiptSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = DonationReceiptCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            receipt = receipt_issue(
                association=data["association"],
                kitchen=data["kitchen"],
                period=data["period"],
                year=data["year"],
                index=data.get("index"),
                cancels=data.get("cancels"),
                by=acting_user(request),
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from error
        return Response(
            DonationReceiptSerializer(receipt, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Introuvable ou hors de votre périmètre"),
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def download(self, request: Request, pk: str | None = None) -> Any:
        """The receipt's PDF, as it was issued."""
        return receipt_file_response(self.get_object())


def receipt_file_response(receipt: DonationReceipt) -> FileResponse:
    if not receipt.pdf:
        raise Http404
    try:
        handle = receipt.pdf.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    return FileResponse(handle, content_type="application/pdf", filename=f"recu-don-{receipt.reference}.pdf")
