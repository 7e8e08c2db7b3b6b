from django.contrib import admin

from territories.field_rights import GrantedFieldsAdminMixin

from .models import Kitchen


@admin.register(Kitchen)
class KitchenAdmin(GrantedFieldsAdminMixin, admin.ModelAdmin):
    list_display = ["name", "territory", "operator_type", "daily_capacity", "usual_daily_production"]
    list_filter = ["territory", "operator_type"]
    search_fields = ["name", "siret"]
