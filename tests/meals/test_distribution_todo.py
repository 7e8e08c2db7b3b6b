"""« À distribuer »: the association's collected batches with meals left, the soonest use-by date
first, and a distribution recorded from there with the prefilled form; the labels say what is
required when."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from meals import selectors, services
from meals.models import Batch, Distribution
from territories.roles import Role
from tests.factories import AssociationFactory, DistributionSiteFactory, PartnershipFactory, member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def today() -> datetime.date:
    return timezone.localdate()


def page(client, route: str) -> str:
    response = client.get(reverse(route))
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def distribute(scene: Scene, pickup, meals: int, *, discarded: int = 0):
    return services.distribution_record(
        pickup=pickup,
        by=scene.volunteer,
        site=scene.site,
        distributed_on=today(),
        meals_distributed=meals,
        beneficiaries=meals,
        meals_discarded=discarded,
        discard_reason="Barquettes abîmées" if discarded else "",
        temperature_c=Decimal("2.0"),
    )


@pytest.fixture
def scene():
    return Scene()


def test_only_the_users_association_and_only_meals_left_soonest_use_by_first(scene):
    # Three pickups of 100 meals, use-by in 3, 1 and 2 days (a surplus leaves 48 hours at least:
    # the soonest is dedicated meals).
    late = scene.pickup(scene.batch(meals_count=100, use_by_date=today() + 3 * DAY))
    soon = scene.pickup(scene.batch(kind="dedicated", meals_count=100, use_by_date=today() + DAY))
    middle = scene.pickup(scene.batch(meals_count=100, use_by_date=today() + 2 * DAY))
    distribute(scene, middle, 60)  # 40 left: still listed
    # Fully handed out (60 + 40 set aside): not listed.
    done = scene.pickup(scene.batch(meals_count=100, use_by_date=today() + 2 * DAY))
    distribute(scene, done, 60, discarded=40)
    # Set aside as a whole, recalled: nothing left to hand out.
    discarded = scene.pickup(scene.batch(meals_count=100))
    services.batch_discard(batch=discarded.batch, by=scene.volunteer, reason="Panne du frigo")
    recalled = scene.pickup(scene.batch(meals_count=100))
    services.batch_recall(batch=recalled.batch, by=scene.kitchen_user, reason="Rappel du fournisseur")
    # Ready, not collected: it is "À collecter", not here.
    scene.batch(meals_count=100)
    # Another association of the same territory, and another territory.
    neighbour = PartnershipFactory(
        territory=scene.territory,
        kitchen=scene.partnership.kitchen,
        association=AssociationFactory(territory=scene.territory),
    )
    neighbour_volunteer = member(Role.VOLUNTEER, scene.territory, association=neighbour.association)
    neighbours = services.pickup_confirm(
        batch=scene.batch(partnership=neighbour, meals_count=100),
        by=neighbour_volunteer,
        meals_received=100,
        temperature_c=Decimal("2.0"),
        transport_mode="association_vehicle",
    )
    elsewhere = Scene()
    elsewhere.pickup(elsewhere.batch(meals_count=100))

    listed = list(selectors.pickups_to_distribute(scene.volunteer))
    assert [pickup.pk for pickup in listed] == [soon.pk, middle.pk, late.pk]
    assert [pickup.meals_left for pickup in listed] == [100, 40, 100]
    assert [(pickup.meals_distributed, pickup.meals_set_aside) for pickup in listed] == [
        (0, 0),
        (60, 0),
        (0, 0),
    ]
    assert [pickup.pk for pickup in selectors.pickups_to_distribute(neighbour_volunteer)] == [neighbours.pk]


def test_the_same_use_by_date_lists_the_oldest_pickup_first(scene):
    first = scene.pickup(scene.batch(use_by_date=today() + 3 * DAY))
    second = scene.pickup(scene.batch(use_by_date=today() + 3 * DAY))
    assert [pickup.pk for pickup in selectors.pickups_to_distribute(scene.volunteer)] == [first.pk, second.pk]


def test_the_page_shows_each_batch_with_its_button_and_leaves_when_all_is_handed_out(client, scene):
    pickup = scene.pickup(scene.batch(meals_count=100, lot_number="L-RESTE"))
    distribute(scene, pickup, 60)
    client.force_login(scene.volunteer)
    body = page(client, "distribution-todo")
    assert "<h1>À distribuer</h1>" in body
    assert "40 repas à distribuer" in body
    assert "60 distribués" in body
    button = reverse("distribution-create", kwargs={"pk": pickup.pk})
    assert f'<a class="button button-large" href="{button}">Enregistrer une distribution' in body
    distribute(scene, pickup, 40)
    body = page(client, "distribution-todo")
    assert button not in body
    assert "Aucun repas à distribuer" in body


@pytest.mark.parametrize(
    ("use_by", "mark"),
    [(0, "aujourd'hui"), (-1, "Périmé")],
    ids=["use-by-day-itself", "the-day-after"],
)
def test_a_batch_past_its_use_by_date_is_marked_expired(client, scene, use_by, mark):
    pickup = scene.pickup(scene.batch(meals_count=100))
    # The batch's dates moved back, as if produced three days ago.
    Batch.objects.filter(pk=pickup.batch_id).update(
        production_date=today() - 3 * DAY, use_by_date=today() + use_by * DAY
    )
    client.force_login(scene.volunteer)
    card = page(client, "distribution-todo").split('<li class="card', 1)[1]
    badge = "badge-urgent" if mark == "aujourd'hui" else "badge-expired"
    assert f'<strong class="badge {badge}">{mark}</strong>' in card
    other = "Périmé" if mark == "aujourd'hui" else "aujourd'hui"
    assert other not in card


@pytest.mark.parametrize(
    "role", [Role.KITCHEN_MANAGER, Role.AUTHORITY_COORDINATOR, Role.EVALUATOR, Role.FUNDER]
)
def test_roles_that_do_not_distribute_get_403(client, scene, role):
    user = (
        scene.kitchen_user
        if role == Role.KITCHEN_MANAGER
        else member(role, scene.territory if role == Role.AUTHORITY_COORDINATOR else None)
    )
    client.force_login(user)
    assert client.get(reverse("distribution-todo")).status_code == 403


def test_a_distribution_in_two_taps_and_one_number(client, scene):
    """Hot liaison, one site: the button (tap one), the people served (the number), the submit
    (tap two). Everything else the form sends is what it was prefilled with."""
    kitchen = scene.partnership.kitchen
    kitchen.does_hot_liaison = True
    kitchen.save()
    pickup = scene.pickup(
        scene.batch(
            kind="dedicated",
            meals_count=80,
            liaison="hot",
            dispatch_temperature_c=Decimal("65.0"),
            use_by_date=today(),
        ),
        temperature_c=Decimal("64.0"),
    )
    client.force_login(scene.volunteer)
    todo = page(client, "distribution-todo")
    form_url = reverse("distribution-create", kwargs={"pk": pickup.pk})
    assert form_url in todo
    form = client.get(form_url).context["form"]
    sent = {name: form[name].value() for name in form.fields}
    sent = {name: "" if value is None else value for name, value in sent.items()}
    assert (sent["site"], sent["distributed_on"], sent["meals_distributed"]) == (scene.site.pk, today(), 80)
    sent["beneficiaries"] = "75"
    sent = {name: value for name, value in sent.items() if value is not False}
    response = client.post(form_url, sent)
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == reverse("distribution-todo")
    distribution = Distribution.objects.get()
    assert (distribution.meals_distributed, distribution.beneficiaries, distribution.site_id) == (
        80,
        75,
        scene.site.pk,
    )
    assert distribution.distributed_on == today()


def test_with_two_sites_the_site_is_asked_first(client, scene):
    DistributionSiteFactory(association=scene.partnership.association, name="Second local")
    pickup = scene.pickup(scene.batch())
    client.force_login(scene.volunteer)
    response = client.get(reverse("distribution-create", kwargs={"pk": pickup.pk}))
    body = html.unescape(response.content.decode())
    assert response.context["form"]["site"].value() is None
    # The site's choice comes before the people served, outside the folded details.
    assert (
        body.index("Lieu de distribution")
        < body.index("Personnes servies")
        < body.index('id="details-distribution"')
    )


def test_labels_say_what_is_required_when(client, scene):
    ready = scene.batch()
    client.force_login(scene.volunteer)
    pickup_form = html.unescape(client.get(reverse("batch-pickup", kwargs={"pk": ready.pk})).content.decode())
    when = "(obligatoire si la température est hors limites)"
    assert f'Motif de l\'écart <span class="required-when">{when}</span>' in pickup_form
    assert 'Motif de l\'écart <span class="optional">' not in pickup_form
    assert "(obligatoire si vous recevez moins de repas que le lot n'en compte)" in pickup_form
    assert "(obligatoire pour le motif « Autre »)" in pickup_form
    # Truly optional fields keep their mark.
    assert 'Distance (km) <span class="optional">(facultatif)</span>' in pickup_form

    pickup = scene.pickup(scene.batch())
    distribution_form = html.unescape(
        client.get(reverse("distribution-create", kwargs={"pk": pickup.pk})).content.decode()
    )
    when = "(obligatoire, sauf repas consommés dès réception)"
    assert (
        f'Température à la distribution (°C) <span class="required-when">{when}</span>' in distribution_form
    )
    assert (
        'Motif de l\'écart <span class="required-when">(obligatoire si des repas sont écartés)</span>'
        in distribution_form
    )
    assert 'Foyers <span class="optional">(facultatif)</span>' in distribution_form
