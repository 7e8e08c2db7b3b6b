"""Every transition of the meal flow, with its food-safety and consistency rules.

Each service runs in a transaction (``with transaction.atomic():`` in its body rather than
the decorator, which mutmut skips: docs/testing.md) and changes a batch's status with a
conditional UPDATE (``... WHERE status = <expected>``), so two people acting on the same
batch at once produce one transition and one ``Conflict`` for the other. A broken rule
raises Django's ``ValidationError`` keyed by field, with a French message, before anything
is written. The API, the browser forms and the CSV import all call these functions.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.models import DistributionSite, Partnership
from config.celery import delay_or_log
from costing.tasks import enqueue_rollups
from territories import bounds
from territories.exceptions import Conflict
from territories.roles import Role

from . import food_safety
from .models import (
    COLD_MAX_C,
    HOT_MIN_C,
    REACH_FIELDS,
    REACH_PROFILES,
    REACH_REFERRALS,
    Allergen,
    Batch,
    Component,
    Distribution,
    Liaison,
    Pickup,
    PortionType,
    ShortfallReason,
    TransportMode,
    temperature_ok,
)
from .tasks import notify_batch_ready, notify_batch_recalled

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Bounds of what a form may hold, matching the columns' sizes.
LOT_NUMBER_MAX = 50
PORTION_GRAMS_MAX = 2000
DISTANCE_MAX_KM = bounds.decimal_column_max(Pickup._meta.get_field("distance_km"))


def today() -> datetime.date:
    return food_safety.today()


def check_rules(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)


def bounded(errors: dict[str, str], **messages: str | None) -> None:
    """Adds the broken bounds (``territories.bounds``) to a service's errors, after the more
    precise rules already found for the same field."""
    for name, message in messages.items():
        if message:
            errors.setdefault(name, message)


def temperature_rule(liaison: str) -> str:
    if liaison == Liaison.COLD:
        return _("Un repas en liaison froide doit être à +%(max)s °C ou moins.") % {"max": COLD_MAX_C}
    return _("Un repas en liaison chaude doit être à %(min)s °C ou plus.") % {"min": HOT_MIN_C}


def breach_message(liaison: str) -> str:
    return (
        temperature_rule(liaison)
        + " "
        + _("Hors de ces limites, les repas ne peuvent être enregistrés que comme écartés, avec le motif.")
    )


def check_partnership_allows(
    partnership: Partnership, kind: str, production_date: datetime.date
) -> dict[str, str]:
    """The partnership's instrument in force on the production day: the one rule the API, the
    form and the CSV import share. A batch is declared only on an active partnership whose
    current convention version every party has signed, within its duration; surplus only on a
    donation convention with a habilitated association (Code de l'environnement L541-15-5,
    D541-310), dedicated meals only on a supply agreement."""
    from associations.conventions.selectors import convention_missing_signatures

    errors: dict[str, str] = {}
    active = (
        partnership.status == Partnership.Status.ACTIVE
        and partnership.starts_on <= production_date
        and (partnership.ends_on is None or production_date <= partnership.ends_on)
    )
    if not active:
        if partnership.ends_on is not None and production_date > partnership.ends_on:
            errors["partnership"] = _(
                "La convention de ce partenariat a expiré le %(day)s : aucun lot ne peut y être déclaré."
            ) % {"day": partnership.ends_on.strftime("%d/%m/%Y")}
        else:
            errors["partnership"] = _("Ce partenariat n'est pas actif à la date de production.")
    else:
        missing = convention_missing_signatures(partnership)
        if missing is None:
            errors["partnership"] = _(
                "Ce partenariat n'a pas de convention établie : aucun lot ne peut y être déclaré."
            )
        elif missing:
            errors["partnership"] = _(
                "La version en vigueur de la convention n'est pas signée par toutes les parties "
                "(manquent : %(parties)s) : aucun lot ne peut y être déclaré."
            ) % {"parties": ", ".join(str(party.label) for party in missing)}
    allowed_kind = (
        Batch.Kind.SURPLUS if partnership.mode == Partnership.Mode.SURPLUS else Batch.Kind.DEDICATED
    )
    association = partnership.association
    habilitated = association.habilitation != association.Habilitation.NONE and (
        association.habilitation_expires_on is None or association.habilitation_expires_on >= production_date
    )
    if kind in Batch.Kind.values and kind != allowed_kind:
        errors["kind"] = _(
            "Ce partenariat est une « %(instrument)s » : il ne reçoit que des lots de type « %(kind)s »."
        ) % {"instrument": partnership.get_mode_display(), "kind": Batch.Kind(allowed_kind).label}
    elif kind == Batch.Kind.SURPLUS and not habilitated:
        errors["kind"] = _(
            "L'association n'a pas d'habilitation à l'aide alimentaire valable à cette date : "
            "elle ne peut pas recevoir de dons d'excédents."
        )
    return errors


def check_batch_fields(
    *,
    partnership: Partnership,
    kind: str,
    production_date: datetime.date,
    meals_count: int,
    liaison: str,
    use_by_date: datetime.date,
    components: list[str],
    allergens: list[str],
    service: str,
    lot_number: str,
    dispatch_temperature_c: Decimal,
    no_regulated_allergens: bool = False,
    portion_type: str = "",
    portion_grams: int | None = None,
    confirm_unusual: bool = False,
    left_ready: bool = True,
    declared_on: datetime.date | None = None,
    batch_pk: int | None = None,
) -> dict[str, str]:
    """Every rule of a batch's declaration or correction (see ``meals.food_safety`` for the
    sources of the food-safety ones)."""
    errors = check_partnership_allows(partnership, kind, production_date)
    if kind not in Batch.Kind.values:
        errors["kind"] = _("Type de repas inconnu.")
    if service not in Batch.Service.values:
        errors["service"] = _("Service inconnu (déjeuner ou dîner).")
    if liaison not in Liaison.values:
        errors["liaison"] = _("Liaison inconnue (froide ou chaude).")
    if len(lot_number.strip()) > LOT_NUMBER_MAX:
        errors["lot_number"] = _("Le numéro de lot compte %(max)s caractères au plus.") % {
            "max": LOT_NUMBER_MAX
        }
    elif not lot_number.strip():
        errors["lot_number"] = _("Indiquez le numéro de lot.")
    elif food_safety.lot_taken(
        kitchen_id=partnership.kitchen_id, lot_number=lot_number.strip(), exclude_pk=batch_pk
    ):
        errors["lot_number"] = food_safety.lot_taken_message(lot_number.strip())
    if abs(dispatch_temperature_c) > food_safety.TEMPERATURE_MAX:
        errors["dispatch_temperature_c"] = _("Température invraisemblable.")
    if production_date > today():
        errors["production_date"] = _("La date de production ne peut pas être dans le futur.")
    if use_by_date < production_date:
        errors["use_by_date"] = _("La date limite de consommation précède la date de production.")
    if meals_count <= 0:
        errors["meals_count"] = _("Le nombre de repas doit être positif.")
    else:
        errors.update(
            food_safety.check_meal_count(
                partnership=partnership, meals_count=meals_count, confirm_unusual=confirm_unusual
            )
        )
    bounded(
        errors,
        production_date=bounds.date_error(production_date, ahead_years=0),
        use_by_date=bounds.date_error(use_by_date, ahead_years=1),
        meals_count=bounds.count_error(meals_count, minimum=1),
        lot_number=bounds.text_error(lot_number, max_length=LOT_NUMBER_MAX + 50),
    )
    kitchen = partnership.kitchen
    for name, message in food_safety.check_declaration_dates(
        kitchen=kitchen,
        liaison=liaison,
        production_date=production_date,
        use_by_date=use_by_date,
        left_ready=left_ready,
        declared_on=declared_on,
    ).items():
        errors.setdefault(name, message)
    can_do: dict[str, bool] = {Liaison.COLD: kitchen.does_cold_liaison, Liaison.HOT: kitchen.does_hot_liaison}
    if liaison in can_do and not can_do[liaison]:
        errors["liaison"] = _("Cette cuisine ne pratique pas ce type de liaison.")
    if any(item not in Component.values for item in components):
        errors["components"] = _("Composante inconnue.")
    errors.update(check_allergens(allergens, no_regulated_allergens))
    if portion_type and portion_type not in PortionType.values:
        errors["portion_type"] = _("Type de portion inconnu (enfant ou adulte).")
    if portion_grams is not None and not 0 < portion_grams <= PORTION_GRAMS_MAX:
        errors["portion_grams"] = _("Le poids d'une portion est compris entre 1 et %(max)s g.") % {
            "max": PORTION_GRAMS_MAX
        }
    elif portion_grams is not None and not portion_type:
        errors["portion_type"] = _("Indiquez le type de portion (enfant ou adulte) de ce poids.")
    return errors


def check_allergens(allergens: list[str], no_regulated_allergens: bool) -> dict[str, str]:
    """Allergens are declared explicitly: one or more of the 14 of Regulation (EU) 1169/2011,
    annex II, or the box "none of the 14" ticked (art. 9 §1 c and art. 44 for meals supplied
    by caterers: the information is given for every food). An empty list is not a declaration."""
    if any(item not in Allergen.values for item in allergens):
        return {"allergens": _("Allergène inconnu (les 14 allergènes réglementaires sont attendus).")}
    if allergens and no_regulated_allergens:
        return {
            "allergens": _(
                "Cochez des allergènes ou « aucun des 14 allergènes réglementaires », pas les deux."
            )
        }
    if not allergens and not no_regulated_allergens:
        return {
            "allergens": _(
                "Déclarez les allergènes du lot : un ou plusieurs des 14 allergènes réglementaires, "
                "ou « aucun des 14 allergènes réglementaires »."
            )
        }
    return {}


def batch_create(
    *,
    partnership: Partnership,
    by: User,
    kind: str,
    production_date: datetime.date,
    meals_count: int,
    liaison: str,
    lot_number: str,
    use_by_date: datetime.date,
    dispatch_temperature_c: Decimal,
    service: str = Batch.Service.LUNCH,
    components: list[str] | None = None,
    allergens: list[str] | None = None,
    no_regulated_allergens: bool = False,
    dishes: str = "",
    portion_type: str = "",
    portion_grams: int | None = None,
    reheating_instructions: str = "",
    discard_reason: str = "",
    confirm_unusual: bool = False,
    declared_on: datetime.date | None = None,
) -> Batch:
    """Declares a batch ready for pickup; out of temperature bounds it can only be recorded as discarded.

    ``confirm_unusual``: the kitchen confirms a count above three times the partnership's usual
    daily meals. ``declared_on``: for a record of the past (the demo's history, an imported
    line with its pickup), the day it was declared, on which its use-by date had not passed;
    today by default."""
    with transaction.atomic():
        components = components or []
        allergens = allergens or []
        breach = not temperature_ok(liaison, dispatch_temperature_c)
        errors = check_batch_fields(
            no_regulated_allergens=no_regulated_allergens,
            portion_type=portion_type,
            portion_grams=portion_grams,
            partnership=partnership,
            kind=kind,
            production_date=production_date,
            meals_count=meals_count,
            liaison=liaison,
            use_by_date=use_by_date,
            components=components,
            allergens=allergens,
            service=service,
            lot_number=lot_number,
            dispatch_temperature_c=dispatch_temperature_c,
            confirm_unusual=confirm_unusual,
            left_ready=not breach,
            declared_on=declared_on,
        )
        if breach and not discard_reason.strip():
            errors.setdefault("dispatch_temperature_c", breach_message(liaison))
        bounded(errors, discard_reason=bounds.text_error(discard_reason))
        check_rules(errors)
        batch = Batch(
            territory_id=partnership.territory_id,
            partnership=partnership,
            kitchen_id=partnership.kitchen_id,
            association_id=partnership.association_id,
            kind=kind,
            production_date=production_date,
            service=service,
            meals_count=meals_count,
            components=components,
            liaison=liaison,
            lot_number=lot_number.strip(),
            use_by_date=use_by_date,
            dispatch_temperature_c=dispatch_temperature_c,
            allergens=allergens,
            no_regulated_allergens=no_regulated_allergens,
            dishes=dishes.strip(),
            portion_type=portion_type,
            portion_grams=portion_grams,
            reheating_instructions=reheating_instructions.strip(),
            unusual_confirmed=food_safety.is_unusual(partnership, meals_count),
            status=Batch.Status.DISCARDED if breach else Batch.Status.READY,
            discard_reason=discard_reason.strip() if breach else "",
            created_by=by,
        )
        save_with_lot(batch, by)
        enqueue_rollups(batch.territory_id, {batch.production_date})
        if batch.status == Batch.Status.READY:
            from .rounds.services import slot_attach_batch

            slot_attach_batch(batch)  # the round's slot of that day, if any, and its volunteer told
        if (
            batch.status == Batch.Status.READY
            and declared_on in (None, today())
            and batch.use_by_date >= today()
        ):
            # Past batches (imports) are not announced: nobody can collect them any more.
            transaction.on_commit(lambda: delay_or_log(notify_batch_ready, batch.pk))
        return batch


def saved_by(record: Any, by: User) -> Any:
    """Saves a new record with its author in the history (also outside a request: imports, tasks)."""
    record._history_user = by
    try:
        record.save()
    finally:
        forget_author(record)
    return record


def forget_author(record: Any) -> None:
    """simple-history takes ``_history_user`` from the object before any ``default_user``: left on
    an object that is used again (the batch ``batch_create`` returns), it would name this
    author on the next write of someone else."""
    record.__dict__.pop("_history_user", None)


def history_of_update(record: Any, by: User) -> None:
    """The history row of a change made by ``QuerySet.update()`` (which sends no signal), by its author."""
    forget_author(record)
    type(record).history.bulk_history_create([record], update=True, default_user=by)


def save_with_lot(batch: Batch, by: User) -> None:
    """Saves a batch; a lot number taken meanwhile by a concurrent request (the unique
    constraint of the database) answers the same field error as the check before."""
    try:
        with transaction.atomic():
            batch._history_user = by  # type: ignore[attr-defined]
            batch.save()
    except IntegrityError:
        forget_author(batch)
        if food_safety.lot_taken(
            kitchen_id=batch.kitchen_id, lot_number=batch.lot_number, exclude_pk=batch.pk
        ):
            raise ValidationError({"lot_number": food_safety.lot_taken_message(batch.lot_number)}) from None
        raise
    forget_author(batch)


EDITABLE_BATCH_FIELDS = {
    "kind", "production_date", "service", "meals_count", "components", "liaison",
    "lot_number", "use_by_date", "dispatch_temperature_c", "allergens", "no_regulated_allergens",
    "dishes", "portion_type", "portion_grams", "reheating_instructions",
}  # fmt: skip


def batch_update(*, batch: Batch, by: User, confirm_unusual: bool = False, **changes: Any) -> Batch:
    """Corrects a batch that is still waiting for its pickup (the same rules as its declaration)."""
    with transaction.atomic():
        unknown = set(changes) - EDITABLE_BATCH_FIELDS
        if unknown:
            raise ValidationError({name: _("Ce champ ne peut pas être modifié.") for name in unknown})
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != Batch.Status.READY:
            raise Conflict(
                _("Ce lot n'est plus modifiable : il est « %(status)s ».")
                % {"status": locked.get_status_display()}
            )
        for name, value in changes.items():
            setattr(locked, name, value)
        errors = check_batch_fields(
            partnership=locked.partnership,
            kind=locked.kind,
            production_date=locked.production_date,
            meals_count=locked.meals_count,
            liaison=locked.liaison,
            use_by_date=locked.use_by_date,
            components=locked.components,
            allergens=locked.allergens,
            service=locked.service,
            lot_number=locked.lot_number,
            dispatch_temperature_c=locked.dispatch_temperature_c,
            no_regulated_allergens=locked.no_regulated_allergens,
            portion_type=locked.portion_type,
            portion_grams=locked.portion_grams,
            confirm_unusual=confirm_unusual or (locked.unusual_confirmed and "meals_count" not in changes),
            batch_pk=locked.pk,
        )
        if not temperature_ok(locked.liaison, locked.dispatch_temperature_c):
            errors.setdefault("dispatch_temperature_c", breach_message(locked.liaison))
        check_rules(errors)
        locked.unusual_confirmed = food_safety.is_unusual(locked.partnership, locked.meals_count)
        save_with_lot(locked, by)
        enqueue_rollups(locked.territory_id, {batch.production_date, locked.production_date})
        return locked


def move_status(batch: Batch, *, by: User, expected: set[str], to: str, **fields: Any) -> None:
    """The conditional update that makes each transition happen at most once."""
    updated = Batch.objects.filter(pk=batch.pk, status__in=expected).update(status=to, **fields)
    if updated == 1:
        batch.refresh_from_db()
        # QuerySet.update() sends no signal: the history record, with who moved it, is written here.
        history_of_update(batch, by)
        # The status counts on the days of the batch, of its pickup and of its distributions (a
        # batch that was ready has neither).
        days = {batch.production_date}
        if expected != {Batch.Status.READY}:
            days.update(batch.distributions.values_list("distributed_on", flat=True))
            days.update(Pickup.objects.filter(batch=batch).values_list("picked_up_on", flat=True))
        enqueue_rollups(batch.territory_id, days)
        return
    current = Batch.objects.get(pk=batch.pk)
    if current.status == Batch.Status.CANCELLED:
        raise ValidationError({"batch": _("Ce lot a été annulé.")})
    raise Conflict(
        _("Ce lot est déjà « %(status)s » : l'opération a sans doute été faite par quelqu'un d'autre.")
        % {"status": current.get_status_display()}
    )


def batch_cancel(*, batch: Batch, by: User, reason: str) -> Batch:
    """The kitchen withdraws a batch not yet picked up."""
    with transaction.atomic():
        check_rules({"reason": _("Indiquez le motif de l'annulation.")} if not reason.strip() else {})
        check_rules({"reason": message} if (message := bounds.text_error(reason)) else {})
        move_status(
            batch,
            by=by,
            expected={Batch.Status.READY},
            to=Batch.Status.CANCELLED,
            discard_reason=reason.strip(),
        )
        return batch


def batch_discard(*, batch: Batch, by: User, reason: str) -> Batch:
    """Meals that must not be eaten (cold chain broken, damaged...), before or after pickup."""
    with transaction.atomic():
        check_rules({"reason": _("Indiquez le motif de l'écart.")} if not reason.strip() else {})
        check_rules({"reason": message} if (message := bounds.text_error(reason)) else {})
        move_status(
            batch,
            by=by,
            expected={Batch.Status.READY, Batch.Status.PICKED_UP},
            to=Batch.Status.DISCARDED,
            discard_reason=reason.strip(),
        )
        return batch


def pickup_confirm(
    *,
    batch: Batch,
    by: User,
    meals_received: int,
    temperature_c: Decimal,
    transport_mode: str,
    picked_up_at: datetime.datetime | None = None,
    refrigerated_vehicle: bool = False,
    distance_km: Decimal = Decimal("0"),
    duration_minutes: int = 0,
    transport_cost: Decimal | None = None,
    discard_reason: str = "",
    shortfall_reason: str = "",
    shortfall_note: str = "",
) -> Pickup:
    """Records the one pickup of a batch. Out of temperature bounds on receipt, the meals
    can only be taken in as discarded, with the reason."""
    with transaction.atomic():
        picked_up_at = picked_up_at or timezone.now()
        # The window first: a datetime of year 1 or 9999 cannot even be moved to local time.
        errors: dict[str, str] = {}
        bounded(errors, picked_up_at=bounds.date_error(picked_up_at, ahead_years=0))
        check_rules(errors)
        picked_up_on = food_safety.local_day(picked_up_at)
        if batch.recalled_at is not None:
            errors["batch"] = _("Ce lot a été rappelé : il ne peut pas être collecté.")
        elif batch.status == Batch.Status.CANCELLED:
            errors["batch"] = _("Ce lot a été annulé : il ne peut pas être collecté.")
        if meals_received < 0:
            errors["meals_received"] = _("Le nombre de repas ne peut pas être négatif.")
        elif meals_received > batch.meals_count:
            errors["meals_received"] = _("Le lot ne compte que %(count)s repas.") % {
                "count": batch.meals_count
            }
        else:
            errors.update(
                check_shortfall(batch.meals_count - meals_received, shortfall_reason, shortfall_note)
            )
        if picked_up_at > timezone.now():
            errors["picked_up_at"] = _("La collecte ne peut pas être datée dans le futur.")
        elif picked_up_on < batch.production_date:
            errors["picked_up_at"] = _("La collecte précède la production du lot.")
        elif picked_up_on > batch.use_by_date:
            errors["picked_up_at"] = _("La date limite de consommation du lot est dépassée.")
        else:
            errors.update(food_safety.check_pickup_timing(batch=batch, picked_up_at=picked_up_at))
        if transport_mode not in TransportMode.values:
            errors["transport_mode"] = _("Mode de transport inconnu.")
        if abs(temperature_c) > food_safety.TEMPERATURE_MAX:
            errors["temperature_c"] = _("Température invraisemblable.")
        if distance_km < 0:
            errors["distance_km"] = _("La distance ne peut pas être négative.")
        elif distance_km > DISTANCE_MAX_KM:
            errors["distance_km"] = _("Distance invraisemblable.")
        if duration_minutes < 0:
            errors["duration_minutes"] = _("La durée ne peut pas être négative.")
        if transport_cost is not None and transport_cost < 0:
            errors["transport_cost"] = _("Le coût ne peut pas être négatif.")
        breach = not temperature_ok(batch.liaison, temperature_c)
        if breach and not discard_reason.strip():
            errors.setdefault("temperature_c", breach_message(batch.liaison))
        bounded(
            errors,
            meals_received=bounds.count_error(meals_received),
            duration_minutes=bounds.count_error(duration_minutes, maximum=24 * 60),
            discard_reason=bounds.text_error(discard_reason),
        )
        check_rules(errors)

        if breach:
            move_status(
                batch,
                by=by,
                expected={Batch.Status.READY},
                to=Batch.Status.DISCARDED,
                discard_reason=discard_reason.strip(),
            )
        else:
            move_status(batch, by=by, expected={Batch.Status.READY}, to=Batch.Status.PICKED_UP)
        pickup = Pickup(
            territory_id=batch.territory_id,
            batch=batch,
            association_id=batch.association_id,
            picked_up_by=by,
            picked_up_at=picked_up_at,
            picked_up_on=picked_up_on,
            meals_received=meals_received,
            temperature_c=temperature_c,
            transport_mode=transport_mode,
            refrigerated_vehicle=refrigerated_vehicle,
            distance_km=distance_km,
            duration_minutes=duration_minutes,
            transport_cost=transport_cost,
            shortfall_reason=shortfall_reason if meals_received < batch.meals_count else "",
            shortfall_note=shortfall_note.strip() if meals_received < batch.meals_count else "",
        )
        saved_by(pickup, by)
        enqueue_rollups(batch.territory_id, {picked_up_on})
        return pickup


def check_shortfall(missing: int, reason: str, note: str) -> dict[str, str]:
    """Every meal is accounted for: fewer meals received than the batch holds needs the reason
    (and, for "other", what happened); the missing meals count as lost (``costing.losses``)."""
    if missing <= 0:
        return {}
    if reason not in ShortfallReason.values:
        return {
            "shortfall_reason": _(
                "%(missing)s repas du lot n'ont pas été reçus : indiquez le motif de l'écart."
            )
            % {"missing": missing}
        }
    if reason == ShortfallReason.OTHER and not note.strip():
        return {"shortfall_note": _("Précisez le motif de l'écart de quantité.")}
    return {}


def reach_errors(people_served: int, reach: dict[str, int | None]) -> dict[str, str]:
    """The rule of who is reached: the people counted by profile, and those counted by referral,
    are among the people served, so each group sums to at most their number (a count left
    empty is not recorded). The error goes on the group's first field given."""
    errors: dict[str, str] = {}
    groups = (
        (
            REACH_PROFILES,
            _("Les personnes comptées par profil (%(total)s) dépassent les personnes servies (%(people)s)."),
        ),
        (
            REACH_REFERRALS,
            _("Les personnes orientées (%(total)s) dépassent les personnes servies (%(people)s)."),
        ),
    )
    for names, message in groups:
        given = [name for name in names if reach.get(name) is not None]
        total = sum(int(reach[name] or 0) for name in given)
        if given and total > people_served:
            errors[given[0]] = message % {"total": total, "people": people_served}
    return errors


def distribution_record(
    *,
    pickup: Pickup,
    by: User,
    site: DistributionSite,
    distributed_on: datetime.date,
    meals_distributed: int,
    beneficiaries: int,
    households: int | None = None,
    children: int | None = None,
    meals_discarded: int = 0,
    discard_reason: str = "",
    temperature_c: Decimal | None = None,
    consumed_on_receipt: bool = False,
    reheat_temperature_c: Decimal | None = None,
    reheat_minutes: int | None = None,
    **reach: int | None,
) -> Distribution:
    """Records meals handed out (and any set aside) from a pickup, at one site on one day, with
    the cold chain up to the plate (``food_safety.check_distribution_safety``).

    ``reach``: the optional counts of who is reached (``REACH_FIELDS``: profiles, referrals,
    people turned away); the profiles, and the referrals, each sum to at most the people served
    (``reach_errors``)."""
    with transaction.atomic():
        unknown = set(reach) - set(REACH_FIELDS)
        if unknown:
            raise TypeError(f"distribution_record() got unexpected keyword arguments {sorted(unknown)}")
        # Lock the pickup so that concurrent distributions of the same meals add up correctly.
        pickup = Pickup.objects.select_for_update().select_related("batch").get(pk=pickup.pk)
        batch = pickup.batch
        already = pickup.distributions.aggregate(
            distributed=Sum("meals_distributed", default=0), discarded=Sum("meals_discarded", default=0)
        )
        remaining = pickup.meals_received - already["distributed"] - already["discarded"]
        errors: dict[str, str] = {}
        if distributed_on > today():
            # Before the generic window of ``bounded``, which would answer first otherwise.
            errors["distributed_on"] = _("La distribution ne peut pas être datée dans le futur.")
        people = bounds.COUNT_BOUNDS["meals.Distribution.beneficiaries"][1]
        bounded(
            errors,
            meals_distributed=bounds.count_error(meals_distributed),
            meals_discarded=bounds.count_error(meals_discarded),
            beneficiaries=bounds.count_error(beneficiaries, maximum=people),
            households=bounds.count_error(households, maximum=people),
            children=bounds.count_error(children, maximum=people),
            **{name: bounds.count_error(value, maximum=people) for name, value in reach.items()},
            distributed_on=bounds.date_error(distributed_on, ahead_years=0),
            discard_reason=bounds.text_error(discard_reason),
            reheat_minutes=bounds.count_error(reheat_minutes, maximum=24 * 60),
        )
        if errors:
            check_rules(errors)
        if site.association_id != pickup.association_id:
            errors["site"] = _("Ce lieu n'appartient pas à l'association qui a collecté le lot.")
        if distributed_on > batch.use_by_date:
            errors["distributed_on"] = _("La date limite de consommation du lot (%(date)s) est dépassée.") % {
                "date": batch.use_by_date.strftime("%d/%m/%Y")
            }
        elif distributed_on < timezone.localdate(pickup.picked_up_at):
            errors["distributed_on"] = _("La distribution précède la collecte.")
        # The first broken rule of a field is the one reported.
        if batch.recalled_at is not None and meals_distributed > 0:
            errors["meals_distributed"] = _(
                "Ce lot a été rappelé : ses repas ne peuvent pas être distribués."
            )
        elif batch.recalled_at is not None:
            # The recall already counts the meals still held as lost (``meals_recalled``).
            errors["meals_discarded"] = _(
                "Ce lot a été rappelé : ses repas restants sont déjà comptés comme retirés."
            )
        if batch.status == Batch.Status.DISCARDED and meals_distributed > 0:
            errors["meals_distributed"] = _("Ce lot a été écarté : ses repas ne peuvent pas être distribués.")
        if meals_distributed + meals_discarded > remaining:
            errors.setdefault(
                "meals_distributed",
                _("Repas distribués et écartés dépassent les repas reçus restants (%(remaining)s).")
                % {"remaining": remaining},
            )
        if meals_distributed + meals_discarded == 0:
            errors.setdefault("meals_distributed", _("Indiquez au moins un repas distribué ou écarté."))
        if meals_discarded > 0 and not discard_reason.strip():
            errors["discard_reason"] = _("Indiquez pourquoi des repas ont été écartés.")
        if meals_distributed > 0 and beneficiaries == 0:
            errors["beneficiaries"] = _("Indiquez le nombre de personnes servies.")
        elif site.capacity_people is not None and beneficiaries > site.capacity_people:
            errors["beneficiaries"] = _(
                "Le lieu « %(site)s » sert au plus %(capacity)s personnes par distribution : "
                "vérifiez le nombre de personnes servies, ou la capacité du lieu."
            ) % {"site": site.name, "capacity": site.capacity_people}
        if "site" not in errors and "distributed_on" not in errors:
            for name, message in food_safety.check_distribution_safety(
                pickup=pickup,
                site=site,
                distributed_on=distributed_on,
                meals_distributed=meals_distributed,
                temperature_c=temperature_c,
                consumed_on_receipt=consumed_on_receipt,
                reheat_temperature_c=reheat_temperature_c,
                reheat_minutes=reheat_minutes,
            ).items():
                errors.setdefault(name, message)
        if households is not None and households > beneficiaries:
            errors["households"] = _("Il ne peut pas y avoir plus de foyers que de personnes servies.")
        if children is not None and children > beneficiaries:
            errors["children"] = _("Il ne peut pas y avoir plus d'enfants que de personnes servies.")
        for name, message in reach_errors(beneficiaries, reach).items():
            errors.setdefault(name, message)
        check_rules(errors)

        distribution = Distribution(
            territory_id=pickup.territory_id,
            pickup=pickup,
            batch=batch,
            association_id=pickup.association_id,
            site=site,
            distributed_on=distributed_on,
            meals_distributed=meals_distributed,
            beneficiaries=beneficiaries,
            households=households,
            children=children,
            meals_discarded=meals_discarded,
            discard_reason=discard_reason.strip(),
            temperature_c=temperature_c,
            consumed_on_receipt=consumed_on_receipt,
            reheat_temperature_c=reheat_temperature_c,
            reheat_minutes=reheat_minutes,
            recorded_by=by,
            **reach,
        )
        saved_by(distribution, by)
        enqueue_rollups(distribution.territory_id, {distributed_on})
        if batch.status == Batch.Status.PICKED_UP:
            if meals_distributed > 0:
                move_status(batch, by=by, expected={Batch.Status.PICKED_UP}, to=Batch.Status.DISTRIBUTED)
            elif meals_discarded == remaining:
                # Every meal received was set aside: the batch ends as discarded.
                move_status(
                    batch,
                    by=by,
                    expected={Batch.Status.PICKED_UP},
                    to=Batch.Status.DISCARDED,
                    discard_reason=discard_reason.strip(),
                )
        return distribution


def distribution_delete(*, distribution: Distribution, by: User) -> None:
    """Removes a distribution entered by mistake; a batch left with no distribution goes back to picked up.

    Deleting it twice (two people at once, a retried request) removes it once: the pickup's lock
    orders them, and the later one finds it gone (``Distribution.DoesNotExist``, a 404)."""
    with transaction.atomic():
        pickup = Pickup.objects.select_for_update().select_related("batch").get(pk=distribution.pickup_id)
        if not Distribution.objects.filter(pk=distribution.pk).exists():
            raise Distribution.DoesNotExist(distribution.pk)
        distribution._history_user = by  # type: ignore[attr-defined]
        distribution.delete()
        batch = pickup.batch
        still_distributed = pickup.distributions.filter(meals_distributed__gt=0).exists()
        if batch.status == Batch.Status.DISTRIBUTED and not still_distributed:
            move_status(batch, by=by, expected={Batch.Status.DISTRIBUTED}, to=Batch.Status.PICKED_UP)
        enqueue_rollups(distribution.territory_id, {distribution.distributed_on})


RECALL_FROM_ROLES = (Role.KITCHEN_MANAGER, Role.AUTHORITY_COORDINATOR)


def may_recall(batch: Batch, user: User) -> bool:
    """A lot is recalled by a manager of its own kitchen or by a coordinator of its territory's
    authority (``Batch.recall_rule``)."""
    return Batch.objects.for_user(user, "recall").filter(pk=batch.pk).exists()


def meals_still_held(batch: Batch) -> int:
    """Meals of a lot neither eaten nor already counted as lost: what a recall withdraws."""
    if batch.status in (Batch.Status.CANCELLED, Batch.Status.DISCARDED):
        return 0
    pickup = Pickup.objects.filter(batch=batch).first()
    if pickup is None:
        return batch.meals_count
    used = pickup.distributions.aggregate(
        total=Sum("meals_distributed", default=0) + Sum("meals_discarded", default=0)
    )["total"]
    return max(pickup.meals_received - used, 0)


def batch_recall(*, batch: Batch, by: User, reason: str) -> Batch:
    """Recalls a lot at any status (a food-safety alert: "retrait-rappel", Regulation (EC)
    178/2002 art. 19): the meals still held are withdrawn and counted as lost, a lot still
    ready is cancelled so nobody collects it, and the associations concerned are e-mailed at
    once (``meals.notifications.batch_recall_notify``). A lot is recalled once."""
    with transaction.atomic():
        check_rules({"reason": _("Indiquez le motif du rappel.")} if not reason.strip() else {})
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        if locked.recalled_at is not None:
            raise Conflict(
                _("Ce lot a déjà été rappelé le %(date)s.")
                % {"date": timezone.localtime(locked.recalled_at).strftime("%d/%m/%Y à %H:%M")}
            )
        fields: dict[str, Any] = {
            "recalled_at": timezone.now(),
            "recall_reason": reason.strip(),
            "recalled_by": by,
            "meals_recalled": meals_still_held(locked),
        }
        if locked.status == Batch.Status.READY:
            fields["status"] = Batch.Status.CANCELLED
            fields["discard_reason"] = _("Rappel : %(reason)s") % {"reason": reason.strip()}
        Batch.objects.filter(pk=locked.pk).update(**fields)
        locked.refresh_from_db()
        history_of_update(locked, by)
        enqueue_rollups(locked.territory_id, {locked.production_date})
        transaction.on_commit(lambda: delay_or_log(notify_batch_recalled, locked.pk))
        batch.refresh_from_db()
        return locked
