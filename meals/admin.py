from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Batch, Distribution, Offer, Pickup, RoundSchedule, RoundSlot


@admin.register(Batch)
class BatchAdmin(SimpleHistoryAdmin):
    list_display = [
        "lot_number",
        "kitchen",
        "association",
        "kind",
        "production_date",
        "meals_count",
        "status",
    ]
    list_filter = ["territory", "kind", "status", "liaison"]
    search_fields = ["lot_number", "kitchen__name", "association__name"]
    date_hierarchy = "production_date"
    list_select_related = ["kitchen", "association"]
    raw_id_fields = ["partnership", "created_by"]


@admin.register(Pickup)
class PickupAdmin(SimpleHistoryAdmin):
    list_display = [
        "batch",
        "association",
        "picked_up_at",
        "meals_received",
        "temperature_c",
        "transport_mode",
    ]
    list_filter = ["territory", "transport_mode", "refrigerated_vehicle"]
    list_select_related = ["batch", "association"]
    raw_id_fields = ["batch", "picked_up_by"]


@admin.register(Distribution)
class DistributionAdmin(SimpleHistoryAdmin):
    list_display = ["site", "distributed_on", "meals_distributed", "beneficiaries", "meals_discarded"]
    list_filter = ["territory", "distributed_on"]
    list_select_related = ["site"]
    raw_id_fields = ["pickup", "batch", "site", "recorded_by"]


@admin.register(RoundSchedule)
class RoundScheduleAdmin(admin.ModelAdmin):
    """Where a partnership's weekly pickup schedule is set (its slots follow, meals.rounds)."""

    list_display = [
        "partnership",
        "weekdays",
        "window_start",
        "window_end",
        "expected_meals",
        "site",
        "active",
    ]
    list_filter = ["territory", "active"]
    raw_id_fields = ["partnership", "site"]


@admin.register(RoundSlot)
class RoundSlotAdmin(admin.ModelAdmin):
    list_display = ["date", "window_start", "association", "kitchen", "volunteer", "status"]
    list_filter = ["territory", "status"]
    date_hierarchy = "date"
    raw_id_fields = ["schedule", "partnership", "association", "kitchen", "site", "volunteer", "batch"]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["lot_number", "kitchen", "meals_count", "respond_by", "status", "accepted_association"]
    list_filter = ["territory", "status"]
    raw_id_fields = ["kitchen", "created_by", "accepted_by", "accepted_association", "batch"]
