from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Batch, Distribution, Pickup


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
