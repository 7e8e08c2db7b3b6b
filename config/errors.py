"""Error pages: the API answers its errors in JSON, the browser pages with the site's templates."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.exceptions import NotFound

API_PREFIX = "/api/"


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A path under /api/ that matches no route (``/api/v1/batches/abc/``) answers like every
    other API 404, ``{"detail": ...}``, and not with the HTML page meant for people."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)
