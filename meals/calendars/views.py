"""The calendar pages: the feed itself (by its secret address, no login) and the page where a
user finds, revokes or renews their address and, for a coordinator, their association's."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from territories.views import PageMixin

from . import feeds


class CalendarFeedView(View):
    """``/calendrier/<token>.ics``: the iCalendar feed of a live token, 404 otherwise."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        feed = feeds.live_feed(token)
        if feed is None:
            raise Http404
        response = HttpResponse(feeds.feed_ics(feed), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="passerelle.ics"'
        response["Cache-Control"] = "private, no-store"
        return response


class CalendarSettingsView(LoginRequiredMixin, PageMixin, TemplateView):
    """The user's own feed, and the feeds of the associations they coordinate."""

    template_name = "meals/calendars/settings.html"
    nav_section = "calendar"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["own_url"] = feeds.feed_url(feeds.feed_of(user=user))  # type: ignore[arg-type]
        context["association_feeds"] = [
            (association, feeds.feed_url(feeds.feed_of(association=association)))
            for association in feeds.managed_associations(user)  # type: ignore[arg-type]
        ]
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        target = request.POST.get("association", "")
        if target:
            association = next(
                (item for item in feeds.managed_associations(request.user) if str(item.pk) == target),  # type: ignore[arg-type]
                None,
            )
            if association is None:
                raise Http404
            feeds.feed_revoke(association=association, renew=True)
        else:
            feeds.feed_revoke(user=request.user, renew=True)  # type: ignore[arg-type]
        messages.success(
            request,
            _(
                "Ancienne adresse révoquée : l'agenda n'y est plus lisible. Une nouvelle adresse est prête, "
                "abonnez-vous à nouveau."
            ),
        )
        return redirect("calendar-settings")
