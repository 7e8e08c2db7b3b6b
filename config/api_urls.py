"""The REST API under /api/v1/: one router, the token endpoint, the schema and its docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from associations.api import AssociationViewSet, DistributionSiteViewSet, PartnershipViewSet
from associations.receipts.api import DonationReceiptViewSet
from costing.api import (
    AssociationCostViewSet,
    CoordinationCostViewSet,
    CostView,
    FundingViewSet,
    KitchenCostInputViewSet,
    ReferenceValueViewSet,
    RollupViewSet,
    TransportRateViewSet,
)
from costing.finance_api import (
    BudgetLineViewSet,
    CoFunderViewSet,
    ExpenseViewSet,
    FundingBudgetViewSet,
    KitchenFixedCostViewSet,
    NetCostView,
    RevenueViewSet,
)
from evaluation.api import IndicatorView, JournalEntryViewSet, SurveyResponseViewSet, SurveyViewSet
from evaluation.report_api import ReportViewSet
from kitchens.api import EgalimDeclarationViewSet, EgalimImportView, KitchenViewSet
from meals.api import BatchViewSet, DistributionViewSet, PickupViewSet
from meals.offers.api import OfferViewSet
from meals.rounds.api import RoundScheduleViewSet
from territories.api import AuthorityViewSet, MembershipViewSet, MeView, TerritoryViewSet
from territories.token_api import ApiTokenViewSet, TokenLoginView, TokenLogoutView

app_name = "api"

router = DefaultRouter()
router.register("territories", TerritoryViewSet, basename="territory")
router.register("authorities", AuthorityViewSet, basename="authority")
router.register("kitchens", KitchenViewSet, basename="kitchen")
router.register("egalim-declarations", EgalimDeclarationViewSet, basename="egalim-declaration")
router.register("associations", AssociationViewSet, basename="association")
router.register("sites", DistributionSiteViewSet, basename="site")
router.register("partnerships", PartnershipViewSet, basename="partnership")
router.register("donation-receipts", DonationReceiptViewSet, basename="donation-receipt")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("batches", BatchViewSet, basename="batch")
router.register("pickups", PickupViewSet, basename="pickup")
router.register("distributions", DistributionViewSet, basename="distribution")
router.register("offers", OfferViewSet, basename="offer")
router.register("round-schedules", RoundScheduleViewSet, basename="round-schedule")
router.register("cost-inputs", KitchenCostInputViewSet, basename="cost-input")
router.register("transport-costs", TransportRateViewSet, basename="transport-cost")
router.register("association-costs", AssociationCostViewSet, basename="association-cost")
router.register("coordination-costs", CoordinationCostViewSet, basename="coordination-cost")
router.register("fundings", FundingViewSet, basename="funding")
router.register("funding-budgets", FundingBudgetViewSet, basename="funding-budget")
router.register("budget-lines", BudgetLineViewSet, basename="budget-line")
router.register("co-funders", CoFunderViewSet, basename="co-funder")
router.register("expenses", ExpenseViewSet, basename="expense")
router.register("revenues", RevenueViewSet, basename="revenue")
router.register("kitchen-fixed-costs", KitchenFixedCostViewSet, basename="kitchen-fixed-cost")
router.register("reference-values", ReferenceValueViewSet, basename="reference-value")
router.register("rollups", RollupViewSet, basename="rollup")
router.register("reports", ReportViewSet, basename="report")
router.register("journal", JournalEntryViewSet, basename="journal")
router.register("surveys", SurveyViewSet, basename="survey")
router.register("survey-responses", SurveyResponseViewSet, basename="survey-response")

urlpatterns = [
    path("auth/token/", TokenLoginView.as_view(), name="api-token"),
    path("auth/logout/", TokenLogoutView.as_view(), name="api-logout"),
    path("auth/tokens/", ApiTokenViewSet.as_view({"get": "list"}), name="api-token-list"),
    path("auth/tokens/<str:pk>/", ApiTokenViewSet.as_view({"delete": "destroy"}), name="api-token-detail"),
    path("me/", MeView.as_view(), name="api-me"),
    path("costs/", CostView.as_view(), name="costs"),
    path("costs/net/", NetCostView.as_view(), name="net-costs"),
    path("egalim/import/", EgalimImportView.as_view(), name="egalim-import"),
    path("indicators/", IndicatorView.as_view(), name="indicators"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up code as a file, which the CSP allows.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
