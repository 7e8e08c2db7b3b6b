from django.contrib import admin

from .models import Authority, Membership, Territory


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "departement_code", "region", "is_pilot", "has_pat"]
    list_filter = ["is_pilot", "has_pat", "region"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "territory"]
    list_filter = ["kind", "territory"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "territory", "kitchen", "association", "authority"]
    list_filter = ["role", "territory"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["funded_territories"]
    list_select_related = ["user", "territory", "kitchen", "association", "authority"]
