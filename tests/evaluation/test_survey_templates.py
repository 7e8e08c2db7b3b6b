"""Survey templates ready to use: kitchen staff and beneficiaries, created in one request, their
answers among the indicators and printed in the Carasso report's table of voices."""

import datetime

import pytest

from evaluation import services
from evaluation.figures import indicator_rows
from evaluation.indicators import compute_indicators
from evaluation.models import Survey
from evaluation.programme import voices_table
from territories.roles import Role
from tests.factories import TerritoryFactory, member

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.mark.parametrize(
    ("template", "codes"),
    [
        ("kitchen_staff", ["meaning", "workload", "pride", "continue"]),
        ("beneficiary", ["satisfaction", "quantity", "taste", "dignity"]),
    ],
)
def test_an_evaluator_creates_a_survey_from_a_template(api, template, codes):
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.EVALUATOR))
    response = api.post("/api/v1/surveys/", {"territory": territory.pk, "template": template}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == template
    assert [question["code"] for question in body["questions"]] == codes
    assert all(question["kind"] in ("scale", "yes_no") for question in body["questions"])


def test_a_template_and_questions_together_are_refused_in_french(api):
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.EVALUATOR))
    payload = {
        "territory": territory.pk, "template": "beneficiary",
        "questions": [{"code": "x", "text": "Question ?", "kind": "scale"}],
    }  # fmt: skip
    response = api.post("/api/v1/surveys/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["template"] == ["Donnez un modèle ou des questions, pas les deux."]
    assert not Survey.objects.exists()


def test_kitchen_staff_answers_reach_the_table_of_voices(api):
    territory = TerritoryFactory()
    evaluator = member(Role.EVALUATOR)
    api.force_authenticate(evaluator)
    survey_id = api.post(
        "/api/v1/surveys/", {"territory": territory.pk, "template": "kitchen_staff"}, format="json"
    ).json()["id"]
    survey = Survey.objects.get(pk=survey_id)
    for pride in (4, 5):
        services.survey_response_record(
            survey=survey, channel="paper", answered_on=TODAY, by=evaluator,
            answers={"meaning": 5, "workload": 3, "pride": pride, "continue": True},
        )  # fmt: skip
    rows = indicator_rows(compute_indicators(territory_ids=[territory.pk], start=TODAY, end=TODAY))
    table = voices_table(rows)
    values = {row["label"]: row["value"] for row in table["rows"]}
    pride = next(label for label in values if "fier" in label)
    assert pride.startswith("Personnel des cuisines")
    assert values[pride] == "4.50"  # (4 + 5) ÷ 2
