from django.contrib.auth import views as auth_views
from django.urls import path

from . import token_views, views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(
        "connexion/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("compte/jetons/", token_views.TokenListView.as_view(), name="account-tokens"),
    path(
        "compte/jetons/<int:pk>/revoquer/", token_views.TokenRevokeView.as_view(), name="account-token-revoke"
    ),
    path("territoires/", views.TerritoryListView.as_view(), name="territory-list"),
    path("territoires/<int:pk>/", views.TerritoryDetailView.as_view(), name="territory-detail"),
]
