"""The indicators API keeps each territory's row encoded: its answer is, byte for byte, the
answer encoded from a fresh read (``side_by_side`` without the cache), whether the rows come
from the cache or not, and a change to anything a row shows is seen at once."""

from __future__ import annotations

import pytest
from rest_framework.renderers import JSONRenderer

from associations.models import Partnership
from costing.models import DailyRollup
from costing.versions import bump_days
from evaluation.api import territory_indicators
from evaluation.indicators import side_by_side
from evaluation.models import Survey
from territories.models import Territory
from territories.roles import Role
from tests.evaluation.test_indicator_cache import Worlds
from tests.evaluation.test_indicators import MARCH, MARCH_END, day
from tests.factories import (
    JournalEntryFactory,
    SurveyFactory,
    SurveyQuestionFactory,
    SurveyResponseFactory,
    member,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/indicators/"
PERIOD = {"start": str(MARCH), "end": str(MARCH_END)}


@pytest.fixture
def worlds():
    return Worlds()


@pytest.fixture
def evaluator(api):
    api.force_authenticate(member(Role.EVALUATOR))
    return api


def fresh(**query) -> bytes:
    """The answer encoded at once from the territories read without the cache."""
    territories = Territory.objects.all_territories().order_by("name", "pk")
    if "territory" in query:
        territories = territories.filter(pk=query["territory"])
    pairs = side_by_side(territories=territories, start=MARCH, end=MARCH_END, cached=False)
    return JSONRenderer().render(
        {
            "start": str(MARCH),
            "end": str(MARCH_END),
            "count": len(pairs),
            "next": None,
            "previous": None,
            "territories": [territory_indicators(territory, result) for territory, result in pairs],
        }
    )


def answer(api, language: str = "fr", **query) -> bytes:
    response = api.get(URL, {**PERIOD, **query}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.content


def test_the_answer_is_the_bytes_of_a_fresh_read(worlds, evaluator):
    expected = fresh()
    assert b'"name":"Vall\xc3\xa9e"' in expected  # not escaped, as the JSON renderer writes it
    assert answer(evaluator) == expected  # rows built, then kept
    assert answer(evaluator) == expected  # rows from the cache
    vallee = worlds.vallee.pk
    assert answer(evaluator, territory=vallee) == fresh(territory=vallee)
    english = answer(evaluator, "en")
    assert english != expected
    assert answer(evaluator, "en") == english
    # The browsable API shows the same answer, indented.
    page = evaluator.get(URL, PERIOD, HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert "Vallée" in page.content.decode()


def test_a_change_to_what_a_row_shows_is_seen_at_once(worlds, evaluator):
    before = answer(evaluator)
    changes = [
        # Read off the roll-ups (the cached roll-up part), the version bumped as their writers do.
        lambda: (
            DailyRollup.objects.filter(partnership=worlds.partnership, day=day(6)).update(
                meals_distributed=100
            ),
            bump_days(worlds.vallee.pk, [day(6)]),
        ),
        # Read anew on every request: conventions, people, journal, surveys, the territory's name.
        lambda: Partnership.objects.filter(pk=worlds.partnership.pk).update(planned_meals_per_week=280),
        lambda: member(Role.VOLUNTEER, worlds.colline),
        lambda: JournalEntryFactory(territory=worlds.vallee, observed_on=day(10)),
        lambda: SurveyResponseFactory(
            survey=Survey.objects.all_territories().get(territory=worlds.plaine.territory),
            answered_on=day(16),
            answers={"satisfaction": 2},
        ),
        lambda: SurveyQuestionFactory(survey=SurveyFactory(territory=worlds.colline)),
        lambda: Territory.objects.filter(pk=worlds.colline.pk).update(name="Colline verte"),
    ]
    for change in changes:
        change()
        after = answer(evaluator)
        assert after != before
        assert after == fresh()
        before = after
