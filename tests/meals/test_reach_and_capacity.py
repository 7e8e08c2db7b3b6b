"""Who is reached (counts only, never above the people served) and a kitchen's capacity alert,
each at its boundary."""

import datetime
import io

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.db import models
from django.urls import reverse
from pypdf import PdfReader

from evaluation import reports
from evaluation.models import Report
from kitchens.capacity import capacity_alert, kitchen_capacities
from meals.models import REACH_FIELDS, Distribution
from territories.roles import Role
from tests.factories import member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def payload(scene, pickup, **change):
    return {
        "pickup": pickup.pk,
        "site": scene.site.pk,
        "distributed_on": str(TODAY),
        "meals_distributed": 100,
        "beneficiaries": 90,
        "temperature_c": "2.5",
        **change,
    }


def test_profiles_summing_to_the_people_served_are_accepted(api, scene):
    pickup = scene.pickup(scene.batch())
    api.force_authenticate(scene.volunteer)
    counts = {
        "profile_families": 40, "profile_alone": 30, "profile_students": 10, "profile_elderly": 5,
        "profile_sheltered": 5, "referred_ccas": 50, "referred_siao": 30, "referred_social_worker": 10,
        "turned_away": 12,
    }  # fmt: skip
    response = api.post("/api/v1/distributions/", payload(scene, pickup, **counts))
    assert response.status_code == 201, response.json()
    distribution = Distribution.objects.get()
    assert {name: getattr(distribution, name) for name in REACH_FIELDS} == counts


@pytest.mark.parametrize(
    ("counts", "field", "message"),
    [
        # 40 + 30 + 10 + 5 + 6 = 91 people counted by profile for 90 served: one too many.
        (
            {"profile_families": 40, "profile_alone": 30, "profile_students": 10, "profile_elderly": 5,
             "profile_sheltered": 6},
            "profile_families",
            "Les personnes comptées par profil (91) dépassent les personnes servies (90).",
        ),
        (
            {"referred_siao": 60, "referred_social_worker": 31},
            "referred_siao",
            "Les personnes orientées (91) dépassent les personnes servies (90).",
        ),
    ],
)  # fmt: skip
def test_profiles_or_referrals_above_the_people_served_answer_400_in_french(
    api, scene, counts, field, message
):
    pickup = scene.pickup(scene.batch())
    api.force_authenticate(scene.volunteer)
    response = api.post("/api/v1/distributions/", payload(scene, pickup, **counts))
    assert response.status_code == 400
    assert response.json()[field] == [message]
    assert not Distribution.objects.exists()


def test_the_distribution_form_refuses_too_many_profiles_with_a_french_error(client, scene):
    pickup = scene.pickup(scene.batch())
    client.force_login(scene.volunteer)
    url = reverse("distribution-create", kwargs={"pk": pickup.pk})
    data = {
        "site": scene.site.pk, "distributed_on": str(TODAY), "meals_distributed": 100, "beneficiaries": 90,
        "temperature_c": "2,5", "profile_alone": 91,
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 200
    assert (
        "Les personnes comptées par profil (91) dépassent les personnes servies (90)."
        in response.content.decode()
    )
    assert not Distribution.objects.exists()
    data["profile_alone"] = 90
    response = client.post(url, data)
    assert response.status_code == 302
    assert Distribution.objects.get().profile_alone == 90


# --- No personal data of the people helped -------------------------------------------------

# What would identify a person helped: a name, an address, a birth date, a contact or an identifier.
PERSONAL = (
    "name", "nom", "prenom", "address", "adresse", "birth", "naissance", "phone", "telephone", "email",
    "mail", "nir", "social_security", "identifier", "identifiant", "ssn",
)  # fmt: skip
# The models whose rows describe the people helped, or their answers.
PEOPLE_MODELS = ("meals.Distribution", "evaluation.SurveyResponse", "evaluation.SurveyRefusal")


def test_no_model_field_about_the_people_helped_can_hold_personal_data():
    for label in PEOPLE_MODELS:
        model = apps.get_model(label)
        for field in model._meta.get_fields():
            if field.is_relation:
                # Links to records of the flow and to organisations, or to the user who entered it.
                related = field.related_model._meta.label if field.related_model else ""
                assert related.split(".")[0] in {
                    "meals",
                    "associations",
                    "kitchens",
                    "territories",
                    "evaluation",
                    "auth",
                }
                continue
            assert not any(word in field.name.lower() for word in PERSONAL), (label, field.name)
            # Free text could hold a name: only the reason a meal was set aside, about the meals.
            if isinstance(field, models.TextField):
                assert (label, field.name) == ("meals.Distribution", "discard_reason")
    # Who is reached is counts only.
    for name in REACH_FIELDS:
        assert isinstance(Distribution._meta.get_field(name), models.PositiveIntegerField)


# --- Capacity --------------------------------------------------------------------------------


@pytest.fixture
def kitchen_scene(db):
    # 8,000 meals a day at most; 6,000 usually: a headroom of 2,000.
    scene = Scene(kitchen__daily_capacity=8000, kitchen__usual_daily_production=6000)
    return scene, scene.partnership.kitchen


def test_dedicated_meals_up_to_the_capacity_raise_no_alert(kitchen_scene):
    scene, kitchen = kitchen_scene
    scene.batch(kind="dedicated", meals_count=1500, confirm_unusual=True)
    assert capacity_alert(kitchen=kitchen, day=TODAY, adding=500) is None  # 6,000 + 2,000 = 8,000
    message = capacity_alert(kitchen=kitchen, day=TODAY, adding=501)  # one meal more
    assert message is not None and "(1 de trop)" in message and "n'est plus un coût marginal" in message


def capacity_of(kitchen):
    rows = kitchen_capacities(territory_ids=[kitchen.territory_id], start=TODAY, end=TODAY)
    return [row for row in rows if row.kitchen == kitchen]


def test_the_capacity_table_flags_the_marginal_cost_above_capacity(kitchen_scene):
    scene, kitchen = kitchen_scene
    scene.batch(kind="dedicated", meals_count=2000, confirm_unusual=True)
    (row,) = capacity_of(kitchen)
    assert (row.least_headroom, row.marginal) == (0, True)
    scene.batch(kind="dedicated", meals_count=1, confirm_unusual=True)
    (row,) = capacity_of(kitchen)
    assert (row.least_headroom, row.marginal, row.days_over) == (-1, False, [TODAY])
    assert row.as_dict()["marginal_text"] == "n'est plus marginal : 1 jour(s) au-delà de la capacité"


def test_the_batch_page_warns_when_a_dedicated_batch_exceeds_the_capacity(client, kitchen_scene):
    scene, _kitchen = kitchen_scene
    scene.batch(kind="dedicated", meals_count=2000, confirm_unusual=True)
    client.force_login(scene.kitchen_user)
    data = {
        "partnership": scene.supply.pk, "kind": "dedicated", "production_date": TODAY.isoformat(),
        "service": "lunch", "meals_count": "1", "liaison": "cold", "lot_number": "CAP-1",
        "use_by_date": (TODAY + datetime.timedelta(days=3)).isoformat(), "dispatch_temperature_c": "2,5",
        "components": ["main"], "allergens": ["milk"], "discard_reason": "", "confirm_unusual": "on",
    }  # fmt: skip
    response = client.post(reverse("batch-create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    warnings = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("Capacité dépassée" in text for text in warnings)


def test_reach_counts_are_lower_bounds_where_a_distribution_did_not_record_them(api, scene):
    from evaluation.reach import reach_figures

    pickup = scene.pickup(scene.batch())
    api.force_authenticate(scene.volunteer)
    first = payload(scene, pickup, profile_families=40, referred_ccas=30, turned_away=10)
    assert api.post("/api/v1/distributions/", first).status_code == 201
    second = payload(scene, pickup, meals_distributed=50, beneficiaries=60)  # records none of them
    assert api.post("/api/v1/distributions/", second).status_code == 201
    result = reach_figures(territory_ids=[scene.territory.pk], start=TODAY, end=TODAY)
    rows = {row["code"]: row for row in result["rows"]}
    assert result["people_served"] == 150
    families = rows["profile_families"]
    # 40 of the 90 people served where it was counted: 44.4 %, a minimum over the period.
    assert (families["count"], families["share_of_served"], families["complete"]) == (40, "44.4", False)
    # 10 turned away beside the 90 served where it was counted: 10 ÷ 100.
    assert rows["turned_away"]["share_of_served"] == "10.0"
    # The DRIHL report prints them, as lower bounds.
    evaluator = member(Role.EVALUATOR)
    report = Report.objects.create(
        kind="drihl", territory=scene.territory, period_start=TODAY, period_end=TODAY, requested_by=evaluator
    )
    report = reports.report_build(report_id=report.pk)
    assert report.status == "done", report.message
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(reports.report_pdf_file(report).read())).pages
    )
    text = " ".join(text.replace("\u00a0", " ").split())
    assert "Profil Personnes en famille avec enfants ≥ 40 44,4 % (incomplet) 1" in text
    # Counted at no distribution: unknown, not zero.
    assert rows["profile_students"]["count"] is None and not rows["profile_students"]["complete"]


def test_no_export_of_the_people_helped_can_hold_personal_data(scene):
    """The API's distributions and the report tables about the people helped hold counts only."""
    from evaluation.reach import reach_figures, reach_table
    from meals.api import DistributionSerializer

    for name in DistributionSerializer.Meta.fields:
        assert not any(word in name for word in PERSONAL), name
    exported = reach_table(reach_figures(territory_ids=[scene.territory.pk], start=TODAY, end=TODAY))
    assert [column["key"] for column in exported["columns"]] == [
        "group", "label", "count", "share_of_served", "distributions_recorded",
    ]  # fmt: skip
    # Each row is one count of the whole period: a label of the count, never of a person.
    assert {row["label"] for row in exported["rows"]} == {
        "Personnes en famille avec enfants", "Personnes seules", "Étudiants", "Personnes âgées",
        "Personnes hébergées à l'hôtel ou en hébergement d'urgence", "Orientées par un CCAS",
        "Orientées par le SIAO", "Orientées par un travailleur social",
        "Personnes non servies faute de repas",
    }  # fmt: skip
