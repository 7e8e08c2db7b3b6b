"""The dashboards: the territory's for every role in scope (404 outside), the comparison for
evaluators; the same figures as the indicators; nothing the Content-Security-Policy blocks."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from evaluation.indicators import compute_indicators
from evaluation.models import JournalEntry
from territories.models import Membership
from territories.roles import Role
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import DailyRollupFactory, PartnershipFactory, member

pytestmark = pytest.mark.django_db

PERIOD = {"start": str(START), "end": str(END)}
TERRITORIAL = [Role.KITCHEN_MANAGER, Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR]


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def user_of(role: str, place) -> object:
    if role == Role.KITCHEN_MANAGER:
        return member(role, place.territory, kitchen=place.kitchen)
    if role in (Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR):
        return member(role, place.territory, association=place.association)
    return member(role, place.territory, authority=place.authority)


def assert_csp_clean(html: str) -> None:
    """No inline script, no <style> element, no style attribute: what ``style-src 'self'`` and
    ``script-src 'self'`` would block. Scripts, if any, come from our own static files."""
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert "<style" not in html
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handler


@pytest.fixture
def places():
    references()
    return pilot(), pilot("Est Ensemble", "est-ensemble")


@pytest.mark.parametrize("role", [*TERRITORIAL, Role.EVALUATOR, Role.FUNDER])
def test_the_dashboard_renders_for_every_role_in_scope_and_404_outside(places, role):
    plaine, other = places
    if role == Role.EVALUATOR:
        user = member(role)
    elif role == Role.FUNDER:
        user = member(role, funded=[plaine.territory])
    else:
        user = user_of(role, plaine)
    client = client_for(user)
    response = client.get(reverse("territory-dashboard", kwargs={"pk": plaine.territory.pk}), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert_csp_clean(html)
    assert "Content-Security-Policy" in response.headers
    assert len(re.findall(r"<svg\b", html)) == 4
    assert html.count('role="img"') >= 4
    expected = 200 if role == Role.EVALUATOR else 404
    other_url = reverse("territory-dashboard", kwargs={"pk": other.territory.pk})
    assert client.get(other_url, PERIOD).status_code == expected


def test_the_dashboard_prints_the_indicators_figures(places):
    plaine, _ = places
    html = (
        client_for(member(Role.EVALUATOR))
        .get(reverse("territory-dashboard", kwargs={"pk": plaine.territory.pk}), PERIOD)
        .content.decode()
    )
    indicators = compute_indicators(territory_ids=[plaine.territory.pk], start=START, end=END)
    text = re.sub(r"(&nbsp;|[\s\u00a0\u202f])+", " ", html)
    assert "<dt>Repas distribués</dt><dd>4 320</dd>" in text
    assert indicators.get("meals_distributed").value == 4320
    cost = indicators.get("full_cost_per_meal").value
    assert f"{cost}".replace(".", ",") + " €/repas" in text
    # Each chart has the same numbers in a table under it.
    assert text.count("Les chiffres du graphique") == 4
    assert "Camion frigorifique en panne" in text  # the journal's latest entries


def test_missing_inputs_mark_the_figures_incomplete(places):
    bare = pilot("Grand Orly", "grand-orly", costs=False)
    html = (
        client_for(member(Role.EVALUATOR))
        .get(reverse("territory-dashboard", kwargs={"pk": bare.territory.pk}), PERIOD)
        .content.decode()
    )
    assert "Chiffres incomplets" in html
    assert "incomplet</span>" in html
    assert "au moins" in html
    assert "Mois incomplet (au moins)" in html  # on the cost chart


def test_funders_see_only_the_journal_entries_shared_with_them(places):
    plaine, _ = places
    funder = member(Role.FUNDER, funded=[plaine.territory])
    url = reverse("territory-dashboard", kwargs={"pk": plaine.territory.pk})
    html = client_for(funder).get(url, PERIOD).content.decode()
    assert "Camion frigorifique en panne" in html  # shared with funders
    JournalEntry.objects.update(shared_with_funders=False)
    cache.clear()
    html = client_for(funder).get(url, PERIOD).content.decode()
    assert "Camion frigorifique en panne" not in html
    assert "Aucune entrée visible dans le journal d'observation." in html


def test_the_default_period_is_the_last_three_whole_months(places):
    plaine, _ = places
    response = client_for(member(Role.EVALUATOR)).get(
        reverse("territory-dashboard", kwargs={"pk": plaine.territory.pk})
    )
    form = response.context["period_form"]
    start, end = form.initial["start"], form.initial["end"]
    today = datetime.date.today()
    assert end == today.replace(day=1) - datetime.timedelta(days=1)
    assert start.day == 1 and (end.year * 12 + end.month) - (start.year * 12 + start.month) == 2
    assert response.context["start"] == start


def test_a_bad_period_shows_its_error_and_no_figures(places):
    plaine, _ = places
    response = client_for(member(Role.EVALUATOR)).get(
        reverse("territory-dashboard", kwargs={"pk": plaine.territory.pk}),
        {"start": str(END), "end": str(START)},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "La fin de la période précède son début." in html
    assert "<svg" not in html


def test_the_dashboard_queries_do_not_grow_with_the_records(places):
    plaine, _ = places
    client = client_for(member(Role.EVALUATOR))
    url = reverse("territory-dashboard", kwargs={"pk": plaine.territory.pk})
    client.get(url, PERIOD)
    cache.clear()  # the figures read, not kept (tests/evaluation/test_dashboard_cache.py)
    with CaptureQueriesContext(connection) as before:
        client.get(url, PERIOD)
    second = PartnershipFactory(
        territory=plaine.territory, kitchen=plaine.kitchen, association=plaine.association
    )
    for offset in range(60):
        DailyRollupFactory(
            partnership=second, day=START + datetime.timedelta(days=offset), meals_distributed=1
        )
    cache.clear()
    with CaptureQueriesContext(connection) as after:
        client.get(url, PERIOD)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_the_comparison_is_for_evaluators(places):
    plaine, other = places
    evaluator = member(Role.EVALUATOR)
    response = client_for(evaluator).get(reverse("territory-comparison"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert_csp_clean(html)
    assert "Plaine Commune" in html and "Est Ensemble" in html
    assert len(re.findall(r"<svg\b", html)) == 2
    assert reverse("territory-dashboard", kwargs={"pk": other.territory.pk}) in html
    funder = member(Role.FUNDER, funded=[plaine.territory])
    for user in [funder, user_of(Role.AUTHORITY_COORDINATOR, plaine)]:
        assert client_for(user).get(reverse("territory-comparison"), PERIOD).status_code == 403
    assert Membership.objects.filter(role=Role.EVALUATOR).count() == 1


@pytest.mark.parametrize("route", ["territory-reports", "report-list"])
def test_the_report_pages_have_nothing_the_csp_blocks(places, route):
    plaine, _ = places
    kwargs = {"pk": plaine.territory.pk} if route == "territory-reports" else {}
    response = client_for(member(Role.EVALUATOR)).get(reverse(route, kwargs=kwargs))
    assert response.status_code == 200
    assert_csp_clean(response.content.decode())


def test_the_territory_page_and_the_navigation_lead_to_the_dashboard_and_reports(places):
    plaine, _ = places
    funder = member(Role.FUNDER, funded=[plaine.territory])
    html = (
        client_for(funder)
        .get(reverse("territory-detail", kwargs={"pk": plaine.territory.pk}))
        .content.decode()
    )
    assert reverse("territory-dashboard", kwargs={"pk": plaine.territory.pk}) in html
    assert reverse("territory-reports", kwargs={"pk": plaine.territory.pk}) in html
    assert reverse("report-list") in html  # in the navigation
    assert reverse("territory-comparison") not in html  # evaluators only
    evaluator_page = client_for(member(Role.EVALUATOR)).get(reverse("report-list")).content.decode()
    assert reverse("territory-comparison") in evaluator_page
