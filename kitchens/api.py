from django_filters import rest_framework as filters

from territories.api_base import ModelCleanSerializer, ScopedModelViewSet, scoped
from territories.models import Territory

from .models import Kitchen


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
