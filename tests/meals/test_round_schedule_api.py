"""The round schedules' API: the coordinators write a partnership's weekly schedule, each write
plans its slots again; bad input is a 400 with a French message and nothing written, a
schedule out of scope is a 404."""

from __future__ import annotations

import datetime

import pytest

from meals.models import RoundSchedule, RoundSlot
from territories.roles import Role
from tests.factories import AssociationFactory, DistributionSiteFactory, member
from tests.scenes import Scene, scene_with_coordinators

pytestmark = pytest.mark.django_db

URL = "/api/v1/round-schedules/"


@pytest.fixture
def scene(db):
    return scene_with_coordinators()


def body(scene, **change):
    return {
        "partnership": scene.partnership.pk,
        "weekdays": ["mon", "thu"],
        "window_start": "11:30",
        "window_end": "12:30",
        "expected_meals": 60,
        "site": scene.site.pk,
        **change,
    }


def planned(schedule_id):
    return list(
        RoundSlot.objects.filter(schedule_id=schedule_id, status="planned").values_list(
            "date", "window_start", "window_end", "expected_meals", "site_id"
        )
    )


def test_the_association_coordinator_sets_the_schedule_and_its_slots_are_planned(api, scene):
    api.force_authenticate(scene.coordinator)
    response = api.post(URL, body(scene), format="json")
    assert response.status_code == 201, response.json()
    schedule = RoundSchedule.objects.get()
    assert schedule.territory_id == scene.territory.pk
    slots = planned(schedule.pk)
    assert slots
    assert {day.strftime("%a") for day, *_ in slots} <= {"Mon", "Thu"}
    assert {tuple(rest) for _, *rest in slots} == {
        (datetime.time(11, 30), datetime.time(12, 30), 60, scene.site.pk)
    }
    assert (response.json()["window_start"], response.json()["window_end"]) == ("11:30", "12:30")

    # The authority's coordinator moves the window: the planned slots follow it.
    api.force_authenticate(scene.authority)
    moved = api.patch(f"{URL}{schedule.pk}/", {"window_start": "14:00", "window_end": "15:00"}, format="json")
    assert moved.status_code == 200, moved.json()
    assert {(start, end) for _, start, end, *_ in planned(schedule.pk)} == {
        (datetime.time(14, 0), datetime.time(15, 0))
    }

    # Deactivated: no slot left planned, the schedule kept.
    stopped = api.patch(f"{URL}{schedule.pk}/", {"active": False}, format="json")
    assert stopped.status_code == 200
    assert planned(schedule.pk) == []
    assert RoundSlot.objects.filter(schedule=schedule, status="cancelled").count() == len(slots)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"window_end": "11:30"}, "window_end", "La fin de la collecte doit suivre son début."),
        ({"window_end": "10:00"}, "window_end", "La fin de la collecte doit suivre son début."),
        ({"weekdays": []}, "weekdays", "vide"),
        ({"weekdays": ["mon", "mon"]}, "weekdays", "Jours de collecte inconnus ou en double."),
        ({"expected_meals": 0}, "expected_meals", "supérieure ou égale à\xa01"),
        # A window is set to the minute, in the territory's local hour.
        ({"window_start": "11:30:15"}, "window_start", "hh:mm"),
        ({"window_start": "11:30+02:00"}, "window_start", "hh:mm"),
        ({"window_end": "24:00"}, "window_end", "hh:mm"),
    ],
)
def test_bad_input_is_a_400_and_nothing_is_written(api, scene, change, field, message):
    api.force_authenticate(scene.coordinator)
    response = api.post(URL, body(scene, **change), format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert (RoundSchedule.objects.count(), RoundSlot.objects.count()) == (0, 0)


def test_an_unknown_day_is_refused_by_its_position(api, scene):
    api.force_authenticate(scene.coordinator)
    response = api.post(URL, body(scene, weekdays=["mon", "lun"]), format="json")
    assert response.status_code == 400
    assert response.json()["weekdays"] == {"1": ["«\xa0lun\xa0» n'est pas un choix valide."]}
    assert RoundSchedule.objects.count() == 0


def test_a_site_of_another_association_is_refused(api, scene):
    # Another association of the same territory: the authority's coordinator sees its site.
    elsewhere = DistributionSiteFactory(association=AssociationFactory(territory=scene.territory))
    api.force_authenticate(scene.authority)
    response = api.post(URL, body(scene, site=elsewhere.pk), format="json")
    assert response.status_code == 400
    assert response.json()["site"] == ["Ce lieu n'appartient pas à l'association du partenariat."]
    assert RoundSchedule.objects.count() == 0


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.KITCHEN_MANAGER])
def test_volunteers_and_kitchens_do_not_write_a_schedule(api, scene, role):
    user = scene.volunteer if role == Role.VOLUNTEER else scene.kitchen_user
    api.force_authenticate(user)
    response = api.post(URL, body(scene), format="json")
    assert response.status_code == 403
    assert (RoundSchedule.objects.count(), RoundSlot.objects.count()) == (0, 0)


def test_a_schedule_of_another_territory_is_a_404(api, scene):
    api.force_authenticate(scene.coordinator)
    created = api.post(URL, body(scene), format="json").json()
    other = Scene()
    stranger = member(Role.AUTHORITY_COORDINATOR, other.territory)
    api.force_authenticate(stranger)
    assert api.get(f"{URL}{created['id']}/").status_code == 404
    assert api.patch(f"{URL}{created['id']}/", {"active": False}, format="json").status_code == 404
    assert RoundSchedule.objects.get().active is True
