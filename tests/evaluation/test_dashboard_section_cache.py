"""The territory dashboard keeps its rendered figures: a page drawn from what is kept is the page
drawn from an empty cache, and a change to anything its figures or indicators show is seen at
once."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from associations.models import Partnership
from costing.models import DailyRollup
from costing.versions import bump_days
from evaluation.models import Survey
from territories.roles import Role
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import (
    JournalEntryFactory,
    SurveyFactory,
    SurveyQuestionFactory,
    SurveyResponseFactory,
    member,
)

pytestmark = pytest.mark.django_db

PERIOD = {"start": str(START), "end": str(END)}


@pytest.fixture
def plaine():
    references()
    place = pilot()
    survey = SurveyFactory(territory=place.territory)
    SurveyQuestionFactory(survey=survey)
    return place


@pytest.fixture
def evaluator(client):
    client.force_login(member(Role.EVALUATOR))
    return client


def figures_of(client, territory_id: int, language: str = "fr") -> str:
    """The page's figures: from the period's heading to the journal's latest entries."""
    url = reverse("territory-dashboard", kwargs={"pk": territory_id})
    response = client.get(url, PERIOD, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("<h2>") : html.index('<section aria-labelledby="titre-journal">')]


def fresh(client, territory_id: int, language: str = "fr") -> str:
    cache.clear()
    return figures_of(client, territory_id, language)


def test_a_kept_page_equals_a_page_drawn_from_nothing(plaine, evaluator):
    territory_id = plaine.territory.pk
    first = figures_of(evaluator, territory_id)
    assert 'id="titre-indicateurs"' in first  # the indicators, by evaluation question
    assert re.search(r"Repas distribués</dt><dd>4\s320</dd>", first)
    assert figures_of(evaluator, territory_id) == first
    assert fresh(evaluator, territory_id) == first
    english = figures_of(evaluator, territory_id, "en")
    assert "Activity per week" in english
    assert figures_of(evaluator, territory_id, "en") == english == fresh(evaluator, territory_id, "en")


def test_a_change_to_what_the_figures_show_is_seen_at_once(plaine, evaluator):
    territory = plaine.territory
    survey = Survey.objects.all_territories().get(territory=territory)
    changes = [
        # Read off the roll-ups (the cached figures), the version bumped as their writers do.
        lambda: (
            DailyRollup.objects.filter(partnership=plaine.partnership, day=datetime.date(2025, 1, 6)).update(
                meals_distributed=100
            ),
            bump_days(territory.pk, [datetime.date(2025, 1, 6)]),
        ),
        # Read anew on every request: conventions, people, journal and surveys.
        lambda: Partnership.objects.filter(pk=plaine.partnership.pk).update(planned_meals_per_week=999),
        lambda: member(Role.VOLUNTEER, territory, association=plaine.association),
        lambda: JournalEntryFactory(territory=territory, observed_on=datetime.date(2025, 3, 3)),
        lambda: SurveyResponseFactory(
            survey=survey, answered_on=datetime.date(2025, 3, 4), answers={"satisfaction": 5}
        ),
    ]
    before = figures_of(evaluator, territory.pk)
    for change in changes:
        change()
        after = figures_of(evaluator, territory.pk)
        assert after != before
        assert after == fresh(evaluator, territory.pk)
        before = after
