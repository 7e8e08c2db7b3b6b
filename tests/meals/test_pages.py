"""Browser pages of the meal flow: each role's pages, the food-safety rules through the forms
(a French message next to the field, nothing written), conflicts, 403/404, the week's
alerts, the batch's history and the query counts of the lists."""

import datetime
import html
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from associations.conventions.services import convention_draw_up_and_sign
from associations.models import Partnership
from meals import services
from meals.models import Batch, Distribution, Pickup
from territories.roles import Role
from tests.factories import AssociationFactory, DistributionSiteFactory, KitchenFactory, UserFactory, member

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def today():
    return timezone.localdate()


def counts():
    return Batch.objects.count(), Pickup.objects.count(), Distribution.objects.count()


def page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def url(route, obj=None):
    return reverse(route, kwargs={"pk": obj.pk}) if obj is not None else reverse(route)


def week_param(day):
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def assert_field_error(response, field, message):
    """The form came back (nothing saved) with ``message`` shown next to ``field``."""
    assert response.status_code == 200, response.status_code
    errors = response.context["form"].errors
    assert field in errors, dict(errors)
    assert any(message in error for error in errors[field]), errors[field]
    body = html.unescape(response.content.decode())
    block = body.split(f'id="id_{field}_error"', 1)
    assert len(block) == 2, f"no error block next to {field}"
    assert message in block[1].split("</div>", 1)[0]


def batch_form(scene, **change):
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
        "components": ["main", "dessert"],
        "allergens": ["gluten", "milk"],
        "discard_reason": "",
    }
    data.update(change)
    return data


def pickup_form(**change):
    return {
        "meals_received": "150",
        "temperature_c": "3,0",
        "transport_mode": "association_vehicle",
        "refrigerated_vehicle": "on",
        "distance_km": "4,5",
        "duration_minutes": "20",
        "discard_reason": "",
        **change,
    }


def distribution_form(scene, **change):
    return {
        "site": scene.site.pk,
        "distributed_on": today().isoformat(),
        "meals_distributed": "140",
        "beneficiaries": "120",
        "households": "",
        "children": "",
        "meals_discarded": "0",
        "discard_reason": "",
        "temperature_c": "2,5",
        **change,
    }


def ready_batch(scene, **change):
    fields = {"production_date": today(), "use_by_date": today() + 3 * DAY, **change}
    return scene.batch(**fields)


# Each page renders for its role, in French, without inline style or script


def test_each_page_renders_for_its_role(client, scene):
    coordinator = member(
        Role.ASSOCIATION_COORDINATOR, scene.territory, association=scene.partnership.association
    )
    authority = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    done, _, _ = services_flow(scene)
    batch = ready_batch(scene)
    open_pickup = scene.pickup(ready_batch(scene, lot_number="L-2"))
    pages = [
        (scene.kitchen_user, url("batch-create"), "Déclarer un lot"),
        (scene.kitchen_user, url("batch-week"), "Lots de la semaine"),
        (scene.kitchen_user, url("batch-detail", batch), "Annuler le lot"),
        (scene.volunteer, url("pickup-todo"), "Confirmer la collecte"),
        (scene.volunteer, url("batch-pickup", batch), "Température à réception"),
        (scene.volunteer, url("distribution-create", open_pickup), "Personnes servies"),
        (scene.volunteer, url("batch-detail", done), "Historique"),
        (coordinator, url("pickup-todo"), batch.lot_number),
        (coordinator, url("flow-week"), "Flux de la semaine"),
        (authority, url("flow-week"), "Alertes"),
        (authority, url("batch-week"), batch.lot_number),
        (member(Role.EVALUATOR), url("flow-week"), "Territoire"),
    ]
    for user, address, text in pages:
        client.force_login(user)
        body = page(client, address)
        assert text in body, (address, text)
        assert '<html lang="fr">' in body
        assert "style=" not in body, address
        assert "<script" not in body, address


def services_flow(scene):
    """A batch produced yesterday, picked up and partly distributed, through the services."""
    from tests.factories import flow

    return flow(
        scene.partnership, kitchen_user=scene.kitchen_user, volunteer=scene.volunteer, site=scene.site
    )


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        # The week's list gives way to each role's own: "Mes lots", "À collecter" and "À distribuer".
        (
            Role.KITCHEN_MANAGER,
            ["batch-create", "kitchen-batches"],
            ["pickup-todo", "flow-week", "batch-week"],
        ),
        (Role.VOLUNTEER, ["pickup-todo", "distribution-todo"], ["batch-create", "flow-week", "batch-week"]),
        (
            Role.ASSOCIATION_COORDINATOR,
            ["pickup-todo", "distribution-todo", "flow-week"],
            ["batch-create", "batch-week"],
        ),
        (Role.AUTHORITY_COORDINATOR, ["batch-week", "flow-week"], ["batch-create", "pickup-todo"]),
    ],
)
def test_navigation_links_follow_the_role(client, scene, role, shown, hidden):
    actor = {
        Role.KITCHEN_MANAGER: {"kitchen": scene.partnership.kitchen},
        Role.VOLUNTEER: {"association": scene.partnership.association},
        Role.ASSOCIATION_COORDINATOR: {"association": scene.partnership.association},
        Role.AUTHORITY_COORDINATOR: {},
    }[role]
    client.force_login(member(role, scene.territory, **actor))
    body = page(client, url("territory-list"))
    for route in shown:
        assert f'href="{url(route)}"' in body, route
    for route in hidden:
        assert f'href="{url(route)}"' not in body, route


@pytest.mark.parametrize(
    ("role", "route"),
    [
        (Role.VOLUNTEER, "batch-create"),
        (Role.AUTHORITY_COORDINATOR, "batch-create"),
        (Role.KITCHEN_MANAGER, "pickup-todo"),
        (Role.AUTHORITY_COORDINATOR, "pickup-todo"),
        (Role.KITCHEN_MANAGER, "flow-week"),
        (Role.VOLUNTEER, "flow-week"),
    ],
)
def test_pages_of_other_roles_answer_403(client, scene, role, route):
    actor = {
        Role.KITCHEN_MANAGER: {"kitchen": scene.partnership.kitchen},
        Role.VOLUNTEER: {"association": scene.partnership.association},
        Role.AUTHORITY_COORDINATOR: {},
    }[role]
    client.force_login(member(role, scene.territory, **actor))
    assert client.get(url(route)).status_code == 403


@pytest.mark.parametrize("route", ["batch-create", "batch-week", "pickup-todo", "flow-week"])
def test_anonymous_users_are_sent_to_login(client, route):
    response = client.get(url(route))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# Declaring a batch


def test_batch_form_is_prefilled_with_the_days_defaults_and_the_last_menu(client, scene):
    scene.batch(
        production_date=today() - 2 * DAY,
        use_by_date=today(),
        components=["starter", "main"],
        allergens=["eggs", "celery"],
    )
    ready_batch(scene, lot_number=f"SDN-{today():%Y%m%d}-1", allergens=[], no_regulated_allergens=True)
    client.force_login(scene.kitchen_user)
    response = client.get(url("batch-create"))
    form = response.context["form"]
    kitchen = scene.partnership.kitchen
    assert form["production_date"].value() == today()
    assert form["service"].value() == "lunch"
    assert form["liaison"].value() == "cold"
    assert form["use_by_date"].value() == today() + 3 * DAY
    assert form["kind"].value() == "surplus"  # a donation convention: surplus only
    assert form["partnership"].value() == scene.partnership.pk  # the only active one
    assert form["lot_number"].value() == f"SDN-{today():%Y%m%d}-2"  # the kitchen's own pattern
    # The menu of the kitchen's latest batch (by production date).
    assert form["components"].value() == []
    assert form["allergens"].value() == []
    assert form["no_regulated_allergens"].value() is True
    latest = Batch.objects.filter(kitchen=kitchen).order_by("-production_date", "-id").first()
    assert latest.lot_number == f"SDN-{today():%Y%m%d}-1"


def test_batch_form_takes_the_menu_of_the_latest_batch(client, scene):
    scene.batch(
        production_date=today() - DAY, use_by_date=today(), components=["main", "bread"], allergens=["fish"]
    )
    client.force_login(scene.kitchen_user)
    body = page(client, url("batch-create"))
    form = client.get(url("batch-create")).context["form"]
    assert form["components"].value() == ["main", "bread"]
    assert form["allergens"].value() == ["fish"]
    assert 'value="fish" id="id_allergens_3" checked' in body
    assert body.count('name="allergens"') == 14


def test_batch_form_defaults_follow_a_hot_kitchen_and_a_surplus_convention(client, scene):
    kitchen = scene.partnership.kitchen
    kitchen.does_cold_liaison, kitchen.does_hot_liaison = False, True
    kitchen.save()
    scene.partnership.mode = Partnership.Mode.SURPLUS
    scene.partnership.save()
    client.force_login(scene.kitchen_user)
    form = client.get(url("batch-create")).context["form"]
    assert form["liaison"].value() == "hot"
    assert form["use_by_date"].value() == today()
    assert form["kind"].value() == "surplus"


def test_batch_form_offers_only_the_active_partnerships_of_the_managers_kitchen(client, scene):
    other_kitchen = KitchenFactory(territory=scene.territory, name="Cuisine voisine")
    neighbour = Partnership.objects.create(
        territory=scene.territory,
        kitchen=other_kitchen,
        association=scene.partnership.association,
        mode=Partnership.Mode.SURPLUS,
        starts_on=datetime.date(2024, 1, 1),
        planned_meals_per_week=100,
        status=Partnership.Status.ACTIVE,
    )
    draft = Partnership.objects.create(
        territory=scene.territory,
        kitchen=scene.partnership.kitchen,
        association=AssociationFactory(territory=scene.territory, name="Association en projet"),
        mode=Partnership.Mode.SURPLUS,
        starts_on=datetime.date(2024, 1, 1),
        planned_meals_per_week=100,
        status=Partnership.Status.DRAFT,
    )
    client.force_login(scene.kitchen_user)
    choices = list(client.get(url("batch-create")).context["form"].fields["partnership"].queryset)
    assert choices == [scene.partnership]
    for refused in (neighbour, draft):
        before = counts()
        response = client.post(url("batch-create"), batch_form(scene, partnership=refused.pk))
        assert_field_error(response, "partnership", "Sélectionnez un choix valide")
        assert counts() == before


def test_declaring_a_batch_through_the_form_creates_it(client, scene):
    client.force_login(scene.kitchen_user)
    response = client.post(url("batch-create"), batch_form(scene), follow=True)
    batch = Batch.objects.get()
    assert response.redirect_chain[-1][0] == url("batch-detail", batch)
    assert batch.status == Batch.Status.READY
    assert batch.meals_count == 150
    assert batch.dispatch_temperature_c == Decimal("2.5")
    assert batch.components == ["main", "dessert"]
    assert batch.allergens == ["gluten", "milk"]
    assert batch.created_by == scene.kitchen_user
    assert batch.kitchen == scene.partnership.kitchen
    body = html.unescape(response.content.decode())
    assert "Lot L-2411-01 déclaré : 150 repas prêts à collecter." in body


def test_a_dispatch_temperature_out_of_bounds_with_its_reason_records_a_discarded_batch(client, scene):
    client.force_login(scene.kitchen_user)
    data = batch_form(scene, dispatch_temperature_c="8", discard_reason="Cellule de refroidissement en panne")
    body = html.unescape(client.post(url("batch-create"), data, follow=True).content.decode())
    batch = Batch.objects.get()
    assert batch.status == Batch.Status.DISCARDED
    assert batch.discard_reason == "Cellule de refroidissement en panne"
    assert "enregistré comme écarté" in body


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"dispatch_temperature_c": "6,5"}, "dispatch_temperature_c", "+3 °C ou moins"),
        (
            {"liaison": "hot", "dispatch_temperature_c": "55"},
            "dispatch_temperature_c",
            "63 °C ou plus",
        ),
        (
            {"use_by_date": (datetime.date.today() - 5 * DAY).isoformat()},
            "use_by_date",
            "précède la date de production",
        ),
        ({"meals_count": "-4"}, "meals_count", "Le nombre de repas doit être positif."),
        ({"meals_count": "0"}, "meals_count", "Le nombre de repas doit être positif."),
        ({"lot_number": "   "}, "lot_number", "Ce champ est obligatoire."),
        ({"dispatch_temperature_c": "deux"}, "dispatch_temperature_c", "Saisissez un nombre."),
    ],
)
def test_batch_rules_show_a_french_error_next_to_the_field_and_save_nothing(
    client, scene, change, field, message
):
    client.force_login(scene.kitchen_user)
    response = client.post(url("batch-create"), batch_form(scene, **change))
    assert_field_error(response, field, message)
    assert counts() == (0, 0, 0)
    assert "Rien n'a été enregistré" in html.unescape(response.content.decode())


def test_a_batch_produced_in_the_future_is_refused(client, scene):
    client.force_login(scene.kitchen_user)
    tomorrow = today() + DAY
    data = batch_form(scene, production_date=tomorrow.isoformat(), use_by_date=(tomorrow + DAY).isoformat())
    assert_field_error(client.post(url("batch-create"), data), "production_date", "dans le futur")
    assert counts() == (0, 0, 0)


def test_a_partnership_not_active_on_the_production_date_is_refused(client, scene):
    scene.partnership.ends_on = today() - DAY
    scene.partnership.save()
    client.force_login(scene.kitchen_user)
    response = client.post(url("batch-create"), batch_form(scene))
    assert_field_error(response, "partnership", f"a expiré le {today() - DAY:%d/%m/%Y}")
    assert counts() == (0, 0, 0)


def test_a_suspended_partnership_is_not_a_choice(client, scene):
    scene.partnership.status = Partnership.Status.SUSPENDED
    scene.partnership.save()
    client.force_login(scene.kitchen_user)
    assert "aucun partenariat actif" in page(client, url("batch-create"))
    Partnership.objects.create(
        territory=scene.territory,
        kitchen=scene.partnership.kitchen,
        association=AssociationFactory(territory=scene.territory),
        mode=Partnership.Mode.SURPLUS,
        starts_on=datetime.date(2024, 1, 1),
        planned_meals_per_week=100,
        status=Partnership.Status.ACTIVE,
    )
    response = client.post(url("batch-create"), batch_form(scene))
    assert_field_error(response, "partnership", "Sélectionnez un choix valide")
    assert counts() == (0, 0, 0)


def test_a_kind_the_convention_does_not_allow_is_refused(client, scene):
    scene.partnership.mode = Partnership.Mode.DEDICATED
    scene.partnership.save()
    client.force_login(scene.kitchen_user)
    response = client.post(url("batch-create"), batch_form(scene, kind="surplus"))
    assert_field_error(response, "kind", "ne reçoit que des lots de type « Repas dédiés »")
    assert counts() == (0, 0, 0)


def test_a_liaison_the_kitchen_does_not_practise_is_refused(client, scene):
    client.force_login(scene.kitchen_user)
    data = batch_form(scene, liaison="hot", dispatch_temperature_c="65", use_by_date=today().isoformat())
    assert_field_error(
        client.post(url("batch-create"), data), "liaison", "ne pratique pas ce type de liaison"
    )
    assert counts() == (0, 0, 0)


# The week's batches


def test_batch_week_shows_the_kitchens_batches_of_the_week_and_navigates(client, scene):
    this_week = ready_batch(scene, lot_number="CETTE-SEMAINE")
    earlier = today() - 14 * DAY
    old = scene.past_batch(
        production_date=earlier, use_by_date=earlier + DAY, lot_number="IL-Y-A-DEUX-SEMAINES"
    )
    other_kitchen = KitchenFactory(territory=scene.territory)
    Partnership.objects.create(
        territory=scene.territory,
        kitchen=other_kitchen,
        association=scene.partnership.association,
        mode=Partnership.Mode.SURPLUS,
        starts_on=datetime.date(2024, 1, 1),
        planned_meals_per_week=10,
        status=Partnership.Status.ACTIVE,
    )
    client.force_login(scene.kitchen_user)

    body = page(client, url("batch-week"))
    assert this_week.lot_number in body and old.lot_number not in body
    assert "Prêt à collecter" in body
    assert f"semaine={week_param(today() - 7 * DAY)}" in body  # previous week
    assert "Semaine suivante" not in body  # nothing is produced in the future

    for param in ("semaine", "week"):
        body = page(client, url("batch-week"), **{param: week_param(earlier)})
        assert old.lot_number in body and this_week.lot_number not in body
        assert "Cette semaine" in body and "Semaine suivante" in body
    # A week that does not exist answers 400: the current week, and why.
    response = client.get(url("batch-week"), {"semaine": "2024-W99"})
    body = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "Semaine « 2024-W99 » inconnue" in body and this_week.lot_number in body


def test_batch_week_shows_other_roles_the_batches_they_can_see(client, scene):
    batch = ready_batch(scene)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    assert batch.lot_number in page(client, url("batch-week"))
    client.force_login(member(Role.AUTHORITY_COORDINATOR, KitchenFactory().territory))
    assert batch.lot_number not in page(client, url("batch-week"))


# What to collect and the pickup


def test_pickup_todo_lists_the_associations_ready_batches_soonest_first(client, scene):
    later = ready_batch(scene, lot_number="PLUS-TARD", use_by_date=today() + 3 * DAY)
    sooner = ready_batch(scene, lot_number="AUJOURD-HUI", use_by_date=today())
    taken = scene.pickup(ready_batch(scene, lot_number="DEJA-COLLECTE"))
    other = AssociationFactory(territory=scene.territory)
    elsewhere = Partnership.objects.create(
        territory=scene.territory,
        kitchen=scene.partnership.kitchen,
        association=other,
        mode=Partnership.Mode.SURPLUS,
        starts_on=datetime.date(2024, 1, 1),
        planned_meals_per_week=50,
        status=Partnership.Status.ACTIVE,
    )
    convention_draw_up_and_sign(elsewhere)
    not_ours = services.batch_create(
        partnership=elsewhere,
        by=scene.kitchen_user,
        kind="surplus",
        production_date=today(),
        meals_count=10,
        liaison="cold",
        lot_number="AUTRE-ASSO",
        use_by_date=today() + DAY,
        dispatch_temperature_c=Decimal("2"),
        no_regulated_allergens=True,
    )
    client.force_login(scene.volunteer)
    body = page(client, url("pickup-todo"))
    assert body.index(sooner.lot_number) < body.index(later.lot_number)
    assert taken.batch.lot_number not in body
    assert not_ours.lot_number not in body
    assert scene.partnership.kitchen.name in body
    assert "Liaison froide" in body
    assert "aujourd'hui" in body
    assert f'href="{url("batch-pickup", sooner)}"' in body


def test_pickup_form_is_prefilled_and_confirms_the_pickup(client, scene):
    batch = ready_batch(scene)
    client.force_login(scene.volunteer)
    form = client.get(url("batch-pickup", batch)).context["form"]
    assert form["meals_received"].value() == 150
    response = client.post(url("batch-pickup", batch), pickup_form(), follow=True)
    assert response.redirect_chain[-1][0] == url("batch-detail", batch)
    pickup = Pickup.objects.get()
    assert pickup.picked_up_by == scene.volunteer
    assert pickup.meals_received == 150
    assert pickup.temperature_c == Decimal("3.0")
    assert pickup.distance_km == Decimal("4.5")
    assert pickup.refrigerated_vehicle is True
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PICKED_UP
    assert "Collecte confirmée : 150 repas reçus." in html.unescape(response.content.decode())


def test_the_next_pickup_from_the_same_kitchen_repeats_the_last_trip(client, scene):
    scene.pickup(ready_batch(scene), transport_mode="soft", distance_km=Decimal("2.5"), duration_minutes=15)
    batch = ready_batch(scene, lot_number="L-2")
    client.force_login(scene.volunteer)
    form = client.get(url("batch-pickup", batch)).context["form"]
    assert form["transport_mode"].value() == "soft"
    assert form["distance_km"].value() == Decimal("2.5")
    assert form["duration_minutes"].value() == 15


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"meals_received": "151"}, "meals_received", "Le lot ne compte que 150 repas."),
        ({"meals_received": "-1"}, "meals_received", "ne peut pas être négatif"),
        ({"temperature_c": "7,5"}, "temperature_c", "Un repas en liaison froide doit être à +3 °C ou moins."),
        ({"distance_km": "-2"}, "distance_km", "La distance ne peut pas être négative."),
        ({"duration_minutes": "-5"}, "duration_minutes", "La durée ne peut pas être négative."),
    ],
)
def test_pickup_rules_show_a_french_error_next_to_the_field_and_save_nothing(
    client, scene, change, field, message
):
    batch = ready_batch(scene)
    client.force_login(scene.volunteer)
    response = client.post(url("batch-pickup", batch), pickup_form(**change))
    assert_field_error(response, field, message)
    assert Pickup.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == Batch.Status.READY


def test_a_pickup_out_of_bounds_with_its_reason_takes_the_meals_in_as_discarded(client, scene):
    batch = ready_batch(scene)
    client.force_login(scene.volunteer)
    data = pickup_form(temperature_c="9", discard_reason="Glacières restées au soleil")
    body = html.unescape(client.post(url("batch-pickup", batch), data, follow=True).content.decode())
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DISCARDED
    assert batch.discard_reason == "Glacières restées au soleil"
    assert Pickup.objects.count() == 1
    assert "repas écartés" in body


def test_a_pickup_after_the_use_by_date_is_refused_for_the_whole_form(client, scene):
    batch = scene.past_batch(production_date=today() - 3 * DAY, use_by_date=today() - DAY)
    client.force_login(scene.volunteer)
    response = client.post(url("batch-pickup", batch), pickup_form())
    assert response.status_code == 200
    assert (
        "La date limite de consommation du lot est dépassée." in response.context["form"].non_field_errors()
    )
    assert Pickup.objects.count() == 0


def test_confirming_a_batch_already_picked_up_shows_the_conflict_and_keeps_one_pickup(client, scene):
    batch = ready_batch(scene)
    client.force_login(scene.volunteer)
    stale = client.get(url("batch-pickup", batch))  # the form is open on a phone...
    assert stale.status_code == 200
    colleague = member(Role.VOLUNTEER, scene.territory, association=scene.partnership.association)
    services.pickup_confirm(
        batch=batch, by=colleague, meals_received=150, temperature_c=Decimal("2"), transport_mode="soft"
    )  # ...while a colleague confirms first
    response = client.post(url("batch-pickup", batch), pickup_form(), follow=True)
    assert response.redirect_chain[-1][0] == url("batch-detail", batch)
    body = html.unescape(response.content.decode())
    assert "Ce lot est déjà « Collecté » : l'opération a sans doute été faite par quelqu'un d'autre." in body
    assert Pickup.objects.filter(batch=batch).count() == 1
    assert Pickup.objects.get().picked_up_by == colleague


def test_the_pickup_form_of_a_batch_no_longer_ready_sends_to_the_batch(client, scene):
    batch = ready_batch(scene)
    scene.pickup(batch)
    client.force_login(scene.volunteer)
    response = client.get(url("batch-pickup", batch), follow=True)
    assert response.redirect_chain[-1][0] == url("batch-detail", batch)
    assert "il n'est plus à collecter" in html.unescape(response.content.decode())


def test_volunteers_of_another_association_get_403_and_of_another_territory_404(client, scene):
    batch = ready_batch(scene)
    neighbour = member(Role.VOLUNTEER, scene.territory)  # same territory, another association
    stranger = member(Role.VOLUNTEER, KitchenFactory().territory)
    for user, status in ((neighbour, 403), (stranger, 404), (scene.kitchen_user, 403)):
        client.force_login(user)
        assert client.get(url("batch-pickup", batch)).status_code == status
        assert client.post(url("batch-pickup", batch), pickup_form()).status_code == status
    assert Pickup.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == Batch.Status.READY


# Distribution


def test_distribution_form_is_prefilled_and_records_the_distribution(client, scene):
    batch = ready_batch(scene)
    pickup = scene.pickup(batch, meals_received=145, shortfall_reason="counting_error")
    client.force_login(scene.volunteer)
    form = client.get(url("distribution-create", pickup)).context["form"]
    assert form["meals_distributed"].value() == 145
    assert form["site"].value() == scene.site.pk
    assert form["distributed_on"].value() == today()
    data = distribution_form(
        scene, meals_distributed="140", meals_discarded="5", discard_reason="Abîmés", households="40"
    )
    response = client.post(url("distribution-create", pickup), data, follow=True)
    # Back to "À distribuer", where this pickup no longer appears: nothing is left of it.
    assert response.redirect_chain[-1][0] == reverse("distribution-todo")
    assert "Distribution enregistrée : 140 repas distribués à 120 personnes." in response.content.decode()
    assert f'href="{url("distribution-create", pickup)}"' not in response.content.decode()
    distribution = Distribution.objects.get()
    assert (distribution.meals_distributed, distribution.beneficiaries, distribution.households) == (
        140,
        120,
        40,
    )
    assert distribution.children is None
    assert distribution.recorded_by == scene.volunteer
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DISTRIBUTED
    # Nothing left: the form now sends back to the batch.
    assert client.get(url("distribution-create", pickup)).status_code == 302


def test_distribution_sites_are_those_of_the_association(client, scene):
    pickup = scene.pickup(ready_batch(scene))
    other_site = DistributionSiteFactory(association=AssociationFactory(territory=scene.territory))
    client.force_login(scene.volunteer)
    response = client.post(url("distribution-create", pickup), distribution_form(scene, site=other_site.pk))
    assert_field_error(response, "site", "Sélectionnez un choix valide")
    assert Distribution.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"meals_distributed": "140", "meals_discarded": "20", "discard_reason": "Abîmés"},
            "meals_distributed",
            "Repas distribués et écartés dépassent les repas reçus restants (150).",
        ),
        ({"beneficiaries": "-3"}, "beneficiaries", "Ce nombre ne peut pas être négatif."),
        ({"meals_distributed": "-1"}, "meals_distributed", "Ce nombre ne peut pas être négatif."),
        ({"meals_discarded": "5"}, "discard_reason", "Indiquez pourquoi des repas ont été écartés."),
        ({"households": "500"}, "households", "plus de foyers que de personnes servies"),
        ({"distributed_on": (datetime.date.today() + DAY).isoformat()}, "distributed_on", "dans le futur"),
    ],
)
def test_distribution_rules_show_a_french_error_next_to_the_field_and_save_nothing(
    client, scene, change, field, message
):
    pickup = scene.pickup(ready_batch(scene))
    client.force_login(scene.volunteer)
    response = client.post(url("distribution-create", pickup), distribution_form(scene, **change))
    assert_field_error(response, field, message)
    assert Distribution.objects.count() == 0
    assert Batch.objects.get().status == Batch.Status.PICKED_UP


def test_a_distribution_after_the_use_by_date_is_refused(client, scene):
    # Dedicated meals: the 48-hour rule of donations does not apply to their pickup.
    batch = scene.past_batch(production_date=today() - 3 * DAY, use_by_date=today() - DAY, kind="dedicated")
    pickup = scene.pickup(batch, picked_up_at=timezone.now() - 2 * DAY)
    client.force_login(scene.volunteer)
    response = client.post(url("distribution-create", pickup), distribution_form(scene))
    assert_field_error(response, "distributed_on", "La date limite de consommation du lot")
    assert Distribution.objects.count() == 0


def test_distribution_form_answers_403_to_another_association_and_404_to_another_territory(client, scene):
    pickup = scene.pickup(ready_batch(scene))
    for user, status in (
        (member(Role.VOLUNTEER, scene.territory), 403),
        (member(Role.VOLUNTEER, KitchenFactory().territory), 404),
        (scene.kitchen_user, 403),
    ):
        client.force_login(user)
        assert client.get(url("distribution-create", pickup)).status_code == status
        assert client.post(url("distribution-create", pickup), distribution_form(scene)).status_code == status
    assert Distribution.objects.count() == 0


# The batch page: actions and history


def test_batch_page_shows_only_the_actions_open_to_the_user(client, scene):
    batch = ready_batch(scene)
    cases = [
        (scene.kitchen_user, {"batch-cancel": True, "batch-discard": True, "batch-pickup": False}),
        (scene.volunteer, {"batch-cancel": False, "batch-discard": True, "batch-pickup": True}),
        (
            member(Role.AUTHORITY_COORDINATOR, scene.territory),
            {"batch-cancel": False, "batch-discard": False, "batch-pickup": False},
        ),
        (member(Role.EVALUATOR), {"batch-cancel": False, "batch-discard": False, "batch-pickup": False}),
    ]
    for user, shown in cases:
        client.force_login(user)
        body = page(client, url("batch-detail", batch))
        for route, expected in shown.items():
            assert (f'"{url(route, batch)}"' in body) is expected, (user, route)


def test_batch_page_of_a_picked_up_batch_offers_the_distribution(client, scene):
    batch = ready_batch(scene)
    pickup = scene.pickup(batch)
    client.force_login(scene.volunteer)
    body = page(client, url("batch-detail", batch))
    assert f'href="{url("distribution-create", pickup)}"' in body
    assert f'"{url("batch-pickup", batch)}"' not in body
    assert f'"{url("batch-cancel", batch)}"' not in body


def test_the_kitchen_cancels_a_batch_with_its_reason(client, scene):
    batch = ready_batch(scene)
    client.force_login(scene.kitchen_user)
    assert client.get(url("batch-cancel", batch)).status_code == 405
    response = client.post(url("batch-cancel", batch), {"reason": ""})
    assert response.status_code == 200
    assert "Indiquez le motif de l'annulation." in html.unescape(response.content.decode())
    batch.refresh_from_db()
    assert batch.status == Batch.Status.READY

    response = client.post(
        url("batch-cancel", batch), {"reason": "Commande annulée par l'école"}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("batch-detail", batch)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED
    assert batch.discard_reason == "Commande annulée par l'école"
    assert "Lot annulé." in html.unescape(response.content.decode())


def test_a_volunteer_cannot_cancel_and_a_picked_up_batch_cannot_be_cancelled(client, scene):
    batch = ready_batch(scene)
    client.force_login(scene.volunteer)
    assert client.post(url("batch-cancel", batch), {"reason": "Non"}).status_code == 403
    scene.pickup(batch)
    client.force_login(scene.kitchen_user)
    response = client.post(url("batch-cancel", batch), {"reason": "Trop tard"}, follow=True)
    assert "Ce lot est déjà « Collecté »" in html.unescape(response.content.decode())
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PICKED_UP


def test_the_association_discards_a_picked_up_batch(client, scene):
    batch = ready_batch(scene)
    scene.pickup(batch)
    client.force_login(scene.volunteer)
    response = client.post(url("batch-discard", batch), {"reason": ""})
    assert "Indiquez le motif de l'écart." in html.unescape(response.content.decode())
    client.post(url("batch-discard", batch), {"reason": "Rupture de la chaîne du froid"})
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DISCARDED
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    assert client.post(url("batch-discard", batch), {"reason": "x"}).status_code == 403


def test_a_cancelled_batch_cannot_be_discarded_and_another_kitchen_cannot_cancel(client, scene):
    batch = ready_batch(scene)
    client.force_login(member(Role.KITCHEN_MANAGER, scene.territory))  # another kitchen, same territory
    assert client.post(url("batch-cancel", batch), {"reason": "Pas à nous"}).status_code == 403
    services.batch_cancel(batch=batch, by=scene.kitchen_user, reason="Sortie annulée")
    client.force_login(scene.kitchen_user)
    response = client.post(url("batch-discard", batch), {"reason": "Trop tard"})
    assert response.status_code == 200
    assert "Ce lot a été annulé." in html.unescape(response.content.decode())
    batch.refresh_from_db()
    assert (batch.status, batch.discard_reason) == (Batch.Status.CANCELLED, "Sortie annulée")


def test_batch_page_shows_the_history_with_who_changed_what(client, scene):
    batch = ready_batch(scene)
    editor = UserFactory(username="chef.martin")
    from territories.models import Membership

    Membership.objects.create(
        user=editor, role=Role.KITCHEN_MANAGER, territory=scene.territory, kitchen=scene.partnership.kitchen
    )
    services.batch_update(batch=batch, by=editor, meals_count=140, allergens=["milk", "eggs"])
    scene.pickup(Batch.objects.get(pk=batch.pk), meals_received=140)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    body = page(client, url("batch-detail", batch))
    history = body.split('id="titre-historique"', 1)[1]
    assert "chef.martin" in history
    assert scene.kitchen_user.username in history
    assert scene.volunteer.username in history
    assert "Nombre de repas : 150 → 140" in history
    assert "Allergènes : Lait → Lait, Œufs" in history
    assert "Statut : Prêt à collecter → Collecté" in history
    assert "Collecte — création" in history
    # Oldest first: the declaration, the edit, then the pickup.
    assert history.index(scene.kitchen_user.username) < history.index("chef.martin")
    assert history.index("chef.martin") < history.index("Collecte — création")


def test_batch_page_answers_404_outside_the_territory(client, scene):
    batch = ready_batch(scene)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, KitchenFactory().territory))
    assert client.get(url("batch-detail", batch)).status_code == 404


# The flow of the week


def test_flow_week_shows_totals_and_alerts(client, scene):
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    assert "Aucune alerte cette semaine." in page(client, url("flow-week"))

    late = ready_batch(scene, lot_number="EN-RETARD", use_by_date=today(), meals_count=30)
    on_time = ready_batch(scene, lot_number="A-L-HEURE", meals_count=20)
    ready_batch(
        scene,
        lot_number="CHAUD-AU-DEPART",
        meals_count=10,
        dispatch_temperature_c=Decimal("7"),
        discard_reason="Panne",
    )
    warm_on_receipt = ready_batch(scene, lot_number="TIEDE-A-RECEPTION", meals_count=50)
    scene.pickup(warm_on_receipt, temperature_c=Decimal("8.5"), discard_reason="Glacières chaudes")
    served = ready_batch(scene, lot_number="SERVI", meals_count=40)
    pickup = scene.pickup(served)
    services.distribution_record(
        pickup=pickup,
        by=scene.volunteer,
        site=scene.site,
        distributed_on=today(),
        meals_distributed=38,
        beneficiaries=35,
        meals_discarded=2,
        discard_reason="Abîmés",
        temperature_c=Decimal("2.5"),
    )

    response = client.get(url("flow-week"))
    body = html.unescape(response.content.decode())
    alerts = body.split('id="titre-alertes"', 1)[1].split('id="titre-lots"', 1)[0]
    late_block = alerts.split("Lots non collectés à temps", 1)[1].split("Ruptures", 1)[0]
    assert late.lot_number in late_block
    assert on_time.lot_number not in late_block
    breach_block = alerts.split("Ruptures de la chaîne du froid ou du chaud", 1)[1]
    assert "CHAUD-AU-DEPART" in breach_block and "7,0 °C au départ" in breach_block
    assert "TIEDE-A-RECEPTION" in breach_block and "8,5 °C à réception" in breach_block
    assert "SERVI" not in breach_block

    totals = response.context["totals"]
    assert totals.batches == 5
    assert totals.produced == 30 + 20 + 10 + 50 + 40
    assert totals.received == 50 + 40
    assert totals.distributed == 38
    assert totals.discarded == 10 + 50 + 2
    assert totals.beneficiaries == 35


def test_late_batches_are_those_whose_use_by_date_falls_in_the_week(client, scene):
    last_week = today() - 7 * DAY
    expired = scene.past_batch(production_date=last_week - DAY, use_by_date=last_week, lot_number="PERIME")
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    assert "PERIME" not in page(client, url("flow-week")).split('id="titre-lots"')[0]
    body = page(client, url("flow-week"), semaine=week_param(last_week))
    assert expired.lot_number in body.split("Lots non collectés à temps", 1)[1]


def test_evaluators_filter_the_flow_by_territory(client, scene):
    batch = ready_batch(scene)
    other = KitchenFactory(name="Cuisine d'ailleurs").territory
    client.force_login(member(Role.EVALUATOR))
    assert batch.lot_number in page(client, url("flow-week"))
    body = page(client, url("flow-week"), territory=other.pk, semaine=week_param(today()))
    assert batch.lot_number not in body
    assert 'name="territory"' in body
    assert batch.lot_number in page(client, url("flow-week"), territory=scene.territory.pk)


# Query counts


def count_queries(client, address: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return len(queries)


def make_batches(scene, number):
    for index in range(number):
        batch = ready_batch(scene)
        if index % 2:
            pickup = scene.pickup(batch)
            services.distribution_record(
                pickup=pickup,
                by=scene.volunteer,
                site=scene.site,
                distributed_on=today(),
                meals_distributed=100,
                beneficiaries=90,
                temperature_c=Decimal("2.5"),
            )


@pytest.mark.parametrize(
    ("route", "role"),
    [
        ("batch-week", Role.KITCHEN_MANAGER),
        ("batch-week", Role.EVALUATOR),
        ("pickup-todo", Role.VOLUNTEER),
        ("flow-week", Role.AUTHORITY_COORDINATOR),
        ("flow-week", Role.EVALUATOR),
    ],
)
def test_list_queries_do_not_grow_with_rows(client, scene, route, role):
    users = {
        Role.KITCHEN_MANAGER: scene.kitchen_user,
        Role.VOLUNTEER: scene.volunteer,
        Role.AUTHORITY_COORDINATOR: member(Role.AUTHORITY_COORDINATOR, scene.territory),
        Role.EVALUATOR: member(Role.EVALUATOR),
    }
    client.force_login(users[role])
    make_batches(scene, 2)
    few = count_queries(client, url(route))
    make_batches(scene, 18)
    assert Batch.objects.count() == 20
    assert count_queries(client, url(route)) == few


def test_the_pages_speak_english_too(client, scene):
    client.force_login(scene.kitchen_user)
    client.cookies["django_language"] = "en"
    body = page(client, url("batch-create"))
    assert '<html lang="en">' in body
    assert "Declare a batch" in body
    response = client.post(url("batch-create"), batch_form(scene, dispatch_temperature_c="6,5"))
    assert "+3 °C or below" in html.unescape(response.content.decode())
