"""« Mes lots »: what became of each batch of the kitchen manager's kitchen in the week, and the
week's totals, by value on a week built by hand; the « Périmé » mark at its boundary."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meals import selectors, services
from meals.models import Batch
from territories.roles import Role
from tests.factories import PartnershipFactory, member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
URL = reverse("kitchen-batches")


def today() -> datetime.date:
    return timezone.localdate()


def week_param(day: datetime.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def body(client, url: str = URL, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def row_of(page: str, lot: str) -> str:
    """The table row of the lot ``lot``."""
    start = page.index(f">{lot}</a>")
    return page[start : page.index("</tr>", start)]


@pytest.fixture
def week(client):
    """Five batches of the kitchen this week, each at another step, and one of a neighbour kitchen."""
    scene = Scene()
    a = scene.batch(lot_number="L-A", meals_count=100)
    pickup_a = scene.pickup(a)
    services.distribution_record(
        pickup=pickup_a,
        by=scene.volunteer,
        site=scene.site,
        distributed_on=today(),
        meals_distributed=90,
        beneficiaries=80,
        meals_discarded=10,
        discard_reason="Barquettes abîmées",
        temperature_c=Decimal("2.0"),
    )
    b = scene.batch(lot_number="L-B", meals_count=50)
    scene.pickup(b, meals_received=40, shortfall_reason="counting_error")
    scene.batch(lot_number="L-C", meals_count=60)  # ready
    d = scene.batch(lot_number="L-D", meals_count=30)
    services.batch_cancel(batch=d, by=scene.kitchen_user, reason="Commande annulée")
    e = scene.batch(lot_number="L-E", meals_count=20)
    scene.pickup(e)
    services.batch_recall(batch=e, by=scene.kitchen_user, reason="Rappel du fournisseur")
    # Another kitchen of the territory, same association: not the manager's.
    neighbour = PartnershipFactory(territory=scene.territory, association=scene.partnership.association)
    services.batch_create(
        partnership=neighbour,
        by=member(Role.KITCHEN_MANAGER, scene.territory, kitchen=neighbour.kitchen),
        kind="surplus",
        production_date=today(),
        meals_count=50,
        liaison="cold",
        lot_number="L-VOISIN",
        use_by_date=today() + 3 * DAY,
        dispatch_temperature_c=Decimal("2.0"),
        allergens=["milk"],
    )
    client.force_login(scene.kitchen_user)
    return scene


def test_the_weeks_totals_by_value(client, week):
    # Produced: 100 + 50 + 60 + 20 (the cancelled one counts none); received 100 + 40 + 20;
    # distributed 90 to 80 people; 10 set aside at the distribution; one lot recalled.
    batches = selectors.kitchen_batches(week.kitchen_user, start=today(), end=today())
    rows, totals = selectors.flow_of(batches)
    assert [row.batch.lot_number for row in rows] == ["L-A", "L-B", "L-C", "L-D", "L-E"]
    assert (
        totals.batches,
        totals.produced,
        totals.received,
        totals.distributed,
        totals.discarded,
        totals.beneficiaries,
        totals.recalled,
    ) == (5, 230, 160, 90, 10, 80, 1)

    page = body(client)
    totals_block = page[page.index('<dl class="totals">') : page.index("</dl>")]
    figures = [
        ("Lots", 5),
        ("Repas produits", 230),
        ("Repas collectés", 160),
        ("Repas distribués", 90),
        ("Repas écartés", 10),
        ("Personnes servies", 80),
        ("Lots rappelés", 1),
    ]
    for label, value in figures:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in totals_block
    assert "L-VOISIN" not in page


def test_what_became_of_each_batch(client, week):
    page = body(client)
    association = week.partnership.association.name

    a = row_of(page, "L-A")
    assert f"{association}, le " in a
    numbers = [cell.split(">", 1)[1] for cell in a.split('class="numeric"')[1:]]
    assert [n.split("<", 1)[0] for n in numbers] == ["100", "100", "90", "80", "10"]
    assert "10 repas écartés à la distribution : Barquettes abîmées" in a
    assert "Distribué" in a

    b = row_of(page, "L-B")
    assert [n.split(">", 1)[1].split("<", 1)[0] for n in b.split('class="numeric"')[1:]] == [
        "50",
        "40",
        "0",
        "0",
        "0",
    ]
    assert "Collecté" in b

    c = row_of(page, "L-C")
    assert f"Pas encore collecté ({association})" in c
    assert "Prêt à collecter" in c

    assert "Motif de l'annulation : Commande annulée" in row_of(page, "L-D")
    e = row_of(page, "L-E")
    assert "rappelé" in e and "Motif du rappel : Rappel du fournisseur" in e


def test_the_week_navigation_shows_last_weeks_batches_there_only(client, week):
    last_week = today() - 7 * DAY
    week.past_batch(lot_number="L-PASSE", production_date=last_week, meals_count=40)
    assert "L-PASSE" not in body(client)
    earlier = body(client, semaine=week_param(last_week))
    assert "L-PASSE" in earlier and "L-A" not in earlier
    assert "Semaine suivante" in earlier


@pytest.mark.parametrize(("use_by", "expired"), [(0, False), (-1, True)], ids=["use-by-day", "day-after"])
def test_a_ready_batch_past_its_use_by_date_is_marked_expired(client, week, use_by, expired):
    """The use-by day itself is still « Prêt à collecter »; from the day after, « Périmé », in
    "Mes lots", the week's list and the batch's page, and it is no longer offered for pickup."""
    batch = Batch.objects.get(lot_number="L-C")
    Batch.objects.filter(pk=batch.pk).update(
        production_date=today() - 3 * DAY, use_by_date=today() + use_by * DAY
    )
    semaine = week_param(today() - 3 * DAY)
    detail = reverse("batch-detail", kwargs={"pk": batch.pk})
    for page in (
        row_of(body(client, semaine=semaine), "L-C"),
        row_of(body(client, reverse("batch-week"), semaine=semaine), "L-C"),
        body(client, detail).split("</h1>", 1)[0],
    ):
        assert ('<span class="badge badge-expired">Périmé</span>' in page) is expired
        assert ("Prêt à collecter" in page) is not expired
    client.force_login(week.volunteer)
    volunteer_view = body(client, detail)
    assert (reverse("batch-pickup", kwargs={"pk": batch.pk}) in volunteer_view) is not expired


def test_only_kitchen_managers_open_it(client, week):
    for user in (week.volunteer, member(Role.AUTHORITY_COORDINATOR, week.territory), member(Role.FUNDER)):
        client.force_login(user)
        assert client.get(URL).status_code == 403


def test_its_queries_do_not_grow_with_the_batches(client, week):
    with CaptureQueriesContext(connection) as five:
        body(client)
    for number in range(3):
        batch = week.batch(lot_number=f"L-PLUS-{number}", meals_count=10)
        week.pickup(batch)
    with CaptureQueriesContext(connection) as eight:
        assert "L-PLUS-2" in body(client)
    assert len(eight) == len(five)
