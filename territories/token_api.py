"""The token endpoints of the API: issue a token for a device, log out, list and revoke one's own.

The token endpoint is throttled like the login page: it authenticates through django-axes, so
failures count against the same username and address, and once locked (the same number of
failures as the login page, ``AXES_FAILURE_LIMIT``) it answers 429 even to the right password.
On top of that, the anonymous rate limit of the API applies to it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from knox.auth import TokenAuthentication
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import ApiToken
from .tokens import token_issue, token_revoke, tokens_of

LOCKED_OUT = _(
    "Trop de tentatives de connexion ont échoué pour cet identifiant. "
    "Par sécurité, la connexion est bloquée pendant 15 minutes."
)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("nom d'utilisateur"), max_length=150)
    password = serializers.CharField(
        label=_("mot de passe"), max_length=4096, style={"input_type": "password"}, trim_whitespace=False
    )
    device = serializers.CharField(
        label=_("appareil"),
        max_length=100,
        required=False,
        allow_blank=True,
        help_text=_("Nom de l'appareil ou du script (par exemple « téléphone de Sophie »)."),
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text=_("Le jeton de cette requête."))

    class Meta:
        model = ApiToken
        fields = ["id", "device", "token_key", "created", "expiry", "current"]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        request = self.context.get("request")
        auth = getattr(request, "auth", None)
        return isinstance(auth, ApiToken) and auth.pk == token.pk


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text=_("Le jeton, montré cette seule fois."))

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenLoginView(APIView):
    """Issues a token for one device, valid until its expiry or until revoked."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    # 400 (refused) and 429 (locked out, or rate-limited) come from the schema's shared errors.
    @extend_schema(request=TokenRequestSerializer, responses={200: IssuedTokenSerializer})
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request=request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if getattr(request, "axes_locked_out", False):
            return Response({"detail": LOCKED_OUT}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Identifiant ou mot de passe incorrect.")]}
            )
        instance, key = token_issue(user=user, device=data.validated_data.get("device", ""))
        body = dict(ApiTokenSerializer(instance, context={"request": request}).data)
        body["token"] = key
        return Response(body)


class TokenLogoutView(APIView):
    """Revokes the token that authenticates this request."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        token_revoke(user=request.user, token_id=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's own tokens still in force; revoking one ends it at once. Another user's
    token is unknown here (404)."""

    serializer_class = ApiTokenSerializer
    pagination_class = None

    def get_queryset(self):
        return tokens_of(self.request.user)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            token_id = int(kwargs["pk"])
        except ValueError:
            raise NotFound from None
        if not token_revoke(user=request.user, token_id=token_id):
            raise NotFound
        return Response(status=status.HTTP_204_NO_CONTENT)
