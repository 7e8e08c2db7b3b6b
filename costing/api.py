"""REST API of the costing: the monthly cost inputs, reference values, roll-ups and the cost figures.

Every queryset starts from ``for_user``; the inputs' territory must equal their actor's (the
models' ``clean()``); writes follow the models' ``change_rule``. Saving a monthly input
refreshes its territory-month's ``MonthlyCost`` once the transaction commits.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from associations.models import Association, Partnership
from kitchens.models import Kitchen
from meals.models import TransportMode
from territories import bounds
from territories.api_base import (
    ModelCleanSerializer,
    ScopedGenericViewSet,
    ScopedModelViewSet,
    acting_user,
    scoped,
)
from territories.models import Authority, Territory
from territories.roles import ALL_TERRITORY_ROLES
from territories.scoping import memberships_of

from . import selectors, services
from .models import (
    AssociationCost,
    CoordinationCost,
    DailyRollup,
    Funding,
    KitchenCostInput,
    ReferenceValue,
    TransportRate,
)

# --- Monthly inputs ---------------------------------------------------------------------


def after_input_saved(instance: Any, before: tuple[int, datetime.date] | None = None) -> None:
    """Refreshes the territory-months a monthly input was saved in (and the one it left)."""
    keys = {(instance.territory_id, instance.month)}
    if before is not None:
        keys.add(before)
    for territory_id, month in sorted(keys):
        services.cost_input_saved(
            territory_id=territory_id, month=month, transport=isinstance(instance, TransportRate)
        )


class MonthlyInputViewSet(ScopedModelViewSet):
    """Monthly inputs: each write refreshes the monthly cost of the territory-months it touched.

    The input and the roll-up days a transport rate makes stale are written in one transaction."""

    # The row and what it sets off are one transaction: if the latter fails, no row is left.

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        with transaction.atomic():
            super().perform_create(serializer)
            after_input_saved(serializer.instance)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        instance: Any = serializer.instance
        before = (instance.territory_id, instance.month)
        with transaction.atomic():
            super().perform_update(serializer)
            after_input_saved(serializer.instance, before)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        with transaction.atomic():
            response = super().destroy(request, *args, **kwargs)
            if response.status_code == 204:
                after_input_saved(instance)
        return response


class MonthlyInputFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    month_after = filters.DateFilter(field_name="month", lookup_expr="gte", label="Mois à partir du")
    month_before = filters.DateFilter(field_name="month", lookup_expr="lte", label="Mois jusqu'au")


MONTHLY_FIELDS = ["id", "territory", "month"]


class KitchenCostInputSerializer(ModelCleanSerializer):
    class Meta:
        model = KitchenCostInput
        fields = [
            *MONTHLY_FIELDS, "kitchen", "food_cost_per_meal", "packaging_per_meal", "energy_per_meal",
            "extra_labour_hours", "labour_hourly_cost", "surplus_handling_hours", "other_direct_costs",
        ]  # fmt: skip


class KitchenCostInputFilter(MonthlyInputFilter):
    kitchen = filters.ModelChoiceFilter(queryset=scoped(Kitchen))

    class Meta:
        model = KitchenCostInput
        fields = ["territory", "kitchen"]


class KitchenCostInputViewSet(MonthlyInputViewSet):
    """A kitchen's monthly cost inputs, entered by its kitchen manager. Empty means not known."""

    model = KitchenCostInput
    serializer_class = KitchenCostInputSerializer
    filterset_class = KitchenCostInputFilter


class TransportRateSerializer(ModelCleanSerializer):
    class Meta:
        model = TransportRate
        fields = [*MONTHLY_FIELDS, "transport_mode", "cost_per_km", "driver_hourly_cost"]


class TransportRateFilter(MonthlyInputFilter):
    transport_mode = filters.ChoiceFilter(choices=TransportMode.choices)

    class Meta:
        model = TransportRate
        fields = ["territory", "transport_mode"]


class TransportRateViewSet(MonthlyInputViewSet):
    """The territory's transport scale per mode and month, entered by authority coordinators.
    Pickups without an actual cost are estimated with it."""

    model = TransportRate
    serializer_class = TransportRateSerializer
    filterset_class = TransportRateFilter


class AssociationCostSerializer(ModelCleanSerializer):
    class Meta:
        model = AssociationCost
        fields = [
            *MONTHLY_FIELDS, "association", "paid_staff_hours", "paid_staff_hourly_cost",
            "volunteer_hours", "premises_cost", "equipment_cost", "equipment_amortisation_months",
            "other_costs",
        ]  # fmt: skip


class AssociationCostFilter(MonthlyInputFilter):
    association = filters.ModelChoiceFilter(queryset=scoped(Association))

    class Meta:
        model = AssociationCost
        fields = ["territory", "association"]


class AssociationCostViewSet(MonthlyInputViewSet):
    """An association's monthly costs, entered by its coordinator."""

    model = AssociationCost
    serializer_class = AssociationCostSerializer
    filterset_class = AssociationCostFilter


class CoordinationCostSerializer(ModelCleanSerializer):
    class Meta:
        model = CoordinationCost
        fields = [*MONTHLY_FIELDS, "authority", "staff_hours", "staff_hourly_cost", "other_costs"]


class CoordinationCostFilter(MonthlyInputFilter):
    authority = filters.ModelChoiceFilter(queryset=scoped(Authority))

    class Meta:
        model = CoordinationCost
        fields = ["territory", "authority"]


class CoordinationCostViewSet(MonthlyInputViewSet):
    """A local authority's monthly coordination time, entered by its coordinator."""

    model = CoordinationCost
    serializer_class = CoordinationCostSerializer
    filterset_class = CoordinationCostFilter


# --- Fundings and reference values ------------------------------------------------------


class FundingSerializer(ModelCleanSerializer):
    class Meta:
        model = Funding
        fields = [
            "id",
            "territory",
            "funder",
            "funder_name",
            "amount",
            "period_start",
            "period_end",
            "recipient",
        ]


class FundingFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    month_after = filters.DateFilter(
        field_name="period_end", lookup_expr="gte", label="Période finissant ce jour ou après"
    )
    month_before = filters.DateFilter(
        field_name="period_start", lookup_expr="lte", label="Période commençant ce jour ou avant"
    )

    class Meta:
        model = Funding
        fields = ["territory", "funder"]


class FundingViewSet(ScopedModelViewSet):
    """Grants that fund a territory's partnership; entered by evaluators and authority coordinators."""

    model = Funding
    serializer_class = FundingSerializer
    filterset_class = FundingFilter


class ReferenceValueSerializer(ModelCleanSerializer):
    class Meta:
        model = ReferenceValue
        fields = [
            "id",
            "code",
            "value",
            "unit",
            "scope",
            "source",
            "source_date",
            "valid_from",
            "valid_until",
        ]


class ReferenceValueFilter(filters.FilterSet):
    valid_on = filters.DateFilter(field_name="valid_from", lookup_expr="lte", label="Valable à cette date")

    class Meta:
        model = ReferenceValue
        fields = ["code"]


class ReferenceValueViewSet(ScopedModelViewSet):
    """Values from outside the platform (cost of a food parcel, CO2 per meal...), with their source.
    Every member reads them; evaluators write them."""

    model = ReferenceValue
    serializer_class = ReferenceValueSerializer
    filterset_class = ReferenceValueFilter


# --- Roll-ups ---------------------------------------------------------------------------

SUMMED = selectors.ROLLUP_SUMS


class RollupSerializer(serializers.ModelSerializer):
    class Meta:
        model = DailyRollup
        fields = ["id", "territory", "partnership", "kitchen", "association", "day", *SUMMED]


class RollupMonthSerializer(serializers.Serializer):
    """A month's roll-ups of one kitchen and association, summed."""

    month = serializers.DateField(help_text="Premier jour du mois.")
    territory = serializers.IntegerField()
    kitchen = serializers.IntegerField()
    association = serializers.IntegerField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in SUMMED:
            model_field = DailyRollup._meta.get_field(name)
            if name in selectors.DECIMAL_SUMS:
                fields[name] = serializers.DecimalField(max_digits=14, decimal_places=2)
            else:
                help_text = str(getattr(model_field, "help_text", "") or "")
                fields[name] = serializers.IntegerField(help_text=help_text)
        return fields


class RollupFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))
    kitchen = filters.ModelChoiceFilter(queryset=scoped(Kitchen))
    association = filters.ModelChoiceFilter(queryset=scoped(Association))
    partnership = filters.ModelChoiceFilter(queryset=scoped(Partnership))
    start = filters.DateFilter(field_name="day", lookup_expr="gte", label="Du (inclus)")
    end = filters.DateFilter(field_name="day", lookup_expr="lte", label="Au (inclus)")
    granularity = filters.ChoiceFilter(
        choices=[("day", "Jour"), ("month", "Mois")],
        method="keep",
        label="day : une ligne par partenariat et par jour ; month : sommes par mois, cuisine et association",
    )

    class Meta:
        model = DailyRollup
        fields = ["territory", "kitchen", "association", "partnership"]

    def keep(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # the view groups by month after filtering


@extend_schema_view(
    list=extend_schema(
        responses=PolymorphicProxySerializer(
            component_name="RollupRow",
            serializers=[RollupSerializer, RollupMonthSerializer],
            resource_type_field_name=None,
            many=True,
        ),
        description=(
            "Roll-ups of the caller's territories: one row per partnership and day, or with "
            "`granularity=month` the sums per month, territory, kitchen and association."
        ),
    )
)
class RollupViewSet(ScopedGenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The daily roll-ups (read-only, derived from the meal records)."""

    model = DailyRollup
    serializer_class = RollupSerializer
    filterset_class = RollupFilter

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().order_by("-day", "id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.query_params.get("granularity") != "month":
            return super().list(request, *args, **kwargs)
        queryset = selectors.monthly_rollups(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        rows = RollupMonthSerializer(page if page is not None else queryset, many=True).data
        return self.get_paginated_response(rows) if page is not None else Response(rows)


# --- Cost figures -----------------------------------------------------------------------


class CostQuerySerializer(serializers.Serializer):
    territory = serializers.IntegerField(
        required=False, help_text="Obligatoire, sauf pour les évaluateurs (tous les territoires)."
    )
    start = serializers.DateField(help_text="Début de la période : le mois de cette date est inclus.")
    end = serializers.DateField(help_text="Fin de la période : le mois de cette date est inclus.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = bounds.period_errors(attrs["start"], attrs["end"])
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class InputUsedSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    value = serializers.DecimalField(
        max_digits=None, decimal_places=None, allow_null=True, help_text="null : manquant."
    )


class FigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    unit = serializers.CharField()
    value = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        allow_null=True,
        coerce_to_string=True,
        help_text="Arrondi à l'affichage ; null : sans objet, ou rien de connu.",
    )
    method = serializers.CharField(help_text="La formule, en français.")
    inputs = InputUsedSerializer(many=True)
    missing = serializers.ListField(child=serializers.CharField(), help_text="Données manquantes.")
    complete = serializers.BooleanField()
    applicable = serializers.BooleanField()


class VolumesSerializer(serializers.Serializer):
    meals_produced_dedicated = serializers.IntegerField()
    meals_produced_surplus = serializers.IntegerField()
    pickups = serializers.IntegerField()
    meals_picked_up = serializers.IntegerField()
    meals_distributed = serializers.IntegerField()
    meals_discarded = serializers.IntegerField()
    people_served = serializers.IntegerField()
    km = serializers.DecimalField(max_digits=14, decimal_places=1)
    transport_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    pickups_without_cost = serializers.IntegerField()


class KitchenMonthSerializer(serializers.Serializer):
    kitchen = serializers.IntegerField()
    kitchen_name = serializers.CharField()
    month = serializers.DateField()
    dedicated_meals = serializers.IntegerField()
    surplus_meals = serializers.IntegerField()
    marginal_dedicated = FigureSerializer()
    marginal_surplus = FigureSerializer()
    total = FigureSerializer()


class AssociationMonthSerializer(serializers.Serializer):
    association = serializers.IntegerField()
    association_name = serializers.CharField()
    month = serializers.DateField()
    cash = FigureSerializer()
    volunteers = FigureSerializer()


class CoordinationMonthSerializer(serializers.Serializer):
    territory = serializers.IntegerField()
    territory_name = serializers.CharField()
    month = serializers.DateField()
    total = FigureSerializer()


class CostReportSerializer(serializers.Serializer):
    territories = serializers.ListField(
        child=serializers.IntegerField(), allow_null=True, help_text="null : tous les territoires."
    )
    start = serializers.DateField(help_text="Premier jour du premier mois.")
    end = serializers.DateField(help_text="Dernier jour du dernier mois.")
    months = serializers.ListField(child=serializers.DateField())
    complete = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField())
    volumes = VolumesSerializer()
    figures = FigureSerializer(many=True)
    kitchens = KitchenMonthSerializer(many=True)
    associations = AssociationMonthSerializer(many=True)
    coordination = CoordinationMonthSerializer(many=True)


def sees_every_territory(user: Any) -> bool:
    return bool(user.is_superuser) or any(
        membership.role in ALL_TERRITORY_ROLES for membership in memberships_of(user)
    )


def cost_query_schema(answer: Any) -> Any:
    """The schema of a view read over a territory and whole months (``requested_territories``)."""
    return extend_schema(
        parameters=[
            OpenApiParameter(
                "territory", OpenApiTypes.INT, description="Obligatoire, sauf pour les évaluateurs."
            ),
            OpenApiParameter("start", OpenApiTypes.DATE, required=True),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True),
        ],
        responses={
            200: answer,
            400: OpenApiResponse(description="Paramètres invalides (messages par champ)"),
            404: OpenApiResponse(description="Territoire hors de votre périmètre"),
        },
    )


class CostView(APIView):
    """The cost figures of a territory over whole months, each with its inputs, method and completeness."""

    @cost_query_schema(CostReportSerializer)
    def get(self, request: Request) -> Response:
        query, territory_ids = requested_territories(request)
        report = services.territory_cost(
            territory_ids=territory_ids,
            start=query.validated_data["start"],
            end=query.validated_data["end"],
        )
        return Response(CostReportSerializer(report.as_dict()).data)


def requested_territories(request: Request) -> tuple[CostQuerySerializer, list[int]]:
    """The cost query's period, and its territory within the user's scope (404 outside it;
    every visible territory for those who see them all)."""
    query = CostQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    user = acting_user(request)
    territory_id = query.validated_data.get("territory")
    visible = Territory.objects.for_user(user)
    if territory_id is None:
        if not sees_every_territory(user):
            raise serializers.ValidationError({"territory": [_("Indiquez le territoire.")]})
        return query, list(visible.values_list("pk", flat=True))
    if not visible.filter(pk=territory_id).exists():
        raise Http404
    return query, [territory_id]
