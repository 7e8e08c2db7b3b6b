"""Bases of the REST API: every viewset, relation and filter choice starts from ``for_user``."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .bounds import date_error, instance_errors
from .exceptions import Conflict
from .field_rights import GRANTED_HELP, granted_fields, refused_changes

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


def store_uploads(instance: models.Model, uploads: dict[str, Any]) -> None:
    """Stores a saved row's uploaded files; the files they replace are removed on commit."""
    replaced = [(getattr(instance, name).storage, getattr(instance, name).name) for name in uploads]
    for name, upload in uploads.items():
        setattr(instance, name, upload)
    instance.save(update_fields=list(uploads))
    kept = {getattr(instance, name).name for name in uploads}
    gone = [(storage, old) for storage, old in replaced if old and old not in kept]

    def delete_replaced() -> None:
        for storage, old in gone:
            storage.delete(old)

    if gone:
        transaction.on_commit(delete_replaced)


def scoped(model: type[models.Model]):
    """A callable for django-filter choice lists: only the requester's objects validate."""

    def queryset(request: Request | None) -> models.QuerySet:
        user = getattr(request, "user", None)
        return model.objects.for_user(user)  # type: ignore[attr-defined]

    return queryset


class BoundedDateTimeField(serializers.DateTimeField):
    """A date and time that can be moved to a time zone: one of year 1 or 9999 cannot (a 500),
    so it is refused here with the bounds' message (``territories.bounds``); the field's own
    window is checked by the services and the model's bounds."""

    def enforce_timezone(self, value: Any) -> Any:
        if value.year <= 1 or value.year >= 9999:
            raise serializers.ValidationError(date_error(value))
        return super().enforce_timezone(value)


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key that accepts only objects the requester can see (others read as unknown)."""

    def get_queryset(self) -> models.QuerySet:
        request = self.context.get("request")
        return self.queryset.model.objects.for_user(getattr(request, "user", None))  # type: ignore[union-attr]


class ModelCleanSerializer(serializers.ModelSerializer):
    """Checks the platform's bounds (``territories.bounds``), then runs the model's own
    ``clean()`` and constraints, so the API, the forms and the admin share one set of business
    rules; their messages come back as field errors.

    Granted fields (``territories.field_rights``) are documented as such in the schema, and a
    change to one by a caller who may not grant it is a 400 on that field."""

    serializer_related_field = ScopedRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: BoundedDateTimeField,
    }

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in granted_fields(self.Meta.model):
            field = fields.get(name)
            if field is not None and not field.read_only:
                field.help_text = f"{field.help_text} {GRANTED_HELP}" if field.help_text else GRANTED_HELP
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        model: type[models.Model] = self.Meta.model
        request = self.context.get("request")
        # On a new record the row rule speaks first (403); ``save_within_scope`` checks then.
        if request is not None and self.instance is not None:
            refused = refused_changes(request.user, model, self.instance, attrs)
            if refused:
                raise serializers.ValidationError(refused)
        instance = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            field = model._meta.get_field(name)
            if not field.many_to_many:
                setattr(instance, name, value)
        bounds = instance_errors(instance, attrs)
        if bounds:
            raise serializers.ValidationError(bounds)
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
        """Saves the row, checks it lies within the caller's writable scope, and only then
        stores its uploaded files: a refused write leaves no row and no file behind. A file it
        replaces is removed once the transaction commits. On a new record, a granted field set
        by a role that may not grant it is refused after the row rule (``field_rights``)."""
        validated = cast("dict[str, Any]", serializer.validated_data)
        creating = serializer.instance is None
        refused = refused_changes(self.request.user, self.model, None, dict(validated)) if creating else {}
        uploads = {name: validated.pop(name) for name in self.file_fields() if name in validated}
        with transaction.atomic():
            instance = serializer.save()
            if not self.writable().filter(pk=instance.pk).exists():
                self.deny()  # raising inside the block rolls the write back
            if refused:
                raise serializers.ValidationError(refused)  # a granted field set on creation
            if uploads:
                store_uploads(instance, uploads)

    def file_fields(self) -> list[str]:
        return [
            field.name for field in self.model._meta.concrete_fields if isinstance(field, models.FileField)
        ]


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
            with transaction.atomic():
                # The row's lock orders concurrent deletions: the later ones find it gone (404).
                model = type(instance)
                locked = model._base_manager.select_for_update().filter(pk=instance.pk)
                if not list(locked.values_list("pk", flat=True)):
                    raise Http404
                instance.delete()
        except ProtectedError:
            return Response(
                {"detail": _("Suppression impossible : d'autres enregistrements en dépendent.")},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
