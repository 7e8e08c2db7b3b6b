"""The page where a user sees the API tokens of their devices and revokes one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from .tokens import token_revoke, tokens_of
from .views import PageMixin


class TokenListView(LoginRequiredMixin, PageMixin, TemplateView):
    template_name = "territories/token_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["tokens"] = tokens_of(self.request.user)
        return context


class TokenRevokeView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not token_revoke(user=request.user, token_id=pk):
            raise Http404
        messages.success(request, _("Le jeton est révoqué : l'appareil qui l'utilisait n'a plus accès."))
        return redirect("account-tokens")
