"""A survey's public link takes a limited number of online answers: per client (a rate per
minute and a cap per hour) and per link (a cap per hour). The answer past a limit is refused
with a French message, nothing of it is stored, and the indicators count it as refused. An
evaluator closes a link; other roles cannot."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from evaluation import survey_limits
from evaluation.indicators import compute_indicators
from evaluation.models import SurveyRefusal, SurveyResponse
from territories.roles import Role
from tests.factories import SurveyFactory, SurveyQuestionFactory, TerritoryFactory, member

pytestmark = pytest.mark.django_db

RATES = {"survey_client": "3/minute", "survey_client_hour": "5/hour", "survey_link": "8/hour"}


class Clock:
    """The limits' clock, moved by hand: the test says when each answer is sent."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    # DRF reads the rates once, into the class: set the test's rates there, and its clock.
    monkeypatch.setattr(survey_limits.AnswerLimit, "THROTTLE_RATES", RATES)
    monkeypatch.setattr(survey_limits.AnswerLimit, "timer", clock)
    return clock


@pytest.fixture
def survey():
    survey = SurveyFactory(territory=TerritoryFactory(), kind="beneficiary")
    SurveyQuestionFactory(survey=survey, code="satisfaction", kind="scale")
    return survey


def answer(survey, address: str = "192.0.2.10"):
    url = reverse("survey-answer", kwargs={"token": survey.public_token})
    return Client(REMOTE_ADDR=address).post(url, {"q_satisfaction": "4"})


def stored(survey) -> int:
    return SurveyResponse.objects.filter(survey=survey).count()


def refused(survey) -> int:
    return sum(SurveyRefusal.objects.filter(survey=survey).values_list("count", flat=True))


def test_the_third_answer_of_a_minute_is_accepted_and_the_fourth_refused(clock, survey):
    statuses = []
    for _ in range(4):
        statuses.append(answer(survey).status_code)
        clock.now += 10  # four answers in 30 seconds
    assert statuses == [302, 302, 302, 429]
    assert (stored(survey), refused(survey)) == (3, 1)
    # Another client is not held back by the first one.
    assert answer(survey, "192.0.2.11").status_code == 302
    # A minute after the first answer, the first client answers again.
    clock.now += 31
    assert answer(survey).status_code == 302
    assert (stored(survey), refused(survey)) == (5, 1)


def test_the_refusal_is_a_french_page_and_stores_nothing(clock, survey):
    for _ in range(3):
        answer(survey)
    response = answer(survey)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Trop de réponses envoyées depuis cet appareil ou sur ce lien." in body
    assert "Votre réponse n'a pas été enregistrée." in body
    assert int(response["Retry-After"]) == 60
    assert stored(survey) == 3


def test_one_client_gets_five_answers_an_hour_not_six(clock, survey):
    statuses = []
    for _ in range(6):
        statuses.append(answer(survey).status_code)
        clock.now += 61  # past the rate per minute each time
    assert statuses == [302] * 5 + [429]
    assert (stored(survey), refused(survey)) == (5, 1)
    clock.now += 3600 - 5 * 61
    assert answer(survey).status_code == 302  # an hour after the first


def test_a_link_takes_eight_answers_an_hour_from_every_client_together(clock, survey):
    statuses = [answer(survey, f"192.0.2.{number}").status_code for number in range(1, 10)]
    assert statuses == [302] * 8 + [429]
    assert (stored(survey), refused(survey)) == (8, 1)
    other = SurveyFactory(territory=survey.territory)
    SurveyQuestionFactory(survey=other, code="satisfaction", kind="scale")
    assert answer(other, "192.0.2.1").status_code == 302  # each link has its own cap


def test_a_bad_answer_does_not_count_against_the_limits(clock, survey):
    url = reverse("survey-answer", kwargs={"token": survey.public_token})
    client = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(5):
        assert client.post(url, {"q_satisfaction": "9"}).status_code == 200
    assert [answer(survey).status_code for _ in range(3)] == [302, 302, 302]


def test_the_indicators_show_the_refused_answers(clock, survey):
    for _ in range(6):
        answer(survey)  # 3 stored, 3 refused in the same minute
    today = datetime.date.today()
    result = compute_indicators(territory_ids=[survey.territory_id], start=today, end=today)
    assert result.get("survey_beneficiary_responses").value == 3
    assert result.get("survey_beneficiary_refused").value == 3
    yesterday = today - datetime.timedelta(days=1)
    before = compute_indicators(territory_ids=[survey.territory_id], start=yesterday, end=yesterday)
    assert before.get("survey_beneficiary_refused").value == 0


def test_an_evaluator_closes_a_link_and_then_it_takes_nothing(api, clock, survey):
    coordinator = member(Role.AUTHORITY_COORDINATOR, survey.territory)
    api.force_authenticate(coordinator)
    assert api.patch(f"/api/v1/surveys/{survey.pk}/", {"is_open": False}, format="json").status_code == 403
    survey.refresh_from_db()
    assert survey.is_open
    api.force_authenticate(member(Role.EVALUATOR))
    assert api.patch(f"/api/v1/surveys/{survey.pk}/", {"is_open": False}, format="json").status_code == 200
    response = answer(survey)
    assert response.status_code == 200
    assert "Ce questionnaire est clos" in response.content.decode()
    assert stored(survey) == 0


def test_the_survey_list_shows_the_refused_answers(clock, survey):
    for _ in range(5):
        answer(survey)  # 3 stored, 2 refused
    page = Client()
    page.force_login(member(Role.EVALUATOR))
    body = page.get(reverse("survey-list")).content.decode()
    assert "Réponses en ligne refusées (limites du lien)</dt><dd>2</dd>" in body


def test_an_evaluator_closes_a_link_from_the_survey_list(clock, survey):
    evaluator, coordinator = member(Role.EVALUATOR), member(Role.AUTHORITY_COORDINATOR, survey.territory)
    browser = Client()
    browser.force_login(coordinator)
    assert "Clore le lien" not in browser.get(reverse("survey-list")).content.decode()
    assert browser.post(reverse("survey-close", kwargs={"pk": survey.pk})).status_code == 403
    browser.force_login(evaluator)
    assert "Clore le lien" in browser.get(reverse("survey-list")).content.decode()
    response = browser.post(reverse("survey-close", kwargs={"pk": survey.pk}), follow=True)
    assert "Le lien du questionnaire est clos" in response.content.decode()
    survey.refresh_from_db()
    assert survey.is_open is False
    assert answer(survey).status_code == 200  # the closed page
    assert stored(survey) == 0
