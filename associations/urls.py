from django.urls import path

from . import views
from .receipts import views as receipt_views

urlpatterns = [
    path("recus-de-dons/", receipt_views.DonationReceiptListView.as_view(), name="donation-receipt-list"),
    path(
        "recus-de-dons/<int:pk>/pdf/",
        receipt_views.DonationReceiptPdfView.as_view(),
        name="donation-receipt-pdf",
    ),
    path("associations/", views.AssociationListView.as_view(), name="association-list"),
    path("associations/<int:pk>/", views.AssociationDetailView.as_view(), name="association-detail"),
    path("partenariats/", views.PartnershipListView.as_view(), name="partnership-list"),
    path("partenariats/<int:pk>/", views.PartnershipDetailView.as_view(), name="partnership-detail"),
    path("partenariats/<int:pk>/signer/", views.PartnershipSignView.as_view(), name="partnership-sign"),
    path(
        "conventions/<int:pk>/pdf/",
        views.ConventionVersionPdfView.as_view(),
        name="convention-version-pdf",
    ),
    path(
        "partenariats/<int:pk>/convention/",
        views.PartnershipConventionView.as_view(),
        name="partnership-convention",
    ),
]
