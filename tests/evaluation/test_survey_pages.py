"""Defining surveys in the browser (evaluators): create, edit, open and close a survey and its
questions, and copy its public link. Everything else (the rules of questions) is the service's."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from evaluation.models import Survey, SurveyQuestion
from territories.roles import Role
from tests.factories import (
    SurveyFactory,
    SurveyQuestionFactory,
    SurveyResponseFactory,
    TerritoryFactory,
    member,
)

pytestmark = pytest.mark.django_db


def question_data(*questions, initial=0):
    """The formset's fields for ``questions`` (text, code, kind, choices), plus blank rows."""
    rows = [*questions, ("", "", "", ""), ("", "", "", "")]
    data = {"questions-TOTAL_FORMS": str(len(rows)), "questions-INITIAL_FORMS": str(initial)}
    for index, (text, code, kind, choices) in enumerate(rows):
        data |= {
            f"questions-{index}-text": text,
            f"questions-{index}-code": code,
            f"questions-{index}-kind": kind,
            f"questions-{index}-choices": choices,
        }
    return data


@pytest.fixture
def evaluator(client):
    user = member(Role.EVALUATOR)
    client.force_login(user)
    return user


@pytest.fixture
def territory():
    return TerritoryFactory(name="Plaine Commune")


def survey_fields(territory, **changes):
    return {
        "territory": str(territory.pk), "kind": "beneficiary", "title": "Satisfaction de l'hiver",
        "introduction": "Trois questions, deux minutes.", "is_open": "on", **changes,
    }  # fmt: skip


def questions_of(survey):
    return [
        (question.position, question.code, question.text, question.kind, question.choices)
        for question in survey.questions.order_by("position")
    ]


def test_an_evaluator_creates_a_survey_with_its_questions_and_gets_its_link(client, evaluator, territory):
    data = survey_fields(territory) | question_data(
        ("Êtes-vous satisfait des repas ?", "satisfaction", "scale", ""),
        ("Le lieu est-il facile d'accès ?", "acces", "yes_no", ""),
        ("Comment avez-vous connu la distribution ?", "connu", "choice", "Bouche à oreille\n CCAS \n\n"),
    )
    response = client.post(reverse("survey-create"), data)

    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('survey-list')}?territory={territory.pk}"
    assert (survey.territory, survey.kind, survey.title, survey.is_open, survey.created_by) == (
        territory, "beneficiary", "Satisfaction de l'hiver", True, evaluator,
    )  # fmt: skip
    assert questions_of(survey) == [
        (1, "satisfaction", "Êtes-vous satisfait des repas ?", "scale", []),
        (2, "acces", "Le lieu est-il facile d'accès ?", "yes_no", []),
        (3, "connu", "Comment avez-vous connu la distribution ?", "choice", ["Bouche à oreille", "CCAS"]),
    ]
    page = client.get(response["Location"]).content.decode()
    link = f"http://testserver/questionnaire/{survey.public_token}/"
    assert f'<input type="url" id="lien-{survey.pk}" value="{link}" readonly' in page
    # The copy button waits for the script (hidden without it); the input alone works without.
    assert f'data-copy="lien-{survey.pk}"' in page and "hidden>Copier le lien" in page
    assert "Questionnaire enregistré : Satisfaction de l&#x27;hiver." in page
    assert client.get(link).status_code == 200


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        (
            [("Satisfait ?", "note", "scale", ""), ("Accueil ?", "note", "scale", "")],
            "Question 2 : le code « note » est déjà pris.",
        ),
        (
            [("Connu comment ?", "connu", "choice", "CCAS")],
            "Question 1, choices : Une question à choix propose au moins deux réponses.",
        ),
        ([], "Un questionnaire a au moins une question."),
    ],
)
def test_bad_questions_save_nothing_and_say_why_in_french(client, evaluator, territory, questions, message):
    response = client.post(reverse("survey-create"), survey_fields(territory) | question_data(*questions))
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert "Rien n'a été enregistré" in unescape(response.content.decode())
    assert Survey.objects.count() == 0
    assert SurveyQuestion.objects.count() == 0


def test_a_bad_field_is_flagged_on_its_question(client, evaluator, territory):
    data = survey_fields(territory, title="") | question_data(("Satisfait ?", "pas un code", "scale", ""))
    response = client.post(reverse("survey-create"), data)
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert '<a href="#id_title_error">Titre</a>' in html
    assert '<a href="#id_questions-0-code_error">Question 1 : Code</a>' in html
    assert Survey.objects.count() == 0


def test_an_evaluator_edits_the_questions_of_an_unanswered_survey(client, evaluator, territory):
    survey = SurveyFactory(territory=territory, title="Avant")
    SurveyQuestionFactory(survey=survey, position=1, code="satisfaction")
    SurveyQuestionFactory(survey=survey, position=2, code="accueil", text="Bien accueilli ?")
    url = reverse("survey-edit", kwargs={"pk": survey.pk})
    form = client.get(url).content.decode()
    assert 'value="accueil"' in form and 'name="questions-3-text"' in form  # two rows + two blank

    data = survey_fields(territory, title="Après") | question_data(
        ("Êtes-vous satisfait des repas ?", "satisfaction", "scale", ""),
        ("Bien accueilli ?", "accueil", "scale", ""),
        ("Reviendrez-vous ?", "retour", "yes_no", ""),
        initial=2,
    )
    data["questions-0-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    survey.refresh_from_db()
    assert survey.title == "Après"
    assert questions_of(survey) == [
        (1, "accueil", "Bien accueilli ?", "scale", []),
        (2, "retour", "Reviendrez-vous ?", "yes_no", []),
    ]


def test_an_answered_survey_keeps_its_questions(client, evaluator, territory):
    survey = SurveyFactory(territory=territory, title="Avant")
    SurveyQuestionFactory(survey=survey, position=1)
    SurveyResponseFactory(survey=survey, answers={"satisfaction": 4})
    url = reverse("survey-edit", kwargs={"pk": survey.pk})
    page = client.get(url).content.decode()
    assert "ses questions ne peuvent plus changer" in page
    assert "questions-TOTAL_FORMS" not in page
    assert client.post(url, survey_fields(territory, title="Après")).status_code == 302
    survey.refresh_from_db()
    assert survey.title == "Après"
    assert questions_of(survey) == [(1, "satisfaction", "Êtes-vous satisfait des repas ?", "scale", [])]
    # Nor may it move to another territory: a French error, nothing changed.
    elsewhere = TerritoryFactory(name="Grand Orly")
    response = client.post(url, survey_fields(elsewhere, title="Ailleurs"))
    assert response.status_code == 400
    assert "il reste dans son territoire" in response.content.decode()
    survey.refresh_from_db()
    assert (survey.territory, survey.title) == (territory, "Après")


def test_an_evaluator_closes_and_opens_the_link_again(client, evaluator, territory):
    survey = SurveyFactory(territory=territory)
    SurveyQuestionFactory(survey=survey)
    answer_url = reverse("survey-answer", kwargs={"token": survey.public_token})
    list_page = client.get(reverse("survey-list")).content.decode()
    assert reverse("survey-close", kwargs={"pk": survey.pk}) in list_page

    client.post(reverse("survey-close", kwargs={"pk": survey.pk}))
    survey.refresh_from_db()
    assert survey.is_open is False
    list_page = client.get(reverse("survey-list")).content.decode()
    assert reverse("survey-open", kwargs={"pk": survey.pk}) in list_page
    assert f'id="lien-{survey.pk}"' not in list_page  # a closed link is not offered
    closed = client.get(answer_url).content.decode()
    assert "Ce questionnaire est clos." in closed and 'name="q_satisfaction"' not in closed

    response = client.post(reverse("survey-open", kwargs={"pk": survey.pk}), follow=True)
    survey.refresh_from_db()
    assert survey.is_open is True
    assert "il reçoit de nouveau des réponses" in response.content.decode()
    assert 'name="q_satisfaction"' in client.get(answer_url).content.decode()


def test_authority_coordinators_use_surveys_but_do_not_define_them(client, territory):
    survey = SurveyFactory(territory=territory)
    SurveyQuestionFactory(survey=survey)
    coordinator = member(Role.AUTHORITY_COORDINATOR, territory)
    client.force_login(coordinator)
    page = client.get(reverse("survey-list")).content.decode()
    assert "Nouveau questionnaire" not in page
    assert reverse("survey-edit", kwargs={"pk": survey.pk}) not in page
    assert "readonly" in page  # the link to hand out, still
    assert client.get(reverse("survey-create")).status_code == 403
    assert client.get(reverse("survey-edit", kwargs={"pk": survey.pk})).status_code == 403
    other = SurveyFactory(territory=TerritoryFactory(name="Grand Orly"))
    assert client.get(reverse("survey-edit", kwargs={"pk": other.pk})).status_code == 404
