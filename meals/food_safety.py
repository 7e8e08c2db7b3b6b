"""The food-safety and plausibility rules of the meal flow, each written once.

``meals.services`` calls these checks for every declaration, pickup and distribution, so the
browser forms, the API and the CSV import refuse the same things with the same French
message. Each check returns the errors keyed by field (empty when the rule holds); the
caller raises them before anything is written.

Sources of the limits:

- Arrêté du 21 décembre 2009 relatif aux règles sanitaires applicables aux activités de
  commerce de détail, d'entreposage et de transport de produits d'origine animale et denrées
  alimentaires en contenant: annexe I (chilled meals kept at +3 °C or below, hot meals at
  63 °C or above, reheating from the cold to 63 °C in under one hour) and annexe IV point 4
  (the use-by date of a dish prepared in advance is at most 3 days after the day it was
  made, unless a longer shelf life is validated: DGAL note of service on the
  microbiological shelf life of foods). Hot-liaison meals are eaten the day they are made.
- Code de l'environnement, article D541-310 1°: a donation subject to a use-by date is taken
  by the association with at least 48 hours left before that date expires, unless the
  association shows it can hand it out within a shorter delay.
- Regulation (EC) 178/2002, article 18 (traceability): a lot number identifies one lot.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from territories import bounds

from .models import COLD_MAX_C, HOT_MIN_C, REHEAT_MAX_MINUTES, Batch, Liaison

if TYPE_CHECKING:
    from associations.models import DistributionSite, Partnership
    from kitchens.models import Kitchen

    from .models import Pickup

# The territories' time zone: a use-by date ends at midnight, Paris time.
TERRITORY_TZ = ZoneInfo("Europe/Paris")
# Code de l'environnement, art. D541-310 1°.
DONATION_MIN_DELAY = datetime.timedelta(hours=48)
# A batch above this many times the partnership's usual daily meals asks for a confirmation.
UNUSUAL_FACTOR = 3
# Every temperature column is numeric(4,1): above this a row cannot be stored, so the value is
# refused with its field message rather than failing the write.
TEMPERATURE_MAX = bounds.decimal_column_max(Batch._meta.get_field("dispatch_temperature_c"))


def today() -> datetime.date:
    """Today in the territories' time zone."""
    return timezone.localdate(timezone.now(), TERRITORY_TZ)


def local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment, TERRITORY_TZ)


def end_of_use_by(use_by_date: datetime.date) -> datetime.datetime:
    """The moment a use-by date expires: the end of that day (midnight after it), Paris time."""
    return datetime.datetime.combine(
        use_by_date + datetime.timedelta(days=1), datetime.time.min, TERRITORY_TZ
    )


# Declaration


def check_declaration_dates(
    *,
    kitchen: Kitchen,
    liaison: str,
    production_date: datetime.date,
    use_by_date: datetime.date,
    left_ready: bool,
    declared_on: datetime.date | None = None,
) -> dict[str, str]:
    """Dates of a batch being declared (arrêté du 21 décembre 2009, annexe IV point 4).

    ``left_ready``: the batch will wait for its pickup, which it cannot do once its use-by
    date has passed on ``declared_on`` (today, or the day a record of the past was declared)."""
    errors: dict[str, str] = {}
    if use_by_date < production_date:
        return errors  # reported by the caller: the use-by date precedes the production
    if liaison == Liaison.COLD:
        latest = production_date + datetime.timedelta(days=kitchen.cold_shelf_life_days)
        if use_by_date > latest:
            errors["use_by_date"] = _(
                "En liaison froide, la date limite de consommation est au plus %(days)s jours après la "
                "production (au plus tard le %(latest)s) : c'est la durée de vie validée de la cuisine."
            ) % {"days": kitchen.cold_shelf_life_days, "latest": f"{latest:%d/%m/%Y}"}
    elif liaison == Liaison.HOT and use_by_date != production_date:
        errors["use_by_date"] = _(
            "En liaison chaude, les repas se consomment le jour de leur production : la date limite "
            "de consommation est la date de production (%(date)s)."
        ) % {"date": f"{production_date:%d/%m/%Y}"}
    if left_ready and "use_by_date" not in errors and use_by_date < (declared_on or today()):
        errors["use_by_date"] = _(
            "La date limite de consommation (%(date)s) est passée : ce lot ne peut pas être déclaré "
            "prêt à collecter."
        ) % {"date": f"{use_by_date:%d/%m/%Y}"}
    return errors


def usual_daily_meals(partnership: Partnership) -> Decimal:
    """The partnership's usual meals per production day: planned meals per week over its days."""
    return Decimal(partnership.planned_meals_per_week) / max(partnership.production_days_per_week, 1)


def is_unusual(partnership: Partnership, meals_count: int) -> bool:
    """More than three times the usual daily meals (compared without rounding)."""
    return meals_count * max(partnership.production_days_per_week, 1) > (
        UNUSUAL_FACTOR * partnership.planned_meals_per_week
    )


def check_meal_count(*, partnership: Partnership, meals_count: int, confirm_unusual: bool) -> dict[str, str]:
    """A batch is at most the kitchen's daily capacity; an unusual one is confirmed."""
    capacity = partnership.kitchen.daily_capacity
    if meals_count > capacity:
        return {
            "meals_count": _(
                "Ce lot dépasse la capacité journalière de la cuisine (%(capacity)s repas) : "
                "vérifiez le nombre de repas."
            )
            % {"capacity": capacity}
        }
    if meals_count > 0 and is_unusual(partnership, meals_count) and not confirm_unusual:
        usual = usual_daily_meals(partnership).quantize(Decimal("1"))
        return {
            "meals_count": _(
                "%(count)s repas, c'est plus de trois fois le volume quotidien habituel de ce "
                "partenariat (%(usual)s repas) : vérifiez le nombre, ou confirmez-le (case « Je "
                "confirme ce nombre inhabituel », confirm_unusual dans l'API)."
            )
            % {"count": meals_count, "usual": usual}
        }
    return {}


def lot_taken_message(lot_number: str) -> str:
    return _("Le numéro de lot « %(lot)s » est déjà utilisé par cette cuisine : chaque lot a son numéro.") % {
        "lot": lot_number
    }


def lot_taken(*, kitchen_id: int, lot_number: str, exclude_pk: int | None = None) -> bool:
    """Whether the kitchen already has a (not cancelled) batch with this lot number."""
    batches = Batch.objects.filter(kitchen_id=kitchen_id, lot_number=lot_number).exclude(
        status=Batch.Status.CANCELLED
    )
    if exclude_pk is not None:
        batches = batches.exclude(pk=exclude_pk)
    return batches.exists()


DATED_LOT = re.compile(r"^(?P<head>.*?)(?P<day>\d{8})(?P<sep>\D+)(?P<seq>\d+)$")
NUMBERED_LOT = re.compile(r"^(?P<head>.*?)(?P<seq>\d+)$")


def next_lot_number(kitchen: Kitchen, day: datetime.date) -> str:
    """The next free lot number in the kitchen's own pattern, read on its latest batch.

    ``SDN-20261205-3`` gives ``SDN-20261206-1`` the next day and ``SDN-20261206-2`` after
    ``SDN-20261206-1``; ``L-0412`` gives ``L-0413``; with no batch yet, ``<kitchen>-<day>-1``."""
    latest = (
        Batch.objects.filter(kitchen_id=kitchen.pk)
        .order_by("-created_at", "-id")
        .values_list("lot_number", flat=True)
        .first()
    )
    stamp = f"{day:%Y%m%d}"

    def numbered(seq: int) -> str:
        if latest and (match := DATED_LOT.match(latest)):
            return f"{match['head']}{stamp}{match['sep']}{seq}"
        if latest and (match := NUMBERED_LOT.match(latest)):
            return f"{match['head']}{seq:0{len(match['seq'])}d}"
        return f"{kitchen.pk}-{stamp}-{seq}"

    if latest and (match := DATED_LOT.match(latest)):
        seq = int(match["seq"]) + 1 if match["day"] == stamp else 1
    elif latest and (match := NUMBERED_LOT.match(latest)):
        seq = int(match["seq"]) + 1
    else:
        seq = 1
    taken = set(Batch.objects.filter(kitchen_id=kitchen.pk).values_list("lot_number", flat=True))
    while numbered(seq) in taken:
        seq += 1
    return numbered(seq)


# Pickup


def donation_delay(partnership: Partnership) -> datetime.timedelta:
    """The use-by time a donation must have left when the association takes it: 48 hours, or
    the shorter delay within which its convention says it distributes what it receives
    (``Partnership.distribution_delay_hours``; Code de l'environnement, art. D541-310 1°)."""
    return min(DONATION_MIN_DELAY, datetime.timedelta(hours=partnership.distribution_delay_hours))


def check_pickup_timing(*, batch: Batch, picked_up_at: datetime.datetime) -> dict[str, str]:
    """When a surplus batch may be picked up: with at least 48 hours before the end of its
    use-by date, or the association's shorter distribution delay (``donation_delay``). A hot
    batch is picked up on its production day by the rule of its dates: its use-by date is that
    day, and no pickup follows a use-by date."""
    if batch.kind != Batch.Kind.SURPLUS:
        return {}
    needed = donation_delay(batch.partnership)
    # In UTC: between two times of the same zone Python subtracts wall clocks, an hour off
    # across a change of summer time.
    left = end_of_use_by(batch.use_by_date).astimezone(datetime.UTC) - picked_up_at.astimezone(datetime.UTC)
    if left >= needed:
        return {}
    hours, seconds = divmod(max(int(left.total_seconds()), 0), 3600)
    values = {"hours": hours, "minutes": seconds // 60, "delay": int(needed.total_seconds() // 3600)}
    if needed == DONATION_MIN_DELAY:
        message = _(
            "Un don d'excédents se collecte au moins 48 heures avant la fin de sa date limite de "
            "consommation (Code de l'environnement, art. D541-310) : il reste %(hours)s h %(minutes)02d. "
            "Seule une association dont la convention prévoit un délai de distribution plus court peut "
            "le collecter."
        )
    else:
        message = _(
            "L'association distribue les dons en %(delay)s h selon sa convention : le don se collecte au "
            "moins %(delay)s h avant la fin de sa date limite de consommation (Code de l'environnement, "
            "art. D541-310) ; il reste %(hours)s h %(minutes)02d."
        )
    return {"picked_up_at": message % values}


# Distribution


def distribution_breach_message() -> str:
    return _(
        "Un repas en liaison froide doit être à +%(max)s °C ou moins à la distribution. Hors de cette "
        "limite, les repas ne peuvent être enregistrés que comme écartés, avec le motif."
    ) % {"max": COLD_MAX_C}


def check_distribution_safety(
    *,
    pickup: Pickup,
    site: DistributionSite,
    distributed_on: datetime.date,
    meals_distributed: int,
    temperature_c: Decimal | None,
    consumed_on_receipt: bool,
    reheat_temperature_c: Decimal | None,
    reheat_minutes: int | None,
) -> dict[str, str]:
    """The cold chain after the pickup (arrêté du 21 décembre 2009, annexe I).

    Cold-liaison meals handed out are at +3 °C or below at the distribution, or consumed on
    receipt (the day of the pickup); at a site that reheats them, they reached 63 °C within
    an hour of leaving the cold, on the day they are served (the distribution's day). Kept to
    a later day than the pickup, they need a site with cold storage. Out of these bounds the
    meals can only be recorded as discarded (no meal distributed), with the reason."""
    errors: dict[str, str] = {}
    for name, value in (("temperature_c", temperature_c), ("reheat_temperature_c", reheat_temperature_c)):
        if value is not None and abs(value) > TEMPERATURE_MAX:
            errors[name] = _("Température invraisemblable.")
    if reheat_minutes is not None and reheat_minutes < 0:
        errors["reheat_minutes"] = _("La durée ne peut pas être négative.")
    if errors or pickup.batch.liaison != Liaison.COLD or meals_distributed <= 0:
        return errors
    picked_up_on = local_day(pickup.picked_up_at)
    discard_only = _(
        "Hors de cette limite, les repas ne peuvent être enregistrés que comme écartés, avec le motif."
    )
    if consumed_on_receipt:
        if distributed_on != picked_up_on:
            errors["consumed_on_receipt"] = _(
                "Des repas consommés dès réception sont distribués le jour de la collecte (%(date)s)."
            ) % {"date": f"{picked_up_on:%d/%m/%Y}"}
    elif temperature_c is None:
        errors["temperature_c"] = _(
            "Indiquez la température des repas à la distribution, ou cochez « consommés dès réception »."
        )
    elif temperature_c > COLD_MAX_C:
        errors["temperature_c"] = distribution_breach_message()
    if site.reheats:
        if reheat_temperature_c is None:
            errors["reheat_temperature_c"] = _(
                "Ce lieu réchauffe les repas : indiquez la température atteinte."
            )
        elif reheat_temperature_c < HOT_MIN_C:
            errors["reheat_temperature_c"] = (
                _("Les repas réchauffés doivent atteindre %(min)s °C ou plus.") % {"min": HOT_MIN_C}
                + " "
                + discard_only
            )
        if reheat_minutes is None:
            errors["reheat_minutes"] = _(
                "Ce lieu réchauffe les repas : indiquez en combien de minutes ils ont atteint 63 °C "
                "à la sortie du froid."
            )
        elif reheat_minutes > REHEAT_MAX_MINUTES:
            errors["reheat_minutes"] = (
                _(
                    "Les repas doivent atteindre 63 °C moins d'une heure (%(max)s minutes) après leur "
                    "sortie du froid."
                )
                % {"max": REHEAT_MAX_MINUTES}
                + " "
                + discard_only
            )
    if distributed_on > picked_up_on and not site.has_cold_storage:
        errors["site"] = _(
            "Ce lieu n'a pas de stockage réfrigéré : un lot en liaison froide y est distribué le jour "
            "de sa collecte (%(date)s), pas plus tard."
        ) % {"date": f"{picked_up_on:%d/%m/%Y}"}
    return errors
