"""The round schedules' API: a partnership's weekly pickup schedule, written by the
coordinators who may change it (``RoundSchedule.change_rule``); each write plans the slots
again in the same transaction (``meals.rounds.services.schedule_save``, shared with the
browser's form)."""

from __future__ import annotations

import functools

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from associations.models import Partnership, Weekday
from territories.api_base import ModelCleanSerializer, ScopedGenericViewSet, scoped

from . import services
from .models import RoundSchedule


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "11:30"})
class ClockTimeField(serializers.TimeField):
    """A time of day to the minute, "HH:MM", as a pickup window is set (no seconds, no offset:
    the hour is the territory's local hour)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)


class RoundScheduleSerializer(ModelCleanSerializer):
    window_start = ClockTimeField(label=gettext_lazy("Collecte à partir de"))
    window_end = ClockTimeField(label=gettext_lazy("Collecte jusqu'à"))
    weekdays = serializers.ListField(child=serializers.ChoiceField(Weekday.choices), allow_empty=False)
    expected_meals = serializers.IntegerField(min_value=1, max_value=100_000)

    class Meta:
        model = RoundSchedule
        fields = [
            "id", "territory", "partnership", "weekdays", "window_start", "window_end",
            "expected_meals", "site", "active",
        ]  # fmt: skip
        read_only_fields = ["territory"]

    def validate_partnership(self, value: Partnership) -> Partnership:
        if self.instance is not None and value.pk != self.instance.partnership_id:
            raise serializers.ValidationError(_("Le partenariat d'une tournée ne change pas."))
        return value


class RoundScheduleFilter(filters.FilterSet):
    partnership = filters.ModelChoiceFilter(queryset=scoped(Partnership))

    class Meta:
        model = RoundSchedule
        fields = ["partnership", "active"]


class RoundScheduleViewSet(
    ScopedGenericViewSet,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
):
    """No deletion: a schedule is deactivated (``active``), its past slots stay."""

    model = RoundSchedule
    related = ("partnership", "site")
    serializer_class = RoundScheduleSerializer
    filterset_class = RoundScheduleFilter

    def save_within_scope(self, serializer: serializers.BaseSerializer) -> None:
        services.schedule_save(functools.partial(super().save_within_scope, serializer))
