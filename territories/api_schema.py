"""The API schema documents the errors an operation can answer, not only its success.

drf-spectacular documents the success status of each operation; the errors that the shared
bases and DRF itself answer are added here once, for every operation, where they can occur:

- 400 where the request carries a body or query parameters (validation, a filter's choice);
- 401 and 403 where a login is required (no or bad token; a role that may not write);
- 404 on an object's path (absent or outside the caller's scope) and on a list's page number;
- 409 on writes (someone else acted first, or a record others depend on);
- 429 everywhere (rate limits).

An operation's own ``extend_schema(responses=...)`` wins over these defaults; where it gives
only a description, the default body of its status is added to it, so that every error has a
body a generated client can read: ``FieldErrors`` for a 400 (the French messages per field),
``Error`` for the others.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """DRF's error body: one message."""

    detail = serializers.CharField()


class FieldErrorsSerializer(serializers.Serializer):
    """The body of a 400: the messages of each refused field, ``non_field_errors`` for the
    request as a whole, or ``detail`` alone when the body could not be read."""


# Each key is a field's name (or ``non_field_errors``, or ``detail``); its value the field's
# messages, the message of an unreadable body, or the messages of a nested object or of a
# list's items by index (shaped like the whole).
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": (
        "Les messages de chaque champ refusé, non_field_errors pour la requête entière, "
        "ou detail seul quand le corps est illisible."
    ),
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
            {"type": "string"},
            {"type": "object"},
        ]
    },
}


class FieldErrorsExtension(OpenApiSerializerExtension):
    """Gives ``FieldErrorsSerializer`` its schema: a map of field names to messages."""

    target_class = FieldErrorsSerializer

    def map_serializer(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        return FIELD_ERRORS_SCHEMA


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
        for code, response in responses.items():
            if code in ERROR_DESCRIPTIONS and "content" not in response:
                response["content"] = self.error_response(code)["content"]
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
        body = FieldErrorsSerializer if code == "400" else ErrorSerializer
        response = OpenApiResponse(response=body, description=ERROR_DESCRIPTIONS[code])
        return self._get_response_for_code(response, code)
