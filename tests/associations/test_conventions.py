"""Two instruments, versions and signatures: no batch on an unsigned or expired convention
(API, form, import), no activation before every party signed, and the split of the former
"both" partnerships keeping every figure."""

import dataclasses
import datetime

import pytest
from django.apps import apps
from django.urls import reverse

from associations.conventions.selectors import convention_missing_signatures
from associations.conventions.services import convention_sign, convention_version_issue
from associations.conventions.takeover import split_both_partnerships, take_over_conventions
from associations.models import ConventionSignature, ConventionVersion, Partnership
from costing.rollups import rebuild
from evaluation.indicators import compute_indicators
from meals.imports import import_records
from meals.models import Batch
from territories.roles import Role
from tests.factories import AuthorityFactory, PartnershipFactory, flow, member
from tests.meals.test_import import FULL_HEADER, csv_file, good_row
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def avenant(scene):
    """Version 2 of the scene's convention, drawn up by the authority and not yet signed."""
    return convention_version_issue(partnership=scene.partnership, by=None)


def form_data(scene, **change):
    today = datetime.date.today()
    return {
        "partnership": scene.partnership.pk,
        "kind": "surplus",
        "production_date": today.isoformat(),
        "service": "lunch",
        "meals_count": 150,
        "liaison": "cold",
        "lot_number": "L-FORM",
        "use_by_date": (today + 3 * DAY).isoformat(),
        "dispatch_temperature_c": "2.5",
        "components": ["main"],
        "allergens": ["milk"],
        **change,
    }


def declare_everywhere(client, api, scene):
    """Tries the API, the form and the import; returns their three refusals (or None)."""
    api.force_authenticate(scene.kitchen_user)
    response = api.post("/api/v1/batches/", scene.batch_payload())
    by_api = response.json().get("partnership", [None])[0] if response.status_code == 400 else None
    client.force_login(scene.kitchen_user)
    response = client.post(reverse("batch-create"), form_data(scene))
    by_form = None
    if response.status_code == 200:
        by_form = response.context["form"].errors.get("partnership", [None])[0]
    day = datetime.date.today() - 2 * DAY
    importer = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    report = import_records(
        file=csv_file(FULL_HEADER, good_row(scene, day, distributed_on=day.isoformat())),
        territory=scene.territory,
        by=importer,
    )
    by_import = next((error.message for error in report.errors if error.field == "partnership"), None)
    return by_api, by_form, by_import


def test_no_batch_on_an_unsigned_version_then_accepted_once_every_party_signed(client, api):
    scene = Scene()
    version = avenant(scene)
    assert version.number == 2
    refusals = declare_everywhere(client, api, scene)
    for refusal in refusals:
        assert refusal is not None and "n'est pas signée par toutes les parties" in refusal
        assert "la cuisine" in refusal and "l'association" in refusal
    assert Batch.objects.count() == 0

    # One party of two signed: still refused (the boundary), naming the one missing.
    convention_sign(version=version, party="kitchen", by=scene.kitchen_user, signer_name="M. Cuisinier")
    by_api, _, _ = declare_everywhere(client, api, scene)
    assert "manquent : l'association" in by_api
    assert Batch.objects.count() == 0

    coordinator = member(
        Role.ASSOCIATION_COORDINATOR, scene.territory, association=scene.partnership.association
    )
    convention_sign(version=version, party="association", by=coordinator, signer_name="Mme Présidente")
    assert declare_everywhere(client, api, scene) == (None, None, None)
    assert Batch.objects.count() == 3


def test_no_batch_on_an_expired_convention(client, api):
    scene = Scene(ends_on=datetime.date.today() - 3 * DAY)
    for refusal in declare_everywhere(client, api, scene):
        assert refusal is not None and "a expiré" in refusal
    assert Batch.objects.count() == 0


def test_no_batch_on_a_partnership_without_any_convention(api):
    scene = Scene(signed=False)
    api.force_authenticate(scene.kitchen_user)
    response = api.post("/api/v1/batches/", scene.batch_payload())
    assert response.status_code == 400
    assert "pas de convention établie" in response.json()["partnership"][0]


def test_a_partnership_becomes_active_only_once_every_party_signed(api):
    authority = AuthorityFactory()
    partnership = PartnershipFactory(
        territory=authority.territory, authority=authority, status=Partnership.Status.DRAFT
    )
    coordinator = member(Role.AUTHORITY_COORDINATOR, authority.territory, authority=authority)
    api.force_authenticate(coordinator)
    url = f"/api/v1/partnerships/{partnership.pk}/"

    response = api.patch(url, {"status": "active"})
    assert response.status_code == 400
    assert "convention établie et signée" in response.json()["status"][0]

    version = convention_version_issue(partnership=partnership, by=coordinator)
    assert version.parties == ["kitchen", "association", "authority"]
    convention_sign(version=version, party="kitchen", by=None, signer_name="A")
    convention_sign(version=version, party="association", by=None, signer_name="B")
    response = api.patch(url, {"status": "active"})
    assert response.status_code == 400
    assert "la collectivité coordinatrice" in response.json()["status"][0]
    assert Partnership.objects.get(pk=partnership.pk).status == Partnership.Status.DRAFT

    convention_sign(version=version, party="authority", by=coordinator, signer_name="Mme la Maire")
    response = api.patch(url, {"status": "active"})
    assert response.status_code == 200, response.json()
    assert Partnership.objects.get(pk=partnership.pk).status == Partnership.Status.ACTIVE


def test_signatures_are_the_parties_own_and_once_per_version():
    scene = Scene()
    version = avenant(scene)
    volunteer = scene.volunteer
    with pytest.raises(Exception, match="ne pouvez pas signer"):
        convention_sign(version=version, party="association", by=volunteer, signer_name="X")
    with pytest.raises(Exception, match="ne pouvez pas signer"):
        convention_sign(version=version, party="association", by=scene.kitchen_user, signer_name="X")
    convention_sign(version=version, party="kitchen", by=scene.kitchen_user, signer_name="X")
    with pytest.raises(Exception, match="déjà signé"):
        convention_sign(version=version, party="kitchen", by=scene.kitchen_user, signer_name="X")
    with pytest.raises(Exception, match="futur"):
        convention_sign(
            version=version,
            party="association",
            by=None,
            signer_name="X",
            signed_on=datetime.date.today() + DAY,
        )
    # The earlier version is kept as it was signed, and can no longer be signed.
    first = ConventionVersion.objects.get(partnership=scene.partnership, number=1)
    assert first.signatures.count() == 2
    with pytest.raises(Exception, match="version en vigueur"):
        convention_sign(version=first, party="kitchen", by=None, signer_name="X")


def test_a_supply_agreement_states_its_price_per_meal():
    partnership = PartnershipFactory(mode=Partnership.Mode.DEDICATED, price_per_meal=None, signed=False)
    with pytest.raises(Exception, match="prix par repas"):
        convention_version_issue(partnership=partnership, by=None)


def indicator_values(territory, start, end):
    indicators = compute_indicators(territory_ids=[territory.pk], start=start, end=end)
    return {item.code: dataclasses.asdict(item) for item in indicators.indicators}


def test_a_both_partnership_becomes_two_instruments_with_the_same_figures():
    scene = Scene()
    partnership = scene.partnership
    on = datetime.date.today() - DAY
    # Recorded when one partnership took both kinds: a surplus flow, then dedicated meals.
    flow(
        partnership,
        kitchen_user=scene.kitchen_user,
        volunteer=scene.volunteer,
        site=scene.site,
        meals=120,
        on=on,
    )
    Partnership.objects.filter(pk=partnership.pk).update(mode="dedicated")
    partnership.refresh_from_db()
    dedicated = scene.batch(
        kind="dedicated", partnership=partnership, production_date=on + DAY, meals_count=80
    )
    scene.pickup(dedicated)
    Partnership.objects.filter(pk=partnership.pk).update(mode="both")
    rebuild(territory_ids=[scene.territory.pk], since=on - DAY, until=datetime.date.today())
    start, end = on - 5 * DAY, datetime.date.today()
    before = indicator_values(scene.territory, start, end)

    pairs = split_both_partnerships(apps)

    assert len(pairs) == 1
    supply = Partnership.objects.get(pk=pairs[0][0])
    donation = Partnership.objects.get(pk=pairs[0][1])
    assert (supply.mode, donation.mode) == ("dedicated", "surplus")
    assert supply.paired_with == donation and donation.paired_with == supply
    assert (donation.kitchen, donation.association, donation.status) == (
        supply.kitchen,
        supply.association,
        supply.status,
    )
    assert list(supply.batches.values_list("kind", "meals_count")) == [("dedicated", 80)]
    assert list(donation.batches.values_list("kind", "meals_count")) == [("surplus", 120)]
    assert supply.planned_meals_per_week + donation.planned_meals_per_week == 500
    after = indicator_values(scene.territory, start, end)
    assert after == before
    # The donation convention takes over a signed version (signed before the platform).
    take_over_conventions(apps)
    assert convention_missing_signatures(donation) == []
    assert set(
        ConventionSignature.objects.filter(version__partnership=donation).values_list("method", flat=True)
    ) == {"prior"}
    # From now on each instrument refuses the other kind.
    with pytest.raises(Exception, match="ne reçoit que des lots"):
        scene.batch(kind="dedicated", partnership=donation)
    with pytest.raises(Exception, match="ne reçoit que des lots"):
        scene.batch(kind="surplus", partnership=supply)


def pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    # A line broken after a hyphen reads back as "HAB- IDF": joined again.
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages).replace("- ", "-")


def test_the_convention_pdf_carries_the_parties_and_clauses_and_an_avenant_keeps_the_earlier(client):
    import datetime as dt

    from kitchens.models import Kitchen

    authority = AuthorityFactory(name="CCAS de Saint-Denis")
    partnership = PartnershipFactory(
        territory=authority.territory, authority=authority, status=Partnership.Status.DRAFT, signed=False
    )
    Kitchen.objects.filter(pk=partnership.kitchen_id).update(
        operator_name="Restauration Collective Île-de-France", operator_legal_form="SAS"
    )
    Partnership.objects.filter(pk=partnership.pk).update(
        pickup_days=["mon", "thu"],
        pickup_window_start=dt.time(14, 0),
        pickup_window_end=dt.time(15, 30),
        termination_notice_days=60,
    )
    partnership.refresh_from_db()
    first = convention_version_issue(partnership=partnership, by=None)
    convention_sign(
        version=first, party="kitchen", by=None, signer_name="M. Martin", signer_title="Directeur"
    )
    coordinator = member(Role.AUTHORITY_COORDINATOR, authority.territory, authority=authority)
    client.force_login(coordinator)
    response = client.get(reverse("convention-version-pdf", kwargs={"pk": first.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    association = partnership.association
    for expected in (
        "Convention de don de denrées alimentaires",
        "Convention initiale",
        "Restauration Collective Île-de-France, SAS",
        f"SIRET {partnership.kitchen.siret}",
        association.name,
        f"RNA {association.rna}",
        f"n° {association.habilitation_number}",
        "CCAS de Saint-Denis",
        "D541-310",
        "Tri et contrôle de la qualité par le donateur",
        "refuser tout ou partie d'un don",
        "lundi, jeudi, entre 14:00 et 15:30",
        "l'association enlève les repas",
        "Chaîne du froid",
        "Transfert de responsabilité",
        "allergènes",
        "date limite de consommation",
        "numéro de lot",
        "48 heures",
        "préavis de 60 jours",
        "Signé le",
        "par M. Martin, Directeur",
        "En attente de signature",
    ):
        assert expected in text, expected

    # An avenant changes the pickup window; version 1 still reads as it was.
    Partnership.objects.filter(pk=partnership.pk).update(
        pickup_window_start=dt.time(16, 0), pickup_window_end=dt.time(17, 0)
    )
    partnership.refresh_from_db()
    second = convention_version_issue(partnership=partnership, by=coordinator)
    second_text = pdf_text(client.get(reverse("convention-version-pdf", kwargs={"pk": second.pk})).content)
    assert "Avenant n° 1" in second_text and "entre 16:00 et 17:00" in second_text
    assert "modifie la version 1, qui reste conservée" in second_text
    first_text = pdf_text(client.get(reverse("convention-version-pdf", kwargs={"pk": first.pk})).content)
    assert "entre 14:00 et 15:30" in first_text and "16:00" not in first_text
    assert "par M. Martin" in first_text
    assert ConventionVersion.objects.filter(partnership=partnership).count() == 2


@pytest.mark.parametrize(
    ("hours", "exception"),
    [(47, True), (48, False)],
)
def test_the_donation_convention_pdf_prints_its_distribution_delay_and_the_48_hour_exception(
    client, hours, exception
):
    """D541-310 1°: at least 48 hours of use-by time at handover, less only when the association
    shows it distributes sooner. 47 hours is the exception, 48 the rule."""
    partnership = PartnershipFactory(status=Partnership.Status.DRAFT, signed=False)
    Partnership.objects.filter(pk=partnership.pk).update(distribution_delay_hours=hours)
    partnership.refresh_from_db()
    version = convention_version_issue(partnership=partnership, by=None)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, partnership.territory))
    text = pdf_text(client.get(reverse("convention-version-pdf", kwargs={"pk": version.pk})).content)
    assert f"L'association distribue les repas reçus dans un délai de {hours} heures" in text
    if exception:
        assert "Exception au délai de 48 heures : par ce délai de 47 heures" in text
        assert "moins de 48 heures mais au moins 47 heures avant cette date" in text
        assert "sans exception" not in text
    else:
        assert "Le délai de 48 heures s'applique sans exception" in text
        assert "Exception au délai" not in text


def test_a_supply_agreement_pdf_prints_its_delay_without_the_donation_rule(client):
    partnership = PartnershipFactory(
        mode=Partnership.Mode.DEDICATED, status=Partnership.Status.DRAFT, signed=False
    )
    Partnership.objects.filter(pk=partnership.pk).update(distribution_delay_hours=24)
    partnership.refresh_from_db()
    version = convention_version_issue(partnership=partnership, by=None)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, partnership.territory))
    text = pdf_text(client.get(reverse("convention-version-pdf", kwargs={"pk": version.pk})).content)
    assert "dans un délai de 24 heures" in text
    assert "Exception au délai" not in text and "sans exception" not in text


@pytest.mark.parametrize("path_id", ["abc", "1.5", "%60%C3%B5"])
def test_signing_a_partnership_whose_id_is_not_a_number_is_404(api, path_id):
    authority = AuthorityFactory()
    coordinator = member(Role.AUTHORITY_COORDINATOR, authority.territory, authority=authority)
    api.force_authenticate(coordinator)
    response = api.post(
        f"/api/v1/partnerships/{path_id}/sign/", {"party": "authority", "signer_name": "A"}, format="json"
    )
    assert response.status_code == 404
