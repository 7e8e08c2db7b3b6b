# ruff: noqa: RUF002, RUF003 - written with the sign × of French arithmetic
"""REST API of the programme's money: budget lines, co-funders, expenses, revenues, the kitchens'
yearly fixed costs; a funding's budget against the actual costs; the net cost per payer and the
full cost with the kitchens' fixed share.

Every queryset starts from ``for_user``; writes follow the models' ``change_rule`` and ``clean()``
(a 400 with a French message per field)."""

from __future__ import annotations

import datetime
from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from territories import bounds
from territories.api_base import ModelCleanSerializer, ScopedGenericViewSet, ScopedModelViewSet, scoped
from territories.models import Territory

from . import services
from .api import cost_query_schema, requested_territories
from .budget import funding_budget
from .models import BudgetLine, CoFunder, Expense, Funding, KitchenFixedCost, Revenue
from .net_cost import fixed_cost_figures, net_cost_figures, transfers_of


class TerritoryFilter(filters.FilterSet):
    territory = filters.ModelChoiceFilter(queryset=scoped(Territory))


def filter_of(model_class: type, *fields: str) -> type[filters.FilterSet]:
    meta = type("Meta", (), {"model": model_class, "fields": ["territory", *fields]})
    return type(f"{model_class.__name__}Filter", (TerritoryFilter,), {"Meta": meta})


def serializer_of(model_class: type, *fields: str) -> type[ModelCleanSerializer]:
    meta = type("Meta", (), {"model": model_class, "fields": ["id", "territory", *fields]})
    return type(f"{model_class.__name__}Serializer", (ModelCleanSerializer,), {"Meta": meta})


class BudgetLineViewSet(ScopedModelViewSet):
    """A funding's planned amount per category, with the explanation of its gap."""

    model = BudgetLine
    serializer_class = serializer_of(BudgetLine, "funding", "category", "planned", "explanation")
    filterset_class = filter_of(BudgetLine, "funding", "category")


class CoFunderViewSet(ScopedModelViewSet):
    """The other sources of a funded action's resources."""

    model = CoFunder
    serializer_class = serializer_of(CoFunder, "funding", "kind", "organisation", "amount", "status")
    filterset_class = filter_of(CoFunder, "funding", "kind")


class ExpenseViewSet(ScopedModelViewSet):
    """The programme's costs outside the meal flow's inputs, by month and category."""

    model = Expense
    serializer_class = serializer_of(Expense, "month", "category", "amount", "label")
    filterset_class = filter_of(Expense, "category")


class RevenueViewSet(ScopedModelViewSet):
    """What the programme receives, by month: beneficiaries' contributions, payments of dedicated
    meals (meals × the convention's price when the amount is left empty), other revenues."""

    model = Revenue
    serializer_class = serializer_of(
        Revenue, "month", "kind", "partnership", "meals", "amount", "received_by"
    )
    filterset_class = filter_of(Revenue, "kind", "partnership")


class KitchenFixedCostViewSet(ScopedModelViewSet):
    """A kitchen's fixed costs and production over a year: its fixed cost per meal."""

    model = KitchenFixedCost
    serializer_class = serializer_of(
        KitchenFixedCost, "kitchen", "year", "fixed_costs", "meals_produced", "source"
    )
    filterset_class = filter_of(KitchenFixedCost, "kitchen", "year")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="Par défaut : le début du financement.")
    end = serializers.DateField(required=False, help_text="Par défaut : la fin du financement.")


class FundingBudgetViewSet(ScopedGenericViewSet, mixins.RetrieveModelMixin):
    """A funding's budget against the actual costs of its territory, by category, over the whole
    months of a period (by default the funding's): planned, actual, gap, explanation, the
    categories not allocated, the total and the co-funders."""

    model = Funding
    queryset = Funding.objects.all()

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE),
            OpenApiParameter("end", OpenApiTypes.DATE),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiResponse(description="Période invalide")},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        funding = self.get_object()
        query = PeriodSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start: datetime.date = query.validated_data.get("start", funding.period_start)
        end: datetime.date = query.validated_data.get("end", funding.period_end)
        errors = bounds.period_errors(start, end)
        if errors:
            raise serializers.ValidationError(errors)
        return Response(funding_budget(funding, start=start, end=end).as_dict())


class NetCostView(APIView):
    """The gross and net cost per payer (kitchens, associations, authorities, funders,
    beneficiaries, others), in euros and per meal distributed, and the full cost with the
    kitchens' fixed share, over whole months (docs/methodology.md)."""

    @cost_query_schema(OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        query, territory_ids = requested_territories(request)
        cost = services.territory_cost(
            territory_ids=territory_ids, start=query.validated_data["start"], end=query.validated_data["end"]
        )
        return Response(
            {
                "territories": territory_ids,
                "start": cost.start,
                "end": cost.end,
                "meals_distributed": cost.volumes.meals_distributed,
                "total_cost": cost.figure("total_cost").as_dict(),
                "payers": net_cost_figures(
                    cost, transfers_of(territory_ids=territory_ids, months=cost.months)
                ),
                "full_cost": fixed_cost_figures(cost),
            }
        )
