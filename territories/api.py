from django.contrib.auth import get_user_model
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .api_base import ModelCleanSerializer, ScopedGenericViewSet, ScopedModelViewSet, scoped
from .models import Authority, Membership, Territory


class TerritorySerializer(ModelCleanSerializer):
    class Meta:
        model = Territory
        fields = ["id", "name", "slug", "departement_code", "region", "is_pilot", "has_pat"]


class TerritoryFilter(filters.FilterSet):
    class Meta:
        model = Territory
        fields = ["is_pilot", "has_pat", "region", "departement_code"]


class TerritoryViewSet(
    ScopedGenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin
):
    """Territories the caller can see; their settings are changed by authority coordinators.
    New territories are created by staff in the admin."""

    model = Territory
    serializer_class = TerritorySerializer
    filterset_class = TerritoryFilter


class AuthoritySerializer(ModelCleanSerializer):
    class Meta:
        model = Authority
        fields = ["id", "territory", "kind", "name"]


class AuthorityFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))

    class Meta:
        model = Authority
        fields = ["territory", "kind"]


class AuthorityViewSet(ScopedModelViewSet):
    model = Authority
    related = ("territory",)
    serializer_class = AuthoritySerializer
    filterset_class = AuthorityFilter


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    funded_territories: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = Membership
        fields = [
            "id", "user", "username", "territory", "role",
            "kitchen", "association", "authority", "funded_territories",
        ]  # fmt: skip
        read_only_fields = fields


class MembershipFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))

    class Meta:
        model = Membership
        fields = ["territory", "role"]


class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
    """Every membership, for evaluators; other roles read their own at ``me/``."""

    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter

    def get_queryset(self):
        return (
            Membership.objects.for_user(self.request.user)
            .select_related("user")
            .prefetch_related("funded_territories")
        )


class MeSerializer(serializers.ModelSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "email", "roles", "memberships"]

    def get_roles(self, user) -> list[str]:
        return sorted({membership.role for membership in user.memberships.all()})


class MeView(APIView):
    """The caller's user and memberships."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = (
            get_user_model()
            .objects.prefetch_related("memberships__user", "memberships__funded_territories")
            .get(pk=request.user.pk or 0)
        )
        return Response(MeSerializer(user).data)
