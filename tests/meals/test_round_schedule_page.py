"""The round schedule's page: a coordinator sets a partnership's weekly pickup schedule in the
browser, the slots of the coming weeks follow it (only on the chosen days, in the chosen
window); bad input is a 400 with the French message and nothing written; a volunteer gets 403,
a partnership of another territory 404. The partnership's page shows the schedule and links
to its form for those who may change it."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from meals import food_safety
from meals.models import RoundSchedule, RoundSlot
from territories.roles import Role
from tests.factories import AssociationFactory, DistributionSiteFactory, member
from tests.scenes import Scene, scene_with_coordinators

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(db):
    return scene_with_coordinators()


def url(partnership) -> str:
    return f"/partenariats/{partnership.pk}/tournee/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(scene, **change) -> dict:
    data = {
        "weekdays": ["mon", "thu"],
        "window_start": "11:30",
        "window_end": "12:30",
        "expected_meals": "60",
        "site": str(scene.site.pk),
        "active": "on",
        **change,
    }
    return {name: value for name, value in data.items() if value is not None}


def planned(schedule) -> list[tuple[datetime.date, datetime.time, datetime.time, int, int]]:
    return list(
        RoundSlot.objects.filter(schedule=schedule, status="planned")
        .order_by("date")
        .values_list("date", "window_start", "window_end", "expected_meals", "site_id")
    )


def test_the_coordinator_plans_the_round_and_its_slots_follow_the_chosen_days_and_window(scene):
    client = client_for(scene.coordinator)
    page = client.get(url(scene.partnership))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="time"' in html and 'name="weekdays"' in html
    assert all(day in html for day in ("Lundi", "Jeudi", "Dimanche"))

    response = client.post(url(scene.partnership), form(scene))
    assert response.status_code == 302
    assert response["Location"] == f"/partenariats/{scene.partnership.pk}/"
    schedule = RoundSchedule.objects.get()
    assert (schedule.weekdays, schedule.territory_id) == (["mon", "thu"], scene.territory.pk)

    slots = planned(schedule)
    today = food_safety.today()
    # Four weeks ahead, from today: four Mondays and four Thursdays, nothing else.
    assert len(slots) == 8
    assert {day.weekday() for day, *_ in slots} == {0, 3}
    assert all(today <= day < today + datetime.timedelta(weeks=4) for day, *_ in slots)
    assert {tuple(rest) for _, *rest in slots} == {
        (datetime.time(11, 30), datetime.time(12, 30), 60, scene.site.pk)
    }
    assert RoundSlot.objects.exclude(schedule=schedule).count() == 0

    detail = client.get(response["Location"])
    text = detail.content.decode()
    assert "Tournée enregistrée : 8 créneaux prévus dans les quatre semaines à venir." in text
    assert "Lundi, jeudi" in text and "de 11:30 à 12:30" in text and scene.site.name in text
    assert "Modifier la tournée" in text


def test_editing_the_schedule_moves_the_planned_slots(scene):
    client = client_for(scene.coordinator)
    client.post(url(scene.partnership), form(scene))
    schedule = RoundSchedule.objects.get()
    first = planned(schedule)

    # The authority's coordinator moves the round to Tuesdays, later, with more meals.
    other_site = DistributionSiteFactory(association=scene.partnership.association)
    page = client_for(scene.authority).get(url(scene.partnership))
    assert page.status_code == 200
    assert 'value="11:30"' in page.content.decode()  # the current schedule, to the minute
    response = client_for(scene.authority).post(
        url(scene.partnership),
        form(scene, weekdays=["tue"], window_start="14:00", window_end="15:15", expected_meals="80",
             site=str(other_site.pk)),
    )  # fmt: skip
    assert response.status_code == 302
    assert RoundSchedule.objects.count() == 1

    moved = planned(schedule)
    assert len(moved) == 4
    assert {day.weekday() for day, *_ in moved} == {1}
    assert {tuple(rest) for _, *rest in moved} == {
        (datetime.time(14, 0), datetime.time(15, 15), 80, other_site.pk)
    }
    # The Mondays and Thursdays left the round: their slots are cancelled, with the reason.
    dropped = RoundSlot.objects.filter(schedule=schedule, status="cancelled")
    assert sorted(dropped.values_list("date", flat=True)) == [day for day, *_ in first]
    assert set(dropped.values_list("cancel_reason", flat=True)) == {
        "Ce jour ne fait plus partie de la tournée."
    }

    # Suspended: nothing planned any more, the schedule kept.
    response = client.post(url(scene.partnership), form(scene, weekdays=["tue"], active=None))
    assert response.status_code == 302
    assert planned(schedule) == []
    assert RoundSchedule.objects.get().active is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weekdays": None}, "Choisissez au moins un jour de collecte."),
        ({"window_end": "11:00"}, "La fin de la collecte doit suivre son début."),
        ({"window_end": "11:30"}, "La fin de la collecte doit suivre son début."),
        ({"expected_meals": "0"}, "Indiquez au moins un repas attendu."),
        ({"weekdays": ["mon", "lun"]}, "Sélectionnez un choix valide."),
        ({"window_start": "11:30:15"}, "Saisissez une heure valide."),
    ],
)
def test_bad_input_is_a_400_with_the_french_message_and_nothing_written(scene, change, message):
    response = client_for(scene.coordinator).post(url(scene.partnership), form(scene, **change))
    assert response.status_code == 400
    html = response.content.decode().replace("&#x27;", "'")
    assert message in html
    assert "Rien n'a été enregistré" in html
    assert (RoundSchedule.objects.count(), RoundSlot.objects.count()) == (0, 0)


def test_a_site_of_another_association_is_refused_and_an_edit_leaves_the_slots_as_they_were(scene):
    client = client_for(scene.authority)
    client.post(url(scene.partnership), form(scene))
    schedule = RoundSchedule.objects.get()
    before = planned(schedule), RoundSchedule.objects.values().get()

    # Another association of the same territory: the authority's coordinator sees its site.
    elsewhere = DistributionSiteFactory(association=AssociationFactory(territory=scene.territory))
    response = client.post(url(scene.partnership), form(scene, weekdays=["fri"], site=str(elsewhere.pk)))
    assert response.status_code == 400
    html = response.content.decode().replace("&#x27;", "'")
    assert "Ce lieu n'appartient pas à l'association du partenariat." in html
    assert elsewhere.name not in html  # not among the choices either
    assert (planned(schedule), RoundSchedule.objects.values().get()) == before


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.KITCHEN_MANAGER])
def test_volunteers_and_kitchens_get_403_and_no_link(scene, role):
    user = scene.volunteer if role == Role.VOLUNTEER else scene.kitchen_user
    client = client_for(user)
    assert client.get(url(scene.partnership)).status_code == 403
    assert client.post(url(scene.partnership), form(scene)).status_code == 403
    assert (RoundSchedule.objects.count(), RoundSlot.objects.count()) == (0, 0)
    detail = client.get(f"/partenariats/{scene.partnership.pk}/")
    if detail.status_code == 200:
        assert url(scene.partnership) not in detail.content.decode()


def test_another_territory_partnership_is_a_404(scene):
    other = Scene()
    for user in (scene.coordinator, scene.authority):
        client = client_for(user)
        assert client.get(url(other.partnership)).status_code == 404
        assert client.post(url(other.partnership), form(other)).status_code == 404
    assert (RoundSchedule.objects.count(), RoundSlot.objects.count()) == (0, 0)


def test_another_association_coordinator_of_the_territory_gets_403(scene):
    """The territory's members see its partnerships; the coordinator of another association
    sees this one but plans only its own association's rounds."""
    stranger = client_for(member(Role.ASSOCIATION_COORDINATOR, scene.territory))
    assert stranger.get(url(scene.partnership)).status_code == 403
    assert stranger.post(url(scene.partnership), form(scene)).status_code == 403
    assert (
        url(scene.partnership) not in stranger.get(f"/partenariats/{scene.partnership.pk}/").content.decode()
    )
    assert RoundSchedule.objects.count() == 0


def test_the_partnership_page_offers_to_plan_the_round_to_coordinators_only(scene):
    detail = f"/partenariats/{scene.partnership.pk}/"
    page = client_for(scene.coordinator).get(detail).content.decode()
    assert "Planifier la tournée" in page and url(scene.partnership) in page
    assert "Planifier la tournée" in client_for(scene.authority).get(detail).content.decode()
    evaluator = client_for(member(Role.EVALUATOR)).get(detail).content.decode()
    assert url(scene.partnership) not in evaluator


def test_the_api_still_plans_the_slots_through_the_shared_step(api, scene):
    api.force_authenticate(scene.coordinator)
    response = api.post(
        "/api/v1/round-schedules/",
        {
            "partnership": scene.partnership.pk,
            "weekdays": ["wed"],
            "window_start": "09:00",
            "window_end": "10:00",
            "expected_meals": 20,
            "site": scene.site.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert {day.weekday() for day, *_ in planned(RoundSchedule.objects.get())} == {2}
