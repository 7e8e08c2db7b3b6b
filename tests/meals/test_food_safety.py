"""The food-safety and plausibility rules of ``meals.food_safety``, each through the API, the
browser form and the CSV import: the same French message, nothing written on refusal, and
every limit at its boundary (the limit is accepted, one step past it is refused)."""

import datetime
import html
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from meals import food_safety, services
from meals.imports import import_records
from meals.models import Batch, Distribution, Pickup
from territories.roles import Role
from tests.factories import DistributionSiteFactory, KitchenFactory, PartnershipFactory, member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
PARIS = ZoneInfo("Europe/Paris")


def today():
    return timezone.localdate()


def counts():
    return Batch.objects.count(), Pickup.objects.count(), Distribution.objects.count()


def written():
    """Every row the flow writes, history included: nothing of it may move on a refusal."""
    return (*counts(), Batch.history.count(), Pickup.history.count(), Distribution.history.count())


@pytest.fixture
def importer(scene):
    return member(Role.AUTHORITY_COORDINATOR, scene.territory)


# The three ways in


def api_declare(api, scene, **change):
    api.force_authenticate(scene.kitchen_user)
    return api.post("/api/v1/batches/", scene.batch_payload(**change), format="json")


def form_declare(client, scene, **change):
    client.force_login(scene.kitchen_user)
    data = {
        "partnership": scene.partnership.pk,
        "kind": "surplus",
        "production_date": today().isoformat(),
        "service": "lunch",
        "meals_count": "150",
        "liaison": "cold",
        "lot_number": "L-2411-01",
        "use_by_date": (today() + 3 * DAY).isoformat(),
        "dispatch_temperature_c": "2,5",
        "components": ["main"],
        "allergens": ["milk"],
        "discard_reason": "",
    }
    data.update({name: str(value) for name, value in change.items()})
    return client.post(reverse("batch-create"), data)


def import_rows(scene, importer, *rows):
    """A CSV file of the given rows (dicts of columns), imported into the scene's territory."""
    header = list(dict.fromkeys(name for row in rows for name in row))
    lines = [",".join(header)] + [",".join(str(row.get(name, "")) for name in header) for row in rows]
    file = io.BytesIO("\n".join(lines).encode("utf-8"))
    return import_records(file=file, territory=scene.territory, by=importer)


def batch_row(scene, day=datetime.date(2025, 6, 2), **change):
    return {
        "partnership": scene.partnership.pk,
        "kind": "surplus",
        "production_date": day.isoformat(),
        "meals_count": 100,
        "liaison": "cold",
        "lot_number": f"L-{day:%m%d}",
        "use_by_date": (day + 3 * DAY).isoformat(),
        "dispatch_temperature_c": "2.0",
        "allergens": "milk",
        "picked_up_at": f"{day.isoformat()} 14:00",
        "meals_received": 100,
        "pickup_temperature_c": "2.5",
        "transport_mode": "association_vehicle",
        **change,
    }


def distribution_row(scene, day=datetime.date(2025, 6, 2), **change):
    return batch_row(
        scene,
        day,
        **{
            "site": scene.site.pk,
            "distributed_on": day.isoformat(),
            "meals_distributed": 90,
            "beneficiaries": 80,
            "distribution_temperature_c": "2.0",
            **change,
        },
    )


def form_error(response, field):
    """The form came back (status 200, nothing saved) with its errors for ``field``
    (``__all__``: the errors of the whole form), as the page shows them."""
    assert response.status_code == 200, response.status_code
    errors = response.context["form"].errors
    assert field in errors, dict(errors)
    body = html.unescape(response.content.decode())
    for message in errors[field]:
        assert message in body
    return " ".join(errors[field])


def line_errors(report):
    assert not report.ok
    return {(error.line, error.field): error.message for error in report.errors}


# 1. Dates at declaration


@pytest.mark.parametrize(("use_by_offset", "accepted"), [(0, True), (-1, False)])
def test_a_use_by_date_before_today_cannot_be_declared_ready(
    api, client, scene, importer, use_by_offset, accepted
):
    produced = today() - 2 * DAY
    dates = {
        "production_date": produced.isoformat(),
        "use_by_date": (today() + use_by_offset * DAY).isoformat(),
    }
    message = "est passée : ce lot ne peut pas être déclaré prêt à collecter"

    response = api_declare(api, scene, **dates)
    if accepted:
        assert response.status_code == 201, response.json()
    else:
        assert response.status_code == 400
        assert message in response.json()["use_by_date"][0]
        assert written() == (0, 0, 0, 0, 0, 0)

    form = form_declare(client, scene, lot_number="FORM-1", **dates)
    if accepted:
        assert form.status_code == 302
    else:
        assert message in form_error(form, "use_by_date")
        assert written() == (0, 0, 0, 0, 0, 0)

    # A line without its pickup leaves the batch ready: the same rule.
    report = import_rows(scene, importer, {
        **batch_row(scene, produced, lot_number="CSV-1", **dates),
        "picked_up_at": "", "meals_received": "", "pickup_temperature_c": "", "transport_mode": "",
    })  # fmt: skip
    if accepted:
        assert report.ok, report.as_text()
        assert Batch.objects.filter(status="ready").count() == 3
    else:
        assert message in line_errors(report)[(2, "use_by_date")]
        assert written() == (0, 0, 0, 0, 0, 0)


def test_a_past_batch_imported_with_its_pickup_keeps_its_past_use_by_date(scene, importer):
    report = import_rows(scene, importer, batch_row(scene))
    assert report.ok, report.as_text()
    assert Batch.objects.get().status == "picked_up"


@pytest.mark.parametrize(
    ("shelf_life", "days", "accepted"), [(3, 3, True), (3, 4, False), (5, 5, True), (5, 6, False)]
)
def test_cold_use_by_is_at_most_the_kitchens_validated_shelf_life(
    api, client, importer, shelf_life, days, accepted
):
    scene = Scene(kitchen__cold_shelf_life_days=shelf_life)
    importer = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    use_by = today() + days * DAY
    message = f"au plus {shelf_life} jours après la production"

    response = api_declare(api, scene, use_by_date=use_by.isoformat())
    form = form_declare(client, scene, lot_number="FORM-1", use_by_date=use_by.isoformat())
    report = import_rows(
        scene, importer, batch_row(scene, use_by_date=(datetime.date(2025, 6, 2) + days * DAY))
    )

    if accepted:
        assert response.status_code == 201, response.json()
        assert form.status_code == 302
        assert report.ok, report.as_text()
        assert Batch.objects.count() == 3
    else:
        assert message in response.json()["use_by_date"][0]
        assert message in form_error(form, "use_by_date")
        assert message in line_errors(report)[(2, "use_by_date")]
        assert written() == (0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize(("days", "accepted"), [(0, True), (1, False)])
def test_hot_liaison_is_eaten_the_day_it_is_made(api, client, days, accepted):
    # A hot donation expires tonight: its association distributes within 4 hours.
    scene = Scene(kitchen__does_hot_liaison=True, distribution_delay_hours=4)
    importer = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    hot = {"liaison": "hot", "dispatch_temperature_c": "65"}
    message = "la date limite de consommation est la date de production"

    response = api_declare(api, scene, use_by_date=(today() + days * DAY).isoformat(), **hot)
    form = form_declare(
        client, scene, lot_number="FORM-1", use_by_date=(today() + days * DAY).isoformat(), **hot
    )
    day = datetime.date(2025, 6, 2)
    report = import_rows(
        scene,
        importer,
        batch_row(scene, use_by_date=(day + days * DAY).isoformat(), pickup_temperature_c="64", **hot),
    )

    if accepted:
        assert response.status_code == 201, response.json()
        assert form.status_code == 302
        assert report.ok, report.as_text()
    else:
        assert message in response.json()["use_by_date"][0]
        assert message in form_error(form, "use_by_date")
        assert message in line_errors(report)[(2, "use_by_date")]
        assert written() == (0, 0, 0, 0, 0, 0)


# At 11:00: after 23:00 the hour left before midnight is shorter than the association's delay.
@time_machine.travel(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=PARIS), tick=False)
def test_a_hot_surplus_batch_is_picked_up_at_63_degrees_on_its_production_day(api):
    # A hot batch expires tonight: only an association distributing within 48 hours takes it.
    scene = Scene(kitchen__does_hot_liaison=True, distribution_delay_hours=1)
    hot = {"liaison": "hot", "dispatch_temperature_c": Decimal("70"), "use_by_date": today()}
    api.force_authenticate(scene.volunteer)
    pickup = {"meals_received": 150, "transport_mode": "association_vehicle"}

    warm = scene.batch(**hot)
    refused = api.post(f"/api/v1/batches/{warm.pk}/pickup/", {**pickup, "temperature_c": "62.9"})
    assert refused.status_code == 400
    assert "63 °C ou plus" in refused.json()["temperature_c"][0]
    assert Pickup.objects.count() == 0

    hot_enough = scene.batch(**hot)
    taken = api.post(f"/api/v1/batches/{hot_enough.pk}/pickup/", {**pickup, "temperature_c": "63.0"})
    assert taken.status_code == 201, taken.json()

    yesterday = scene.past_batch(production_date=today() - DAY, **{**hot, "use_by_date": today() - DAY})
    late = api.post(f"/api/v1/batches/{yesterday.pk}/pickup/", {**pickup, "temperature_c": "70"})
    assert late.status_code == 400
    assert "picked_up_at" in late.json()
    assert Pickup.objects.count() == 1


# 2. The 48-hour rule of donations (Code de l'environnement, art. D541-310)


def paris(day, hour, minute=0):
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def test_the_48_hours_are_real_hours_across_a_change_of_summer_time(scene, importer):
    # Use-by Monday 30 March 2026 ends Tuesday 00:00; 48 real hours before is Saturday 28 at
    # 23:00, Paris time (the night to Sunday 29 has 23 hours). Midnight is one hour short.
    day = datetime.date(2026, 3, 27)
    row = batch_row(scene, day, use_by_date="2026-03-30", picked_up_at="2026-03-28 23:00")
    assert import_rows(scene, importer, row).ok
    late = batch_row(scene, day, use_by_date="2026-03-30", picked_up_at="2026-03-28 23:01", lot_number="L-2")
    assert "il reste 47 h 59" in line_errors(import_rows(scene, importer, late))[(2, "picked_up_at")]


def test_the_end_of_a_use_by_date_is_midnight_after_it_paris_time():
    assert food_safety.end_of_use_by(datetime.date(2026, 3, 28)) == paris(datetime.date(2026, 3, 29), 0)
    # The night of the change to summer time: 23 hours between two midnights.
    end = food_safety.end_of_use_by(datetime.date(2026, 3, 29)).astimezone(datetime.UTC)
    assert end - paris(datetime.date(2026, 3, 29), 0).astimezone(datetime.UTC) == datetime.timedelta(hours=23)


@pytest.mark.parametrize(("minute", "accepted"), [(0, True), (1, False)])
def test_a_donation_is_picked_up_with_48_hours_left_at_least_through_the_api(api, scene, minute, accepted):
    # Use-by tomorrow ends the day after at 00:00: 48 h before is today at 00:00, 47 h 59 at 00:01.
    batch = scene.batch(use_by_date=today() + DAY)
    api.force_authenticate(scene.volunteer)
    response = api.post(
        f"/api/v1/batches/{batch.pk}/pickup/",
        {
            "meals_received": 150,
            "temperature_c": "2.0",
            "transport_mode": "association_vehicle",
            "picked_up_at": paris(today(), 0, minute).isoformat(),
        },
    )
    if accepted:
        assert response.status_code == 201, response.json()
    else:
        assert response.status_code == 400
        message = response.json()["picked_up_at"][0]
        assert "D541-310" in message and "il reste 47 h 59" in message
        assert Pickup.objects.count() == 0
        assert Batch.objects.get().status == "ready"


@pytest.mark.parametrize(("minute", "accepted"), [(0, True), (1, False)])
def test_a_donation_is_picked_up_with_48_hours_left_at_least_in_the_import(scene, importer, minute, accepted):
    day = datetime.date(2025, 6, 2)
    row = batch_row(
        scene, day, use_by_date=(day + 2 * DAY).isoformat(), picked_up_at=f"2025-06-03 00:{minute:02d}"
    )
    report = import_rows(scene, importer, row)
    if accepted:
        assert report.ok, report.as_text()
    else:
        assert "il reste 47 h 59" in line_errors(report)[(2, "picked_up_at")]
        assert written() == (0, 0, 0, 0, 0, 0)


def test_a_donation_expiring_tomorrow_cannot_be_picked_up_in_the_browser(client, scene):
    batch = scene.batch(use_by_date=today() + DAY)  # less than 48 hours left whatever the hour
    client.force_login(scene.volunteer)
    data = {"meals_received": "150", "temperature_c": "2,0", "transport_mode": "association_vehicle"}
    response = client.post(reverse("batch-pickup", kwargs={"pk": batch.pk}), data)
    assert "D541-310" in form_error(response, "__all__")
    assert Pickup.objects.count() == 0


def test_an_association_distributing_within_24_hours_takes_a_donation_expiring_tomorrow(client):
    scene = Scene(distribution_delay_hours=24)
    batch = scene.batch(use_by_date=today() + DAY)  # more than 24 hours left whatever the hour
    client.force_login(scene.volunteer)
    data = {"meals_received": "150", "temperature_c": "2,0", "transport_mode": "association_vehicle"}
    response = client.post(reverse("batch-pickup", kwargs={"pk": batch.pk}), data)
    assert response.status_code == 302
    assert Batch.objects.get().status == "picked_up"


@pytest.mark.parametrize(("minute", "accepted"), [(0, True), (1, False)])
def test_a_shorter_distribution_delay_is_itself_a_limit(api, minute, accepted):
    # Distributing within 24 hours: a donation expiring tonight (ends tomorrow 00:00) is taken
    # at today 00:00 with 24 h left, not at 00:01 (23 h 59 left).
    scene = Scene(distribution_delay_hours=24)
    batch = scene.batch(use_by_date=today())
    api.force_authenticate(scene.volunteer)
    response = api.post(
        f"/api/v1/batches/{batch.pk}/pickup/",
        {
            "meals_received": 150,
            "temperature_c": "2.0",
            "transport_mode": "association_vehicle",
            "picked_up_at": paris(today(), 0, minute).isoformat(),
        },
    )
    if accepted:
        assert response.status_code == 201, response.json()
    else:
        message = response.json()["picked_up_at"][0]
        assert "en 24 h selon sa convention" in message and "il reste 23 h 59" in message
        assert Pickup.objects.count() == 0


def test_dedicated_meals_are_not_a_donation(scene):
    batch = scene.batch(kind="dedicated", use_by_date=today())
    assert scene.pickup(batch).batch.status == "picked_up"


def test_the_partnership_page_shows_the_associations_distribution_delay(client):
    scene = Scene(distribution_delay_hours=6)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    body = html.unescape(
        client.get(reverse("partnership-detail", kwargs={"pk": scene.partnership.pk})).content.decode()
    )
    assert "6 heures —" in body
    assert "tant qu'il reste au moins ce délai avant la fin de sa date limite de consommation" in body


# 3. Plausibility of the meal count


@pytest.mark.parametrize(("meals", "accepted"), [(200, True), (201, False)])
def test_a_batch_is_at_most_the_kitchens_daily_capacity(api, client, meals, accepted):
    # 2,000 planned meals over 5 days: 400 a day, so 201 meals is not unusual, only too many.
    scene = Scene(
        kitchen__daily_capacity=200, kitchen__usual_daily_production=150, planned_meals_per_week=2000
    )
    importer = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    message = "dépasse la capacité journalière de la cuisine (200 repas)"

    response = api_declare(api, scene, meals_count=meals)
    form = form_declare(client, scene, lot_number="FORM-1", meals_count=meals)
    report = import_rows(scene, importer, batch_row(scene, meals_count=meals, meals_received=meals))

    if accepted:
        assert response.status_code == 201, response.json()
        assert form.status_code == 302
        assert report.ok, report.as_text()
    else:
        assert message in response.json()["meals_count"][0]
        assert message in form_error(form, "meals_count")
        assert message in line_errors(report)[(2, "meals_count")]
        assert written() == (0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize(("meals", "unusual"), [(300, False), (301, True)])
def test_more_than_three_times_the_usual_daily_meals_asks_for_a_confirmation(
    api, client, scene, importer, meals, unusual
):
    # 500 planned meals a week over 5 production days: 100 a day, so 300 is usual, 301 is not.
    message = "plus de trois fois le volume quotidien habituel de ce partenariat (100 repas)"

    response = api_declare(api, scene, meals_count=meals)
    form = form_declare(client, scene, lot_number="FORM-1", meals_count=meals)
    report = import_rows(scene, importer, batch_row(scene, meals_count=meals, meals_received=meals))

    if not unusual:
        assert response.status_code == 201 and form.status_code == 302 and report.ok
        assert not Batch.objects.filter(unusual_confirmed=True).exists()
        return
    assert message in response.json()["meals_count"][0]
    assert message in form_error(form, "meals_count")
    assert message in line_errors(report)[(2, "meals_count")]
    assert written() == (0, 0, 0, 0, 0, 0)

    confirmed = api_declare(api, scene, meals_count=meals, confirm_unusual=True)
    assert confirmed.status_code == 201, confirmed.json()
    assert confirmed.json()["unusual_confirmed"] is True
    assert (
        form_declare(client, scene, lot_number="FORM-1", meals_count=meals, confirm_unusual="on").status_code
        == 302
    )
    row = batch_row(scene, meals_count=meals, meals_received=meals, confirm_unusual="oui")
    assert import_rows(scene, importer, row).ok
    assert Batch.objects.filter(unusual_confirmed=True).count() == 3


def test_the_usual_daily_meals_follow_the_partnerships_production_days(api):
    # 400 meals a week over 4 production days: 100 a day, so 300 is usual and 301 is not
    # (over 5 days, 80 a day, 241 would already be unusual).
    scene = Scene(planned_meals_per_week=400, production_days_per_week=4)
    assert api_declare(api, scene, meals_count=300).status_code == 201
    assert api_declare(api, scene, meals_count=301, lot_number="L-2").status_code == 400


def test_an_unusual_batch_is_flagged_in_the_territorys_flow_of_the_week(api, client, scene):
    api_declare(api, scene, meals_count=450, confirm_unusual=True, lot_number="GROS-LOT")
    api_declare(api, scene, meals_count=120, lot_number="LOT-HABITUEL")
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    body = html.unescape(client.get(reverse("flow-week")).content.decode())
    alerts = body.split('id="titre-alertes"', 1)[1].split('id="titre-lots"', 1)[0]
    block = alerts.split("Lots d'un nombre de repas inhabituel", 1)[1]
    assert "GROS-LOT" in block and "450 repas" in block
    assert "LOT-HABITUEL" not in block


# 4. Lot numbers, unique per kitchen


def test_one_kitchen_cannot_use_a_lot_number_twice(api, client, scene, importer):
    scene.batch(lot_number="SDN-20261206-1")
    before = written()
    message = (
        "Le numéro de lot « SDN-20261206-1 » est déjà utilisé par cette cuisine : chaque lot a son numéro."
    )

    response = api_declare(api, scene, lot_number="SDN-20261206-1")
    assert response.status_code == 400
    assert response.json()["lot_number"] == [message]
    assert message in form_error(form_declare(client, scene, lot_number="SDN-20261206-1"), "lot_number")
    report = import_rows(scene, importer, batch_row(scene, lot_number="SDN-20261206-1"))
    assert line_errors(report)[(2, "lot_number")] == message
    assert written() == before


def test_two_kitchens_may_share_a_lot_number_and_a_cancelled_lot_frees_its_number(api, scene):
    scene.batch(lot_number="L-42")
    other = Scene(territory=scene.territory)
    other.batch(lot_number="L-42")
    assert Batch.objects.filter(lot_number="L-42").count() == 2

    mistaken = scene.batch(lot_number="L-43")
    services.batch_cancel(batch=mistaken, by=scene.kitchen_user, reason="Saisi par erreur")
    assert api_declare(api, scene, lot_number="L-43").status_code == 201


def test_a_correction_cannot_take_another_batchs_lot_number(api, scene):
    scene.batch(lot_number="L-1")
    second = scene.batch(lot_number="L-2")
    api.force_authenticate(scene.kitchen_user)
    response = api.patch(f"/api/v1/batches/{second.pk}/", {"lot_number": "L-1"})
    assert response.status_code == 400
    assert "déjà utilisé par cette cuisine" in response.json()["lot_number"][0]
    assert api.patch(f"/api/v1/batches/{second.pk}/", {"meals_count": 140}).status_code == 200


def test_the_form_suggests_the_next_lot_number_in_the_kitchens_pattern(client, scene):
    kitchen = scene.partnership.kitchen
    assert food_safety.next_lot_number(kitchen, today()) == f"{kitchen.pk}-{today():%Y%m%d}-1"
    scene.past_batch(production_date=today() - DAY, lot_number=f"SDN-{today() - DAY:%Y%m%d}-3")
    assert food_safety.next_lot_number(kitchen, today()) == f"SDN-{today():%Y%m%d}-1"
    scene.batch(lot_number=f"SDN-{today():%Y%m%d}-1")
    client.force_login(scene.kitchen_user)
    form = client.get(reverse("batch-create")).context["form"]
    assert form["lot_number"].value() == f"SDN-{today():%Y%m%d}-2"


def test_a_numbered_pattern_keeps_its_zeros_and_skips_taken_numbers():
    scene = Scene()
    kitchen = scene.partnership.kitchen
    scene.batch(lot_number="L-0413")
    scene.batch(lot_number="L-0412")
    assert food_safety.next_lot_number(kitchen, today()) == "L-0414"


# 7. After the pickup: the distribution


def picked_up(scene, *, days_ago=0, **batch):
    produced = today() - days_ago * DAY
    if days_ago:
        made = scene.past_batch(production_date=produced, use_by_date=produced + 3 * DAY, **batch)
    else:
        made = scene.batch(**batch)
    return scene.pickup(made, picked_up_at=paris(produced, 14) if days_ago else timezone.now())


def distribution_payload(scene, pickup, **change):
    return {
        "pickup": pickup.pk,
        "site": scene.site.pk,
        "distributed_on": today().isoformat(),
        "meals_distributed": 150,
        "beneficiaries": 140,
        "temperature_c": "2.0",
        **change,
    }


def distribution_form(scene, **change):
    return {
        "site": scene.site.pk,
        "distributed_on": today().isoformat(),
        "meals_distributed": "150",
        "beneficiaries": "140",
        "meals_discarded": "0",
        "discard_reason": "",
        "temperature_c": "2,0",
        **change,
    }


@pytest.mark.parametrize(("temperature", "accepted"), [("3.0", True), ("3.1", False)])
def test_cold_meals_are_at_3_degrees_or_below_at_the_distribution(
    api, client, scene, importer, temperature, accepted
):
    message = "doit être à +3 °C ou moins à la distribution"
    api.force_authenticate(scene.volunteer)
    client.force_login(scene.volunteer)
    through_api = picked_up(scene)
    through_form = picked_up(scene)

    response = api.post(
        "/api/v1/distributions/",
        distribution_payload(scene, through_api, temperature_c=temperature),
        format="json",
    )
    form = client.post(
        reverse("distribution-create", kwargs={"pk": through_form.pk}),
        distribution_form(scene, temperature_c=temperature.replace(".", ",")),
    )
    report = import_rows(scene, importer, distribution_row(scene, distribution_temperature_c=temperature))

    if accepted:
        assert response.status_code == 201, response.json()
        assert form.status_code == 302
        assert report.ok, report.as_text()
        assert Distribution.objects.count() == 3
        return
    assert message in response.json()["temperature_c"][0]
    assert message in form_error(form, "temperature_c")
    assert message in line_errors(report)[(2, "distribution_temperature_c")]
    assert Distribution.objects.count() == 0
    assert Batch.objects.filter(status="picked_up").count() == 2

    # Out of bounds, the meals can only be recorded as discarded, with the reason.
    no_reason = distribution_payload(
        scene, through_api, temperature_c=temperature, meals_distributed=0, meals_discarded=150
    )
    assert api.post("/api/v1/distributions/", no_reason).status_code == 400
    discarded = api.post("/api/v1/distributions/", {**no_reason, "discard_reason": "Glacière tiède"})
    assert discarded.status_code == 201, discarded.json()
    assert Batch.objects.get(pk=through_api.batch_id).status == "discarded"
    assert Distribution.objects.get().temperature_c == Decimal("3.1")


def test_cold_meals_need_a_temperature_or_to_be_consumed_on_receipt(api, scene):
    api.force_authenticate(scene.volunteer)
    pickup = picked_up(scene)
    missing = api.post(
        "/api/v1/distributions/", distribution_payload(scene, pickup, temperature_c=None), format="json"
    )
    assert "Indiquez la température des repas à la distribution" in missing.json()["temperature_c"][0]
    eaten = api.post(
        "/api/v1/distributions/",
        distribution_payload(
            scene, pickup, temperature_c=None, consumed_on_receipt=True, meals_distributed=70
        ),
        format="json",
    )
    assert eaten.status_code == 201, eaten.json()


def test_meals_consumed_on_receipt_are_served_the_day_of_the_pickup(api, scene):
    api.force_authenticate(scene.volunteer)
    pickup = picked_up(scene, days_ago=1)
    response = api.post(
        "/api/v1/distributions/",
        distribution_payload(scene, pickup, temperature_c=None, consumed_on_receipt=True),
        format="json",
    )
    assert response.status_code == 400
    assert "le jour de la collecte" in response.json()["consumed_on_receipt"][0]
    assert Distribution.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reheat_temperature_c": "63.0", "reheat_minutes": 60}, None, None),
        ({"reheat_temperature_c": "62.9", "reheat_minutes": 60}, "reheat_temperature_c", "63 °C ou plus"),
        ({"reheat_temperature_c": "63.0", "reheat_minutes": 61}, "reheat_minutes", "moins d'une heure"),
        (
            {"reheat_temperature_c": None, "reheat_minutes": 30},
            "reheat_temperature_c",
            "température atteinte",
        ),
    ],
)
def test_a_site_that_reheats_brings_meals_to_63_degrees_within_an_hour(
    api, client, scene, importer, change, field, message
):
    scene.site.reheats = True
    scene.site.save()
    api.force_authenticate(scene.volunteer)
    client.force_login(scene.volunteer)
    through_api, through_form = picked_up(scene), picked_up(scene)

    response = api.post(
        "/api/v1/distributions/", {**distribution_payload(scene, through_api), **change}, format="json"
    )
    form_change = {
        name: "" if value is None else str(value).replace(".", ",") for name, value in change.items()
    }
    form = client.post(
        reverse("distribution-create", kwargs={"pk": through_form.pk}),
        distribution_form(scene, **form_change),
    )
    report = import_rows(
        scene, importer, distribution_row(scene, **{k: "" if v is None else v for k, v in change.items()})
    )

    if field is None:
        assert response.status_code == 201, response.json()
        assert form.status_code == 302
        assert report.ok, report.as_text()
        return
    assert message in response.json()[field][0]
    assert message in form_error(form, field)
    assert message in line_errors(report)[(2, field)]
    assert Distribution.objects.count() == 0


@pytest.mark.parametrize(
    ("cold_storage", "days_after", "accepted"), [(False, 0, True), (False, 1, False), (True, 1, True)]
)
def test_a_cold_batch_kept_past_its_pickup_day_needs_a_site_with_cold_storage(
    api, client, scene, importer, cold_storage, days_after, accepted
):
    site = DistributionSiteFactory(
        association=scene.partnership.association,
        has_cold_storage=cold_storage,
        cold_storage_litres=300 if cold_storage else None,
    )
    api.force_authenticate(scene.volunteer)
    client.force_login(scene.volunteer)
    through_api, through_form = picked_up(scene, days_ago=days_after), picked_up(scene, days_ago=days_after)
    message = "n'a pas de stockage réfrigéré"

    response = api.post("/api/v1/distributions/", distribution_payload(scene, through_api, site=site.pk))
    form = client.post(
        reverse("distribution-create", kwargs={"pk": through_form.pk}), distribution_form(scene, site=site.pk)
    )
    day = datetime.date(2025, 6, 2)
    report = import_rows(
        scene,
        importer,
        distribution_row(scene, day, site=site.pk, distributed_on=(day + days_after * DAY).isoformat()),
    )

    if accepted:
        assert response.status_code == 201, response.json()
        assert form.status_code == 302
        assert report.ok, report.as_text()
        return
    assert message in response.json()["site"][0]
    assert message in form_error(form, "site")
    assert message in line_errors(report)[(2, "site")]
    assert Distribution.objects.count() == 0


def test_the_kitchens_shelf_life_defaults_to_the_regulatory_3_days():
    kitchen = KitchenFactory()
    assert kitchen.cold_shelf_life_days == 3
    partnership = PartnershipFactory()
    assert (partnership.production_days_per_week, partnership.distribution_delay_hours) == (5, 48)


# People served within the site's capacity (docs/bounds.md)


SITE_FULL = "sert au plus 120 personnes par distribution"


@pytest.mark.parametrize(("people", "accepted"), [(120, True), (121, False)])
def test_people_served_are_at_most_the_sites_capacity(api, client, scene, importer, people, accepted):
    scene.site.capacity_people = 120
    scene.site.save()
    api.force_authenticate(scene.volunteer)
    client.force_login(scene.volunteer)
    through_api = picked_up(scene)
    through_form = picked_up(scene)
    before = written()

    response = api.post(
        "/api/v1/distributions/",
        distribution_payload(scene, through_api, meals_distributed=150, beneficiaries=people),
        format="json",
    )
    form = client.post(
        reverse("distribution-create", kwargs={"pk": through_form.pk}),
        distribution_form(scene, meals_distributed="150", beneficiaries=str(people)),
    )
    report = import_rows(
        scene, importer, distribution_row(scene, meals_distributed=100, beneficiaries=people)
    )

    if accepted:
        assert response.status_code == 201, response.json()
        assert form.status_code == 302
        assert report.ok, report.as_text()
        assert sorted(Distribution.objects.values_list("beneficiaries", flat=True)) == [120, 120, 120]
        return
    assert response.status_code == 400
    assert response.json()["beneficiaries"] == [
        f"Le lieu « {scene.site.name} » sert au plus 120 personnes par distribution : "
        "vérifiez le nombre de personnes servies, ou la capacité du lieu."
    ]
    assert SITE_FULL in form_error(form, "beneficiaries")
    assert SITE_FULL in line_errors(report)[(2, "beneficiaries")]
    assert written() == before


@pytest.mark.parametrize(("people", "accepted"), [(10_000, True), (10_001, False)])
def test_a_site_without_capacity_keeps_the_general_bound(api, scene, people, accepted):
    assert scene.site.capacity_people is None
    api.force_authenticate(scene.volunteer)
    pickup = picked_up(scene)
    response = api.post(
        "/api/v1/distributions/",
        distribution_payload(scene, pickup, meals_distributed=150, beneficiaries=people),
        format="json",
    )
    assert response.status_code == (201 if accepted else 400), response.json()
    assert Distribution.objects.count() == (1 if accepted else 0)


def test_a_sites_capacity_is_within_bounds_in_the_api(api, scene):
    coordinator = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    api.force_authenticate(coordinator)
    url = f"/api/v1/sites/{scene.site.pk}/"
    assert api.patch(url, {"capacity_people": 0}, format="json").status_code == 400
    assert api.patch(url, {"capacity_people": 10_001}, format="json").status_code == 400
    ok = api.patch(url, {"capacity_people": 10_000}, format="json")
    assert ok.status_code == 200, ok.json()
    assert ok.json()["capacity_people"] == 10_000
