"""Bases for browser views: every queryset starts from ``for_user``."""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet


class ScopedQuerysetMixin(LoginRequiredMixin):
    """Builds the view's queryset from the tenant rule; out-of-scope objects are a 404.

    Subclasses may narrow the queryset in ``scope_queryset`` but never widen it.
    """

    model: Any
    scope_action = "view"

    def get_queryset(self) -> QuerySet:
        queryset = self.model.objects.for_user(self.request.user, self.scope_action)  # type: ignore[attr-defined]
        return self.scope_queryset(queryset)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset
