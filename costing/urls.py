from django.urls import path

from . import finance_views, views

urlpatterns = [
    path("territoires/<int:pk>/couts/", views.TerritoryCostView.as_view(), name="territory-costs"),
    path(
        "territoires/<int:pk>/couts/coordination/",
        views.CoordinationCostInputView.as_view(),
        name="coordination-cost-input",
    ),
    path(
        "territoires/<int:pk>/couts/transport/",
        views.TransportRateInputView.as_view(),
        name="transport-rate-input",
    ),
    path("territoires/<int:pk>/depenses/", finance_views.ExpenseView.as_view(), name="territory-expenses"),
    path("territoires/<int:pk>/recettes/", finance_views.RevenueView.as_view(), name="territory-revenues"),
    path("financements/<int:pk>/budget/", finance_views.FundingBudgetView.as_view(), name="funding-budget"),
    path("cuisines/<int:pk>/couts/saisie/", views.KitchenCostInputView.as_view(), name="kitchen-cost-input"),
    path("cuisines/<int:pk>/annee/", finance_views.KitchenYearView.as_view(), name="kitchen-year-inputs"),
    path(
        "associations/<int:pk>/couts/saisie/",
        views.AssociationCostInputView.as_view(),
        name="association-cost-input",
    ),
]
