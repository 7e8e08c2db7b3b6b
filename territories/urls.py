from django.contrib.auth import views as auth_views
from django.urls import path

from . import sign_in_views, token_views, views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(
        "connexion/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("connexion/lien/<int:pk>/", sign_in_views.SignInLinkView.as_view(), name="sign-in-link"),
    path("benevoles/", sign_in_views.VolunteerListView.as_view(), name="volunteer-list"),
    path("benevoles/<int:pk>/lien/", sign_in_views.SignInLinkSendView.as_view(), name="sign-in-link-send"),
    path("compte/jetons/", token_views.TokenListView.as_view(), name="account-tokens"),
    path(
        "compte/jetons/<int:pk>/revoquer/", token_views.TokenRevokeView.as_view(), name="account-token-revoke"
    ),
    path("territoires/", views.TerritoryListView.as_view(), name="territory-list"),
    path("territoires/<int:pk>/", views.TerritoryDetailView.as_view(), name="territory-detail"),
]
