"""The offers' API: a kitchen offers a surplus batch, its donation conventions' associations
accept (the first wins, the others 409) or decline it."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from associations.models import Association
from kitchens.models import Kitchen
from territories.api_base import (
    BoundedDateTimeField,
    ScopedGenericViewSet,
    ScopedRelatedField,
    acting_user,
    scoped,
)

from ..api import ConflictSerializer
from ..models import Allergen, Component, Offer
from . import services


class OfferRecipientSerializer(serializers.Serializer):
    association = serializers.IntegerField(source="association_id")
    association_name = serializers.CharField(source="association.name")
    declined_at = serializers.DateTimeField()
    decline_reason = serializers.CharField()


class OfferSerializer(serializers.ModelSerializer):
    kitchen = ScopedRelatedField(queryset=Kitchen.objects.all())
    components = serializers.ListField(child=serializers.ChoiceField(Component.choices), required=False)
    allergens = serializers.ListField(child=serializers.ChoiceField(Allergen.choices), required=False)
    respond_by = BoundedDateTimeField(
        required=False,
        help_text="Réponse attendue avant ce moment ; par défaut deux heures après l'offre, jamais après "
        "la dernière collecte possible (48 heures avant la fin de la date limite de consommation, ou le "
        "délai plus court de la convention).",
    )
    recipients = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = [
            "id", "territory", "kitchen", "production_date", "service", "meals_count", "components",
            "liaison", "lot_number", "use_by_date", "dispatch_temperature_c", "allergens",
            "no_regulated_allergens", "dishes", "portion_type", "portion_grams", "reheating_instructions",
            "respond_by", "status", "created_by", "created_at", "accepted_association", "accepted_by",
            "accepted_at", "batch", "expired_at", "recipients",
        ]  # fmt: skip
        read_only_fields = [
            "territory", "status", "created_by", "created_at", "accepted_association", "accepted_by",
            "accepted_at", "batch", "expired_at",
        ]  # fmt: skip

    @extend_schema_field(OfferRecipientSerializer(many=True))
    def get_recipients(self, offer: Offer) -> list[dict[str, Any]]:
        """The kitchen, the authority and evaluators see every recipient and its answer; an
        association sees its own row only."""
        request = self.context.get("request")
        rows = list(offer.recipients.all())
        if request is not None:
            shown = services.recipients_shown(request.user)
            if shown is not None:
                rows = [row for row in rows if row.association_id in shown]
        return list(OfferRecipientSerializer(rows, many=True).data)

    def create(self, validated_data: dict[str, Any]) -> Offer:
        return services.offer_create(by=acting_user(self.context["request"]), **validated_data)


class OfferAnswerSerializer(serializers.Serializer):
    association = ScopedRelatedField(
        queryset=Association.objects.all(),
        required=False,
        help_text="Seulement pour qui agit pour plusieurs associations destinataires.",
    )


class OfferDeclineSerializer(OfferAnswerSerializer):
    reason = serializers.CharField(allow_blank=True)


class OfferFilter(filters.FilterSet):
    kitchen = filters.ModelChoiceFilter(queryset=scoped(Kitchen))
    status = filters.ChoiceFilter(choices=Offer.Status.choices)

    class Meta:
        model = Offer
        fields = ["kitchen", "status"]


class OfferViewSet(
    ScopedGenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Surplus offers. A kitchen manager offers a batch to every association holding an active,
    signed donation convention with the kitchen; the first association to accept gets it."""

    model = Offer
    related = ("kitchen",)
    serializer_class = OfferSerializer
    filterset_class = OfferFilter

    def get_queryset(self):
        return super().get_queryset().prefetch_related("recipients__association")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        kitchen = serializer.validated_data["kitchen"]
        if not services.may_offer(self.request.user, kitchen.pk):
            self.deny()
        serializer.save()

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        # Accepting and declining check the association's own rule ("respond").
        if self.action in ("accept", "decline"):
            if not Offer.objects.for_user(request.user, "respond").filter(pk=obj.pk).exists():
                self.deny()
            return
        super().check_object_permissions(request, obj)

    @extend_schema(
        request=OfferAnswerSerializer,
        responses={
            200: OfferSerializer,
            400: OpenApiResponse(description="Règle non respectée"),
            409: ConflictSerializer,
        },
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Takes the offer for the caller's association: its batch is declared on that convention.
        Once taken (or past its deadline), any acceptance answers 409."""
        offer = self.get_object()
        answer = OfferAnswerSerializer(data=request.data, context=self.get_serializer_context())
        answer.is_valid(raise_exception=True)
        services.offer_accept(offer=offer, by=acting_user(request), **answer.validated_data)
        offer.refresh_from_db()
        return Response(self.get_serializer(offer).data, status=status.HTTP_200_OK)

    @extend_schema(
        request=OfferDeclineSerializer,
        responses={
            200: OfferSerializer,
            400: OpenApiResponse(description="Motif manquant"),
            409: ConflictSerializer,
        },
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """The caller's association declines the offer, with its reason; the others may still take it."""
        offer = self.get_object()
        answer = OfferDeclineSerializer(data=request.data, context=self.get_serializer_context())
        answer.is_valid(raise_exception=True)
        services.offer_decline(offer=offer, by=acting_user(request), **answer.validated_data)
        return Response(self.get_serializer(offer).data)
