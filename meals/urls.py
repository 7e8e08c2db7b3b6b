from django.urls import path

from . import views
from .calendars import views as calendar_views
from .offers import views as offer_views
from .rounds import views as round_views

urlpatterns = [
    path("lots/", views.BatchWeekView.as_view(), name="batch-week"),
    path("lots/nouveau/", views.BatchCreateView.as_view(), name="batch-create"),
    path("lots/mes-lots/", views.KitchenBatchesView.as_view(), name="kitchen-batches"),
    path("lots/<int:pk>/", views.BatchDetailView.as_view(), name="batch-detail"),
    path("lots/<int:pk>/collecte/", views.BatchPickupView.as_view(), name="batch-pickup"),
    path("lots/<int:pk>/annuler/", views.BatchCancelView.as_view(), name="batch-cancel"),
    path("lots/<int:pk>/ecarter/", views.BatchDiscardView.as_view(), name="batch-discard"),
    path("lots/<int:pk>/rappeler/", views.BatchRecallView.as_view(), name="batch-recall"),
    path("lots/<int:pk>/fiche.pdf", views.BatchSheetView.as_view(), name="batch-sheet"),
    path("collectes/", views.PickupTodoView.as_view(), name="pickup-todo"),
    path("a-distribuer/", views.DistributionTodoView.as_view(), name="distribution-todo"),
    path(
        "collectes/<int:pk>/distribution/",
        views.DistributionCreateView.as_view(),
        name="distribution-create",
    ),
    path("offres/", offer_views.OfferListView.as_view(), name="offer-list"),
    path("offres/nouvelle/", offer_views.OfferCreateView.as_view(), name="offer-create"),
    path("offres/<int:pk>/", offer_views.OfferDetailView.as_view(), name="offer-detail"),
    path("offres/<int:pk>/accepter/", offer_views.OfferAcceptView.as_view(), name="offer-accept"),
    path("offres/<int:pk>/decliner/", offer_views.OfferDeclineView.as_view(), name="offer-decline"),
    path("calendrier/<str:token>.ics", calendar_views.CalendarFeedView.as_view(), name="calendar-feed"),
    path("compte/agenda/", calendar_views.CalendarSettingsView.as_view(), name="calendar-settings"),
    path("tournees/", round_views.RoundSlotListView.as_view(), name="round-slot-list"),
    path(
        "tournees/<int:pk>/inscription/", round_views.RoundSlotSignUpView.as_view(), name="round-slot-signup"
    ),
    path(
        "tournees/<int:pk>/retrait/", round_views.RoundSlotWithdrawView.as_view(), name="round-slot-withdraw"
    ),
    path(
        "tournees/<int:pk>/affectation/", round_views.RoundSlotAssignView.as_view(), name="round-slot-assign"
    ),
    path(
        "partenariats/<int:pk>/tournee/",
        round_views.RoundScheduleEditView.as_view(),
        name="round-schedule-edit",
    ),
    path("flux/", views.FlowWeekView.as_view(), name="flow-week"),
    path("territoires/<int:pk>/import/", views.RecordImportView.as_view(), name="record-import"),
    path("imports/modele.csv", views.RecordImportTemplateView.as_view(), name="record-import-template"),
    path("imports/<int:pk>/", views.RecordImportDetailView.as_view(), name="record-import-detail"),
    path("imports/<int:pk>/relancer/", views.RecordImportRetryView.as_view(), name="record-import-retry"),
]
