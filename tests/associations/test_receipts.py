"""Donation receipts (art. 238 bis CGI): valuation at cost price on a hand-computed example,
numbering, immutability, the PDF's mentions, and who issues and who downloads."""

import datetime
import io
import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone
from pypdf import PdfReader

from associations.models import DonationReceipt, ReceiptSequence
from associations.receipts.services import receipt_issue
from costing.models import KitchenCostInput
from kitchens.models import Kitchen
from territories.roles import Role
from tests.conftest import needs_postgresql
from tests.factories import KitchenFactory, PartnershipFactory, UserFactory, member
from tests.scenes import Scene

DAY = datetime.timedelta(days=1)


def received(scene, day, meals, kind="surplus", lot=None):
    """A batch of the day picked up at 14:00 with every meal received."""
    batch = scene.batch(
        kind=kind,
        production_date=day,
        use_by_date=day + 3 * DAY,
        meals_count=meals,
        lot_number=lot or f"L{day}{kind}",
        declared_on=day,  # a batch of the past, declared on its day
    )
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(14)))
    return scene.pickup(batch, picked_up_at=at)


@pytest.fixture
def world(db):
    """A company-run kitchen that gave surplus in January and February 2025 and supplied paid meals."""
    scene = Scene(starts_on=datetime.date(2024, 9, 1))
    Kitchen.objects.filter(pk=scene.partnership.kitchen_id).update(
        operator_type=Kitchen.OperatorType.PRIVATE,
        operator_name="Restauration Collective Île-de-France SAS",
        operator_legal_form="SAS",
    )
    scene.partnership.kitchen.refresh_from_db()
    kitchen = scene.partnership.kitchen
    for month, food, packaging in ((1, "2.10", "0.30"), (2, "2.00", "0.25")):
        KitchenCostInput.objects.create(
            territory=scene.territory,
            kitchen=kitchen,
            month=datetime.date(2025, month, 1),
            food_cost_per_meal=Decimal(food),
            packaging_per_meal=Decimal(packaging),
        )
    received(scene, datetime.date(2025, 1, 13), 120)
    received(scene, datetime.date(2025, 1, 20), 40)
    received(scene, datetime.date(2025, 2, 10), 100)
    # Paid dedicated meals of January: never on a receipt.
    received(scene, datetime.date(2025, 1, 14), 80, kind="dedicated")
    scene.coordinator = member(
        Role.ASSOCIATION_COORDINATOR, scene.territory, association=scene.partnership.association
    )
    return scene


def issue(scene, **change):
    fields = {
        "association": scene.partnership.association,
        "kitchen": scene.partnership.kitchen,
        "period": "quarter",
        "year": 2025,
        "index": 1,
        "by": scene.coordinator,
        **change,
    }
    return receipt_issue(**fields)


def pdf_text(receipt):
    with receipt.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.mark.django_db
def test_valuation_at_cost_price_worked_out_by_hand(world):
    receipt = issue(world)
    # January: (120 + 40) x (2.10 + 0.30) = 160 x 2.40 = 384.00
    # February: 100 x (2.00 + 0.25) = 225.00; March: nothing. The 80 dedicated meals are paid.
    assert receipt.meals == 260
    assert receipt.amount == Decimal("609.00")
    assert [(line["meals"], line["value"]) for line in receipt.figures["lines"]] == [
        (160, "384.00"),
        (100, "225.00"),
        (0, "0.00"),
    ]
    assert (receipt.year, receipt.number, receipt.reference) == (2025, 1, "2025-0001")
    assert (receipt.period_start, receipt.period_end) == (
        datetime.date(2025, 1, 1),
        datetime.date(2025, 3, 31),
    )


@pytest.mark.django_db
def test_the_pdf_carries_the_mandatory_mentions_and_the_amount(world):
    receipt = issue(world)
    text = pdf_text(receipt)
    for mention in (
        "Reçu n° 2025-0001",
        "238 bis",
        "16216",
        world.partnership.association.name,
        world.partnership.association.rna,
        "Aide alimentaire",
        "Restauration Collective Île-de-France SAS",
        world.partnership.kitchen.siret,
        "du 01/01/2025 au 31/03/2025",
        "Don en nature",
        "260 repas",
        "coût de revient",
        "609,00 €",
        "365,40 €",  # 60 % of 609.00
    ):
        assert mention in text, mention


@pytest.mark.django_db
def test_a_month_without_cost_inputs_stops_the_receipt_and_uses_no_number(world):
    KitchenCostInput.objects.filter(month=datetime.date(2025, 2, 1)).update(packaging_per_meal=None)
    with pytest.raises(Exception, match="02/2025"):
        issue(world)
    with pytest.raises(Exception, match="Aucun repas"):
        issue(world, period="month", index=3)
    assert not DonationReceipt.objects.exists()
    assert issue(world, period="month", index=1).reference == "2025-0001"


@pytest.mark.django_db
def test_a_correction_is_a_new_receipt_cancelling_the_earlier_one(world):
    first = issue(world, period="month", index=1)
    with pytest.raises(Exception, match="couvre déjà"):
        issue(world)  # the quarter overlaps January
    correction = issue(world, cancels=first)
    first.refresh_from_db()
    assert first.status == DonationReceipt.Status.CANCELLED
    assert (first.amount, first.meals) == (Decimal("384.00"), 160)  # its figures untouched
    assert (correction.number, correction.cancels) == (3 - 1, first)
    assert "annule et remplace le reçu n° 2025-0001" in pdf_text(correction)
    with pytest.raises(Exception, match="déjà annulé"):
        issue(world, cancels=first)


@pytest.mark.django_db
def test_only_company_run_kitchens_and_finished_periods(world):
    Kitchen.objects.filter(pk=world.partnership.kitchen_id).update(
        operator_type=Kitchen.OperatorType.PUBLIC_REGIE
    )
    world.partnership.kitchen.refresh_from_db()
    with pytest.raises(Exception, match="238 bis"):
        issue(world)
    Kitchen.objects.filter(pk=world.partnership.kitchen_id).update(operator_type=Kitchen.OperatorType.PRIVATE)
    world.partnership.kitchen.refresh_from_db()
    this_year = timezone.localdate().year
    with pytest.raises(Exception, match="période terminée"):
        issue(world, period="year", year=this_year, index=None)


@pytest.mark.django_db
def test_who_issues_who_downloads_and_nobody_else(api, world):
    url = "/api/v1/donation-receipts/"
    payload = {
        "association": world.partnership.association.pk,
        "kitchen": world.partnership.kitchen.pk,
        "period": "quarter",
        "year": 2025,
        "index": 1,
    }
    territory = world.territory
    others = {
        "volunteer": world.volunteer,
        "authority": member(Role.AUTHORITY_COORDINATOR, territory),
        "other kitchen": member(Role.KITCHEN_MANAGER, territory),
        "other association": member(Role.ASSOCIATION_COORDINATOR, territory),
        "donor kitchen": world.kitchen_user,
    }
    for who, user in others.items():
        api.force_authenticate(user)
        response = api.post(url, payload)
        assert response.status_code == 400, who
        assert "coordinateur de l'association" in response.json()["association"][0], who
    assert not DonationReceipt.objects.exists()

    api.force_authenticate(world.coordinator)
    response = api.post(url, payload)
    assert response.status_code == 201, response.json()
    assert (response.json()["reference"], response.json()["amount"]) == ("2025-0001", "609.00")
    receipt_id = response.json()["id"]

    for who, user, sees in (
        ("coordinator", world.coordinator, True),
        ("donor kitchen", world.kitchen_user, True),
        ("volunteer", world.volunteer, False),
        ("authority", others["authority"], False),
        ("other kitchen", others["other kitchen"], False),
        ("other association", others["other association"], False),
        ("evaluator", member(Role.EVALUATOR), False),
    ):
        api.force_authenticate(user)
        assert api.get(url).json()["count"] == (1 if sees else 0), who
        download = api.get(f"{url}{receipt_id}/download/")
        assert download.status_code == (200 if sees else 404), who
        if sees:
            assert b"".join(download.streaming_content).startswith(b"%PDF-")


@pytest.mark.django_db
def test_an_issued_receipt_cannot_be_changed_through_the_api_or_the_admin(api, client, world):
    receipt = issue(world)
    api.force_authenticate(world.coordinator)
    url = f"/api/v1/donation-receipts/{receipt.pk}/"
    for method in (api.put, api.patch):
        assert method(url, {"amount": "1.00", "meals": 1}).status_code == 405
    assert api.delete(url).status_code == 405

    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    change = f"/admin/associations/donationreceipt/{receipt.pk}/change/"
    assert client.get(change).status_code == 200  # readable
    response = client.post(change, {"amount": "1.00", "meals": "1", "status": "cancelled"})
    assert response.status_code == 403
    assert (
        client.post(f"/admin/associations/donationreceipt/{receipt.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    receipt.refresh_from_db()
    assert (receipt.amount, receipt.meals, receipt.status) == (Decimal("609.00"), 260, "issued")


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_issuing_at_once_get_two_numbers():
    needs_postgresql("row locking of the sequence is what is under test; run on PostgreSQL")
    scene = Scene(starts_on=datetime.date(2024, 9, 1))
    association = scene.partnership.association
    kitchens = [scene.partnership.kitchen, KitchenFactory(territory=scene.territory)]
    coordinators = [
        member(Role.ASSOCIATION_COORDINATOR, scene.territory, association=association) for _ in kitchens
    ]
    Kitchen.objects.filter(pk__in=[k.pk for k in kitchens]).update(operator_type=Kitchen.OperatorType.PRIVATE)
    for kitchen in kitchens:
        kitchen.refresh_from_db()
        partnership = (
            scene.partnership
            if kitchen == kitchens[0]
            else PartnershipFactory(
                territory=scene.territory,
                kitchen=kitchen,
                association=association,
                starts_on=datetime.date(2024, 9, 1),
            )
        )
        KitchenCostInput.objects.create(
            territory=scene.territory,
            kitchen=kitchen,
            month=datetime.date(2025, 1, 1),
            food_cost_per_meal=Decimal("2"),
            packaging_per_meal=Decimal("0.5"),
        )
        manager = member(Role.KITCHEN_MANAGER, scene.territory, kitchen=kitchen)
        from meals import services

        batch = services.batch_create(
            partnership=partnership,
            by=manager,
            kind="surplus",
            production_date=datetime.date(2025, 1, 13),
            meals_count=50,
            liaison="cold",
            lot_number=f"R-{kitchen.pk}",
            use_by_date=datetime.date(2025, 1, 16),
            dispatch_temperature_c=Decimal("2"),
            declared_on=datetime.date(2025, 1, 13),
            allergens=["milk"],
        )
        scene.pickup(batch, picked_up_at=timezone.make_aware(datetime.datetime(2025, 1, 13, 14)))

    # The year's sequence row exists already, as after a first issue of the year: the two issues
    # race on the update of its row, not on its creation.
    ReceiptSequence.objects.create(
        territory=scene.territory, association=association, year=2025, last_number=0
    )
    for round_number in range(3):
        barrier = threading.Barrier(2)
        outcomes: list[object] = []

        def run(kitchen, coordinator, month, barrier, outcomes):
            try:
                barrier.wait()
                outcomes.append(
                    receipt_issue(
                        association=association,
                        kitchen=kitchen,
                        period="month",
                        year=2025,
                        index=month,
                        by=coordinator,
                    )
                )
            except Exception as error:  # the outcome is what the test checks
                outcomes.append(error)
            finally:
                connections.close_all()

        month = 1 if round_number == 0 else None
        threads = [
            threading.Thread(target=run, args=(kitchen, coordinator, month or 1, barrier, outcomes))
            for kitchen, coordinator in zip(kitchens, coordinators, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        if round_number == 0:
            numbers = sorted(outcome.number for outcome in outcomes if isinstance(outcome, DonationReceipt))
            assert numbers == [1, 2], outcomes
        else:
            # Both refused (already issued): no number taken, none reused.
            assert all(not isinstance(outcome, DonationReceipt) for outcome in outcomes), outcomes
    assert ReceiptSequence.objects.get(association=association, year=2025).last_number == 2
    assert sorted(DonationReceipt.objects.values_list("number", flat=True)) == [1, 2]


@pytest.mark.django_db
def test_the_coordinator_issues_on_the_page_and_the_donor_kitchen_downloads(client, world):
    from django.urls import reverse

    client.force_login(world.coordinator)
    url = reverse("donation-receipt-list")
    kitchen = world.partnership.kitchen
    response = client.post(url, {"kitchen": kitchen.pk, "period": "year", "year": timezone.localdate().year})
    assert response.status_code == 200
    assert "période terminée" in response.content.decode()
    assert not DonationReceipt.objects.exists()
    response = client.post(
        url, {"kitchen": kitchen.pk, "period": "quarter", "year": 2025, "index": 1}, follow=True
    )
    receipt = DonationReceipt.objects.get()
    assert "Reçu n° 2025-0001 émis." in response.content.decode()
    assert "609,00" in response.content.decode()

    client.force_login(world.kitchen_user)
    body = client.get(url).content.decode()
    assert "Reçu n° 2025-0001" in body and "Émettre un reçu" not in body
    download = client.get(reverse("donation-receipt-pdf", kwargs={"pk": receipt.pk}))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert (
        client.post(url, {"kitchen": kitchen.pk, "period": "month", "year": 2025, "index": 2}).status_code
        == 403
    )
    client.force_login(world.volunteer)
    assert "2025-0001" not in client.get(url).content.decode()
    assert client.get(reverse("donation-receipt-pdf", kwargs={"pk": receipt.pk})).status_code == 404
