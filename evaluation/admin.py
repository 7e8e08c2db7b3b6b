"""Staff tools for the evaluation. Survey answers and reports are read-only here: answers
come from the paper entry form or the online page, reports from their task."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import JournalEntry, Report, Survey, SurveyQuestion, SurveyResponse
from .services import new_public_token


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    list_display = ["observed_on", "title", "territory", "category", "nature", "author"]
    list_filter = ["territory", "category", "nature"]
    list_select_related = ["territory", "author"]
    search_fields = ["title", "text"]
    date_hierarchy = "observed_on"
    raw_id_fields = ["author", "kitchen", "association", "authority"]


class SurveyQuestionInline(admin.TabularInline):
    model = SurveyQuestion
    extra = 0
    ordering = ["position"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["title", "territory", "kind", "is_open", "created_at"]
    list_filter = ["territory", "kind", "is_open"]
    list_select_related = ["territory"]
    search_fields = ["title"]
    readonly_fields = ["public_token", "created_by", "created_at"]
    inlines = [SurveyQuestionInline]

    def save_model(self, request: HttpRequest, obj: Survey, form: Any, change: bool) -> None:
        if not obj.public_token:
            obj.public_token = new_public_token()
        if not obj.created_by_id:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["survey", "territory", "channel", "answered_on"]
    list_filter = ["territory", "channel"]
    list_select_related = ["survey", "territory"]
    date_hierarchy = "answered_on"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "territory",
        "period_start",
        "period_end",
        "status",
        "requested_by",
        "requested_at",
    ]
    list_filter = ["kind", "status", "territory"]
    list_select_related = ["territory", "requested_by"]
    date_hierarchy = "requested_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
