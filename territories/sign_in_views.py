"""Browser pages of the sign-in links (``territories.sign_in_links``): the coordinators' list
of volunteers with a button to e-mail each a link, and the page the link opens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import ListView

from . import sign_in_links
from .models import Membership
from .roles import Role
from .scoping import memberships_of
from .views import PAGE_SIZE, PageMixin

COORDINATOR_ROLES = {Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR}


def sends_links(user: Any) -> bool:
    return user.is_superuser or any(m.role in COORDINATOR_ROLES for m in memberships_of(user))


class VolunteerListView(LoginRequiredMixin, PageMixin, ListView):
    """The volunteers a coordinator may send a sign-in link to (other roles: 403)."""

    model = Membership
    template_name = "territories/volunteer_list.html"
    paginate_by = PAGE_SIZE
    nav_section = "volunteers"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not sends_links(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return sign_in_links.reachable_volunteers(self.request.user).order_by(
            "association__name", "user__last_name", "user__first_name", "user__username", "pk"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["link_hours"] = sign_in_links.link_hours()
        return context


class SignInLinkSendView(LoginRequiredMixin, View):
    """E-mails one volunteer a sign-in link; a volunteer out of the sender's reach is a 404."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        membership = get_object_or_404(sign_in_links.reachable_volunteers(request.user), pk=pk)
        if not membership.user.email:
            messages.error(
                request,
                _("%(name)s n'a pas d'adresse e-mail : ajoutez-la à son compte pour lui envoyer un lien.")
                % {"name": membership.user.get_full_name() or membership.user.get_username()},
            )
        else:
            address = sign_in_links.sign_in_link_send(membership=membership, request=request)
            messages.success(
                request,
                _("Lien de connexion envoyé à %(address)s : il sert une fois, dans les %(hours)s heures.")
                % {"address": address, "hours": sign_in_links.link_hours()},
            )
        return redirect("volunteer-list")


@method_decorator(never_cache, name="dispatch")
class SignInLinkView(View):
    """The page a sign-in link opens: one button signs in and opens "À collecter".

    The GET only checks the link (a mail client fetching it does not spend it); the POST spends
    it by signing in. A used, expired or revoked link gets a page that says so (403)."""

    template_name = "registration/sign_in_link.html"

    def refused(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"valid": False}, status=403)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = request.GET.get(sign_in_links.TOKEN_PARAM, "")
        if sign_in_links.sign_in_user(request=request, membership_id=pk, token=token) is None:
            return self.refused(request)
        return render(request, self.template_name, {"valid": True, "token": token})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = sign_in_links.sign_in_user(
            request=request, membership_id=pk, token=request.POST.get(sign_in_links.TOKEN_PARAM, "")
        )
        if user is None:
            return self.refused(request)
        login(request, user, backend="sesame.backends.ModelBackend")  # updates last_login: spent
        return redirect("pickup-todo")
