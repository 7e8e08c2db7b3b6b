from django.urls import path

from . import views

urlpatterns = [
    path("cuisines/", views.KitchenListView.as_view(), name="kitchen-list"),
    path("cuisines/<int:pk>/", views.KitchenDetailView.as_view(), name="kitchen-detail"),
    path("cuisines/egalim/import/", views.EgalimImportView.as_view(), name="egalim-import"),
]
