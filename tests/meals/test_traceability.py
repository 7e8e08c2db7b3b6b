"""What travels with a batch, the meals accounted for, recalls and the volunteers' hygiene.

Each case is worked out by hand in the test; the PDF is really rendered and read back.
"""

import datetime
import html
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from associations.hygiene import associations_without_training, trained_sites_by, training_cutoff
from associations.models import Association
from costing import rollups
from costing.losses import loss_rate, meals_lost
from costing.selectors import monthly_table
from evaluation.figures import losses_table, volumes_of
from evaluation.indicators import compute_indicators
from meals import services
from meals.imports import import_records
from meals.models import Batch, Distribution, Pickup
from territories.roles import Role
from tests.factories import AssociationFactory, DistributionSiteFactory, TerritoryFactory, member

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
NOT_DECLARED = "Déclarez les allergènes du lot"


def today():
    return timezone.localdate()


def nothing_written():
    return Batch.objects.count() + Batch.history.count() == 0


def payload(scene, **change):
    return scene.batch_payload(**change)


# 5. Allergens declared explicitly: empty is refused, in the API, the form and the import


def test_api_refuses_a_batch_without_allergens_and_writes_nothing(api, scene):
    api.force_authenticate(scene.kitchen_user)
    response = api.post("/api/v1/batches/", payload(scene, allergens=[]), format="json")
    assert response.status_code == 400
    assert NOT_DECLARED in response.json()["allergens"][0]
    assert nothing_written()

    both = api.post(
        "/api/v1/batches/", payload(scene, allergens=["milk"], no_regulated_allergens=True), format="json"
    )
    assert both.status_code == 400
    assert "pas les deux" in both.json()["allergens"][0]
    assert nothing_written()

    none = api.post(
        "/api/v1/batches/", payload(scene, allergens=[], no_regulated_allergens=True), format="json"
    )
    assert none.status_code == 201, none.json()
    assert none.json()["allergens_declared"] is True
    assert Batch.objects.get().no_regulated_allergens is True


def test_form_refuses_a_batch_without_allergens_and_writes_nothing(client, scene):
    client.force_login(scene.kitchen_user)
    data = {
        "partnership": scene.partnership.pk,
        "kind": "surplus",
        "production_date": today().isoformat(),
        "service": "lunch",
        "meals_count": "150",
        "liaison": "cold",
        "lot_number": "L-FORM-1",
        "use_by_date": (today() + 3 * DAY).isoformat(),
        "dispatch_temperature_c": "2,5",
        "components": ["main"],
    }
    response = client.post(reverse("batch-create"), data)
    assert response.status_code == 200
    assert NOT_DECLARED in response.context["form"].errors["allergens"][0]
    assert nothing_written()

    response = client.post(
        reverse("batch-create"),
        {**data, "no_regulated_allergens": "on", "dishes": "Hachis parmentier, salade verte"},
    )
    assert response.status_code == 302
    batch = Batch.objects.get()
    assert (batch.allergens, batch.no_regulated_allergens) == ([], True)
    assert batch.dishes == "Hachis parmentier, salade verte"


def test_import_refuses_a_line_without_allergens_and_writes_nothing(scene):
    importer = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    header = (
        "partnership,kind,production_date,meals_count,liaison,lot_number,use_by_date,dispatch_temperature_c"
        ",allergens"
    )
    day = today() - 2 * DAY
    use_by = today() + DAY

    def line(lot, allergens):
        return f"{scene.partnership.pk},surplus,{day},40,cold,{lot},{use_by},2.0,{allergens}"

    file = io.BytesIO("\n".join([header, line("L-1", "milk"), line("L-2", "")]).encode())
    report = import_records(file=file, territory=scene.territory, by=importer)
    assert not report.ok
    assert [(row, name) for row, name, _ in report.errors] == [(3, "allergens")]
    assert NOT_DECLARED in report.errors[0][2]
    assert nothing_written()

    file = io.BytesIO("\n".join([header, line("L-1", "milk"), line("L-2", "aucun")]).encode())
    report = import_records(file=file, territory=scene.territory, by=importer)
    assert report.ok, report.as_text()
    assert Batch.objects.get(lot_number="L-2").no_regulated_allergens is True


def test_the_pickup_card_and_the_ready_email_carry_what_travels_with_the_batch(
    client, scene, django_capture_on_commit_callbacks
):
    scene.volunteer.email = "benevole@example.org"
    scene.volunteer.save()
    with django_capture_on_commit_callbacks(execute=True):
        batch = scene.batch(
            use_by_date=today() + 2 * DAY,
            allergens=["milk", "gluten"],
            dishes="Lasagnes de légumes",
            portion_type="child",
            portion_grams=250,
            reheating_instructions="Four 180 °C, 25 minutes, 63 °C à cœur",
        )
    assert len(mail.outbox) == 1
    body = mail.outbox[-1].body
    assert "Allergènes : Lait, Céréales contenant du gluten." in body
    assert "Plats : Lasagnes de légumes" in body
    assert "Portions : Enfant, 250 g" in body
    assert "Remise en température : Four 180 °C, 25 minutes, 63 °C à cœur" in body

    client.force_login(scene.volunteer)
    card = html.unescape(client.get(reverse("pickup-todo")).content.decode())
    for text in (
        "Lait, Céréales contenant du gluten",
        "Lasagnes de légumes",
        "Enfant, 250 g",
        "63 °C à cœur",
    ):
        assert text in card
    pickup_page = html.unescape(client.get(reverse("batch-pickup", kwargs={"pk": batch.pk})).content.decode())
    assert "Lasagnes de légumes" in pickup_page
    batch_page = html.unescape(client.get(reverse("batch-detail", kwargs={"pk": batch.pk})).content.decode())
    assert "Enfant, 250 g" in batch_page
    assert reverse("batch-sheet", kwargs={"pk": batch.pk}) in batch_page


def test_a_batch_declared_before_the_rule_shows_its_allergens_as_not_declared(client, scene):
    batch = scene.batch()
    Batch.objects.filter(pk=batch.pk).update(allergens=[])  # as the migration leaves old batches
    client.force_login(scene.volunteer)
    body = html.unescape(client.get(reverse("batch-detail", kwargs={"pk": batch.pk})).content.decode())
    assert "Non déclarés" in body
    batch.refresh_from_db()
    assert batch.allergens_declared is False


# The traceability sheet


def embedded(font) -> bool:
    """Whether a PDF font carries its font file (directly, or in its descendant font)."""
    if "/DescendantFonts" in font:
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font["/FontDescriptor"].get_object()
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_the_sheet_pdf_carries_the_batch_allergens_dishes_temperatures_and_approval(api, scene):
    kitchen = scene.partnership.kitchen
    kitchen.sanitary_approval_number = "FR 93.066.001 CE"
    kitchen.save()
    batch = scene.batch(
        allergens=["eggs", "celery"],
        dishes="Taboulé, poulet basquaise, riz",
        portion_type="adult",
        portion_grams=380,
        reheating_instructions="Micro-ondes 3 minutes",
        dispatch_temperature_c=Decimal("2.5"),
    )
    scene.pickup(batch, temperature_c=Decimal("3.0"))
    api.force_authenticate(scene.volunteer)
    response = api.get(f"/api/v1/batches/{batch.pk}/sheet/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in (
        "FR 93.066.001 CE",
        "Œufs, Céleri",
        "Taboulé, poulet basquaise, riz",
        "Adulte, 380 g",
        "Micro-ondes 3 minutes",
        "2,5 °C" if "2,5 °C" in text else "2.5 °C",
        "3,0 °C" if "3,0 °C" in text else "3.0 °C",
        batch.lot_number,
        scene.partnership.association.name,
    ):
        assert expected in text, expected
    # Fonts embedded, and the same batch gives the same bytes.
    fonts = [font.get_object() for font in reader.pages[0]["/Resources"]["/Font"].values()]
    assert fonts
    assert all(embedded(font) for font in fonts)
    assert api.get(f"/api/v1/batches/{batch.pk}/sheet/").content == response.content

    # The browser button gives the same document; another territory gets a 404.
    api.force_authenticate(member(Role.KITCHEN_MANAGER, TerritoryFactory()))
    assert api.get(f"/api/v1/batches/{batch.pk}/sheet/").status_code == 404


def test_an_exempt_kitchen_prints_its_exemption(client, scene):
    kitchen = scene.partnership.kitchen
    kitchen.sanitary_approval_exempt = True
    kitchen.sanitary_exemption_reason = "Cession de moins de 30 % de la production, à moins de 80 km"
    kitchen.full_clean()
    kitchen.save()
    batch = scene.batch()
    client.force_login(scene.kitchen_user)
    response = client.get(reverse("batch-sheet", kwargs={"pk": batch.pk}))
    assert response.status_code == 200
    text = " ".join(PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert "Dispensée d'agrément sanitaire : Cession de moins de 30 % de la production" in text


# 6. Meals accounted for


def test_a_pickup_short_of_meals_needs_its_reason(api, scene):
    batch = scene.batch(meals_count=100)
    api.force_authenticate(scene.volunteer)
    body = {"meals_received": 99, "temperature_c": "2.0", "transport_mode": "association_vehicle"}
    response = api.post(f"/api/v1/batches/{batch.pk}/pickup/", body, format="json")
    assert response.status_code == 400
    assert "1 repas du lot n'ont pas été reçus" in response.json()["shortfall_reason"][0]
    other = api.post(
        f"/api/v1/batches/{batch.pk}/pickup/", {**body, "shortfall_reason": "other"}, format="json"
    )
    assert other.status_code == 400
    assert "Précisez" in other.json()["shortfall_note"][0]
    assert Pickup.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == Batch.Status.READY

    full = {**body, "meals_received": 100}
    assert api.post(f"/api/v1/batches/{batch.pk}/pickup/", full, format="json").status_code == 201


def test_loss_figures_by_value(scene):
    """The case of docs/indicators.md: a shortfall, a cancelled surplus batch, an expired one and a
    recall. Lost = 6 discarded + 4 short + 30 expired + 25 recalled = 65; distributed 90 + 15 = 105;
    loss rate 65 ÷ 170 = 38.235… → 38.2 %."""
    t = today()
    a = scene.batch(kind="dedicated", meals_count=100, production_date=t - DAY, lot_number="A")
    pickup_a = scene.pickup(
        a, meals_received=96, shortfall_reason="damaged_packaging", picked_up_at=timezone.now() - DAY
    )
    services.distribution_record(
        pickup=pickup_a,
        by=scene.volunteer,
        site=scene.site,
        distributed_on=t - DAY,
        meals_distributed=90,
        beneficiaries=80,
        meals_discarded=6,
        discard_reason="Barquettes ouvertes",
        temperature_c=Decimal("2.5"),
    )
    b = scene.batch(meals_count=50, production_date=t, lot_number="B")
    services.batch_cancel(batch=b, by=scene.kitchen_user, reason="Plus de barquettes")
    c = scene.batch(meals_count=30, production_date=t - 3 * DAY, use_by_date=t, lot_number="C")
    Batch.objects.filter(pk=c.pk).update(use_by_date=t - DAY)  # its use-by date passed uncollected
    d = scene.batch(meals_count=40, production_date=t - DAY, lot_number="D")
    pickup_d = scene.pickup(d, picked_up_at=timezone.now() - DAY)
    services.distribution_record(
        pickup=pickup_d,
        by=scene.volunteer,
        site=scene.site,
        distributed_on=t,
        meals_distributed=15,
        beneficiaries=15,
        temperature_c=Decimal("2.5"),
    )
    services.batch_recall(batch=d, by=scene.kitchen_user, reason="Listeria détectée sur le lot de poulet")
    d.refresh_from_db()
    assert d.meals_recalled == 25  # 40 received - 15 distributed

    rollups.rebuild(territory_ids=[scene.territory.pk], since=t - 7 * DAY, until=t)
    result = compute_indicators(territory_ids=[scene.territory.pk], start=t - 7 * DAY, end=t)
    values = {indicator.code: indicator.value for indicator in result.indicators}
    assert values["meals_distributed"] == 105
    assert values["meals_discarded"] == 6
    assert values["meals_short"] == 4
    assert values["meals_lost"] == 65
    assert values["loss_rate"] == Decimal("38.2")
    assert values["batches_recalled"] == 1
    assert values["batches_expired"] == 1
    # Donated surplus: D only (40); the cancelled B (50) and the expired C (30) were not given.
    assert values["surplus_meals"] == 40
    assert values["dedicated_meals"] == 100

    # The dashboard and report figures read the same definition.
    monthly = monthly_table(territory_ids=[scene.territory.pk], start=t - 7 * DAY, end=t)
    volumes = volumes_of(monthly)
    assert (volumes["meals_lost"], volumes["loss_rate"]) == (65, "38.2")
    rows = losses_table(monthly)["rows"]
    assert sum(row["meals_lost"] for row in rows) == 65
    assert sum(row["batches_recalled"] for row in rows) == 1
    parts = {"meals_discarded": 6, "meals_short": 4, "meals_expired": 30, "meals_recalled": 25}
    assert (meals_lost(parts), loss_rate({**parts, "meals_distributed": 105})) == (65, Decimal("38.2"))


# 8. Recall


def test_a_recall_emails_the_association_and_shows_every_distribution(
    api, client, scene, django_capture_on_commit_callbacks
):
    scene.volunteer.email = "benevole@example.org"
    scene.volunteer.save()
    batch = scene.batch(meals_count=60)
    pickup = scene.pickup(batch)
    services.distribution_record(
        pickup=pickup,
        by=scene.volunteer,
        site=scene.site,
        distributed_on=today(),
        meals_distributed=20,
        beneficiaries=18,
        temperature_c=Decimal("2.5"),
    )
    mail.outbox.clear()
    # A volunteer may not recall: 403; another territory's manager: 404.
    api.force_authenticate(scene.volunteer)
    assert api.post(f"/api/v1/batches/{batch.pk}/recall/", {"reason": "x"}, format="json").status_code == 403
    api.force_authenticate(member(Role.KITCHEN_MANAGER, TerritoryFactory()))
    assert api.post(f"/api/v1/batches/{batch.pk}/recall/", {"reason": "x"}, format="json").status_code == 404
    api.force_authenticate(scene.kitchen_user)
    missing = api.post(f"/api/v1/batches/{batch.pk}/recall/", {"reason": " "}, format="json")
    assert missing.status_code == 400
    assert "motif du rappel" in missing.json()["reason"][0]
    batch.refresh_from_db()
    assert batch.recalled_at is None
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v1/batches/{batch.pk}/recall/",
            {"reason": "Rupture de la chaîne du froid chez le fournisseur"},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert response.json()["meals_recalled"] == 40  # 60 received - 20 distributed
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["benevole@example.org"]
    assert f"RAPPEL du lot {batch.lot_number}" in message.subject
    assert "Motif du rappel : Rupture de la chaîne du froid chez le fournisseur" in message.body
    assert f"- {scene.site.name}, le {today():%d/%m/%Y} : 20 repas" in message.body

    again = api.post(f"/api/v1/batches/{batch.pk}/recall/", {"reason": "encore"}, format="json")
    assert again.status_code == 409

    # The batch page shows the recall and every distribution; no more distribution of the lot.
    client.force_login(scene.volunteer)
    body = html.unescape(client.get(reverse("batch-detail", kwargs={"pk": batch.pk})).content.decode())
    assert "Lot rappelé le" in body
    assert scene.site.name in body
    assert reverse("distribution-create", kwargs={"pk": pickup.pk}) not in body
    with pytest.raises(ValidationError, match="rappelé"):
        services.distribution_record(
            pickup=pickup,
            by=scene.volunteer,
            site=scene.site,
            distributed_on=today(),
            meals_distributed=1,
            beneficiaries=1,
            temperature_c=Decimal("2.5"),
        )
    assert Distribution.objects.count() == 1


def test_the_authority_recalls_a_ready_lot_from_the_batch_page(client, scene):
    batch = scene.batch()
    coordinator = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    client.force_login(coordinator)
    body = html.unescape(client.get(reverse("batch-detail", kwargs={"pk": batch.pk})).content.decode())
    assert reverse("batch-recall", kwargs={"pk": batch.pk}) in body
    empty = client.post(reverse("batch-recall", kwargs={"pk": batch.pk}), {"reason": ""})
    assert empty.status_code == 200
    assert "Indiquez le motif du rappel." in html.unescape(empty.content.decode())
    batch.refresh_from_db()
    assert batch.recalled_at is None
    response = client.post(
        reverse("batch-recall", kwargs={"pk": batch.pk}), {"reason": "Corps étranger signalé"}
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    # A lot recalled before its pickup is cancelled: nobody may collect it, all its meals are lost.
    assert (batch.status, batch.meals_recalled, batch.recall_reason) == (
        Batch.Status.CANCELLED,
        batch.meals_count,
        "Corps étranger signalé",
    )
    # A volunteer sees no recall button.
    client.force_login(scene.volunteer)
    other = scene.batch(lot_number="L-2")
    body = html.unescape(client.get(reverse("batch-detail", kwargs={"pk": other.pk})).content.decode())
    assert reverse("batch-recall", kwargs={"pk": other.pk}) not in body


def test_the_flow_of_the_week_shows_a_recalled_lot_with_its_reason_and_counts_it(client, scene):
    """Two lots of the week, one picked up then recalled, one not recalled (and a ready lot
    recalled, hence cancelled, still counts): the week shows 2 lots recalled of 3."""
    t = today()
    kept = scene.batch(production_date=t, lot_number="GARDE-1")
    recalled = scene.batch(production_date=t, lot_number="RAPPEL-1")
    scene.pickup(recalled)
    services.batch_recall(batch=recalled, by=scene.kitchen_user, reason="Listeria sur le poulet")
    ready = scene.batch(production_date=t, lot_number="RAPPEL-2")
    services.batch_recall(batch=ready, by=scene.kitchen_user, reason="Corps étranger signalé")
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    body = html.unescape(client.get(reverse("flow-week")).content.decode())

    totals = body.split('id="titre-totaux"', 1)[1].split('id="titre-alertes"', 1)[0]
    assert "<dt>Lots rappelés</dt><dd>2</dd>" in totals
    alerts = body.split('id="titre-alertes"', 1)[1].split('id="titre-lots"', 1)[0]
    block = alerts.split("<h3>Lots rappelés</h3>", 1)[1].split("</div>", 1)[0]
    assert "RAPPEL-1" in block and "Listeria sur le poulet" in block
    assert "RAPPEL-2" in block and "Corps étranger signalé" in block
    assert kept.lot_number not in block
    table = body.split('id="titre-lots"', 1)[1]
    rows = {row.split("</a>", 1)[0].rsplit(">", 1)[1]: row for row in table.split("<tr>")[2:]}
    assert "rappelé" in rows["RAPPEL-1"] and "Motif du rappel : Listeria sur le poulet" in rows["RAPPEL-1"]
    assert "rappelé" not in rows["GARDE-1"]


# 9. Volunteers' hygiene: a training is valid three years, to the day


def test_the_three_year_training_boundary(client, scene):
    on = datetime.date(2026, 12, 6)
    assert training_cutoff(on) == datetime.date(2023, 12, 6)
    assert training_cutoff(datetime.date(2028, 2, 29)) == datetime.date(2025, 2, 28)
    territory = scene.territory
    exactly = AssociationFactory(
        territory=territory, name="Exactement trois ans", hygiene_training_on=datetime.date(2023, 12, 6)
    )
    one_day_past = AssociationFactory(
        territory=territory, name="Trois ans et un jour", hygiene_training_on=datetime.date(2023, 12, 5)
    )
    never = scene.partnership.association  # no training recorded
    untrained = associations_without_training(Association.objects.filter(territory=territory), on)
    assert set(untrained) == {one_day_past, never}
    assert exactly not in untrained

    # Sites: scene.site (never trained), one of "exactly", two of "one day past": 1 of 4 trained.
    DistributionSiteFactory(association=exactly)
    DistributionSiteFactory(association=one_day_past)
    DistributionSiteFactory(association=one_day_past)
    assert trained_sites_by(territory_ids=[territory.pk], on=on) == {territory.pk: (1, 4)}
    share = compute_indicators(territory_ids=[territory.pk], start=on - 30 * DAY, end=on).get(
        "trained_referent_sites_share"
    )
    assert share.value == Decimal("25.0")


def test_the_authority_page_lists_the_associations_without_a_valid_training(client, scene):
    on = today()
    AssociationFactory(territory=scene.territory, name="Formée", hygiene_training_on=on - 30 * DAY)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, scene.territory))
    body = html.unescape(
        client.get(reverse("territory-detail", kwargs={"pk": scene.territory.pk})).content.decode()
    )
    section = body.split('id="titre-hygiene"', 1)[1].split("</section>", 1)[0]
    assert scene.partnership.association.name in section
    assert "aucune formation enregistrée" in section
    assert "Formée" not in section
