from typing import Any

from django.db import models, transaction
from django.http import Http404, HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from associations.models import Association, DistributionSite, Partnership
from kitchens.models import Kitchen
from territories.api_base import (
    BoundedDateTimeField,
    ScopedGenericViewSet,
    ScopedRelatedField,
    acting_user,
    scoped,
)
from territories.models import Territory
from territories.scoping import Action

from . import services, sheets
from .models import REACH_FIELDS, Allergen, Batch, Component, Distribution, Pickup, TransportMode


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()


class BatchSerializer(serializers.ModelSerializer):
    partnership = ScopedRelatedField(queryset=Partnership.objects.all())
    components = serializers.ListField(child=serializers.ChoiceField(Component.choices), required=False)
    allergens = serializers.ListField(
        child=serializers.ChoiceField(Allergen.choices),
        required=False,
        help_text="Un ou plusieurs des 14 allergènes réglementaires ; vide seulement avec "
        "no_regulated_allergens à vrai.",
    )
    allergens_declared = serializers.BooleanField(read_only=True)
    discard_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Obligatoire si la température au départ est hors limites : le lot est alors écarté.",
    )
    confirm_unusual = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=(
            "Confirme un nombre de repas supérieur à trois fois le volume quotidien habituel du partenariat."
        ),
    )
    pickup = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = [
            "id", "territory", "partnership", "kitchen", "association", "kind", "production_date",
            "service", "meals_count", "components", "liaison", "lot_number", "use_by_date",
            "dispatch_temperature_c", "allergens", "confirm_unusual", "unusual_confirmed",
            "no_regulated_allergens", "allergens_declared", "dishes",
            "portion_type", "portion_grams", "reheating_instructions", "status", "discard_reason", "pickup",
            "recalled_at", "recall_reason", "meals_recalled", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = [
            "territory", "kitchen", "association", "unusual_confirmed", "status", "created_by", "created_at",
            "recalled_at", "recall_reason", "meals_recalled",
        ]  # fmt: skip

    def get_pickup(self, batch: Batch) -> int | None:
        pickup = getattr(batch, "pickup", None)
        return pickup.pk if pickup else None

    def create(self, validated_data: dict[str, Any]) -> Batch:
        return services.batch_create(by=acting_user(self.context["request"]), **validated_data)

    def update(self, instance: Batch, validated_data: dict[str, Any]) -> Batch:
        validated_data.pop("discard_reason", None)
        if "partnership" in validated_data and validated_data.pop("partnership") != instance.partnership:
            raise serializers.ValidationError({"partnership": "Le partenariat d'un lot ne peut pas changer."})
        return services.batch_update(
            batch=instance, by=acting_user(self.context["request"]), **validated_data
        )


class PickupSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: BoundedDateTimeField,
    }
    discard_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="Obligatoire si la température à réception est hors limites : les repas sont écartés.",
    )

    class Meta:
        model = Pickup
        fields = [
            "id", "territory", "batch", "association", "picked_up_by", "picked_up_at", "meals_received",
            "picked_up_on", "temperature_c", "transport_mode", "refrigerated_vehicle", "distance_km",
            "duration_minutes", "transport_cost", "discard_reason", "shortfall_reason", "shortfall_note",
        ]  # fmt: skip
        read_only_fields = ["territory", "batch", "association", "picked_up_by"]
        extra_kwargs = {
            "picked_up_at": {"required": False},
            "meals_received": {"min_value": 0},
            "distance_km": {"min_value": 0},
            "transport_cost": {"min_value": 0},
        }


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class BatchFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    kitchen = filters.ModelChoiceFilter(queryset=scoped(Kitchen))
    association = filters.ModelChoiceFilter(queryset=scoped(Association))
    partnership = filters.ModelChoiceFilter(queryset=scoped(Partnership))
    produced_after = filters.DateFilter(field_name="production_date", lookup_expr="gte")
    produced_before = filters.DateFilter(field_name="production_date", lookup_expr="lte")

    class Meta:
        model = Batch
        fields = ["territory", "kitchen", "association", "partnership", "kind", "status", "liaison"]


class BatchViewSet(
    ScopedGenericViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
):
    """Batches of meals. Kitchen managers declare and correct their kitchen's batches;
    volunteers of the association confirm the pickup."""

    model = Batch
    related = ("pickup",)
    serializer_class = BatchSerializer
    filterset_class = BatchFilter

    def batch_for(self, action_name: Action) -> Batch:
        batch = self.get_object()  # 404 outside the caller's territory
        allowed = Batch.objects.for_user(self.request.user, action_name).filter(pk=batch.pk).exists()
        if not allowed:
            self.deny()
        return batch

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        # The actions below check their own rule; only edits go through the "change" rule.
        if self.action in ("pickup", "discard", "recall", "sheet"):
            return
        super().check_object_permissions(request, obj)

    @extend_schema(
        request=PickupSerializer,
        responses={
            201: PickupSerializer,
            400: OpenApiResponse(description="Règle non respectée"),
            409: ConflictSerializer,
        },
    )
    @action(detail=True, methods=["post"])
    def pickup(self, request: Request, pk: str | None = None) -> Response:
        """Confirms the pickup of a ready batch: one pickup per batch, a second answers 409."""
        batch = self.batch_for("pickup")
        serializer = PickupSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        pickup = services.pickup_confirm(batch=batch, by=acting_user(request), **serializer.validated_data)
        return Response(PickupSerializer(pickup).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses={200: BatchSerializer, 409: ConflictSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """The kitchen withdraws a batch not yet picked up."""
        batch = self.batch_for("change")
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        services.batch_cancel(batch=batch, by=acting_user(request), reason=reason.validated_data["reason"])
        return Response(self.get_serializer(batch).data)

    @extend_schema(request=ReasonSerializer, responses={200: BatchSerializer, 409: ConflictSerializer})
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str | None = None) -> Response:
        """Sets meals aside (cold chain broken, damage...), by the kitchen or the association."""
        batch = self.get_object()
        user = acting_user(request)
        if not (
            Batch.objects.for_user(user, "change").filter(pk=batch.pk).exists()
            or Batch.objects.for_user(user, "pickup").filter(pk=batch.pk).exists()
        ):
            self.deny()
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        services.batch_discard(batch=batch, by=user, reason=reason.validated_data["reason"])
        return Response(self.get_serializer(batch).data)

    @extend_schema(
        request=ReasonSerializer,
        responses={
            200: BatchSerializer,
            400: OpenApiResponse(description="Motif manquant"),
            409: ConflictSerializer,
        },
    )
    @action(detail=True, methods=["post"])
    def recall(self, request: Request, pk: str | None = None) -> Response:
        """Recalls a lot at any status (its kitchen's manager or the territory's authority); the
        association is e-mailed at once."""
        batch = self.batch_for("recall")
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        recalled = services.batch_recall(
            batch=batch, by=acting_user(request), reason=reason.validated_data["reason"]
        )
        return Response(self.get_serializer(recalled).data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def sheet(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The batch's one-page traceability sheet (PDF)."""
        batch = self.get_object()  # 404 outside the caller's territory
        pdf = sheets.batch_sheet_pdf(batch)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{sheets.sheet_file_name(batch)}"'
        return response


class PickupFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    kitchen = filters.ModelChoiceFilter(field_name="batch__kitchen", queryset=scoped(Kitchen))
    association = filters.ModelChoiceFilter(queryset=scoped(Association))
    partnership = filters.ModelChoiceFilter(field_name="batch__partnership", queryset=scoped(Partnership))
    picked_up_after = filters.DateFilter(field_name="picked_up_on", lookup_expr="gte")
    picked_up_before = filters.DateFilter(field_name="picked_up_on", lookup_expr="lte")
    transport_mode = filters.ChoiceFilter(choices=TransportMode.choices)

    class Meta:
        model = Pickup
        fields = ["territory", "kitchen", "association", "partnership", "transport_mode"]


class PickupViewSet(ScopedGenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Pickups, confirmed through ``POST batches/{id}/pickup/``."""

    model = Pickup
    serializer_class = PickupSerializer
    filterset_class = PickupFilter


class DistributionSerializer(serializers.ModelSerializer):
    pickup = ScopedRelatedField(queryset=Pickup.objects.all())
    site = ScopedRelatedField(queryset=DistributionSite.objects.all())

    class Meta:
        model = Distribution
        fields = [
            "id", "territory", "pickup", "batch", "association", "site", "distributed_on",
            "meals_distributed", "beneficiaries", "households", "children", "meals_discarded",
            "discard_reason", "temperature_c", "consumed_on_receipt", "reheat_temperature_c",
            "reheat_minutes", "recorded_by", *REACH_FIELDS,
        ]  # fmt: skip
        read_only_fields = ["territory", "batch", "association", "recorded_by"]
        extra_kwargs = {
            "reheat_minutes": {"min_value": 0, "max_value": 24 * 60},
            "meals_distributed": {"min_value": 0},
            "beneficiaries": {"min_value": 0},
            "meals_discarded": {"min_value": 0, "required": False},
            **{name: {"min_value": 0} for name in REACH_FIELDS},
        }

    def create(self, validated_data: dict[str, Any]) -> Distribution:
        return services.distribution_record(by=acting_user(self.context["request"]), **validated_data)


class DistributionFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    kitchen = filters.ModelChoiceFilter(field_name="batch__kitchen", queryset=scoped(Kitchen))
    association = filters.ModelChoiceFilter(queryset=scoped(Association))
    partnership = filters.ModelChoiceFilter(field_name="batch__partnership", queryset=scoped(Partnership))
    site = filters.ModelChoiceFilter(queryset=scoped(DistributionSite))
    distributed_after = filters.DateFilter(field_name="distributed_on", lookup_expr="gte")
    distributed_before = filters.DateFilter(field_name="distributed_on", lookup_expr="lte")

    class Meta:
        model = Distribution
        fields = ["territory", "kitchen", "association", "partnership", "site"]


class DistributionViewSet(
    ScopedGenericViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    """Distributions; volunteers record those of their association's pickups, and delete one
    entered by mistake."""

    model = Distribution
    serializer_class = DistributionSerializer
    filterset_class = DistributionFilter

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        with transaction.atomic():
            pickup = serializer.validated_data["pickup"]
            if not Batch.objects.for_user(self.request.user, "pickup").filter(pk=pickup.batch_id).exists():
                self.deny()
            serializer.save()

    def perform_destroy(self, instance: Distribution) -> None:
        try:
            services.distribution_delete(distribution=instance, by=acting_user(self.request))
        except Distribution.DoesNotExist:
            raise Http404 from None  # deleted meanwhile by someone else
