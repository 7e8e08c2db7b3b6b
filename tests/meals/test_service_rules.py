"""Every rule of the meal-flow services (``meals.services``), each at its boundary: the last
value accepted and the first refused, with the field and the French message a user reads, and
nothing written when refused. The limits come from ``meals.food_safety`` (sources there):
+3 °C for cold meals, 63 °C for hot ones, a pickup or distribution up to the use-by day.

``test_food_safety.py`` holds the rules shared with the forms and the import; these are the
services' own, through the service (the API and the browser call it) and, for the refusals that
matter most, through the API.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from associations.conventions.services import convention_sign, convention_version_issue
from associations.models import Association, Partnership
from costing.models import DailyRollup
from meals import services
from meals.models import Batch, Distribution, Pickup
from territories import bounds
from territories.exceptions import Conflict
from territories.roles import Role
from tests.factories import DistributionSiteFactory, KitchenFactory, TerritoryFactory, member
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
PARIS = ZoneInfo("Europe/Paris")


def paris(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), PARIS)


def errors_of(call, **kwargs) -> dict[str, str]:
    """The errors a service raises, one message per field."""
    with pytest.raises(ValidationError) as raised:
        call(**kwargs)
    return {name: " ".join(messages) for name, messages in raised.value.message_dict.items()}


@pytest.fixture
def scene(db):
    return Scene()


@pytest.fixture
def hot_scene(db):
    territory = TerritoryFactory()
    return Scene(territory=territory, kitchen=KitchenFactory(territory=territory, does_hot_liaison=True))


# Declaration


@pytest.mark.parametrize(("temperature", "status"), [("3.0", "ready"), ("3.1", None)])
def test_a_cold_batch_leaves_the_kitchen_at_3_degrees_or_below(scene, temperature, status):
    if status:
        assert scene.batch(dispatch_temperature_c=Decimal(temperature)).status == status
        return
    errors = errors_of(scene.batch, dispatch_temperature_c=Decimal(temperature))
    assert errors == {
        "dispatch_temperature_c": "Un repas en liaison froide doit être à +3 °C ou moins. Hors de ces "
        "limites, les repas ne peuvent être enregistrés que comme écartés, avec le motif."
    }
    assert Batch.objects.count() == 0
    # With the reason, the meals are recorded as discarded, and nobody is asked to collect them.
    discarded = scene.batch(dispatch_temperature_c=Decimal(temperature), discard_reason=" Cellule en panne ")
    assert (discarded.status, discarded.discard_reason) == ("discarded", "Cellule en panne")


@pytest.mark.parametrize(("temperature", "status"), [("63.0", "ready"), ("62.9", None)])
def test_a_hot_batch_leaves_the_kitchen_at_63_degrees_or_above(hot_scene, temperature, status):
    fields = {
        "liaison": "hot",
        "use_by_date": hot_scene.today,
        "dispatch_temperature_c": Decimal(temperature),
    }
    if status:
        assert hot_scene.batch(**fields).status == status
        return
    assert errors_of(hot_scene.batch, **fields) == {
        "dispatch_temperature_c": "Un repas en liaison chaude doit être à 63 °C ou plus. Hors de ces "
        "limites, les repas ne peuvent être enregistrés que comme écartés, avec le motif."
    }
    assert Batch.objects.count() == 0


def test_a_discarded_declaration_keeps_no_reason_when_in_bounds(scene):
    batch = scene.batch(dispatch_temperature_c=Decimal("3.0"), discard_reason="rien à signaler")
    assert (batch.status, batch.discard_reason) == ("ready", "")


def test_the_production_date_is_today_at_the_latest(scene):
    assert scene.batch(production_date=scene.today).production_date == scene.today
    errors = errors_of(scene.batch, production_date=scene.today + DAY)
    assert errors["production_date"] == "La date de production ne peut pas être dans le futur."


def test_the_use_by_date_is_the_production_date_at_the_earliest(scene):
    assert scene.batch(use_by_date=scene.today).use_by_date == scene.today
    errors = errors_of(scene.batch, use_by_date=scene.today - DAY)
    assert errors["use_by_date"] == "La date limite de consommation précède la date de production."


@pytest.mark.parametrize(("count", "error"), [(1, None), (0, "Le nombre de repas doit être positif.")])
def test_a_batch_holds_one_meal_at_least(scene, count, error):
    if error is None:
        assert scene.batch(meals_count=count).meals_count == 1
    else:
        assert errors_of(scene.batch, meals_count=count)["meals_count"] == error


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "gift"}, "kind", "Type de repas inconnu."),
        ({"service": "brunch"}, "service", "Service inconnu (déjeuner ou dîner)."),
        ({"liaison": "tepid"}, "liaison", "Liaison inconnue (froide ou chaude)."),
        ({"liaison": "hot"}, "liaison", "Cette cuisine ne pratique pas ce type de liaison."),
        ({"components": ["main", "soup"]}, "components", "Composante inconnue."),
        (
            {"allergens": ["milk"], "no_regulated_allergens": True},
            "allergens",
            "Cochez des allergènes ou « aucun des 14 allergènes réglementaires », pas les deux.",
        ),
        (
            {"allergens": [], "no_regulated_allergens": False},
            "allergens",
            "Déclarez les allergènes du lot : un ou plusieurs des 14 allergènes réglementaires, "
            "ou « aucun des 14 allergènes réglementaires ».",
        ),
        (
            {"allergens": ["milk", "unicorn"]},
            "allergens",
            "Allergène inconnu (les 14 allergènes réglementaires sont attendus).",
        ),
        ({"portion_type": "giant"}, "portion_type", "Type de portion inconnu (enfant ou adulte)."),
        (
            {"portion_grams": 250},
            "portion_type",
            "Indiquez le type de portion (enfant ou adulte) de ce poids.",
        ),
        (
            {"portion_type": "adult", "portion_grams": 0},
            "portion_grams",
            "Le poids d'une portion est compris entre 1 et 2000 g.",
        ),
        (
            {"portion_type": "adult", "portion_grams": 2001},
            "portion_grams",
            "Le poids d'une portion est compris entre 1 et 2000 g.",
        ),
        ({"lot_number": "   "}, "lot_number", "Indiquez le numéro de lot."),
        ({"lot_number": "L" * 51}, "lot_number", "Le numéro de lot compte 50 caractères au plus."),
        # Spaces around are trimmed, up to 100 characters typed in all.
        (
            {"lot_number": "L-1" + " " * 98},
            "lot_number",
            "Ce texte compte 100 caractères au plus (il en compte 101).",
        ),
        (
            {"lot_number": "L-\u202e1"},
            "lot_number",
            "Ce texte contient un caractère de contrôle ou d'inversion du sens d'écriture : retirez-le "
            "(copiez le texte à nouveau depuis sa source, ou tapez-le).",
        ),
        (
            {"dispatch_temperature_c": Decimal("-1000")},
            "dispatch_temperature_c",
            "Température invraisemblable.",
        ),
        # Rounds to 1000.0, which a numeric(4,1) column cannot hold.
        (
            {"dispatch_temperature_c": Decimal("999.95")},
            "dispatch_temperature_c",
            "Température invraisemblable.",
        ),
    ],
)
def test_each_field_of_a_declaration_is_checked(scene, change, field, message):
    fields = {"use_by_date": scene.today, **change} if change.get("liaison") == "hot" else change
    assert errors_of(scene.batch, **fields)[field] == message
    assert Batch.objects.count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"portion_type": "adult", "portion_grams": 1},
        {"portion_type": "child", "portion_grams": 2000},
        {"lot_number": "L" * 50},
        {"lot_number": "L-1" + " " * 97},
        {"dispatch_temperature_c": Decimal("-999.9")},
    ],
)
def test_the_last_accepted_values_of_a_declaration(scene, change):
    assert scene.batch(**change).status == "ready"


def test_a_declarations_dates_lie_within_the_window_of_the_bounds(scene):
    """Production at most 10 years back, use-by at most a year ahead (``territories.bounds``),
    on a day fixed for the messages' dates; inside the window, the field's own rules answer."""
    day = datetime.date
    with time_machine.travel(datetime.datetime(2026, 12, 6, 10, tzinfo=datetime.UTC), tick=False):
        too_old = errors_of(scene.batch, production_date=day(2016, 12, 5), use_by_date=day(2016, 12, 7))
        oldest = errors_of(scene.batch, production_date=day(2016, 12, 6), use_by_date=day(2016, 12, 8))
        too_far = errors_of(scene.batch, production_date=day(2026, 12, 6), use_by_date=day(2027, 12, 7))
        farthest = errors_of(scene.batch, production_date=day(2026, 12, 6), use_by_date=day(2027, 12, 6))

    assert too_old["production_date"] == (
        "Date trop ancienne : au plus 10 ans en arrière (pas avant le 06/12/2016)."
    )
    assert "production_date" not in oldest
    assert too_far["use_by_date"] == "Date trop lointaine : pas après le 06/12/2027."
    assert farthest["use_by_date"] == (
        "En liaison froide, la date limite de consommation est au plus 3 jours après la production "
        "(au plus tard le 09/12/2026) : c'est la durée de vie validée de la cuisine."
    )


def test_a_partnership_takes_batches_until_its_last_day(scene):
    last_day = scene.today - DAY
    Partnership.objects.filter(pk=scene.partnership.pk).update(ends_on=last_day)
    scene.partnership.refresh_from_db()

    batch = scene.batch(production_date=last_day)
    errors = errors_of(scene.batch, production_date=scene.today)

    assert batch.production_date == last_day
    assert errors["partnership"] == (
        f"La convention de ce partenariat a expiré le {last_day:%d/%m/%Y} : aucun lot ne peut y être déclaré."
    )


def test_a_partnership_takes_no_batch_before_its_first_day(scene):
    Partnership.objects.filter(pk=scene.partnership.pk).update(starts_on=scene.today)
    scene.partnership.refresh_from_db()

    assert scene.batch(production_date=scene.today).production_date == scene.today
    errors = errors_of(scene.batch, production_date=scene.today - DAY, use_by_date=scene.today + DAY)
    assert errors["partnership"] == "Ce partenariat n'est pas actif à la date de production."


def test_a_suspended_partnership_takes_no_batch(scene):
    Partnership.objects.filter(pk=scene.partnership.pk).update(status=Partnership.Status.SUSPENDED)
    scene.partnership.refresh_from_db()
    assert errors_of(scene.batch)["partnership"] == "Ce partenariat n'est pas actif à la date de production."


def test_a_batch_needs_a_convention_drawn_up_and_signed_by_every_party(db):
    scene = Scene(signed=False)
    assert errors_of(scene.batch)["partnership"] == (
        "Ce partenariat n'a pas de convention établie : aucun lot ne peut y être déclaré."
    )
    version = convention_version_issue(partnership=scene.partnership, by=None)
    assert errors_of(scene.batch)["partnership"] == (
        "La version en vigueur de la convention n'est pas signée par toutes les parties (manquent : "
        "la cuisine (donateur ou fournisseur), l'association) : aucun lot ne peut y être déclaré."
    )
    convention_sign(version=version, party="kitchen", by=None, signer_name="M. Cuisinier")
    assert errors_of(scene.batch)["partnership"] == (
        "La version en vigueur de la convention n'est pas signée par toutes les parties (manquent : "
        "l'association) : aucun lot ne peut y être déclaré."
    )
    convention_sign(version=version, party="association", by=None, signer_name="Mme Présidente")
    assert scene.batch().status == "ready"


def test_each_instrument_takes_its_own_kind_of_meals_only(scene):
    """Surplus on the donation convention, dedicated meals on the supply agreement."""
    on_donation = errors_of(scene.batch, kind="dedicated", partnership=scene.partnership)
    on_supply = errors_of(scene.batch, kind="surplus", partnership=scene.supply)

    assert on_donation == {
        "kind": "Ce partenariat est une « Convention de don d'excédents » : il ne reçoit que des lots "
        "de type « Excédents »."
    }
    assert on_supply == {
        "kind": "Ce partenariat est une « Convention de fourniture de repas dédiés » : il ne reçoit que "
        "des lots de type « Repas dédiés »."
    }
    assert Batch.objects.count() == 0


def test_a_suspended_partnership_on_its_last_day_is_said_inactive_not_expired(scene):
    Partnership.objects.filter(pk=scene.partnership.pk).update(
        status=Partnership.Status.SUSPENDED, ends_on=scene.today
    )
    scene.partnership.refresh_from_db()
    assert errors_of(scene.batch)["partnership"] == "Ce partenariat n'est pas actif à la date de production."


def test_a_donation_needs_a_habilitation_valid_on_the_production_day(scene):
    association = scene.partnership.association
    Association.objects.filter(pk=association.pk).update(habilitation_expires_on=scene.today)
    scene.partnership.refresh_from_db()
    assert scene.batch().status == "ready"  # valid through its last day

    Association.objects.filter(pk=association.pk).update(habilitation_expires_on=scene.today - DAY)
    scene.partnership.refresh_from_db()
    assert errors_of(scene.batch)["kind"] == (
        "L'association n'a pas d'habilitation à l'aide alimentaire valable à cette date : "
        "elle ne peut pas recevoir de dons d'excédents."
    )

    Association.objects.filter(pk=association.pk).update(
        habilitation=Association.Habilitation.NONE, habilitation_expires_on=None
    )
    scene.partnership.refresh_from_db()
    assert errors_of(scene.batch)["kind"] == (
        "L'association n'a pas d'habilitation à l'aide alimentaire valable à cette date : "
        "elle ne peut pas recevoir de dons d'excédents."
    )


# Correction and status changes


def test_a_batch_is_corrected_only_while_ready_and_only_in_its_editable_fields(scene):
    batch = scene.batch()
    assert services.batch_update(batch=batch, by=scene.kitchen_user, meals_count=120).meals_count == 120
    assert errors_of(services.batch_update, batch=batch, by=scene.kitchen_user, status="distributed") == {
        "status": "Ce champ ne peut pas être modifié."
    }
    assert errors_of(
        services.batch_update, batch=batch, by=scene.kitchen_user, dispatch_temperature_c=Decimal("3.1")
    )["dispatch_temperature_c"].startswith("Un repas en liaison froide doit être à +3 °C ou moins.")
    assert services.batch_update(
        batch=batch, by=scene.kitchen_user, dispatch_temperature_c=Decimal("3.0")
    ).dispatch_temperature_c == Decimal("3.0")

    scene.pickup(batch)
    with pytest.raises(Conflict) as raised:
        services.batch_update(batch=batch, by=scene.kitchen_user, meals_count=100)
    assert raised.value.message == "Ce lot n'est plus modifiable : il est « Collecté »."
    assert Batch.objects.get(pk=batch.pk).meals_count == 120


def test_a_correction_keeps_what_the_declaration_confirmed_and_said(scene):
    """An unusual count confirmed at the declaration stays confirmed while the count is left
    alone; a new count is asked to be confirmed again. A batch declared without regulated
    allergens, or with its portion type, is corrected without saying it again."""
    batch = scene.batch(
        meals_count=301,  # 500 planned a week over 5 days: 100 a day, 300 is usual
        confirm_unusual=True,
        allergens=[],
        no_regulated_allergens=True,
        portion_type="adult",
        portion_grams=350,
    )
    corrected = services.batch_update(batch=batch, by=scene.kitchen_user, lot_number="L-99")
    assert (corrected.lot_number, corrected.unusual_confirmed) == ("L-99", True)

    errors = errors_of(services.batch_update, batch=batch, by=scene.kitchen_user, meals_count=302)
    assert errors == {
        "meals_count": "302 repas, c'est plus de trois fois le volume quotidien habituel de ce partenariat "
        "(100 repas) : vérifiez le nombre, ou confirmez-le (case « Je confirme ce nombre inhabituel », "
        "confirm_unusual dans l'API)."
    }
    confirmed = services.batch_update(
        batch=batch, by=scene.kitchen_user, meals_count=302, confirm_unusual=True
    )
    assert (confirmed.meals_count, confirmed.unusual_confirmed) == (302, True)


def test_a_corrected_portion_weight_is_checked_and_the_correction_names_its_author(scene):
    batch = scene.batch(portion_type="adult", portion_grams=350)
    errors = errors_of(services.batch_update, batch=batch, by=scene.kitchen_user, portion_grams=2001)
    assert errors == {"portion_grams": "Le poids d'une portion est compris entre 1 et 2000 g."}

    other_manager = member(Role.KITCHEN_MANAGER, scene.territory, kitchen=scene.partnership.kitchen)
    services.batch_update(batch=batch, by=other_manager, portion_grams=2000)
    last = Batch.history.filter(id=batch.pk).latest("history_date")
    assert (last.portion_grams, last.history_user) == (2000, other_manager)


def test_a_correction_keeps_the_use_by_date_of_a_batch_waiting_for_its_pickup_today_or_later(scene):
    batch = scene.batch()
    two_days_ago = scene.today - 2 * DAY
    errors = errors_of(
        services.batch_update,
        batch=batch,
        by=scene.kitchen_user,
        production_date=two_days_ago,
        use_by_date=scene.today - DAY,
    )
    assert errors == {
        "use_by_date": f"La date limite de consommation ({scene.today - DAY:%d/%m/%Y}) est passée : "
        "ce lot ne peut pas être déclaré prêt à collecter."
    }
    corrected = services.batch_update(
        batch=batch, by=scene.kitchen_user, production_date=two_days_ago, use_by_date=scene.today
    )
    assert (corrected.production_date, corrected.use_by_date) == (two_days_ago, scene.today)


def test_a_taken_lot_number_is_reported_with_the_other_errors_of_the_declaration(scene):
    scene.batch(lot_number="L-7")
    assert errors_of(scene.batch, lot_number=" L-7 ", meals_count=0) == {
        "lot_number": (
            "Le numéro de lot « L-7 » est déjà utilisé par cette cuisine : chaque lot a son numéro."
        ),
        "meals_count": "Le nombre de repas doit être positif.",
    }


def test_a_correction_moves_the_rollups_of_both_production_days(scene, django_capture_on_commit_callbacks):
    yesterday = scene.today - DAY
    with django_capture_on_commit_callbacks(execute=True):
        batch = scene.batch(meals_count=90)
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_update(
            batch=batch, by=scene.kitchen_user, production_date=yesterday, use_by_date=yesterday + 3 * DAY
        )

    produced = dict(
        DailyRollup.objects.filter(territory=scene.territory).values_list("day", "meals_produced_surplus")
    )
    assert produced == {yesterday: 90}  # the day it left has no row any more


def test_cancelling_and_discarding_need_a_reason(scene):
    batch = scene.batch()
    assert errors_of(services.batch_cancel, batch=batch, by=scene.kitchen_user, reason="  ") == {
        "reason": "Indiquez le motif de l'annulation."
    }
    assert errors_of(services.batch_discard, batch=batch, by=scene.kitchen_user, reason="") == {
        "reason": "Indiquez le motif de l'écart."
    }
    assert Batch.objects.get(pk=batch.pk).status == "ready"
    services.batch_cancel(batch=batch, by=scene.kitchen_user, reason=" Grève ")
    assert (batch.status, batch.discard_reason) == ("cancelled", "Grève")
    # A cancelled batch is neither discarded nor collected.
    assert errors_of(services.batch_discard, batch=batch, by=scene.kitchen_user, reason="x") == {
        "batch": "Ce lot a été annulé."
    }


@pytest.mark.parametrize("service", [services.batch_cancel, services.batch_discard])
def test_the_reason_for_withdrawing_a_batch_keeps_within_the_text_bound(scene, service):
    """5,000 characters at most, no control character: the reason's own message, nothing moved."""
    batch = scene.batch()
    assert errors_of(service, batch=batch, by=scene.kitchen_user, reason="x" * 5001) == {
        "reason": "Ce texte compte 5000 caractères au plus (il en compte 5001)."
    }
    assert errors_of(service, batch=batch, by=scene.kitchen_user, reason="Froid\u202erompu") == {
        "reason": "Ce texte contient un caractère de contrôle ou d'inversion du sens d'écriture : "
        "retirez-le (copiez le texte à nouveau depuis sa source, ou tapez-le)."
    }
    assert Batch.objects.get(pk=batch.pk).status == "ready"
    service(batch=batch, by=scene.kitchen_user, reason="x" * 5000)
    assert len(Batch.objects.get(pk=batch.pk).discard_reason) == 5000


@pytest.mark.parametrize(
    ("service", "status"), [(services.batch_cancel, "cancelled"), (services.batch_discard, "discarded")]
)
def test_withdrawing_a_batch_keeps_its_reason_and_who_did_it(scene, service, status):
    # Another manager of the kitchen than the one who declared it, reading it afresh as a request would.
    manager = member(Role.KITCHEN_MANAGER, scene.territory, kitchen=scene.partnership.kitchen)
    batch = Batch.objects.get(pk=scene.batch().pk)
    service(batch=batch, by=manager, reason="  Cellule de refroidissement en panne ")
    stored = Batch.objects.get(pk=batch.pk)
    assert (stored.status, stored.discard_reason) == (status, "Cellule de refroidissement en panne")
    last = Batch.history.filter(id=batch.pk).order_by("-history_date").first()
    assert (last.status, last.history_user_id) == (status, manager.pk)


def test_a_batch_moves_once_the_second_person_gets_a_conflict(scene):
    batch = scene.batch()
    services.batch_discard(batch=batch, by=scene.kitchen_user, reason="Cellule en panne")
    with pytest.raises(Conflict) as raised:
        services.batch_discard(batch=batch, by=scene.kitchen_user, reason="Cellule en panne")
    assert raised.value.message == (
        "Ce lot est déjà « Écarté » : l'opération a sans doute été faite par quelqu'un d'autre."
    )


def test_setting_a_batch_aside_after_its_pickup_recomputes_the_days_of_its_pickup_and_distributions(
    scene, django_capture_on_commit_callbacks
):
    """Produced two days ago, collected yesterday, 10 meals set aside today, then the whole
    batch discarded: the 140 meals still held were lost on the pickup's day (all 150 received
    count there), and today's 10 are no longer counted a second time."""
    produced, collected = scene.today - 2 * DAY, scene.today - DAY
    batch = scene.past_batch(production_date=produced, kind="dedicated", meals_count=150)
    with django_capture_on_commit_callbacks(execute=True):
        pickup = scene.pickup(batch, picked_up_at=paris(collected, 10))
    with django_capture_on_commit_callbacks(execute=True):
        distribute(
            scene, pickup, meals_distributed=0, meals_discarded=10, discard_reason="Barquettes ouvertes"
        )

    def by_day():
        return {
            day: (produced_meals, picked_up, discarded)
            for day, produced_meals, picked_up, discarded in DailyRollup.objects.filter(
                territory=scene.territory
            ).values_list("day", "meals_produced_dedicated", "meals_picked_up", "meals_discarded")
        }

    assert by_day() == {produced: (150, 0, 0), collected: (0, 150, 0), scene.today: (0, 0, 10)}
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_discard(batch=batch, by=scene.kitchen_user, reason="Chaîne du froid rompue")
    assert by_day() == {produced: (150, 0, 0), collected: (0, 150, 150), scene.today: (0, 0, 0)}


# Pickup


@pytest.mark.parametrize(
    ("received", "error"),
    [
        (150, None),
        (151, "Le lot ne compte que 150 repas."),
        (-1, "Le nombre de repas ne peut pas être négatif."),
    ],
)
def test_a_pickup_receives_at_most_the_meals_produced(scene, received, error):
    batch = scene.batch(meals_count=150)
    if error is None:
        assert scene.pickup(batch, meals_received=received).meals_received == 150
        assert Batch.objects.get(pk=batch.pk).status == "picked_up"
        return
    assert errors_of(scene.pickup, batch=batch, meals_received=received)["meals_received"] == error
    assert Pickup.objects.count() == 0


@pytest.mark.parametrize(("temperature", "status"), [("3.0", "picked_up"), ("3.1", None)])
def test_cold_meals_are_received_at_3_degrees_or_below(scene, temperature, status):
    batch = scene.batch()
    if status:
        assert scene.pickup(batch, temperature_c=Decimal(temperature)).temperature_c == Decimal(temperature)
        assert Batch.objects.get(pk=batch.pk).status == status
        return
    errors = errors_of(scene.pickup, batch=batch, temperature_c=Decimal(temperature))
    assert errors == {
        "temperature_c": "Un repas en liaison froide doit être à +3 °C ou moins. Hors de ces limites, les "
        "repas ne peuvent être enregistrés que comme écartés, avec le motif."
    }
    assert (Pickup.objects.count(), Batch.objects.get(pk=batch.pk).status) == (0, "ready")
    scene.pickup(batch, temperature_c=Decimal(temperature), discard_reason="Glacière tiède")
    batch.refresh_from_db()
    assert (batch.status, batch.discard_reason) == ("discarded", "Glacière tiède")


@pytest.mark.parametrize(("temperature", "accepted"), [("63.0", True), ("62.9", False)])
def test_hot_meals_are_received_at_63_degrees_or_above(hot_scene, temperature, accepted):
    batch = hot_scene.batch(
        liaison="hot", kind="dedicated", use_by_date=hot_scene.today, dispatch_temperature_c=Decimal("70")
    )
    if accepted:
        assert hot_scene.pickup(batch, temperature_c=Decimal(temperature)).batch.status == "picked_up"
        return
    errors = errors_of(hot_scene.pickup, batch=batch, temperature_c=Decimal(temperature))
    assert errors["temperature_c"].startswith("Un repas en liaison chaude doit être à 63 °C ou plus.")


def test_a_batch_is_picked_up_until_its_use_by_day_not_the_day_after(scene):
    """Dedicated meals (no donation delay): the pickup's day against the use-by date."""
    produced = scene.today - 4 * DAY
    use_by = scene.today - DAY
    on_the_day = scene.past_batch(production_date=produced, use_by_date=use_by, kind="dedicated")
    after = scene.past_batch(production_date=produced, use_by_date=use_by, kind="dedicated")

    assert scene.pickup(on_the_day, picked_up_at=paris(use_by, 23)).picked_up_on == use_by
    errors = errors_of(scene.pickup, batch=after, picked_up_at=paris(use_by + DAY, 0))
    assert errors["picked_up_at"] == "La date limite de consommation du lot est dépassée."


def test_a_pickup_is_on_the_production_day_at_the_earliest_and_never_in_the_future(scene):
    produced = scene.today - 2 * DAY
    batch = scene.past_batch(production_date=produced, kind="dedicated")
    before = errors_of(scene.pickup, batch=batch, picked_up_at=paris(produced - DAY, 23))
    future = errors_of(scene.pickup, batch=batch, picked_up_at=timezone.now() + datetime.timedelta(minutes=5))

    assert before["picked_up_at"] == "La collecte précède la production du lot."
    assert future["picked_up_at"] == "La collecte ne peut pas être datée dans le futur."
    assert scene.pickup(batch, picked_up_at=paris(produced, 0)).picked_up_on == produced


def test_a_recalled_or_cancelled_batch_is_not_picked_up(scene):
    recalled, cancelled = scene.batch(), scene.batch()
    services.batch_recall(batch=recalled, by=scene.kitchen_user, reason="Listeria")
    services.batch_cancel(batch=cancelled, by=scene.kitchen_user, reason="Grève")

    assert (
        errors_of(scene.pickup, batch=recalled)["batch"]
        == "Ce lot a été rappelé : il ne peut pas être collecté."
    )
    assert (
        errors_of(scene.pickup, batch=cancelled)["batch"]
        == "Ce lot a été annulé : il ne peut pas être collecté."
    )
    assert Pickup.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"distance_km": Decimal("-0.01")}, "distance_km", "La distance ne peut pas être négative."),
        ({"distance_km": Decimal("100000")}, "distance_km", "Distance invraisemblable."),
        ({"duration_minutes": -1}, "duration_minutes", "La durée ne peut pas être négative."),
        ({"transport_cost": Decimal("-0.01")}, "transport_cost", "Le coût ne peut pas être négatif."),
        ({"transport_mode": "teleport"}, "transport_mode", "Mode de transport inconnu."),
        ({"temperature_c": Decimal("1000")}, "temperature_c", "Température invraisemblable."),
        ({"temperature_c": Decimal("-999.91")}, "temperature_c", "Température invraisemblable."),
        (
            {"meals_received": 149},
            "shortfall_reason",
            "1 repas du lot n'ont pas été reçus : indiquez le motif de l'écart.",
        ),
        (
            {"meals_received": 0, "shortfall_reason": "lost"},
            "shortfall_reason",
            "150 repas du lot n'ont pas été reçus : indiquez le motif de l'écart.",
        ),
        (
            {"meals_received": 149, "shortfall_reason": "other", "shortfall_note": " "},
            "shortfall_note",
            "Précisez le motif de l'écart de quantité.",
        ),
    ],
)
def test_each_field_of_a_pickup_is_checked(scene, change, field, message):
    batch = scene.batch(meals_count=150)
    assert errors_of(scene.pickup, batch=batch, **change)[field] == message
    assert Pickup.objects.count() == 0


def test_the_last_accepted_values_of_a_pickup(scene):
    batch = scene.batch(meals_count=150)
    pickup = scene.pickup(
        batch,
        meals_received=149,
        shortfall_reason="other",
        shortfall_note=" Un plateau renversé ",
        distance_km=Decimal("99999.9"),
        duration_minutes=0,
        transport_cost=Decimal("0"),
    )
    assert (pickup.shortfall_reason, pickup.shortfall_note, pickup.distance_km) == (
        "other",
        "Un plateau renversé",
        Decimal("99999.9"),
    )
    complete = scene.pickup(scene.batch(), shortfall_reason="refused", shortfall_note="rien")
    assert (complete.shortfall_reason, complete.shortfall_note) == ("", "")


# Distribution


def distribute(scene, pickup, **change):
    fields = {
        "site": scene.site,
        "distributed_on": scene.today,
        "meals_distributed": pickup.meals_received,
        "beneficiaries": 100,
        "temperature_c": Decimal("2.0"),
        **change,
    }
    return services.distribution_record(pickup=pickup, by=scene.volunteer, **fields)


def test_a_discarded_batch_cannot_be_distributed_through_the_api(api, scene):
    batch = scene.batch()
    pickup = scene.pickup(batch)
    services.batch_discard(batch=batch, by=scene.kitchen_user, reason="Rupture de la chaîne du froid")
    api.force_authenticate(scene.volunteer)

    response = api.post(
        "/api/v1/distributions/",
        {
            "pickup": pickup.pk,
            "site": scene.site.pk,
            "distributed_on": str(scene.today),
            "meals_distributed": 150,
            "beneficiaries": 140,
            "temperature_c": "2.0",
        },
        format="json",
    )

    assert response.status_code == 400, response.json()
    assert response.json()["meals_distributed"] == [
        "Ce lot a été écarté : ses repas ne peuvent pas être distribués."
    ]
    assert Distribution.objects.count() == 0
    # Not a single meal, and setting its meals aside is still recorded.
    assert errors_of(distribute, scene=scene, pickup=pickup, meals_distributed=1) == {
        "meals_distributed": "Ce lot a été écarté : ses repas ne peuvent pas être distribués."
    }
    aside = distribute(scene, pickup, meals_distributed=0, meals_discarded=150, discard_reason="Jetés")
    assert aside.meals_discarded == 150


def test_a_recalled_batch_cannot_be_distributed(scene):
    batch = scene.batch()
    pickup = scene.pickup(batch)
    services.batch_recall(batch=batch, by=scene.kitchen_user, reason="Listeria")

    for given in (150, 1):
        assert errors_of(distribute, scene=scene, pickup=pickup, meals_distributed=given) == {
            "meals_distributed": "Ce lot a été rappelé : ses repas ne peuvent pas être distribués."
        }
    assert Distribution.objects.count() == 0


def test_the_meals_of_a_recalled_batch_are_not_set_aside_a_second_time(scene):
    """The recall counts the 150 meals still held as lost; setting them aside afterwards would
    count them twice in the loss rate."""
    batch = scene.batch()
    pickup = scene.pickup(batch)
    services.batch_recall(batch=batch, by=scene.kitchen_user, reason="Listeria")

    errors = errors_of(
        distribute,
        scene=scene,
        pickup=pickup,
        meals_distributed=0,
        meals_discarded=150,
        discard_reason="Rappel",
    )
    assert errors == {
        "meals_discarded": "Ce lot a été rappelé : ses repas restants sont déjà comptés comme retirés."
    }
    assert Distribution.objects.count() == 0
    assert Batch.objects.get(pk=batch.pk).meals_recalled == 150


def test_meals_are_distributed_until_the_use_by_day_not_the_day_after(scene):
    produced = scene.today - 4 * DAY
    use_by = scene.today - DAY
    batch = scene.past_batch(production_date=produced, use_by_date=use_by, kind="dedicated")
    pickup = scene.pickup(batch, picked_up_at=paris(produced, 14))

    after = errors_of(
        distribute, scene=scene, pickup=pickup, distributed_on=scene.today, meals_distributed=50
    )
    assert after["distributed_on"] == (
        f"La date limite de consommation du lot ({use_by:%d/%m/%Y}) est dépassée."
    )
    assert distribute(scene, pickup, distributed_on=use_by, meals_distributed=50).distributed_on == use_by


def test_a_distribution_follows_its_pickup_and_is_never_in_the_future(scene):
    produced = scene.today - 2 * DAY
    batch = scene.past_batch(production_date=produced, kind="dedicated")
    pickup = scene.pickup(batch, picked_up_at=paris(produced + DAY, 10))

    before = errors_of(distribute, scene=scene, pickup=pickup, distributed_on=produced)
    future = errors_of(distribute, scene=scene, pickup=pickup, distributed_on=scene.today + DAY)

    assert before["distributed_on"] == "La distribution précède la collecte."
    # The service's own message, not the generic one of the date bounds (territories.bounds).
    assert future["distributed_on"] == "La distribution ne peut pas être datée dans le futur."
    assert (
        distribute(scene, pickup, distributed_on=scene.today, meals_distributed=10).distributed_on
        == scene.today
    )
    assert (
        distribute(scene, pickup, distributed_on=produced + DAY, meals_distributed=10).meals_distributed == 10
    )


def test_meals_distributed_and_set_aside_add_up_to_the_meals_received_at_most(scene):
    pickup = scene.pickup(scene.batch(meals_count=150), meals_received=150)
    distribute(scene, pickup, meals_distributed=100)

    errors = errors_of(
        distribute, scene=scene, pickup=pickup, meals_distributed=40, meals_discarded=11, discard_reason="x"
    )
    assert (
        errors["meals_distributed"] == "Repas distribués et écartés dépassent les repas reçus restants (50)."
    )
    last = distribute(
        scene, pickup, meals_distributed=40, meals_discarded=10, discard_reason="Barquettes ouvertes"
    )
    assert (last.meals_distributed, last.meals_discarded) == (40, 10)


def test_meals_set_aside_by_an_earlier_distribution_are_no_longer_there_to_give(scene):
    """150 received, 100 given and 20 set aside on the first round: 30 remain, not 50 nor 10."""
    pickup = scene.pickup(scene.batch(meals_count=150), meals_received=150)
    distribute(scene, pickup, meals_distributed=100, meals_discarded=20, discard_reason="Barquettes ouvertes")

    errors = errors_of(distribute, scene=scene, pickup=pickup, meals_distributed=31)
    assert errors == {
        "meals_distributed": "Repas distribués et écartés dépassent les repas reçus restants (30)."
    }
    assert distribute(scene, pickup, meals_distributed=30).meals_distributed == 30


PEOPLE_BOUND = "Ce nombre dépasse le maximum vraisemblable (10\u202f000)."


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"meals_distributed": 2**31},
            "meals_distributed",
            "Ce nombre dépasse le maximum vraisemblable (2\u202f147\u202f483\u202f647).",
        ),
        (
            {"meals_discarded": 2**31, "discard_reason": "x"},
            "meals_discarded",
            "Ce nombre dépasse le maximum vraisemblable (2\u202f147\u202f483\u202f647).",
        ),
        ({"beneficiaries": 10_001}, "beneficiaries", PEOPLE_BOUND),
        ({"households": 10_001}, "households", PEOPLE_BOUND),
        ({"children": 10_001}, "children", PEOPLE_BOUND),
        ({"turned_away": 10_001}, "turned_away", PEOPLE_BOUND),
        (
            {"reheat_minutes": 24 * 60 + 1},
            "reheat_minutes",
            "Ce nombre dépasse le maximum vraisemblable (1\u202f440).",
        ),
    ],
)
def test_each_count_of_a_distribution_stays_within_its_bound(scene, change, field, message):
    """Each count is bounded under its own name: the integer column for meals, 10,000 people
    for a distribution (``territories.bounds``), 24 hours for a reheating."""
    pickup = scene.pickup(scene.batch(), meals_received=150)
    # Alone: the bounds are answered before the rules that would read an absurd value.
    assert errors_of(distribute, scene=scene, pickup=pickup, **change) == {field: message}
    assert Distribution.objects.count() == 0


def test_a_distribution_is_dated_ten_years_back_at_most(scene):
    first = bounds.years_from(scene.today, -10)
    pickup = scene.pickup(scene.past_batch(production_date=first), picked_up_at=paris(first, 10))

    errors = errors_of(distribute, scene=scene, pickup=pickup, distributed_on=first - DAY)
    # The bound's message alone, not "La distribution précède la collecte."
    assert errors == {
        "distributed_on": f"Date trop ancienne : au plus 10 ans en arrière (pas avant le {first:%d/%m/%Y})."
    }
    assert distribute(scene, pickup, distributed_on=first, meals_distributed=10).distributed_on == first


def test_the_reason_for_setting_meals_aside_keeps_within_the_text_bound(scene):
    pickup = scene.pickup(scene.batch(), meals_received=150)
    set_aside = {"meals_distributed": 100, "meals_discarded": 10}

    errors = errors_of(distribute, scene=scene, pickup=pickup, discard_reason="x" * 5001, **set_aside)
    assert errors == {"discard_reason": "Ce texte compte 5000 caractères au plus (il en compte 5001)."}
    recorded = distribute(scene, pickup, discard_reason="x" * 5000, **set_aside)
    assert len(recorded.discard_reason) == 5000


def test_ten_thousand_people_are_the_most_a_distribution_counts(scene):
    pickup = scene.pickup(scene.batch(), meals_received=150)
    people = {name: 10_000 for name in ("beneficiaries", "households", "children", "turned_away")}
    recorded = distribute(scene, pickup, **people)
    assert (recorded.beneficiaries, recorded.households, recorded.children, recorded.turned_away) == (
        10_000,
        10_000,
        10_000,
        10_000,
    )


def test_people_served_are_asked_for_as_soon_as_one_meal_is_given(scene):
    pickup = scene.pickup(scene.batch(meals_count=150), meals_received=150)
    errors = errors_of(distribute, scene=scene, pickup=pickup, meals_distributed=1, beneficiaries=0)
    assert errors == {"beneficiaries": "Indiquez le nombre de personnes servies."}
    # Meals only set aside serve nobody.
    aside = distribute(
        scene, pickup, meals_distributed=0, meals_discarded=5, discard_reason="Abîmés", beneficiaries=0
    )
    assert (aside.meals_discarded, aside.beneficiaries) == (5, 0)


@pytest.mark.parametrize("wrong", ["site", "distributed_on"])
def test_the_cold_chain_is_checked_once_the_site_and_the_day_are_right(scene, wrong):
    """A distribution at another association's site, or after the use-by day, is refused for that
    alone: the temperature rules depend on the site and the day, and are read once both are right."""
    pickup = scene.pickup(scene.batch())
    warm = {"temperature_c": Decimal("8.0")}
    assert list(errors_of(distribute, scene=scene, pickup=pickup, **warm)) == ["temperature_c"]
    if wrong == "site":
        errors = errors_of(distribute, scene=scene, pickup=pickup, site=DistributionSiteFactory(), **warm)
        assert errors == {"site": "Ce lieu n'appartient pas à l'association qui a collecté le lot."}
    else:
        produced = scene.today - 4 * DAY
        batch = scene.past_batch(production_date=produced, use_by_date=produced + DAY, kind="dedicated")
        late = scene.pickup(batch, picked_up_at=paris(produced, 10))
        errors = errors_of(distribute, scene=scene, pickup=late, **warm)
        use_by = (produced + DAY).strftime("%d/%m/%Y")
        assert errors == {"distributed_on": f"La date limite de consommation du lot ({use_by}) est dépassée."}


def test_a_distribution_keeps_its_cold_chain_record(scene):
    """What the volunteer read off the thermometer is what is stored: meals eaten on receipt at
    a site that reheats them, 65 °C reached in 45 minutes."""
    pickup = scene.pickup(scene.batch())
    reheating = DistributionSiteFactory(association=scene.partnership.association, reheats=True)
    recorded = distribute(
        scene,
        pickup,
        site=reheating,
        temperature_c=None,
        consumed_on_receipt=True,
        reheat_temperature_c=Decimal("65.0"),
        reheat_minutes=45,
    )
    stored = Distribution.objects.get(pk=recorded.pk)
    assert (
        stored.temperature_c,
        stored.consumed_on_receipt,
        stored.reheat_temperature_c,
        stored.reheat_minutes,
    ) == (
        None,
        True,
        Decimal("65.0"),
        45,
    )


def test_one_meal_given_makes_the_batch_distributed(scene):
    pickup = scene.pickup(scene.batch(meals_count=150), meals_received=150)
    distribute(scene, pickup, meals_distributed=1)
    assert Batch.objects.get(pk=pickup.batch_id).status == "distributed"


def test_as_many_meals_given_as_set_aside_make_a_distribution(scene):
    pickup = scene.pickup(scene.batch(meals_count=150), meals_received=150)
    recorded = distribute(scene, pickup, meals_distributed=10, meals_discarded=10, discard_reason="Abîmés")
    assert (recorded.meals_distributed, recorded.meals_discarded) == (10, 10)


def test_setting_every_meal_aside_discards_the_batch_and_some_only_keeps_it_picked_up(scene):
    whole = scene.pickup(scene.batch(), meals_received=150)
    part = scene.pickup(scene.batch(), meals_received=150)

    distribute(scene, whole, meals_distributed=0, meals_discarded=150, discard_reason=" Froid rompu ")
    distribute(scene, part, meals_distributed=0, meals_discarded=149, discard_reason="Froid rompu")

    whole.batch.refresh_from_db()
    assert (whole.batch.status, whole.batch.discard_reason) == ("discarded", "Froid rompu")
    last_move = Batch.history.filter(id=whole.batch_id).latest("history_date")
    assert (last_move.status, last_move.history_user) == ("discarded", scene.volunteer)
    assert Batch.objects.get(pk=part.batch_id).status == "picked_up"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"meals_distributed": 0}, "meals_distributed", "Indiquez au moins un repas distribué ou écarté."),
        (
            {"meals_discarded": 1, "meals_distributed": 149},
            "discard_reason",
            "Indiquez pourquoi des repas ont été écartés.",
        ),
        ({"beneficiaries": 0}, "beneficiaries", "Indiquez le nombre de personnes servies."),
        (
            {"households": 101},
            "households",
            "Il ne peut pas y avoir plus de foyers que de personnes servies.",
        ),
        ({"children": 101}, "children", "Il ne peut pas y avoir plus d'enfants que de personnes servies."),
        ({"beneficiaries": -1}, "beneficiaries", "Ce nombre ne peut pas être négatif."),
        ({"meals_discarded": -1}, "meals_discarded", "Ce nombre ne peut pas être négatif."),
    ],
)
def test_each_count_of_a_distribution_is_checked(scene, change, field, message):
    pickup = scene.pickup(scene.batch(), meals_received=150)
    assert errors_of(distribute, scene=scene, pickup=pickup, **change)[field] == message
    assert Distribution.objects.count() == 0


def test_households_and_children_are_at_most_the_people_served(scene):
    pickup = scene.pickup(scene.batch(), meals_received=150)
    recorded = distribute(scene, pickup, beneficiaries=100, households=100, children=100)
    assert (recorded.households, recorded.children) == (100, 100)


def test_the_people_counted_by_profile_and_by_referral_are_among_the_people_served(scene):
    """Of 100 people served: by profile 60 + 40 + 0 (families left empty), by referral 100;
    the people turned away are not among them. One more in a group is refused, on its first
    field given."""
    pickup = scene.pickup(scene.batch(), meals_received=150)
    counts = {
        "meals_distributed": 50,
        "beneficiaries": 100,
        "profile_families": None,
        "profile_alone": 60,
        "profile_students": 40,
        "profile_elderly": 0,
        "referred_ccas": None,
        "referred_siao": 100,
        "turned_away": 120,
    }
    recorded = distribute(scene, pickup, **counts)
    saved = (recorded.profile_families, recorded.profile_alone, recorded.referred_siao, recorded.turned_away)
    assert saved == (None, 60, 100, 120)

    errors = errors_of(
        distribute,
        scene=scene,
        pickup=pickup,
        **{**counts, "profile_students": 41, "referred_social_worker": 1},
    )
    assert errors == {
        "profile_alone": "Les personnes comptées par profil (101) dépassent les personnes servies (100).",
        "referred_siao": "Les personnes orientées (101) dépassent les personnes servies (100).",
    }
    assert Distribution.objects.count() == 1


def test_the_history_names_who_recorded_the_pickup_and_the_distribution(scene):
    # Read again, as the volunteer's request would: the declaring request's object is not reused.
    pickup = scene.pickup(Batch.objects.get(pk=scene.batch().pk))
    distribution = distribute(scene, pickup)
    assert pickup.history.get().history_user == scene.volunteer
    assert distribution.history.get().history_user == scene.volunteer
    # The batch's moves, written by a conditional update, are in its history as changes by their author.
    moves = list(
        Batch.history.filter(id=pickup.batch_id)
        .order_by("history_date")
        .values_list("status", "history_type", "history_user")
    )
    assert moves == [
        ("ready", "+", scene.kitchen_user.pk),
        ("picked_up", "~", scene.volunteer.pk),
        ("distributed", "~", scene.volunteer.pk),
    ]


def test_a_batch_object_used_again_after_its_declaration_records_who_moved_it(scene):
    # The very object batch_create returned (its declaring author set on it), moved by the volunteer.
    batch = scene.batch()
    scene.pickup(batch)
    services.batch_recall(batch=batch, by=scene.kitchen_user, reason="Listeria")
    moves = list(
        Batch.history.filter(id=batch.pk).order_by("history_date").values_list("status", "history_user")
    )
    assert moves == [
        ("ready", scene.kitchen_user.pk),
        ("picked_up", scene.volunteer.pk),
        ("picked_up", scene.kitchen_user.pk),
    ]


def test_a_pickup_is_dated_ten_years_back_at_most(scene):
    first = bounds.years_from(scene.today, -10)
    batch = scene.past_batch(production_date=first)

    errors = errors_of(scene.pickup, batch=batch, picked_up_at=paris(first - DAY, 10))
    # The bound's message alone, not "La collecte précède la production du lot."
    assert errors == {
        "picked_up_at": f"Date trop ancienne : au plus 10 ans en arrière (pas avant le {first:%d/%m/%Y})."
    }
    assert scene.pickup(batch, picked_up_at=paris(first, 10)).picked_up_on == first


def test_a_pickup_that_says_nothing_of_them_has_no_refrigerated_vehicle_nor_shortfall_reason(scene):
    pickup = Pickup.objects.get(pk=scene.pickup(scene.batch()).pk)
    assert (pickup.refrigerated_vehicle, pickup.shortfall_reason, pickup.meals_received) == (False, "", 150)


def test_a_pickup_takes_24_hours_at_most(scene):
    """The bound of ``territories.bounds`` is the rule here (no more precise one): its message,
    with the narrow no-break space of the thousands."""
    assert scene.pickup(scene.batch(), duration_minutes=24 * 60).duration_minutes == 1440
    errors = errors_of(scene.pickup, batch=scene.batch(), duration_minutes=24 * 60 + 1)
    assert errors == {"duration_minutes": "Ce nombre dépasse le maximum vraisemblable (1\u202f440)."}
    assert Pickup.objects.count() == 1


def test_a_lot_number_taken_between_the_check_and_the_write_answers_the_fields_message(scene):
    """Two declarations of the same number at once: both pass the check, the database's unique
    constraint refuses the second write (``save_with_lot``), and the second kitchen manager reads
    the same message as the check's."""
    first = scene.batch(lot_number="L-7")
    second_manager = member(Role.KITCHEN_MANAGER, scene.territory, kitchen=scene.partnership.kitchen)
    twin = Batch.objects.get(pk=first.pk)
    twin.pk = None
    twin._state.adding = True

    with pytest.raises(ValidationError) as raised:
        services.save_with_lot(twin, second_manager)
    assert raised.value.message_dict == {
        "lot_number": [
            "Le numéro de lot « L-7 » est déjà utilisé par cette cuisine : chaque lot a son numéro."
        ]
    }
    # The refused author is not left on the object: saved later by other code, it is not named.
    twin.lot_number = "L-8"
    twin.save()
    assert Batch.history.get(id=twin.pk).history_user is None


def test_a_write_refused_for_another_reason_is_not_mistaken_for_a_taken_lot_number(scene):
    """The batch's own number does not count as taken: an update refused by another constraint
    of the database goes on as that error."""
    batch = Batch.objects.get(pk=scene.batch(lot_number="L-7").pk)
    batch.meals_count = None
    with pytest.raises(IntegrityError):
        services.save_with_lot(batch, scene.kitchen_user)
    assert Batch.objects.get(pk=batch.pk).meals_count == 150


@pytest.mark.parametrize(
    ("distance", "accepted"),
    [("99999.9", True), ("99999.91", False), ("99999.99", False), ("100000", False)],
)
def test_a_pickup_distance_fits_its_numeric_6_1_column(scene, distance, accepted):
    batch = scene.batch()
    if accepted:
        scene.pickup(batch, distance_km=Decimal(distance))
        assert Pickup.objects.get(batch=batch).distance_km == Decimal("99999.9")
        return
    errors = errors_of(scene.pickup, batch=batch, distance_km=Decimal(distance))
    assert errors == {"distance_km": "Distance invraisemblable."}
    assert Pickup.objects.count() == 0


def test_meals_are_distributed_at_a_site_of_the_association_that_collected_them(scene):
    pickup = scene.pickup(scene.batch())
    elsewhere = DistributionSiteFactory()
    errors = errors_of(distribute, scene=scene, pickup=pickup, site=elsewhere)
    assert errors == {"site": "Ce lieu n'appartient pas à l'association qui a collecté le lot."}


def test_deleting_the_last_distribution_puts_the_batch_back_to_picked_up(scene):
    pickup = scene.pickup(scene.batch())
    first = distribute(scene, pickup, meals_distributed=100)
    second = distribute(scene, pickup, meals_distributed=50)

    services.distribution_delete(distribution=first, by=scene.volunteer)
    assert Batch.objects.get(pk=pickup.batch_id).status == "distributed"
    services.distribution_delete(distribution=second, by=scene.volunteer)
    assert Batch.objects.get(pk=pickup.batch_id).status == "picked_up"
    with pytest.raises(Distribution.DoesNotExist):
        services.distribution_delete(distribution=second, by=scene.volunteer)


def test_the_history_names_who_deleted_a_distribution_and_moved_the_batch_back(scene):
    pickup = scene.pickup(scene.batch())
    distribution = distribute(scene, pickup)
    other = member(Role.VOLUNTEER, scene.territory, association=scene.partnership.association)

    recorded = distribution.pk
    services.distribution_delete(distribution=distribution, by=other)

    deleted = Distribution.history.get(id=recorded, history_type="-")
    assert deleted.history_user == other
    last_move = Batch.history.filter(id=pickup.batch_id).latest("history_date")
    assert (last_move.status, last_move.history_user) == ("picked_up", other)


def test_a_batch_stays_distributed_while_one_meal_distributed_remains(scene):
    pickup = scene.pickup(scene.batch())
    most = distribute(scene, pickup, meals_distributed=pickup.meals_received - 1)
    distribute(scene, pickup, meals_distributed=1)
    services.distribution_delete(distribution=most, by=scene.volunteer)
    assert Batch.objects.get(pk=pickup.batch_id).status == "distributed"


def test_a_distribution_with_an_unknown_count_is_a_programming_error(scene):
    pickup = scene.pickup(scene.batch())
    with pytest.raises(TypeError) as raised:
        distribute(scene, pickup, profile_elderly=3, homeless=2, veterans=1)
    unknown = "['homeless', 'veterans']"
    assert str(raised.value) == f"distribution_record() got unexpected keyword arguments {unknown}"
    assert not Distribution.objects.filter(pickup=pickup).exists()


# Recall


def test_a_recall_withdraws_the_meals_still_held_once(scene):
    ready = scene.batch(meals_count=150)
    pickup = scene.pickup(scene.batch(meals_count=150), meals_received=140, shortfall_reason="refused")
    distribute(scene, pickup, meals_distributed=100, meals_discarded=15, discard_reason="Abîmés")
    gone = scene.batch()
    services.batch_discard(batch=gone, by=scene.kitchen_user, reason="Froid rompu")

    untouched = scene.pickup(scene.batch(meals_count=150))
    eaten = scene.pickup(scene.batch(meals_count=150))
    distribute(scene, eaten, meals_distributed=150)

    assert services.meals_still_held(ready) == 150
    assert services.meals_still_held(pickup.batch) == 25  # 140 received, 100 eaten, 15 set aside
    assert services.meals_still_held(untouched.batch) == 150  # collected, nothing handed out yet
    assert services.meals_still_held(eaten.batch) == 0
    assert services.meals_still_held(gone) == 0
    recalled = services.batch_recall(batch=ready, by=scene.kitchen_user, reason=" Listeria ")
    assert (recalled.status, recalled.meals_recalled, recalled.discard_reason) == (
        "cancelled",
        150,
        "Rappel : Listeria",
    )
    assert (
        services.batch_recall(batch=pickup.batch, by=scene.kitchen_user, reason="Listeria").status
        == "distributed"
    )
    assert errors_of(services.batch_recall, batch=gone, by=scene.kitchen_user, reason=" ") == {
        "reason": "Indiquez le motif du rappel."
    }
    # The first recall's moment, in Paris time (a winter afternoon: UTC+1).
    Batch.objects.filter(pk=ready.pk).update(
        recalled_at=datetime.datetime(2026, 12, 5, 13, 7, tzinfo=datetime.UTC)
    )
    with pytest.raises(Conflict) as raised:
        services.batch_recall(batch=ready, by=scene.kitchen_user, reason="Encore")
    assert raised.value.message == "Ce lot a déjà été rappelé le 05/12/2026 à 14:07."


def test_a_kitchen_manager_recalls_the_lots_of_the_own_kitchen_only(scene):
    mine = scene.batch()
    other = Scene()
    theirs = other.batch()
    assert services.may_recall(mine, scene.kitchen_user) is True
    assert services.may_recall(theirs, scene.kitchen_user) is False
    assert services.may_recall(mine, scene.volunteer) is False
