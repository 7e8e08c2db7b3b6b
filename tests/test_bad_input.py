"""Every bad input the platform was found to mishandle answers 400 (API) or a form error
(browser), with nothing written, on SQLite as on PostgreSQL (``territories.bounds``).

Each bound is tested at its limit (accepted) and one step past it (refused)."""

import datetime
import html

import pytest
from django.apps import apps
from django.urls import reverse

from associations.models import Association, Partnership
from costing.models import Funding, KitchenCostInput, MonthlyCost
from evaluation.models import Report
from kitchens.models import Kitchen
from meals.models import Batch, Distribution, Pickup
from territories import bounds
from territories.roles import Role
from tests.factories import FundingFactory, KitchenFactory, member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
DAY = datetime.timedelta(days=1)
FIRST_DAY = bounds.years_from(TODAY, -10)  # the oldest date any field holds
BIG = 2**31  # one past PostgreSQL's integer column


def rows() -> dict[str, int]:
    """How many rows each model of the project holds."""
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"territories", "kitchens", "associations", "meals", "costing", "evaluation"}
    }


def refused(response, field):
    assert response.status_code == 400, (response.status_code, response.content[:500])
    body = response.json()
    assert field in body, body
    return " ".join(body[field])


# --- The meal flow, through the API ------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"meals_count": BIG}, "meals_count", ""),
        ({"meals_count": 10**12}, "meals_count", ""),
        ({"production_date": "0001-01-01"}, "production_date", "trop ancienne"),
        ({"production_date": str(FIRST_DAY - DAY)}, "production_date", "trop ancienne"),
        ({"use_by_date": "9999-12-31"}, "use_by_date", "trop lointaine"),
        ({"use_by_date": str(bounds.years_from(TODAY, 1) + DAY)}, "use_by_date", "trop lointaine"),
        ({"lot_number": "L-\u202e1-\u202c"}, "lot_number", "inversion du sens"),
        ({"lot_number": "L-\x071"}, "lot_number", "caractère de contrôle"),
    ],
)
def test_batch_out_of_bounds_answers_400_and_writes_nothing(api, scene, change, field, message):
    api.force_authenticate(scene.kitchen_user)
    before = rows()
    detail = refused(api.post("/api/v1/batches/", scene.batch_payload(**change)), field)
    assert message in detail
    assert rows() == before


def test_batch_bounds_accept_their_limits(api):
    # The food-safety rules of a batch (meals.food_safety) are narrower than the date window:
    # its use-by date is at most the kitchen's shelf life after production, and a batch of the
    # window's first day is a record of the past, declared that day (as the import records it).
    scene = Scene(starts_on=FIRST_DAY)
    api.force_authenticate(scene.kitchen_user)
    last_use_by = TODAY + 3 * DAY
    response = api.post("/api/v1/batches/", scene.batch_payload(use_by_date=str(last_use_by)))
    assert response.status_code == 201, response.json()
    first = scene.batch(production_date=FIRST_DAY, use_by_date=FIRST_DAY + DAY, declared_on=FIRST_DAY)
    assert (first.production_date, first.status) == (FIRST_DAY, "ready")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"picked_up_at": "0001-01-01T00:00:00"}, "picked_up_at"),
        ({"picked_up_at": "9999-12-31T23:59:00"}, "picked_up_at"),
        ({"meals_received": BIG}, "meals_received"),
        ({"duration_minutes": BIG}, "duration_minutes"),
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"discard_reason": "x" * 5001}, "discard_reason"),
    ],
)
def test_pickup_out_of_bounds_answers_400_and_writes_nothing(api, scene, change, field):
    batch = scene.batch()
    api.force_authenticate(scene.volunteer)
    payload = {
        "meals_received": 150,
        "temperature_c": "3.0",
        "transport_mode": "association_vehicle",
        **change,
    }
    before = rows()
    refused(api.post(f"/api/v1/batches/{batch.pk}/pickup/", payload, format="json"), field)
    assert rows() == before
    batch.refresh_from_db()
    assert batch.status == Batch.Status.READY


def test_pickup_of_a_whole_day_is_accepted(api, scene):
    batch = scene.batch()
    api.force_authenticate(scene.volunteer)
    payload = {"meals_received": 150, "temperature_c": "3.0", "transport_mode": "association_vehicle"}
    response = api.post(f"/api/v1/batches/{batch.pk}/pickup/", {**payload, "duration_minutes": 24 * 60})
    assert response.status_code == 201, response.json()


def distribution_payload(scene, pickup, **change):
    return {
        "pickup": pickup.pk,
        "site": scene.site.pk,
        "distributed_on": str(TODAY),
        "meals_distributed": 100,
        "beneficiaries": 90,
        "temperature_c": "2.5",
        **change,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"meals_distributed": BIG}, "meals_distributed"),
        ({"beneficiaries": BIG}, "beneficiaries"),
        ({"beneficiaries": 10_001}, "beneficiaries"),
        ({"children": BIG}, "children"),
        ({"distributed_on": "0001-01-01"}, "distributed_on"),
        ({"distributed_on": "9999-12-31"}, "distributed_on"),
    ],
)
def test_distribution_out_of_bounds_answers_400_and_writes_nothing(api, scene, change, field):
    pickup = scene.pickup(scene.batch())
    api.force_authenticate(scene.volunteer)
    before = rows()
    refused(api.post("/api/v1/distributions/", distribution_payload(scene, pickup, **change)), field)
    assert rows() == before


def test_distribution_serves_up_to_the_most_people_a_site_serves(api, scene):
    pickup = scene.pickup(scene.batch())
    api.force_authenticate(scene.volunteer)
    limit = 10_000  # the most people one distribution serves
    response = api.post("/api/v1/distributions/", distribution_payload(scene, pickup, beneficiaries=limit))
    assert response.status_code == 201, response.json()
    assert Distribution.objects.get().beneficiaries == limit


# --- Records of the territory, through the API -------------------------------------------


def test_partnership_starting_in_9999_or_too_long_ago_is_refused(api, scene):
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    payload = {
        "kitchen": scene.partnership.kitchen_id,
        "association": scene.partnership.association_id,
        "mode": "surplus",
        "planned_meals_per_week": 100,
        "status": "draft",
    }
    before = rows()
    refused(api.post("/api/v1/partnerships/", {**payload, "starts_on": "9999-01-01"}), "starts_on")
    refused(api.post("/api/v1/partnerships/", {**payload, "starts_on": str(FIRST_DAY - DAY)}), "starts_on")
    last_end = bounds.years_from(TODAY, 5)
    detail = refused(
        api.post(
            "/api/v1/partnerships/", {**payload, "starts_on": str(TODAY), "ends_on": str(last_end + DAY)}
        ),
        "ends_on",
    )
    assert "trop lointaine" in detail
    assert rows() == before
    response = api.post(
        "/api/v1/partnerships/", {**payload, "starts_on": str(FIRST_DAY), "ends_on": str(last_end)}
    )
    assert response.status_code == 201, response.json()
    assert Partnership.objects.count() == before["associations.Partnership"] + 1


def test_funding_from_year_1_to_9999_is_refused(api):
    funding = FundingFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, funding.territory))
    payload = {"territory": funding.territory_id, "funder": "drihl", "amount": "1000.00"}
    before = rows()
    response = api.post(
        "/api/v1/fundings/", {**payload, "period_start": "0001-01-01", "period_end": "9999-12-31"}
    )
    assert response.status_code == 400, response.json()
    assert {"period_start", "period_end"} <= set(response.json())
    assert rows() == before
    assert Funding.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "Cuisine \u202egnp.exe"}, "name", "inversion du sens"),
        ({"name": "Cuisine \u2066isolée\u2069"}, "name", "inversion du sens"),
        ({"name": "Cuisine\x00"}, "name", ""),
        ({"address": "x" * 100_000}, "address", "5000 caractères au plus"),
        ({"address": "x" * 5001}, "address", "5000 caractères au plus"),
        ({"usual_daily_production": BIG}, "usual_daily_production", ""),
        ({"usual_daily_production": 10**12}, "usual_daily_production", ""),
    ],
)
def test_kitchen_text_and_counts_out_of_bounds_are_refused(api, change, field, message):
    kitchen = KitchenFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, kitchen.territory))
    response = api.patch(f"/api/v1/kitchens/{kitchen.pk}/", change)
    assert message in refused(response, field)
    assert Kitchen.objects.get(pk=kitchen.pk).name == kitchen.name
    assert Kitchen.objects.get(pk=kitchen.pk).address == kitchen.address


def test_kitchen_text_at_its_limit_and_line_breaks_are_accepted(api):
    kitchen = KitchenFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, kitchen.territory))
    address = "1 rue de la Cuisine\r\n\t93200 Saint-Denis".ljust(5000, "x")
    response = api.patch(f"/api/v1/kitchens/{kitchen.pk}/", {"address": address}, format="json")
    assert response.status_code == 200, response.json()
    assert Kitchen.objects.get(pk=kitchen.pk).address == address


def test_association_name_with_a_right_to_left_override_is_refused(api, scene):
    association = scene.partnership.association
    api.force_authenticate(member(Role.ASSOCIATION_COORDINATOR, scene.territory, association=association))
    detail = refused(
        api.patch(f"/api/v1/associations/{association.pk}/", {"name": "Resto \u202eeurtnoc"}), "name"
    )
    assert "inversion du sens" in detail
    assert Association.objects.get(pk=association.pk).name == association.name


# --- Cost inputs and periods ---------------------------------------------------------------


def test_cost_input_for_month_9999_12_is_refused_and_leaves_no_row(api):
    kitchen = KitchenFactory()
    api.force_authenticate(member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen))
    payload = {"territory": kitchen.territory_id, "kitchen": kitchen.pk, "food_cost_per_meal": "1.80"}
    for month in ("9999-12-01", "0001-01-01", str(bounds.years_from(TODAY, 1).replace(day=1) + 31 * DAY)):
        refused(api.post("/api/v1/cost-inputs/", {**payload, "month": month}), "month")
    assert not KitchenCostInput.objects.exists()
    assert not MonthlyCost.objects.exists()
    response = api.post("/api/v1/cost-inputs/", {**payload, "month": str(TODAY.replace(day=1))})
    assert response.status_code == 201, response.json()


def test_cost_input_page_refuses_month_9999_12_and_saves_nothing(client):
    kitchen = KitchenFactory()
    client.force_login(member(Role.KITCHEN_MANAGER, kitchen.territory, kitchen=kitchen))
    url = reverse("kitchen-cost-input", kwargs={"pk": kitchen.pk})
    response = client.post(url, {"month": "9999-12", "food_cost_per_meal": "1,80"})
    assert response.status_code in (200, 400)
    assert "Date trop lointaine" in html.unescape(response.content.decode())
    assert not KitchenCostInput.objects.exists()
    assert not MonthlyCost.objects.exists()


PERIOD_CASES = [
    ("9999-01-01", "9999-12-31", "start"),
    ("0001-01-01", "0001-12-31", "start"),
    (str(TODAY.replace(day=1) - 700 * DAY), str(TODAY), "end"),  # 24 months and more
]


@pytest.mark.parametrize(("start", "end", "field"), PERIOD_CASES)
def test_periods_out_of_bounds_answer_400_on_costs_indicators_and_reports(api, scene, start, end, field):
    api.force_authenticate(member(Role.EVALUATOR))
    query = {"territory": scene.territory.pk, "start": start, "end": end}
    refused(api.get("/api/v1/costs/", query), field)
    refused(api.get("/api/v1/indicators/", query), field)
    before = Report.objects.count()
    report = {"kind": "drihl", "territory": scene.territory.pk, "period_start": start, "period_end": end}
    refused(api.post("/api/v1/reports/", report, format="json"), f"period_{field}")
    assert Report.objects.count() == before


def test_a_period_of_24_months_is_accepted_and_25_refused(api, scene):
    api.force_authenticate(member(Role.EVALUATOR))
    start = TODAY.replace(day=1) - 365 * DAY
    start = start.replace(day=1)
    end_24 = bounds.years_from(start, 2) - DAY
    query = {"territory": scene.territory.pk, "start": str(start), "end": str(end_24)}
    assert api.get("/api/v1/indicators/", query).status_code == 200
    detail = refused(api.get("/api/v1/indicators/", {**query, "end": str(end_24 + DAY)}), "end")
    assert "limitée à 24 mois" in detail


@pytest.mark.parametrize(("start", "end", "field"), PERIOD_CASES)
def test_periods_out_of_bounds_are_form_errors_on_the_pages(client, scene, start, end, field):
    client.force_login(member(Role.EVALUATOR))
    pages = [
        reverse("territory-dashboard", kwargs={"pk": scene.territory.pk}),
        reverse("territory-comparison"),
    ]
    for url in pages:
        response = client.get(url, {"start": start, "end": end})
        assert response.status_code in (200, 400), (url, response.status_code)
        body = html.unescape(response.content.decode())
        assert "Date trop" in body or "limitée à 24 mois" in body, url
    months = {"start": start[:7], "end": end[:7]}
    response = client.get(reverse("territory-costs", kwargs={"pk": scene.territory.pk}), months)
    assert response.status_code in (200, 400)
    body = html.unescape(response.content.decode())
    assert "Date trop" in body or "limitée à 24 mois" in body


@pytest.mark.parametrize("week", ["0001-W01", "9999-W52", "2024-W54"])
@pytest.mark.parametrize("route", ["batch-week", "flow-week"])
def test_week_pages_out_of_range_answer_400_with_the_reason(client, scene, week, route):
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    response = client.get(reverse(route), {"semaine": week})
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert "Semaine hors de la période couverte" in body or "inconnue" in body


def test_week_pages_show_the_oldest_week_held(client, scene):
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    year, number, _ = (FIRST_DAY + 7 * DAY).isocalendar()
    response = client.get(reverse("flow-week"), {"semaine": f"{year}-W{number:02d}"})
    assert response.status_code == 200


# --- The browser forms of the meal flow ------------------------------------------------------


def test_batch_form_with_2_to_the_31_meals_is_a_form_error(client, scene):
    from tests.meals.test_pages import batch_form

    client.force_login(scene.kitchen_user)
    before = rows()
    response = client.post(reverse("batch-create"), batch_form(scene, meals_count=str(BIG)))
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert rows() == before


def test_distribution_form_with_2_to_the_31_people_is_a_form_error(client, scene):
    from tests.meals.test_pages import distribution_form

    pickup = scene.pickup(scene.batch())
    client.force_login(scene.volunteer)
    before = rows()
    url = reverse("distribution-create", kwargs={"pk": pickup.pk})
    response = client.post(url, distribution_form(scene, beneficiaries=str(BIG)))
    assert response.status_code == 200
    assert "maximum vraisemblable" in html.unescape(response.content.decode())
    assert rows() == before


def test_pickup_form_with_2_to_the_31_minutes_is_a_form_error(client, scene):
    from tests.meals.test_pages import pickup_form

    batch = scene.batch()
    client.force_login(scene.volunteer)
    before = rows()
    response = client.post(
        reverse("batch-pickup", kwargs={"pk": batch.pk}), pickup_form(duration_minutes=str(BIG))
    )
    assert response.status_code == 200
    assert "maximum vraisemblable" in html.unescape(response.content.decode())
    assert rows() == before
    assert not Pickup.objects.exists()


# --- JSON nesting ------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/batches/"])
def test_json_nested_5000_deep_answers_400_even_anonymously(client, path):
    response = client.post(path, nested(5000), content_type="application/json")
    assert response.status_code == 400 if path.endswith("token/") else response.status_code in (400, 401, 403)
    if path.endswith("token/"):
        assert "trop imbriquées" in response.json()["detail"]


def test_json_nesting_is_bounded_at_32_levels(client):
    from config.parsers import MAX_DEPTH

    assert MAX_DEPTH == 32
    at_limit = client.post("/api/v1/auth/token/", nested(32), content_type="application/json")
    assert at_limit.status_code == 400 and "trop imbriquées" not in str(at_limit.json())
    past = client.post("/api/v1/auth/token/", nested(33), content_type="application/json")
    assert past.status_code == 400 and "trop imbriquées" in past.json()["detail"]
    # Brackets inside strings are text, not nesting.
    text = b'{"username": "' + b"[" * 5000 + b'", "password": "x"}'
    response = client.post("/api/v1/auth/token/", text, content_type="application/json")
    assert response.status_code == 400 and "trop imbriquées" not in str(response.json())


def test_json_nested_deep_in_an_authenticated_write_writes_nothing(api, scene):
    api.force_authenticate(scene.kitchen_user)
    before = rows()
    response = api.generic(
        "POST", "/api/v1/batches/", b'{"components": ' + nested(100) + b"}", content_type="application/json"
    )
    assert response.status_code == 400
    assert "trop imbriquées" in response.json()["detail"]
    assert rows() == before


def test_token_request_with_a_username_longer_than_the_users_column_answers_400(client):
    response = client.post(
        "/api/v1/auth/token/", {"username": "u" * 151, "password": "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "150" in " ".join(response.json()["username"])
    at_limit = client.post(
        "/api/v1/auth/token/", {"username": "u" * 150, "password": "x"}, content_type="application/json"
    )
    assert at_limit.status_code == 400 and "username" not in at_limit.json()
