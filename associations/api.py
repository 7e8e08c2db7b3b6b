from django.db.models import Q
from django_filters import rest_framework as filters

from kitchens.models import Kitchen
from territories.api_base import ModelCleanSerializer, ScopedModelViewSet, scoped
from territories.models import Territory

from .models import Association, DistributionSite, Partnership


class AssociationSerializer(ModelCleanSerializer):
    class Meta:
        model = Association
        fields = [
            "id", "territory", "name", "rna", "siret",
            "habilitation", "habilitation_number", "habilitation_expires_on",
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
            "has_cold_storage", "cold_storage_litres", "opening_days",
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
    class Meta:
        model = Partnership
        fields = [
            "id", "territory", "kitchen", "association", "mode", "starts_on", "ends_on",
            "planned_meals_per_week", "convention_document", "status",
        ]  # fmt: skip
        read_only_fields = ["territory"]


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
