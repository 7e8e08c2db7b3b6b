"""Surveys: defined by evaluators, answered on paper (entered) or online, stored anonymously.

What must hold: an answer holds no personal data — the model has no field for it and the
online page stores neither the address, nor the browser, nor the user, nor a session; bad
answers are refused with field messages (400) and nothing is written."""

from __future__ import annotations

import datetime
import json

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluation.models import Survey, SurveyQuestion, SurveyResponse
from territories.roles import Role
from tests.factories import (
    SurveyFactory,
    SurveyQuestionFactory,
    SurveyResponseFactory,
    TerritoryFactory,
    member,
)

pytestmark = pytest.mark.django_db

SURVEYS = "/api/v1/surveys/"
RESPONSES = "/api/v1/survey-responses/"
QUESTIONS = [
    {"code": "satisfaction", "text": "Êtes-vous satisfait des repas ?", "kind": "scale"},
    {"code": "reviendrait", "text": "Reviendriez-vous ?", "kind": "yes_no"},
    {
        "code": "venue",
        "text": "Comment venez-vous ?",
        "kind": "choice",
        "choices": ["à pied", "en transports", "en voiture"],
    },
]


@pytest.fixture
def people():
    home, away = TerritoryFactory(name="Plaine"), TerritoryFactory(name="Vallée")
    return {
        "home": home,
        "away": away,
        "evaluator": member(Role.EVALUATOR),
        "coordinator": member(Role.AUTHORITY_COORDINATOR, home),
        "away_coordinator": member(Role.AUTHORITY_COORDINATOR, away),
        "manager": member(Role.KITCHEN_MANAGER, home),
        "volunteer": member(Role.VOLUNTEER, home),
        "funder": member(Role.FUNDER, funded=[home]),
    }


@pytest.fixture
def survey(people):
    survey = SurveyFactory(
        territory=people["home"], title="Satisfaction des repas", created_by=people["evaluator"]
    )
    for position, question in enumerate(QUESTIONS, start=1):
        SurveyQuestionFactory(survey=survey, position=position, **question)
    return survey


# --- Defining surveys -----------------------------------------------------------------------


def survey_payload(territory, **changes):
    return {
        "territory": territory.pk,
        "kind": "beneficiary",
        "title": "Votre avis sur les repas",
        "introduction": "Trois questions, une minute.",
        "questions": QUESTIONS,
        **changes,
    }


def test_an_evaluator_defines_a_survey_with_its_questions(api, people):
    api.force_authenticate(people["evaluator"])
    response = api.post(SURVEYS, survey_payload(people["home"]), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    survey = Survey.objects.get()
    assert len(survey.public_token) == 43
    assert body["public_url"].endswith(f"/questionnaire/{survey.public_token}/")
    assert survey.created_by == people["evaluator"]
    assert [(q.position, q.code, q.kind) for q in survey.questions.order_by("position")] == [
        (1, "satisfaction", "scale"),
        (2, "reviendrait", "yes_no"),
        (3, "venue", "choice"),
    ]
    # Each survey gets its own token.
    api.post(SURVEYS, survey_payload(people["away"]), format="json")
    assert len(set(Survey.objects.values_list("public_token", flat=True))) == 2


def test_only_evaluators_define_surveys_and_a_refusal_writes_nothing(api, people):
    api.force_authenticate(people["coordinator"])
    response = api.post(SURVEYS, survey_payload(people["home"]), format="json")
    assert response.status_code == 403
    assert not Survey.objects.exists()
    assert not SurveyQuestion.objects.exists()


@pytest.mark.parametrize(
    "questions, fragment",
    [
        ([], "au moins une question"),
        ([QUESTIONS[0], QUESTIONS[0]], "déjà pris"),
        ([{"code": "venue", "text": "?", "kind": "choice", "choices": ["seul"]}], "au moins deux"),
        (
            [{"code": "note", "text": "?", "kind": "scale", "choices": ["a", "b"]}],
            "Seules les questions à choix",
        ),
        ([{"code": "pas un code", "text": "?", "kind": "scale"}], "code"),
    ],
)
def test_bad_questions_are_refused(api, people, questions, fragment):
    api.force_authenticate(people["evaluator"])
    response = api.post(SURVEYS, survey_payload(people["home"], questions=questions), format="json")
    assert response.status_code == 400
    assert fragment in json.dumps(response.json(), ensure_ascii=False)
    assert not Survey.objects.exists()


def test_questions_cannot_change_once_answered(api, people, survey):
    api.force_authenticate(people["evaluator"])
    url = f"{SURVEYS}{survey.pk}/"
    assert api.patch(url, {"questions": QUESTIONS[:1]}, format="json").status_code == 200
    assert survey.questions.count() == 1
    SurveyResponseFactory(survey=survey, answers={"satisfaction": 4})
    response = api.patch(url, {"questions": QUESTIONS}, format="json")
    assert response.status_code == 400
    assert "questions" in response.json()
    assert survey.questions.count() == 1
    # Closing it is still possible.
    assert api.patch(url, {"is_open": False}, format="json").status_code == 200


def test_who_sees_surveys(api, people, survey):
    SurveyFactory(territory=people["away"])
    api.force_authenticate(people["volunteer"])
    assert [row["id"] for row in api.get(SURVEYS).json()["results"]] == [survey.pk]
    api.force_authenticate(people["funder"])
    assert api.get(SURVEYS).json()["results"] == []
    assert api.get(f"{SURVEYS}{survey.pk}/").status_code == 404


# --- Paper answers through the API ----------------------------------------------------------


def answer(survey, **changes):
    return {
        "survey": survey.pk,
        "answered_on": "2025-03-14",
        "answers": {"satisfaction": 4, "reviendrait": True, "venue": "à pied"},
        **changes,
    }


@pytest.mark.parametrize("role", ["evaluator", "coordinator"])
def test_paper_answers_are_entered_by_evaluators_and_authority_coordinators(api, people, survey, role):
    api.force_authenticate(people[role])
    response = api.post(RESPONSES, answer(survey), format="json")
    assert response.status_code == 201, response.json()
    assert set(response.json()) == {"id", "territory", "survey", "channel", "answered_on", "answers"}
    saved = SurveyResponse.objects.get()
    assert (saved.channel, saved.territory, saved.answered_on) == (
        "paper",
        people["home"],
        datetime.date(2025, 3, 14),
    )
    assert saved.answers == {"satisfaction": 4, "reviendrait": True, "venue": "à pied"}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"answers": {"inconnue": 3}}, "inconnue"),
        ({"answers": {"satisfaction": 6}}, "satisfaction"),
        ({"answers": {"satisfaction": 0}}, "satisfaction"),
        ({"answers": {"satisfaction": "4"}}, "satisfaction"),
        ({"answers": {"satisfaction": True}}, "satisfaction"),
        ({"answers": {"reviendrait": "peut-être"}}, "reviendrait"),
        ({"answers": {"venue": "en vélo"}}, "venue"),
        ({"answers": {}}, "non_field_errors"),
        ({"answers": ["satisfaction", 4]}, "non_field_errors"),
    ],
)
def test_bad_answers_are_refused_with_field_messages(api, people, survey, changes, field):
    api.force_authenticate(people["evaluator"])
    response = api.post(RESPONSES, answer(survey, **changes), format="json")
    assert response.status_code == 400
    assert field in response.json()["answers"]
    assert not SurveyResponse.objects.exists()


def test_answered_on_is_a_day_without_a_time_and_not_in_the_future(api, people, survey):
    api.force_authenticate(people["evaluator"])
    response = api.post(RESPONSES, answer(survey, answered_on="2025-03-14T10:30:00"), format="json")
    assert response.status_code == 400
    assert "answered_on" in response.json()
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    response = api.post(RESPONSES, answer(survey, answered_on=future), format="json")
    assert response.status_code == 400
    assert "answered_on" in response.json()
    assert not SurveyResponse.objects.exists()


def test_a_closed_survey_takes_no_answer(api, people, survey):
    survey.is_open = False
    survey.save()
    api.force_authenticate(people["evaluator"])
    response = api.post(RESPONSES, answer(survey), format="json")
    assert response.status_code == 400
    assert "survey" in response.json()
    assert not SurveyResponse.objects.exists()


def test_extra_fields_about_the_respondent_are_not_stored(api, people, survey):
    api.force_authenticate(people["evaluator"])
    payload = {**answer(survey), "name": "Jeanne Martin", "email": "jeanne@example.org", "channel": "online"}
    assert api.post(RESPONSES, payload, format="json").status_code == 201
    row = SurveyResponse.objects.values().get()
    assert "Jeanne" not in json.dumps(row, default=str)
    assert row["channel"] == "paper"


@pytest.mark.parametrize("role", ["manager", "volunteer", "funder", "away_coordinator"])
def test_other_roles_cannot_enter_answers(api, people, survey, role):
    api.force_authenticate(people[role])
    response = api.post(RESPONSES, answer(survey), format="json")
    assert response.status_code in (400, 403)
    assert not SurveyResponse.objects.exists()


def test_a_correction_is_checked_again(api, people, survey):
    saved = SurveyResponseFactory(survey=survey, answers={"satisfaction": 2})
    api.force_authenticate(people["coordinator"])
    url = f"{RESPONSES}{saved.pk}/"
    assert api.patch(url, {"answers": {"satisfaction": 9}}, format="json").status_code == 400
    assert api.patch(url, {"answers": {"satisfaction": 3}}, format="json").status_code == 200
    saved.refresh_from_db()
    assert saved.answers == {"satisfaction": 3}
    api.force_authenticate(people["volunteer"])
    assert api.patch(url, {"answers": {"satisfaction": 5}}, format="json").status_code == 403


def test_list_query_counts_do_not_grow(api, people, survey):
    api.force_authenticate(people["evaluator"])
    SurveyResponseFactory(survey=survey, answers={"satisfaction": 3})

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200
        return len(queries.captured_queries)

    count(SURVEYS)
    before = count(SURVEYS), count(RESPONSES)
    for _ in range(4):
        other = SurveyFactory(territory=people["away"])
        SurveyQuestionFactory(survey=other)
        SurveyQuestionFactory(survey=other, code="autre")
        SurveyResponseFactory(survey=other, answers={"satisfaction": 3})
    assert (count(SURVEYS), count(RESPONSES)) == before


# --- The model ------------------------------------------------------------------------------


def test_an_answer_has_no_field_for_personal_data():
    assert {field.name for field in SurveyResponse._meta.get_fields()} == {
        "id",
        "territory",
        "survey",
        "channel",
        "answered_on",
        "answers",
    }
    # The day only: a time of day could tell who answered at a small site.
    assert type(SurveyResponse._meta.get_field("answered_on")) is models.DateField


# --- The public answer page ----------------------------------------------------------------

ADDRESS = "203.0.113.77"
BROWSER = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Navigateur-Temoin/1.0"


def public_url(survey) -> str:
    return reverse("survey-answer", kwargs={"token": survey.public_token})


def test_the_online_page_stores_one_anonymous_answer_and_nothing_about_the_respondent(survey):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)
    page = client.get(public_url(survey))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Satisfaction des repas" in body and "Reviendriez-vous ?" in body and "à pied" in body
    sessions = Session.objects.count()
    token = page.cookies["csrftoken"].value
    response = client.post(
        public_url(survey),
        {"csrfmiddlewaretoken": token, "q_satisfaction": "5", "q_reviendrait": "no", "q_venue": "en voiture"},
    )
    assert response.status_code == 302
    assert "Merci" in client.get(response["Location"]).content.decode()

    saved = SurveyResponse.objects.get()
    row = SurveyResponse.objects.filter(pk=saved.pk).values().get()
    assert set(row) == {"id", "territory_id", "survey_id", "channel", "answered_on", "answers"}
    assert row["channel"] == "online"
    assert row["answered_on"] == datetime.date.today()
    assert row["answers"] == {"satisfaction": 5, "reviendrait": False, "venue": "en voiture"}
    dumped = json.dumps(row, default=str)
    assert ADDRESS not in dumped and "Navigateur-Temoin" not in dumped
    # No session was opened for the respondent (the thanks come from the address).
    assert Session.objects.count() == sessions


def test_a_logged_in_respondent_is_not_linked_to_the_answer(client, people, survey):
    client.force_login(people["volunteer"])
    response = client.post(public_url(survey), {"q_satisfaction": "3"})
    assert response.status_code == 302
    row = SurveyResponse.objects.values().get()
    assert str(people["volunteer"].pk) not in json.dumps(row["answers"])
    assert row["answers"] == {"satisfaction": 3}


def test_the_online_page_needs_its_csrf_token(survey):
    client = Client(enforce_csrf_checks=True)
    assert client.post(public_url(survey), {"q_satisfaction": "5"}).status_code == 403
    assert not SurveyResponse.objects.exists()


def test_an_empty_or_bad_online_answer_writes_nothing(client, survey):
    response = client.post(public_url(survey), {})
    assert response.status_code == 200
    assert "Répondez à au moins une question" in response.content.decode()
    response = client.post(public_url(survey), {"q_satisfaction": "9"})
    assert response.status_code == 200
    assert not SurveyResponse.objects.exists()


def test_a_closed_survey_shows_a_polite_page_and_takes_nothing(client, survey):
    survey.is_open = False
    survey.save()
    page = client.get(public_url(survey))
    assert page.status_code == 200
    assert "Ce questionnaire est clos" in page.content.decode()
    main = page.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
    assert "<form" not in main  # the footer's language switch is the page's only form
    client.post(public_url(survey), {"q_satisfaction": "5"})
    assert not SurveyResponse.objects.exists()


def test_an_unknown_token_is_404(client, survey):
    assert client.get(reverse("survey-answer", kwargs={"token": "x" * 43})).status_code == 404
    assert client.get(reverse("survey-answer", kwargs={"token": str(survey.pk)})).status_code == 404
    unknown = reverse("survey-answer", kwargs={"token": "x" * 43})
    assert client.post(unknown, {"q_satisfaction": "5"}).status_code == 404


# --- Pages for evaluators and coordinators -------------------------------------------------


def test_the_survey_list_shows_the_link_and_the_paper_entry(client, people, survey):
    SurveyFactory(territory=people["away"], title="Questionnaire de la Vallée")
    client.force_login(people["coordinator"])
    body = client.get(reverse("survey-list")).content.decode()
    assert "Satisfaction des repas" in body and "Questionnaire de la Vallée" not in body
    assert survey.public_token in body
    assert reverse("survey-response-create", kwargs={"pk": survey.pk}) in body
    client.force_login(people["manager"])
    assert client.get(reverse("survey-list")).status_code == 403


def test_the_survey_list_query_count_does_not_grow(client, people, survey):
    client.force_login(people["evaluator"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("survey-list")).status_code == 200
        return len(queries.captured_queries)

    before = count()
    for _ in range(4):
        other = SurveyFactory(territory=people["away"])
        SurveyQuestionFactory(survey=other)
        SurveyResponseFactory(survey=other, answers={"satisfaction": 2})
    assert count() == before


def test_the_paper_entry_form(client, people, survey):
    url = reverse("survey-response-create", kwargs={"pk": survey.pk})
    client.force_login(people["coordinator"])
    page = client.get(url).content.decode()
    assert "Reviendriez-vous ?" in page
    response = client.post(url, {"answered_on": "2025-03-14", "q_satisfaction": "2", "q_reviendrait": "yes"})
    assert response.status_code == 302
    saved = SurveyResponse.objects.get()
    assert (saved.channel, saved.answered_on, saved.answers) == (
        "paper",
        datetime.date(2025, 3, 14),
        {"satisfaction": 2, "reviendrait": True},
    )
    # A bad value: the form says so, nothing more is written.
    response = client.post(url, {"answered_on": "2025-03-14", "q_venue": "en vélo"})
    assert response.status_code == 200
    assert SurveyResponse.objects.count() == 1


def test_the_paper_entry_form_is_404_across_territories_and_403_to_other_roles(client, people, survey):
    url = reverse("survey-response-create", kwargs={"pk": survey.pk})
    client.force_login(people["away_coordinator"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"answered_on": "2025-03-14", "q_satisfaction": "2"}).status_code == 404
    client.force_login(people["volunteer"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"answered_on": "2025-03-14", "q_satisfaction": "2"}).status_code == 403
    assert not SurveyResponse.objects.exists()
