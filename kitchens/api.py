from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from territories.api_base import ModelCleanSerializer, ScopedModelViewSet, acting_user, scoped
from territories.models import Territory

from .egalim import MAX_BYTES, EgalimFileError, egalim_import
from .models import EgalimDeclaration, Kitchen


class KitchenSerializer(ModelCleanSerializer):
    class Meta:
        model = Kitchen
        fields = [
            "id", "territory", "name", "operator_type", "daily_capacity", "usual_daily_production",
            "does_cold_liaison", "does_hot_liaison", "cold_shelf_life_days", "address", "siret",
            "sanitary_approval_number", "sanitary_approval_exempt", "sanitary_exemption_reason",
        ]  # fmt: skip


class KitchenFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))

    class Meta:
        model = Kitchen
        fields = ["territory", "operator_type"]


class KitchenViewSet(ScopedModelViewSet):
    model = Kitchen
    related = ("territory",)
    serializer_class = KitchenSerializer
    filterset_class = KitchenFilter


class EgalimDeclarationSerializer(ModelCleanSerializer):
    class Meta:
        model = EgalimDeclaration
        fields = [
            "id", "territory", "kitchen", "year", "quality_share", "organic_share", "source",
            "source_reference",
        ]  # fmt: skip
        read_only_fields = ["source"]


class EgalimDeclarationFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    kitchen = filters.ModelChoiceFilter(queryset=scoped(Kitchen))

    class Meta:
        model = EgalimDeclaration
        fields = ["territory", "kitchen", "year"]


class EgalimDeclarationViewSet(ScopedModelViewSet):
    """A kitchen's EGalim shares of a year (sustainable and quality products, of which organic),
    entered by its kitchen manager or an evaluator, or imported from ma-cantine."""

    model = EgalimDeclaration
    serializer_class = EgalimDeclarationSerializer
    filterset_class = EgalimDeclarationFilter


class EgalimImportView(APIView):
    """Imports a ma-cantine export (CSV of its teledeclarations' published columns) for the
    kitchens the user declares for; answers how many declarations were created and updated, and
    each refused line with its number and reason (``kitchens.egalim``)."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="Fichier illisible"),
            415: OpenApiResponse(description="Le fichier s'envoie en multipart/form-data"),
        },
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": [_("Joignez l'export CSV de ma-cantine.")]})
        if upload.size > MAX_BYTES:
            raise serializers.ValidationError({"file": [_("Le fichier dépasse 5 Mo.")]})
        try:
            result = egalim_import(content=upload.read(), by=acting_user(request))
        except EgalimFileError as error:
            raise serializers.ValidationError({"file": [str(error)]}) from error
        return Response(result.as_dict())
