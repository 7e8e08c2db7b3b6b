from django.contrib import admin

from .models import Association, DistributionSite, Partnership


class DistributionSiteInline(admin.TabularInline):
    model = DistributionSite
    extra = 0
    exclude = ["territory"]


@admin.register(Association)
class AssociationAdmin(admin.ModelAdmin):
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
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ["__str__", "territory", "mode", "status", "starts_on", "ends_on"]
    list_filter = ["territory", "mode", "status"]
    search_fields = ["kitchen__name", "association__name"]
    exclude = ["territory"]
