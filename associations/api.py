from typing import TYPE_CHECKING, cast

from django.db.models import Q
from django.http import FileResponse
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.parsers import BoundedJSONParser
from kitchens.models import Kitchen
from territories.api_base import ModelCleanSerializer, ScopedModelViewSet, scoped
from territories.models import Territory

if TYPE_CHECKING:
    from django.contrib.auth.models import User

from .conventions.selectors import missing_parties
from .models import Association, ConventionSignature, DistributionSite, Partnership
from .views import convention_response, partnership_for_signing


class AssociationSerializer(ModelCleanSerializer):
    class Meta:
        model = Association
        fields = [
            "id", "territory", "name", "rna", "siret",
            "habilitation", "habilitation_number", "habilitation_expires_on", "hygiene_training_on",
        ]  # fmt: skip


class AssociationFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))

    class Meta:
        model = Association
        fields = ["territory", "habilitation"]


class AssociationViewSet(ScopedModelViewSet):
    model = Association
    related = ("territory",)
    serializer_class = AssociationSerializer
    filterset_class = AssociationFilter


class DistributionSiteSerializer(ModelCleanSerializer):
    class Meta:
        model = DistributionSite
        fields = [
            "id", "territory", "association", "name", "address",
            "has_cold_storage", "cold_storage_litres", "reheats", "opening_days", "capacity_people",
        ]  # fmt: skip
        read_only_fields = ["territory"]


class DistributionSiteFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    association = filters.ModelChoiceFilter(queryset=scoped(Association))

    class Meta:
        model = DistributionSite
        fields = ["territory", "association", "has_cold_storage"]


class DistributionSiteViewSet(ScopedModelViewSet):
    model = DistributionSite
    related = ("association",)
    serializer_class = DistributionSiteSerializer
    filterset_class = DistributionSiteFilter


class PartnershipSerializer(ModelCleanSerializer):
    convention_url = serializers.SerializerMethodField(
        help_text="Téléchargement de la convention signée, réservé à ceux qui voient le partenariat."
    )

    class Meta:
        model = Partnership
        fields = [
            "id", "territory", "kitchen", "association", "mode", "paired_with", "authority",
            "starts_on", "ends_on", "planned_meals_per_week", "convention_document", "convention_url",
            "status", "renewal", "renewal_months", "termination_notice_days", "pickup_days",
            "pickup_window_start", "pickup_window_end", "transport_by", "cold_chain_terms",
            "distribution_delay_hours", "production_days_per_week", "price_per_meal", "invoicing_terms",
            "payment_days",
        ]  # fmt: skip
        read_only_fields = ["territory"]
        extra_kwargs = {"convention_document": {"write_only": True}}

    def get_convention_url(self, partnership: Partnership) -> str | None:
        # Conventions are never served from public media: the link goes through the scoped view.
        if not partnership.convention_document:
            return None
        url = reverse("api:partnership-convention", kwargs={"pk": partnership.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class SignSerializer(serializers.Serializer):
    party = serializers.ChoiceField(
        choices=["kitchen", "association", "authority"],
        required=False,
        help_text="La partie pour laquelle on signe ; par défaut celle que l'on représente.",
    )
    signer_name = serializers.CharField(max_length=200, help_text="Nom du signataire.")
    signer_title = serializers.CharField(max_length=200, required=False, allow_blank=True)


class SignatureSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True)
    missing = serializers.SerializerMethodField(help_text="Les parties qui n'ont pas encore signé.")

    class Meta:
        model = ConventionSignature
        fields = ["id", "version", "party", "signed_on", "signer_name", "signer_title", "method", "missing"]

    def get_missing(self, signature: ConventionSignature) -> list[str]:
        return [party.value for party in missing_parties(signature.version)]


class PartnershipFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    kitchen = filters.ModelChoiceFilter(queryset=scoped(Kitchen))
    association = filters.ModelChoiceFilter(queryset=scoped(Association))
    starts_after = filters.DateFilter(field_name="starts_on", lookup_expr="gte")
    starts_before = filters.DateFilter(field_name="starts_on", lookup_expr="lte")
    active_on = filters.DateFilter(method="filter_active_on", label="En vigueur à cette date")

    class Meta:
        model = Partnership
        fields = ["territory", "kitchen", "association", "mode", "status"]

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(Q(starts_on__lte=value), Q(ends_on__isnull=True) | Q(ends_on__gte=value))


class PartnershipViewSet(ScopedModelViewSet):
    model = Partnership
    related = ("kitchen", "association")
    serializer_class = PartnershipSerializer
    filterset_class = PartnershipFilter
    # The signed convention is a file: its writes take multipart too (JSON, without the file).
    parser_classes = [BoundedJSONParser, MultiPartParser]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def convention(self, request: Request, pk: str | None = None) -> FileResponse:
        """The signed convention (PDF) of a partnership the caller can see."""
        return convention_response(self.get_object())

    @extend_schema(request=SignSerializer, responses={201: SignatureSerializer})
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        """Marks the caller's signature of the current convention version, for the party it
        represents (403 for another party, 400 when already signed). Once ``missing`` is empty the
        partnership can be made active."""
        from .conventions.services import partnership_sign

        user = cast("User", request.user)  # the API asks for a logged-in user
        partnership = partnership_for_signing(user, pk)
        payload = SignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        signature = partnership_sign(partnership=partnership, by=user, **payload.validated_data)
        return Response(SignatureSerializer(signature).data, status=201)
