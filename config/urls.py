from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls", namespace="api")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("territories.urls")),
    path("", include("kitchens.urls")),
    path("", include("associations.urls")),
    path("", include("meals.urls")),
    path("", include("costing.urls")),
    path("", include("evaluation.urls")),
]

handler404 = "config.errors.page_not_found"
