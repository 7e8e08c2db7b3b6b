from typing import Any

from django.contrib import admin

from territories.field_rights import GrantedFieldsAdminMixin

from .models import (
    Association,
    ConventionSignature,
    ConventionVersion,
    DistributionSite,
    DonationReceipt,
    Partnership,
)


class DistributionSiteInline(admin.TabularInline):
    model = DistributionSite
    extra = 0
    exclude = ["territory"]


@admin.register(Association)
class AssociationAdmin(GrantedFieldsAdminMixin, admin.ModelAdmin):
    list_display = ["name", "territory", "habilitation", "habilitation_expires_on"]
    list_filter = ["territory", "habilitation"]
    search_fields = ["name", "rna", "siret"]
    inlines = [DistributionSiteInline]


@admin.register(DistributionSite)
class DistributionSiteAdmin(admin.ModelAdmin):
    list_display = ["name", "association", "territory", "has_cold_storage"]
    list_filter = ["territory", "has_cold_storage"]
    search_fields = ["name", "association__name"]
    exclude = ["territory"]


@admin.register(Partnership)
class PartnershipAdmin(GrantedFieldsAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "territory", "mode", "status", "starts_on", "ends_on"]
    list_filter = ["territory", "mode", "status"]
    search_fields = ["kitchen__name", "association__name"]
    exclude = ["territory"]


@admin.register(DonationReceipt)
class DonationReceiptAdmin(admin.ModelAdmin):
    """Read-only: a receipt is issued by the association's coordinator through the service and
    never changed afterwards (a correction is a new receipt that cancels it)."""

    list_display = [
        "__str__",
        "association",
        "kitchen",
        "period_start",
        "period_end",
        "meals",
        "amount",
        "status",
    ]
    list_filter = ["territory", "status", "period"]
    search_fields = ["association__name", "kitchen__name"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ConventionSignatureInline(admin.TabularInline):
    model = ConventionSignature
    extra = 0
    exclude = ["territory"]
    readonly_fields = ["recorded_by", "recorded_at"]


@admin.register(ConventionVersion)
class ConventionVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "territory", "number", "created_at"]
    list_filter = ["territory"]
    readonly_fields = ["partnership", "number", "terms", "parties", "created_at", "created_by"]
    exclude = ["territory"]
    inlines = [ConventionSignatureInline]

    def has_add_permission(self, request: Any) -> bool:
        return False
