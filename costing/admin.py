from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import (
    AssociationCost,
    BudgetLine,
    CoFunder,
    CoordinationCost,
    DailyRollup,
    Expense,
    Funding,
    KitchenCostInput,
    KitchenFixedCost,
    MonthlyCost,
    ReferenceValue,
    Revenue,
    TransportRate,
)


@admin.register(KitchenCostInput)
class KitchenCostInputAdmin(admin.ModelAdmin):
    list_display = [
        "kitchen", "month", "food_cost_per_meal", "packaging_per_meal", "energy_per_meal",
        "extra_labour_hours", "labour_hourly_cost", "surplus_handling_hours", "other_direct_costs",
    ]  # fmt: skip
    list_filter = ["territory", "month"]
    list_select_related = ["kitchen"]
    search_fields = ["kitchen__name"]
    date_hierarchy = "month"
    raw_id_fields = ["kitchen"]


@admin.register(TransportRate)
class TransportRateAdmin(admin.ModelAdmin):
    list_display = ["territory", "month", "transport_mode", "cost_per_km", "driver_hourly_cost"]
    list_filter = ["territory", "transport_mode", "month"]
    list_select_related = ["territory"]
    date_hierarchy = "month"


@admin.register(AssociationCost)
class AssociationCostAdmin(admin.ModelAdmin):
    list_display = [
        "association", "month", "paid_staff_hours", "paid_staff_hourly_cost", "volunteer_hours",
        "premises_cost", "equipment_cost", "equipment_amortisation_months", "other_costs",
    ]  # fmt: skip
    list_filter = ["territory", "month"]
    list_select_related = ["association"]
    search_fields = ["association__name"]
    date_hierarchy = "month"
    raw_id_fields = ["association"]


@admin.register(CoordinationCost)
class CoordinationCostAdmin(admin.ModelAdmin):
    list_display = ["authority", "month", "staff_hours", "staff_hourly_cost", "other_costs"]
    list_filter = ["territory", "month"]
    list_select_related = ["authority"]
    search_fields = ["authority__name"]
    date_hierarchy = "month"
    raw_id_fields = ["authority"]


@admin.register(Funding)
class FundingAdmin(admin.ModelAdmin):
    list_display = ["territory", "funder", "funder_name", "amount", "period_start", "period_end"]
    list_filter = ["territory", "funder"]
    list_select_related = ["territory"]
    search_fields = ["funder_name"]


@admin.register(ReferenceValue)
class ReferenceValueAdmin(admin.ModelAdmin):
    list_display = ["code", "value", "unit", "valid_from", "valid_until", "source", "source_date"]
    list_filter = ["code"]
    search_fields = ["source"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Derived tables: shown for checking, never edited by hand (rebuilt from the records)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdmin):
    list_display = [
        "day", "territory", "kitchen", "association", "meals_produced_dedicated", "meals_produced_surplus",
        "meals_picked_up", "meals_distributed", "meals_discarded", "people_served", "transport_cost",
    ]  # fmt: skip
    list_filter = ["territory", "day"]
    list_select_related = ["territory", "kitchen", "association"]
    date_hierarchy = "day"


@admin.register(MonthlyCost)
class MonthlyCostAdmin(ReadOnlyAdmin):
    list_display = ["territory", "month", "complete", "computed_at"]
    list_filter = ["territory", "complete"]
    list_select_related = ["territory"]
    date_hierarchy = "month"


@admin.register(BudgetLine)
class BudgetLineAdmin(admin.ModelAdmin):
    list_display = ["funding", "category", "planned"]
    list_filter = ["territory", "category"]
    raw_id_fields = ["funding"]


@admin.register(CoFunder)
class CoFunderAdmin(admin.ModelAdmin):
    list_display = ["organisation", "funding", "kind", "amount", "status"]
    list_filter = ["territory", "kind", "status"]
    raw_id_fields = ["funding"]


@admin.register(Expense)
class ExpenseAdmin(admin.ModelAdmin):
    list_display = ["label", "territory", "month", "category", "amount"]
    list_filter = ["territory", "category", "month"]
    date_hierarchy = "month"


@admin.register(Revenue)
class RevenueAdmin(admin.ModelAdmin):
    list_display = ["territory", "month", "kind", "partnership", "meals", "amount", "received_by"]
    list_filter = ["territory", "kind", "month"]
    raw_id_fields = ["partnership"]
    date_hierarchy = "month"


@admin.register(KitchenFixedCost)
class KitchenFixedCostAdmin(admin.ModelAdmin):
    list_display = ["kitchen", "year", "fixed_costs", "meals_produced"]
    list_filter = ["territory", "year"]
    raw_id_fields = ["kitchen"]
