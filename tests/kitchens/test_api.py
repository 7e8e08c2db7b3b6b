import pytest

from kitchens.models import Kitchen
from territories.roles import Role
from tests.factories import KitchenFactory, TerritoryFactory, member

pytestmark = pytest.mark.django_db

NEW_KITCHEN = {
    "name": "Cuisine centrale de Bobigny",
    "operator_type": "regie",
    "daily_capacity": 9000,
    "usual_daily_production": 7500,
    "does_cold_liaison": True,
    "does_hot_liaison": False,
    "address": "12 rue de Paris, 93000 Bobigny",
    "siret": "73282932000074",
}


def test_volunteer_cannot_edit_a_kitchen(api):
    kitchen = KitchenFactory()
    api.force_authenticate(member(Role.VOLUNTEER, kitchen.territory))

    assert api.get(f"/api/v1/kitchens/{kitchen.pk}/").status_code == 200
    response = api.patch(f"/api/v1/kitchens/{kitchen.pk}/", {"name": "Renommée"})
    assert response.status_code == 403
    assert Kitchen.objects.get(pk=kitchen.pk).name == kitchen.name


def test_kitchen_manager_edits_own_kitchen_but_not_another_of_the_same_territory(api):
    own = KitchenFactory()
    neighbour = KitchenFactory(territory=own.territory)
    api.force_authenticate(member(Role.KITCHEN_MANAGER, own.territory, kitchen=own))

    assert api.patch(f"/api/v1/kitchens/{own.pk}/", {"usual_daily_production": 6500}).status_code == 200
    assert Kitchen.objects.get(pk=own.pk).usual_daily_production == 6500

    response = api.patch(f"/api/v1/kitchens/{neighbour.pk}/", {"usual_daily_production": 10})
    assert response.status_code == 403
    assert Kitchen.objects.get(pk=neighbour.pk).usual_daily_production == neighbour.usual_daily_production


def test_kitchen_manager_cannot_move_own_kitchen_to_another_territory(api):
    own = KitchenFactory()
    api.force_authenticate(member(Role.KITCHEN_MANAGER, own.territory, kitchen=own))
    elsewhere = TerritoryFactory()
    response = api.patch(f"/api/v1/kitchens/{own.pk}/", {"territory": elsewhere.pk})
    assert response.status_code == 400
    assert "territory" in response.json()
    assert Kitchen.objects.get(pk=own.pk).territory_id == own.territory_id


def test_authority_coordinator_creates_a_kitchen_in_own_territory(api):
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, territory))
    response = api.post("/api/v1/kitchens/", {**NEW_KITCHEN, "territory": territory.pk})
    assert response.status_code == 201, response.json()
    assert Kitchen.objects.filter(territory=territory, name=NEW_KITCHEN["name"]).exists()


def test_kitchen_manager_cannot_create_a_kitchen_and_nothing_is_written(api):
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.KITCHEN_MANAGER, territory))
    before = Kitchen.objects.count()
    response = api.post("/api/v1/kitchens/", {**NEW_KITCHEN, "territory": territory.pk})
    assert response.status_code == 403
    assert Kitchen.objects.count() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"daily_capacity": -10}, "daily_capacity"),
        ({"usual_daily_production": 12000}, "usual_daily_production"),
        ({"territory": 999999}, "territory"),
        ({"siret": "12345678901234"}, "siret"),
        ({"does_cold_liaison": False, "does_hot_liaison": False}, "does_cold_liaison"),
        ({"operator_type": "unknown"}, "operator_type"),
    ],
)
def test_bad_kitchen_input_answers_400_with_the_field_and_writes_nothing(api, change, field):
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, territory))
    before = Kitchen.objects.count()
    response = api.post("/api/v1/kitchens/", {**NEW_KITCHEN, "territory": territory.pk, **change})
    assert response.status_code == 400
    assert field in response.json()
    assert Kitchen.objects.count() == before


def test_error_messages_are_french_by_default_and_english_on_request(api):
    territory = TerritoryFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, territory))
    payload = {**NEW_KITCHEN, "territory": territory.pk, "daily_capacity": -1}
    french = api.post("/api/v1/kitchens/", payload).json()["daily_capacity"][0]
    english = api.post("/api/v1/kitchens/", payload, HTTP_ACCEPT_LANGUAGE="en").json()["daily_capacity"][0]
    assert "supérieure ou égale à" in french
    assert "greater than or equal to 0" in english


def test_kitchen_with_dependants_is_not_deleted(api):
    from tests.factories import PartnershipFactory

    partnership = PartnershipFactory()
    api.force_authenticate(member(Role.AUTHORITY_COORDINATOR, partnership.territory))
    response = api.delete(f"/api/v1/kitchens/{partnership.kitchen_id}/")
    assert response.status_code == 409
    assert Kitchen.objects.filter(pk=partnership.kitchen_id).exists()


def test_filter_by_territory_rejects_a_territory_out_of_scope(api):
    own, other = KitchenFactory(), KitchenFactory()
    api.force_authenticate(member(Role.VOLUNTEER, own.territory))
    assert api.get(f"/api/v1/kitchens/?territory={own.territory_id}").json()["count"] == 1
    response = api.get(f"/api/v1/kitchens/?territory={other.territory_id}")
    assert response.status_code == 400
    assert "territory" in response.json()
