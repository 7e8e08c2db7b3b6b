"""API rate limits. Kept apart from the viewsets: DRF imports throttles while it loads its views."""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from .models import ApiToken


class TokenClientThrottle(UserRateThrottle):
    """Rate limit for scripts and integrations authenticated by token; browser sessions are people."""

    scope = "token"

    def allow_request(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, ApiToken):
            return True
        return super().allow_request(request, view)
