"""The API schema documents the errors an operation can answer, not only its success.

drf-spectacular documents the success status of each operation; the errors that the shared
bases and DRF itself answer are added here once, for every operation, where they can occur:

- 400 where the request carries a body or query parameters (validation, a filter's choice);
- 401 and 403 where a login is required (no or bad token; a role that may not write);
- 404 on an object's path (absent or outside the caller's scope) and on a list's page number;
- 409 on writes (someone else acted first, or a record others depend on);
- 429 everywhere (rate limits).

An operation's own ``extend_schema(responses=...)`` wins over these defaults.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """DRF's error body: one message."""

    detail = serializers.CharField()


ERROR_DESCRIPTIONS = {
    "400": "Données invalides : les messages par champ (ou non_field_errors).",
    "401": "Authentification requise (jeton absent ou invalide).",
    "403": "Votre rôle ne permet pas cette action.",
    "404": "Introuvable, ou hors de votre périmètre (ou page de liste inexistante).",
    "409": "Conflit : l'état a changé entre-temps, ou d'autres enregistrements en dépendent.",
    "429": "Trop de requêtes : réessayez plus tard.",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class PasserelleAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self.error_codes(operation):
            if code not in responses:
                responses[code] = self.error_response(code)
        return operation

    def error_codes(self, operation: dict[str, Any]) -> list[str]:
        parameters = operation.get("parameters", [])
        has_query = any(parameter.get("in") == "query" for parameter in parameters)
        on_object = any(parameter.get("in") == "path" for parameter in parameters)
        codes = []
        if has_query or "requestBody" in operation or self.method in UNSAFE_METHODS:
            codes.append("400")
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes += ["401", "403"]
        if on_object or has_query:
            codes.append("404")
        if self.method in UNSAFE_METHODS:
            codes.append("409")
        codes.append("429")
        return codes

    def error_response(self, code: str) -> dict[str, Any]:
        body = OpenApiTypes.OBJECT if code == "400" else ErrorSerializer
        response = OpenApiResponse(response=body, description=ERROR_DESCRIPTIONS[code])
        return self._get_response_for_code(response, code)
