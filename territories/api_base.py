"""Bases of the REST API: every viewset, relation and filter choice starts from ``for_user``."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .exceptions import Conflict

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def acting_user(request: Request) -> User:
    """The authenticated caller: every API view but the token one requires authentication."""
    return cast("User", request.user)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Business rules raised by services become 400 with field messages, conflicts 409."""
    if isinstance(exc, DjangoValidationError):
        return Response(serializers.as_serializer_error(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    return exception_handler(exc, context)


def scoped(model: type[models.Model]):
    """A callable for django-filter choice lists: only the requester's objects validate."""

    def queryset(request: Request | None) -> models.QuerySet:
        user = getattr(request, "user", None)
        return model.objects.for_user(user)  # type: ignore[attr-defined]

    return queryset


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key that accepts only objects the requester can see (others read as unknown)."""

    def get_queryset(self) -> models.QuerySet:
        request = self.context.get("request")
        return self.queryset.model.objects.for_user(getattr(request, "user", None))  # type: ignore[union-attr]


class ModelCleanSerializer(serializers.ModelSerializer):
    """Runs the model's own ``clean()`` and constraints, so the API, the forms and the admin
    share one set of business rules; their messages come back as field errors."""

    serializer_related_field = ScopedRelatedField

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        model: type[models.Model] = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            field = model._meta.get_field(name)
            if not field.many_to_many:
                setattr(instance, name, value)
        try:
            instance.clean()
            instance.validate_constraints()
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from error
        return attrs


class ScopedGenericViewSet(viewsets.GenericViewSet):
    """Reads come from ``for_user(user)`` (out of scope: 404); writes must also land inside
    ``for_user(user, "change")``, checked after saving inside the same transaction so a
    refused write leaves nothing behind.

    Put it first among a viewset's bases, so its ``perform_*`` win over DRF's mixins."""

    model: type[models.Model]
    related: tuple[str, ...] = ()

    def get_queryset(self) -> models.QuerySet:
        queryset = self.model.objects.for_user(self.request.user)  # type: ignore[attr-defined]
        return queryset.select_related(*self.related) if self.related else queryset

    def writable(self) -> models.QuerySet:
        return self.model.objects.for_user(self.request.user, "change")  # type: ignore[attr-defined]

    def deny(self) -> None:
        raise exceptions.PermissionDenied(_("Votre rôle ne permet pas de modifier cet élément."))

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        super().check_object_permissions(request, obj)
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and not self.writable().filter(pk=obj.pk).exists()
        ):
            self.deny()

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        self.save_within_scope(serializer)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        self.save_within_scope(serializer)

    def save_within_scope(self, serializer: serializers.BaseSerializer) -> None:
        with transaction.atomic():
            instance = serializer.save()
            if not self.writable().filter(pk=instance.pk).exists():
                self.deny()  # raising inside the block rolls the write back


class ScopedModelViewSet(
    ScopedGenericViewSet,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
):
    """The full set of actions; deleting a record others depend on answers 409."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        try:
            instance.delete()
        except ProtectedError:
            return Response(
                {"detail": _("Suppression impossible : d'autres enregistrements en dépendent.")},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
