# ruff: noqa: RUF002 - the docstring writes the signs of a printed range
"""The bounds of every value a user can enter, in one place.

The same checks run wherever a value comes in: the meal flow's services (``meals.services``,
shared by the browser forms, the API and the CSV import), every model's ``clean_fields``
(browser forms and the admin) and the API's ``ModelCleanSerializer``, the period pickers of
the costs, indicators, dashboards, comparison and reports, and the week pages. They do not
depend on the database: PostgreSQL's ``integer`` column stops at 2³¹ − 1 (a larger value is a
database error, so a 500), SQLite stores up to 2⁶³ − 1, and Django's own field validators
follow whichever database is connected. Here the bound is the PostgreSQL column's, on both.

- **Counts** are whole numbers from 0 (or 1) to a realistic maximum for the field
  (``COUNT_BOUNDS``), and never above the column's range (``INT_COLUMN_MAX``).
- **Dates** lie in a window around today: ``PAST_YEARS`` back, and as far ahead as the field
  needs (``DATE_AHEAD_YEARS``; 0 for what has already happened).
- **Periods** read by the figures span at most ``PERIOD_MAX_MONTHS`` whole months, inside the
  same window.
- **Text** is bounded (a ``CharField`` by its column, free text by ``TEXT_MAX_LENGTH``) and
  holds no control character (C0 controls, DEL) but tab and line breaks, and no
  bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069), which would let a name
  display as another (the "Trojan Source" spoofing, CVE-2021-42574).

Each ``*_error`` function returns the French message of the first broken bound, or ``None``.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from collections.abc import Iterable

# PostgreSQL's ``integer`` (Django's IntegerField and PositiveIntegerField).
INT_COLUMN_MAX = 2**31 - 1
SMALLINT_COLUMN_MAX = 2**15 - 1
BIGINT_COLUMN_MAX = 2**63 - 1

PAST_YEARS = 10
PERIOD_MAX_MONTHS = 24
TEXT_MAX_LENGTH = 5000

# Realistic maxima of counts, by "app_label.Model.field". The largest French central kitchens
# produce a few tens of thousands of meals a day; a distribution site serves at most a few
# thousand people in a day. The batch's meal count is bounded by its kitchen's capacity in
# the meal flow's services.
KITCHEN_CAPACITY_MAX = 100_000
PEOPLE_PER_DISTRIBUTION_MAX = 10_000
COUNT_BOUNDS: dict[str, tuple[int, int]] = {
    "kitchens.Kitchen.daily_capacity": (1, KITCHEN_CAPACITY_MAX),
    "kitchens.Kitchen.usual_daily_production": (0, KITCHEN_CAPACITY_MAX),
    "associations.Partnership.planned_meals_per_week": (0, 7 * KITCHEN_CAPACITY_MAX),
    "associations.DistributionSite.cold_storage_litres": (0, 1_000_000),
    "associations.DistributionSite.capacity_people": (1, PEOPLE_PER_DISTRIBUTION_MAX),
    "meals.Pickup.duration_minutes": (0, 24 * 60),
    "costing.AssociationCost.equipment_amortisation_months": (0, 600),
    "meals.Distribution.beneficiaries": (0, PEOPLE_PER_DISTRIBUTION_MAX),
    "meals.Distribution.households": (0, PEOPLE_PER_DISTRIBUTION_MAX),
    "meals.Distribution.children": (0, PEOPLE_PER_DISTRIBUTION_MAX),
    **{
        f"meals.Distribution.{name}": (0, PEOPLE_PER_DISTRIBUTION_MAX)
        for name in (
            "profile_families",
            "profile_alone",
            "profile_students",
            "profile_elderly",
            "profile_sheltered",
            "referred_ccas",
            "referred_siao",
            "referred_social_worker",
            "turned_away",
        )
    },
    "costing.KitchenFixedCost.meals_produced": (1, 366 * KITCHEN_CAPACITY_MAX),
    "costing.Revenue.meals": (0, 31 * KITCHEN_CAPACITY_MAX),
    "costing.KitchenFixedCost.year": (2000, 2100),
    "kitchens.EgalimDeclaration.year": (2000, 2100),
}

# How far ahead of today each date may lie, in years; a field not listed: DEFAULT_AHEAD_YEARS.
# What has already happened (production, pickup, distribution, an observation, an answer)
# lies in the past; a use-by date, a month of costs or a funding may be entered ahead.
DEFAULT_AHEAD_YEARS = 2
DATE_AHEAD_YEARS: dict[str, int] = {
    "meals.Batch.production_date": 0,
    "meals.Batch.use_by_date": 1,
    "meals.Pickup.picked_up_at": 0,
    "meals.Distribution.distributed_on": 0,
    "costing.KitchenCostInput.month": 1,
    "costing.TransportRate.month": 1,
    "costing.AssociationCost.month": 1,
    "costing.CoordinationCost.month": 1,
    "evaluation.JournalEntry.observed_on": 0,
    "evaluation.SurveyResponse.answered_on": 0,
    "costing.ReferenceValue.source_date": 0,
    # The end of what is granted or agreed for several years.
    "associations.Partnership.ends_on": 5,
    "associations.Association.habilitation_expires_on": 10,
    "costing.Funding.period_end": 5,
}

_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def today() -> datetime.date:
    return timezone.localdate()


def decimal_column_max(field: Any) -> Decimal:
    """The largest value a ``numeric(max_digits, decimal_places)`` column holds (99,999.9 for
    ``numeric(6,1)``): a larger one, or one that rounds above it, makes PostgreSQL refuse the row."""
    return Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(10) ** -field.decimal_places


def years_from(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def date_window(ahead_years: int = DEFAULT_AHEAD_YEARS) -> tuple[datetime.date, datetime.date]:
    """The first and last dates a field may hold, today."""
    now = today()
    return years_from(now, -PAST_YEARS), years_from(now, ahead_years)


def count_error(value: int | None, *, minimum: int = 0, maximum: int = INT_COLUMN_MAX) -> str | None:
    if value is None:
        return None
    if value < minimum:
        if minimum == 0:
            return _("Ce nombre ne peut pas être négatif.")
        return _("Ce nombre doit être au moins %(min)s.") % {"min": minimum}
    if value > maximum:
        return _("Ce nombre dépasse le maximum vraisemblable (%(max)s).") % {
            "max": f"{maximum:,}".replace(",", "\u202f")
        }
    return None


def date_error(value: datetime.date | None, *, ahead_years: int = DEFAULT_AHEAD_YEARS) -> str | None:
    """A date (or a datetime, by its own calendar day) outside the window."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime.datetime) else value
    first, last = date_window(ahead_years)
    if day < first:
        return _("Date trop ancienne : au plus %(years)s ans en arrière (pas avant le %(date)s).") % {
            "years": PAST_YEARS,
            "date": first.strftime("%d/%m/%Y"),
        }
    if day > last:
        if ahead_years == 0:
            return _("Cette date ne peut pas être dans le futur.")
        return _("Date trop lointaine : pas après le %(date)s.") % {"date": last.strftime("%d/%m/%Y")}
    return None


def text_error(value: str | None, *, max_length: int = TEXT_MAX_LENGTH) -> str | None:
    if not value:
        return None
    if len(value) > max_length:
        return _("Ce texte compte %(max)s caractères au plus (il en compte %(count)s).") % {
            "max": max_length,
            "count": len(value),
        }
    if _FORBIDDEN_CHARS.search(value):
        return _(
            "Ce texte contient un caractère de contrôle ou d'inversion du sens d'écriture : "
            "retirez-le (copiez le texte à nouveau depuis sa source, ou tapez-le)."
        )
    return None


def months_between(start: datetime.date, end: datetime.date) -> int:
    """How many calendar months a period touches (both ends included)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def period_errors(
    start: datetime.date | None,
    end: datetime.date | None,
    *,
    start_field: str = "start",
    end_field: str = "end",
    max_months: int = PERIOD_MAX_MONTHS,
) -> dict[str, str]:
    """A period read by the figures: inside the date window, in order, of at most ``max_months``."""
    errors: dict[str, str] = {}
    for name, day in ((start_field, start), (end_field, end)):
        message = date_error(day)
        if message:
            errors[name] = message
    if errors or start is None or end is None:
        return errors
    if end < start:
        errors[end_field] = _("La fin de la période précède son début.")
    elif months_between(start, end) > max_months:
        errors[end_field] = _("La période est limitée à %(count)s mois.") % {"count": max_months}
    return errors


def field_key(model: type[models.Model] | models.Model, name: str) -> str:
    return f"{model._meta.label}.{name}"


_INT_FIELDS = (models.IntegerField, models.SmallIntegerField, models.BigIntegerField)


def field_error(model: type[models.Model] | models.Model, field: models.Field, value: Any) -> str | None:
    """The bound a model field's value breaks, by the field's kind and ``COUNT_BOUNDS`` /
    ``DATE_AHEAD_YEARS``."""
    if value is None or field.choices:
        return None
    key = field_key(model, field.name)
    if isinstance(field, _INT_FIELDS) and not isinstance(field, AutoFieldMixin):
        if isinstance(value, bool) or not isinstance(value, int):
            return None  # the field's own validation reports it
        positive = isinstance(
            field,
            (models.PositiveIntegerField, models.PositiveSmallIntegerField, models.PositiveBigIntegerField),
        )
        column_max = INT_COLUMN_MAX
        if isinstance(field, models.SmallIntegerField):
            column_max = SMALLINT_COLUMN_MAX
        elif isinstance(field, models.BigIntegerField):
            column_max = BIGINT_COLUMN_MAX
        minimum, maximum = COUNT_BOUNDS.get(key, (0 if positive else -column_max, column_max))
        return count_error(value, minimum=minimum, maximum=min(maximum, column_max))
    if isinstance(field, models.DateField) and isinstance(value, datetime.date):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return None
        return date_error(value, ahead_years=DATE_AHEAD_YEARS.get(key, DEFAULT_AHEAD_YEARS))
    if isinstance(field, (models.CharField, models.TextField)) and isinstance(value, str):
        return text_error(value, max_length=field.max_length or TEXT_MAX_LENGTH)
    return None


def instance_errors(instance: models.Model, names: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Every bound the instance's (named) concrete fields break, by field name."""
    errors: dict[str, list[str]] = {}
    wanted = set(names) if names is not None else None
    for field in instance._meta.concrete_fields:
        if wanted is not None and field.name not in wanted:
            continue
        message = field_error(instance, field, getattr(instance, field.attname, None))
        if message:
            errors[field.name] = [message]
    return errors


def check_instance(instance: models.Model, names: Iterable[str] | None = None) -> None:
    errors = instance_errors(instance, names)
    if errors:
        raise ValidationError(errors)
