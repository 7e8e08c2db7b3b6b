from django.contrib import admin

from territories.field_rights import GrantedFieldsAdminMixin

from .models import Closure, EgalimDeclaration, Kitchen


@admin.register(Kitchen)
class KitchenAdmin(GrantedFieldsAdminMixin, admin.ModelAdmin):
    list_display = ["name", "territory", "operator_type", "daily_capacity", "usual_daily_production"]
    list_filter = ["territory", "operator_type"]
    search_fields = ["name", "siret"]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["label", "territory", "kitchen", "kind", "starts_on", "ends_on"]
    list_filter = ["territory", "kind"]
    search_fields = ["label"]


@admin.register(EgalimDeclaration)
class EgalimDeclarationAdmin(admin.ModelAdmin):
    list_display = ["kitchen", "year", "quality_share", "organic_share", "source", "source_reference"]
    list_filter = ["territory", "year", "source"]
    raw_id_fields = ["kitchen"]
