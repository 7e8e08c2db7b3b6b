# ruff: noqa: RUF001, RUF002, RUF003 - the method is written with the signs × and − of French arithmetic
"""The cost method: marginal and full cost of a meal, from monthly inputs and roll-up sums.

The method is a set of pure functions over plain data (``CostData``, built by
``costing.selectors.cost_data``); each returns small dataclasses whose figures carry their
``value``, the ``inputs`` used (with their values), the ``method`` (the formula, in French),
the ``missing`` inputs (in French) and whether the figure is ``complete``.
``docs/methodology.md`` writes the method down with worked examples (the numbers of
``tests/costing/test_method.py``).

The completeness rule. An input a formula needs and that was left empty is *missing*; it
never counts as zero. The figure lists it and is incomplete; its value is then the sum of
the parts that are known — a lower bound, since every cost is non-negative — or ``None``
when no part is known at all. A figure that does not apply (the marginal cost of a dedicated
meal in a month without dedicated meals) has ``applicable=False``, no value and nothing
missing. Derived figures (cost per meal, shares, comparisons) inherit the missing inputs of
the figures they divide.

Amounts are computed exactly and rounded only when shown: euros to the cent, percentages
to a tenth, ratios to a hundredth (half up).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_noop, ngettext

from . import versions
from .losses import loss_rate_definition, loss_terms
from .models import AssociationCost, CoordinationCost, KitchenCostInput, MonthlyCost, ReferenceValue

if TYPE_CHECKING:
    from .models import TransportRate

# The method translates the same few dozen messages for every actor-month it costs (over a
# hundred thousand in a national synthesis): each is looked up once per language.
_translated: dict[tuple[str | None, str], str] = {}

# The active language, read once per run of the method (``cost_report``) rather than for each of
# its million messages and labels in a national synthesis: ``get_language`` goes through an
# asgiref ``Local`` (a few microseconds a call, seconds in all).
_run_language: ContextVar[tuple[str | None] | None] = ContextVar("run_language", default=None)


@contextmanager
def one_language() -> Iterator[None]:
    """Within it, the method's messages and labels are translated into the language active when
    it was entered."""
    token = _run_language.set((get_language(),))
    try:
        yield
    finally:
        _run_language.reset(token)


def active_language() -> str | None:
    run = _run_language.get()
    return run[0] if run is not None else get_language()


def _(message: str) -> str:
    key = (active_language(), message)
    translated = _translated.get(key)
    if translated is None:
        translated = _translated[key] = gettext(message)
    return translated


ZERO = Decimal(0)
HUNDRED = Decimal(100)
SIXTY = Decimal(60)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

EURO = "€"
# The unit of a cost per meal, translated where a figure is made (``_``): "€/meal" in English.
PER_MEAL = gettext_noop("€/repas")
PERCENT = "%"
RATIO = "×"

# The reference values the full cost is compared with.
COMPARED_REFERENCES = (ReferenceValue.Code.FOOD_PARCEL_COST, ReferenceValue.Code.SOCIAL_GROCERY_COST)

Amount = Decimal | int


@functools.cache  # a few dozen months, formatted for each of a synthesis's actor-months
def month_label(month: datetime.date) -> str:
    return f"{month:%m/%Y}"


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def last_of_month(day: datetime.date) -> datetime.date:
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def months_of(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The months a period touches (inputs are monthly, so a period spans whole months)."""
    months, month = [], first_of_month(start)
    while month <= end:
        months.append(month)
        month = last_of_month(month) + datetime.timedelta(days=1)
    return months


def dedup(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def rounded(value: Decimal | None, step: Decimal = CENT) -> Decimal | None:
    return None if value is None else value.quantize(step, rounding=ROUND_HALF_UP)


def as_json(value: Any) -> Any:
    """Decimals as strings (exact), dates in ISO format: what the API and MonthlyCost store."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# --- Figures ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InputUsed:
    """One input a figure used, as shown beside it: a French label and its value (None: missing)."""

    label: str
    value: Amount | None

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": as_json(self.value)}


@dataclass(slots=True)
class Figure:
    """One figure of the method, traceable to its inputs."""

    key: str
    label: str
    unit: str
    value: Decimal | None
    method: str
    inputs: list[InputUsed] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    applicable: bool = True
    # The unrounded value, for the figures derived from this one.
    exact: Decimal | None = field(default=None, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "value": as_json(self.value),
            "method": self.method,
            "inputs": [item.as_dict() for item in self.inputs],
            "missing": list(self.missing),
            "complete": self.complete,
            "applicable": self.applicable,
        }


# Whether the method records the inputs each figure used. The cost pages and API show them;
# dashboards and reports print the figures alone, and a national synthesis would otherwise
# build about a million of them (``inputs_not_recorded``).
_recording_inputs: ContextVar[bool] = ContextVar("recording_inputs", default=True)


@contextmanager
def inputs_not_recorded() -> Iterator[None]:
    """Within it, figures carry their values and what they lack, but no list of inputs used."""
    token = _recording_inputs.set(False)
    try:
        yield
    finally:
        _recording_inputs.reset(token)


class Partial:
    """A sum of non-negative terms, some of which may be unknown (missing)."""

    __slots__ = ("inputs", "known", "missing", "recording", "total")

    def __init__(self) -> None:
        self.total = ZERO
        self.known = False
        self.missing: list[str] = []
        self.inputs: list[InputUsed] = []
        self.recording = _recording_inputs.get()

    def add(self, value: Decimal | None) -> None:
        if value is not None:
            self.total += value
            self.known = True

    def lack(self, *labels: str) -> None:
        self.missing.extend(labels)

    def use(self, label: str, value: Amount | None) -> None:
        if self.recording:
            self.inputs.append(InputUsed(label, value))

    def extend(self, other: Partial) -> None:
        if other.known:
            self.add(other.total)
        self.missing.extend(other.missing)
        self.inputs.extend(other.inputs)

    @property
    def value(self) -> Decimal | None:
        return self.total if self.known else None


def figure_from(
    partial: Partial, *, key: str, label: str, unit: str, method: str, divisor: Amount = 1
) -> Figure:
    exact = None if partial.value is None else partial.value / Decimal(divisor)
    return Figure(
        key=key,
        label=label,
        unit=unit,
        value=rounded(exact),
        method=method,
        inputs=partial.inputs,
        missing=dedup(partial.missing),
        exact=exact,
    )


def not_applicable(*, key: str, label: str, unit: str, method: str, why: str) -> Figure:
    return Figure(key=key, label=label, unit=unit, value=None, method=f"{method} {why}", applicable=False)


def ratio_figure(
    *,
    key: str,
    label: str,
    unit: str,
    method: str,
    numerator: Figure,
    denominator: Amount | None,
    denominator_label: str,
    scale: Decimal = Decimal(1),
    step: Decimal = CENT,
) -> Figure:
    """``numerator ÷ denominator`` (× scale); missing when the denominator is zero or unknown."""
    missing = list(numerator.missing)
    inputs = [InputUsed(numerator.label, numerator.value), InputUsed(denominator_label, denominator)]
    exact = None
    if not denominator:
        missing.append(_("%(what)s : aucun sur la période") % {"what": denominator_label})
    elif numerator.exact is not None:
        exact = numerator.exact * scale / Decimal(denominator)
    return Figure(
        key=key,
        label=label,
        unit=unit,
        value=rounded(exact, step),
        method=method,
        inputs=inputs,
        missing=dedup(missing),
        exact=exact,
    )


# --- The data the method reads ----------------------------------------------------------


@dataclass(frozen=True)
class Volumes:
    """Roll-up sums over a period (or a month)."""

    meals_produced_dedicated: int = 0
    meals_produced_surplus: int = 0
    pickups: int = 0
    meals_picked_up: int = 0
    meals_distributed: int = 0
    meals_discarded: int = 0
    meals_short: int = 0
    meals_expired: int = 0
    meals_recalled: int = 0
    people_served: int = 0
    km: Decimal = ZERO
    transport_cost: Decimal = ZERO
    pickups_without_cost: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {name: as_json(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class KitchenMonth:
    """A kitchen's meals of one month (from the roll-ups) and its cost inputs (None: not entered):
    a row with the fields of ``KitchenCostInput``, as ``cost_data`` reads it, or an instance."""

    kitchen_id: int
    kitchen_name: str
    month: datetime.date
    dedicated_meals: int
    surplus_meals: int
    inputs: Any


@dataclass(frozen=True, slots=True)
class AssociationMonth:
    """An association's activity in one month, its costs (a row with the fields of
    ``AssociationCost``, or an instance; None: not entered) and the value of a volunteer hour then."""

    association_id: int
    association_name: str
    month: datetime.date
    active: bool
    inputs: Any
    volunteer_hour_value: Decimal | None


@dataclass(frozen=True, slots=True)
class CoordinationMonth:
    """The coordination costs a territory's authorities entered for one month of activity."""

    territory_id: int
    territory_name: str
    month: datetime.date
    rows: tuple[Any, ...]  # rows with the fields of ``CoordinationCost`` and ``authority_name``


class ActorCosts:
    """Each actor-month's cost computed once per read: a dashboard or report runs the method
    on the whole read, then on its share of each month and of each territory, and those shares
    hold the very rows of the read. A row's cost depends on the row alone."""

    def __init__(self) -> None:
        # (id(row), inputs recorded) -> (row, cost): the row is kept so that its id cannot be
        # reused by another; a cost without its inputs never stands for one with them.
        self.known: dict[tuple[int, bool], tuple[Any, Any]] = {}

    def of(self, row: Any, compute: Callable[[Any], Any]) -> Any:
        key = (id(row), _recording_inputs.get())
        kept = self.known.get(key)
        if kept is None:
            kept = self.known[key] = (row, compute(row))
        return kept[1]


@dataclass(frozen=True)
class CostData:
    """Everything the method reads for a set of territories and a period of whole months.

    ``costs``: the actor-months already costed; a share of a read passes the read's on."""

    territory_ids: list[int] | None
    months: list[datetime.date]
    volumes: Volumes
    kitchens: list[KitchenMonth] = field(default_factory=list)
    associations: list[AssociationMonth] = field(default_factory=list)
    coordination: list[CoordinationMonth] = field(default_factory=list)
    references: dict[str, ReferenceValue | None] = field(default_factory=dict)
    costs: ActorCosts = field(default_factory=ActorCosts, compare=False, repr=False)


# --- Input helpers ----------------------------------------------------------------------


_verbose_names: dict[tuple[str | None, type[models.Model], str], str] = {}


def verbose(model: type[models.Model], name: str) -> str:
    """A field's label in the active language (looked up once per language, as ``_``)."""
    key = (active_language(), model, name)
    label = _verbose_names.get(key)
    if label is None:
        model_field = model._meta.get_field(name)
        label = _verbose_names[key] = str(getattr(model_field, "verbose_name", name))
    return label


class InputReader:
    """Reads a monthly input row's fields for one actor-month, recording what it used and lacked."""

    def __init__(self, model: type[models.Model], row: Any, where: str) -> None:
        self.model, self.row, self.where = model, row, where

    def label(self, name: str) -> str:
        return f"{self.where} : {verbose(self.model, name)}"

    def get(self, name: str) -> Any:
        return getattr(self.row, name) if self.row is not None else None

    def use(self, partial: Partial, name: str, value: Amount | None) -> None:
        """Records the field among the inputs used (its label built only then)."""
        if partial.recording:
            partial.use(self.label(name), value)

    def term(self, partial: Partial, name: str, times: Amount = 1, *, needed: bool = True) -> None:
        """Adds ``field × times``; an empty field is missing when needed, else ignored."""
        value = self.get(name)
        if value is None:
            if needed:
                partial.lack(self.label(name))
                self.use(partial, name, None)
            return
        self.use(partial, name, value)
        partial.add(Decimal(value) * Decimal(times))

    def hours_term(self, partial: Partial, hours: str, rate: str, *, needed: bool) -> None:
        """Adds ``hours × hourly cost``: zero hours need no rate; hours without a rate are missing."""
        value = self.get(hours)
        if value is None:
            if needed:
                partial.lack(self.label(hours))
                self.use(partial, hours, None)
            return
        self.use(partial, hours, value)
        if value == 0:
            partial.add(ZERO)
            return
        self.term(partial, rate, value)


# --- Transport of one pickup ------------------------------------------------------------


def pickup_transport_cost(
    *,
    recorded_cost: Decimal | None,
    distance_km: Decimal,
    duration_minutes: int,
    rate: TransportRate | None,
) -> Figure:
    """Transport cost of a pickup = recorded cost, else distance × cost per km + duration × driver cost.

    The roll-ups apply the same rule in SQL (``costing.rollups``) and keep, per day, the sum
    (``transport_cost``) and the pickups that have neither (``pickups_without_cost``)."""
    method = _(
        "Coût du transport d'une collecte = coût réel saisi, sinon distance × coût par km "
        "+ durée × coût horaire du conducteur (barème du mode de transport et du mois)."
    )
    label = _("Coût du transport de la collecte")
    if recorded_cost is not None:
        return Figure(
            key="pickup_transport_cost",
            label=label,
            unit=EURO,
            value=rounded(recorded_cost),
            method=method,
            inputs=[InputUsed(_("coût réel saisi"), recorded_cost)],
            exact=recorded_cost,
        )
    partial = Partial()
    partial.use(_("distance (km)"), distance_km)
    partial.use(_("durée (minutes)"), duration_minutes)
    per_km = rate.cost_per_km if rate else None
    per_hour = rate.driver_hourly_cost if rate else None
    partial.use(_("barème : coût par km"), per_km)
    partial.use(_("barème : coût horaire du conducteur"), per_hour)
    if per_km is None:
        partial.lack(_("barème : coût par km"))
    else:
        partial.add(distance_km * per_km)
    if per_hour is None:
        partial.lack(_("barème : coût horaire du conducteur"))
    else:
        partial.add(Decimal(duration_minutes) / SIXTY * per_hour)
    return figure_from(partial, key="pickup_transport_cost", label=label, unit=EURO, method=method)


# --- Kitchens ---------------------------------------------------------------------------


def method_marginal_dedicated() -> str:
    return _(
        "Coût marginal d'un repas dédié = denrées + conditionnement + énergie par repas "
        "+ (heures de travail supplémentaires × coût horaire chargé) ÷ repas dédiés du mois."
    )


def method_marginal_surplus() -> str:
    return _(
        "Coût marginal d'un repas d'excédent = conditionnement par repas "
        "+ (heures de manutention × coût horaire chargé) ÷ repas d'excédents du mois "
        "(les denrées sont déjà payées)."
    )


def method_kitchen_cost() -> str:
    return _(
        "Coûts des cuisines = Σ par cuisine et par mois (repas dédiés × coût marginal d'un repas dédié "
        "+ repas d'excédents × coût marginal d'un repas d'excédent + autres coûts directs)."
    )


@dataclass(slots=True)
class KitchenMonthCost:
    """A kitchen's marginal costs for one month."""

    kitchen_id: int
    kitchen_name: str
    month: datetime.date
    dedicated_meals: int
    surplus_meals: int
    marginal_dedicated: Figure
    marginal_surplus: Figure
    total: Figure
    dedicated_euros: Partial = field(repr=False)
    surplus_euros: Partial = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kitchen": self.kitchen_id,
            "kitchen_name": self.kitchen_name,
            "month": as_json(self.month),
            "dedicated_meals": self.dedicated_meals,
            "surplus_meals": self.surplus_meals,
            "marginal_dedicated": self.marginal_dedicated.as_dict(),
            "marginal_surplus": self.marginal_surplus.as_dict(),
            "total": self.total.as_dict(),
        }


def per_meal_or_not_applicable(
    partial: Partial, *, meals: int, key: str, label: str, method: str, why: str
) -> Figure:
    """A cost per meal of one kind, or "not applicable" in a month without such meals."""
    if meals:
        return figure_from(partial, key=key, label=label, unit=_(PER_MEAL), method=method, divisor=meals)
    return not_applicable(key=key, label=label, unit=_(PER_MEAL), method=method, why=why)


def kitchen_month_cost(data: KitchenMonth) -> KitchenMonthCost:
    """The marginal cost of a dedicated meal and of a surplus meal, and the kitchen's cost, for a month."""
    where = f"{data.kitchen_name}, {month_label(data.month)}"
    reader = InputReader(KitchenCostInput, data.inputs, where)
    dedicated, surplus = data.dedicated_meals, data.surplus_meals
    no_row = data.inputs is None and (dedicated or surplus)

    # Euros spent on the month's dedicated meals: per-meal costs × meals, plus the extra labour.
    dedicated_euros = Partial()
    if dedicated_euros.recording:
        dedicated_euros.use(_("%(where)s : repas dédiés") % {"where": where}, dedicated)
    if dedicated:
        for name in ("food_cost_per_meal", "packaging_per_meal", "energy_per_meal"):
            reader.term(dedicated_euros, name, dedicated)
    reader.hours_term(dedicated_euros, "extra_labour_hours", "labour_hourly_cost", needed=bool(dedicated))
    # Euros spent on the surplus meals: packaging × meals, plus the handling labour.
    surplus_euros = Partial()
    if surplus_euros.recording:
        surplus_euros.use(_("%(where)s : repas d'excédents") % {"where": where}, surplus)
    if surplus:
        reader.term(surplus_euros, "packaging_per_meal", surplus)
    reader.hours_term(surplus_euros, "surplus_handling_hours", "labour_hourly_cost", needed=bool(surplus))
    if no_row:
        # One message for the whole month rather than one per field.
        nothing = _("%(where)s : coûts de la cuisine non saisis") % {"where": where}
        dedicated_euros.missing = [nothing] if dedicated else []
        surplus_euros.missing = [nothing] if surplus else []

    marginal_dedicated = per_meal_or_not_applicable(
        dedicated_euros,
        meals=dedicated,
        key="marginal_cost_dedicated",
        label=_("Coût marginal d'un repas dédié"),
        method=method_marginal_dedicated(),
        why=_("Sans objet : aucun repas dédié ce mois-ci."),
    )
    marginal_surplus = per_meal_or_not_applicable(
        surplus_euros,
        meals=surplus,
        key="marginal_cost_surplus",
        label=_("Coût marginal d'un repas d'excédent"),
        method=method_marginal_surplus(),
        why=_("Sans objet : aucun repas d'excédent ce mois-ci."),
    )

    total = Partial()
    total.extend(dedicated_euros)
    total.extend(surplus_euros)
    other = Partial()
    reader.term(other, "other_direct_costs", needed=bool(dedicated or surplus) and not no_row)
    total.extend(other)
    return KitchenMonthCost(
        kitchen_id=data.kitchen_id,
        kitchen_name=data.kitchen_name,
        month=data.month,
        dedicated_meals=dedicated,
        surplus_meals=surplus,
        marginal_dedicated=marginal_dedicated,
        marginal_surplus=marginal_surplus,
        total=figure_from(
            total,
            key="kitchen_cost",
            label=_("Coûts de la cuisine"),
            unit=EURO,
            method=method_kitchen_cost(),
        ),
        dedicated_euros=dedicated_euros,
        surplus_euros=surplus_euros,
    )


# --- Associations -----------------------------------------------------------------------


def method_association_cost() -> str:
    return _(
        "Coûts monétaires des associations = Σ par association et par mois (heures de salariés "
        "× coût horaire + locaux + équipement ÷ durée d'amortissement en mois + autres coûts)."
    )


def method_volunteer_value() -> str:
    return _(
        "Valorisation du bénévolat = Σ par association et par mois (heures de bénévoles × valeur "
        "d'une heure de bénévolat en vigueur ce mois-là). Présentée à part, jamais ajoutée aux "
        "coûts monétaires."
    )


@dataclass(slots=True)
class AssociationMonthCost:
    association_id: int
    association_name: str
    month: datetime.date
    cash: Figure
    volunteers: Figure
    # The parts of ``cash``, by budget category.
    staff: Partial = field(repr=False)
    equipment: Partial = field(repr=False)
    premises_other: Partial = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "association": self.association_id,
            "association_name": self.association_name,
            "month": as_json(self.month),
            "cash": self.cash.as_dict(),
            "volunteers": self.volunteers.as_dict(),
        }


def association_month_cost(data: AssociationMonth) -> AssociationMonthCost:
    """An association's cash costs for a month, and its volunteer time valued apart."""
    where = f"{data.association_name}, {month_label(data.month)}"
    reader = InputReader(AssociationCost, data.inputs, where)
    needed = data.active
    # Its three parts, which the budgets read by category (``costing.budget``): paid staff,
    # equipment (amortised), premises and other costs.
    staff, equipment_part, premises_other = Partial(), Partial(), Partial()
    reader.hours_term(staff, "paid_staff_hours", "paid_staff_hourly_cost", needed=needed)
    reader.term(premises_other, "premises_cost", needed=needed)
    equipment = reader.get("equipment_cost")
    if equipment is None:
        reader.term(equipment_part, "equipment_cost", needed=needed)
    else:
        reader.use(equipment_part, "equipment_cost", equipment)
        months = reader.get("equipment_amortisation_months")
        reader.use(equipment_part, "equipment_amortisation_months", months)
        if equipment == 0:
            equipment_part.add(ZERO)
        elif not months:
            equipment_part.lack(reader.label("equipment_amortisation_months"))
        else:
            equipment_part.add(Decimal(equipment) / Decimal(months))
    reader.term(premises_other, "other_costs", needed=needed)
    cash = Partial()
    for part in (staff, equipment_part, premises_other):
        cash.extend(part)

    volunteers = Partial()
    hours = reader.get("volunteer_hours")

    def rate_label() -> str:
        return _("%(month)s : valorisation d'une heure de bénévolat (valeur de référence)") % {
            "month": month_label(data.month)
        }

    if hours is None:
        if needed:
            volunteers.lack(reader.label("volunteer_hours"))
            reader.use(volunteers, "volunteer_hours", None)
    else:
        reader.use(volunteers, "volunteer_hours", hours)
        if volunteers.recording:
            volunteers.use(rate_label(), data.volunteer_hour_value)
        if hours == 0:
            volunteers.add(ZERO)
        elif data.volunteer_hour_value is None:
            volunteers.lack(rate_label())
        else:
            volunteers.add(Decimal(hours) * data.volunteer_hour_value)

    if data.inputs is None and needed:
        nothing = _("%(where)s : coûts de l'association non saisis") % {"where": where}
        for part in (cash, volunteers, staff, equipment_part, premises_other):
            part.missing = [nothing]
    return AssociationMonthCost(
        association_id=data.association_id,
        association_name=data.association_name,
        month=data.month,
        cash=figure_from(
            cash,
            key="association_cost",
            label=_("Coûts monétaires de l'association"),
            unit=EURO,
            method=method_association_cost(),
        ),
        volunteers=figure_from(
            volunteers,
            key="volunteer_value",
            label=_("Valorisation du bénévolat"),
            unit=EURO,
            method=method_volunteer_value(),
        ),
        staff=staff,
        equipment=equipment_part,
        premises_other=premises_other,
    )


# --- Coordination -----------------------------------------------------------------------


def method_coordination_cost() -> str:
    return _(
        "Coûts de coordination = Σ par collectivité et par mois (heures de coordination × coût "
        "horaire chargé + autres coûts). Au moins une saisie est attendue par territoire et par "
        "mois d'activité."
    )


@dataclass(slots=True)
class CoordinationMonthCost:
    territory_id: int
    territory_name: str
    month: datetime.date
    total: Figure

    def as_dict(self) -> dict[str, Any]:
        return {
            "territory": self.territory_id,
            "territory_name": self.territory_name,
            "month": as_json(self.month),
            "total": self.total.as_dict(),
        }


def coordination_month_cost(data: CoordinationMonth) -> CoordinationMonthCost:
    partial = Partial()
    if not data.rows:
        partial.lack(
            _("%(territory)s, %(month)s : coûts de coordination non saisis")
            % {"territory": data.territory_name, "month": month_label(data.month)}
        )
    for row in data.rows:
        where = f"{row.authority_name}, {month_label(data.month)}"
        reader = InputReader(CoordinationCost, row, where)
        reader.hours_term(partial, "staff_hours", "staff_hourly_cost", needed=True)
        reader.term(partial, "other_costs")
    return CoordinationMonthCost(
        territory_id=data.territory_id,
        territory_name=data.territory_name,
        month=data.month,
        total=figure_from(
            partial,
            key="coordination_cost",
            label=_("Coûts de coordination"),
            unit=EURO,
            method=method_coordination_cost(),
        ),
    )


# --- The territory and period -----------------------------------------------------------


@dataclass
class CostReport:
    """The cost method's result for a set of territories (one, usually) and a period of whole months."""

    territory_ids: list[int] | None
    start: datetime.date
    end: datetime.date
    months: list[datetime.date]
    volumes: Volumes
    figures: list[Figure]
    kitchens: list[KitchenMonthCost]
    associations: list[AssociationMonthCost]
    coordination: list[CoordinationMonthCost]

    @property
    def complete(self) -> bool:
        return all(figure.complete for figure in self.figures)

    @property
    def missing(self) -> list[str]:
        return dedup(item for figure in self.figures for item in figure.missing)

    def figure(self, key: str) -> Figure:
        return next(figure for figure in self.figures if figure.key == key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "territories": self.territory_ids,
            "start": as_json(self.start),
            "end": as_json(self.end),
            "months": [as_json(month) for month in self.months],
            "complete": self.complete,
            "missing": self.missing,
            "volumes": self.volumes.as_dict(),
            "figures": [figure.as_dict() for figure in self.figures],
            "kitchens": [row.as_dict() for row in self.kitchens],
            "associations": [row.as_dict() for row in self.associations],
            "coordination": [row.as_dict() for row in self.coordination],
        }


def sum_figures(figures: Iterable[Figure], *, key: str, label: str, unit: str, method: str) -> Figure:
    partial = Partial()
    for item in figures:
        partial.add(item.exact)
        partial.missing.extend(item.missing)
        partial.inputs.extend(item.inputs)
    return figure_from(partial, key=key, label=label, unit=unit, method=method)


def total_of(figures: Iterable[Figure], *, key: str, label: str, method: str) -> Figure:
    """A total in euros of other figures, each named with its value among the inputs used (a
    sum of its parts, which ``sum_figures`` gives, would list the parts' own inputs instead)."""
    partial = Partial()
    for item in figures:
        partial.add(item.exact)
        partial.missing.extend(item.missing)
        partial.use(item.label, item.value)
    return figure_from(partial, key=key, label=label, unit=EURO, method=method)


def period_marginal(
    parts: list[tuple[int, Partial]], *, key: str, label: str, method: str, why: str
) -> Figure:
    """A marginal cost over several kitchen-months: Σ euros ÷ Σ meals (a weighted mean)."""
    meals = sum(count for count, _part in parts)
    if not meals:
        return not_applicable(key=key, label=label, unit=_(PER_MEAL), method=method, why=why)
    partial = Partial()
    for count, part in parts:
        if count:
            partial.extend(part)
    return figure_from(partial, key=key, label=label, unit=_(PER_MEAL), method=method, divisor=meals)


def transport_figure(volumes: Volumes) -> Figure:
    missing = []
    if volumes.pickups_without_cost:
        missing.append(
            ngettext(
                "coût de transport de %(count)s collecte : ni coût réel saisi, "
                "ni barème du mode de transport pour le mois",
                "coût de transport de %(count)s collectes : ni coût réel saisi, "
                "ni barème du mode de transport pour le mois",
                volumes.pickups_without_cost,
            )
            % {"count": volumes.pickups_without_cost}
        )
    # Pickups with neither a recorded cost nor a rate add nothing to the sum: when no pickup has
    # one, no part of the transport is known, and it is unknown, not a known zero.
    known = volumes.pickups_without_cost < volumes.pickups or not volumes.pickups
    exact = Decimal(volumes.transport_cost) if known else None
    return Figure(
        key="transport_cost",
        label=_("Transport"),
        unit=EURO,
        value=rounded(exact),
        method=_(
            "Transport = Σ des coûts des collectes de la période (coût réel saisi, sinon distance "
            "× coût par km + durée × coût horaire du conducteur)."
        ),
        inputs=[
            InputUsed(_("collectes"), volumes.pickups),
            InputUsed(_("kilomètres parcourus"), volumes.km),
            InputUsed(_("coût des collectes, réel ou estimé"), exact),
            InputUsed(_("collectes sans coût ni barème"), volumes.pickups_without_cost),
        ],
        missing=missing,
        exact=exact,
    )


def reference_figures(full_cost: Figure, reference: ReferenceValue | None, code: str) -> list[Figure]:
    name = str(ReferenceValue.Code(code).label)
    missing = list(full_cost.missing)
    inputs = [InputUsed(full_cost.label, full_cost.value)]
    if reference is None:
        missing.append(_("valeur de référence : %(name)s") % {"name": name})
        inputs.append(InputUsed(name, None))
    else:
        inputs.append(
            InputUsed(
                _("%(name)s (source : %(source)s, %(date)s)")
                % {"name": name, "source": reference.source, "date": f"{reference.source_date:%d/%m/%Y}"},
                reference.value,
            )
        )
    ratio = difference = None
    if reference is not None and full_cost.exact is not None:
        difference = full_cost.exact - reference.value
        if reference.value:
            ratio = full_cost.exact / reference.value
        else:
            missing.append(_("valeur de référence nulle : %(name)s") % {"name": name})
    return [
        Figure(
            key=f"{code}_ratio",
            label=_("Coût complet rapporté à : %(name)s") % {"name": name},
            unit=RATIO,
            value=rounded(ratio),
            method=_("Rapport = coût complet par repas distribué ÷ valeur de référence."),
            inputs=inputs,
            missing=dedup(missing),
            exact=ratio,
        ),
        Figure(
            key=f"{code}_difference",
            label=_("Écart avec : %(name)s") % {"name": name},
            unit=_(PER_MEAL),
            value=rounded(difference),
            method=_("Écart = coût complet par repas distribué − valeur de référence."),
            inputs=inputs,
            missing=dedup(missing),
            exact=difference,
        ),
    ]


def cost_report(data: CostData) -> CostReport:
    """The whole method for a set of territories and a period: every figure, with its inputs.

    ``one_language`` is entered in the body rather than as a decorator, which mutmut skips
    (docs/testing.md)."""
    with one_language():
        volumes = data.volumes
        kitchens: list[KitchenMonthCost] = [data.costs.of(row, kitchen_month_cost) for row in data.kitchens]
        associations: list[AssociationMonthCost] = [
            data.costs.of(row, association_month_cost) for row in data.associations
        ]
        coordination: list[CoordinationMonthCost] = [
            data.costs.of(row, coordination_month_cost) for row in data.coordination
        ]

        marginal_dedicated = period_marginal(
            [(row.dedicated_meals, row.dedicated_euros) for row in kitchens],
            key="marginal_cost_dedicated",
            label=_("Coût marginal d'un repas dédié"),
            method=method_marginal_dedicated(),
            why=_("Sans objet : aucun repas dédié sur la période."),
        )
        marginal_surplus = period_marginal(
            [(row.surplus_meals, row.surplus_euros) for row in kitchens],
            key="marginal_cost_surplus",
            label=_("Coût marginal d'un repas d'excédent"),
            method=method_marginal_surplus(),
            why=_("Sans objet : aucun repas d'excédent sur la période."),
        )
        kitchen_cost = sum_figures(
            (row.total for row in kitchens),
            key="kitchen_cost",
            label=_("Cuisines (coûts marginaux)"),
            unit=EURO,
            method=method_kitchen_cost(),
        )
        transport = transport_figure(volumes)
        association_cost = sum_figures(
            (row.cash for row in associations),
            key="association_cost",
            label=_("Associations (coûts monétaires)"),
            unit=EURO,
            method=method_association_cost(),
        )
        coordination_cost = sum_figures(
            (row.total for row in coordination),
            key="coordination_cost",
            label=_("Coordination"),
            unit=EURO,
            method=method_coordination_cost(),
        )
        items = [kitchen_cost, transport, association_cost, coordination_cost]
        total_cost = total_of(
            items,
            key="total_cost",
            label=_("Coût total (hors bénévolat)"),
            method=_("Coût total = cuisines + transport + associations + coordination."),
        )
        volunteer_value = sum_figures(
            (row.volunteers for row in associations),
            key="volunteer_value",
            label=_("Valorisation du bénévolat"),
            unit=EURO,
            method=method_volunteer_value(),
        )
        total_with_volunteers = total_of(
            [total_cost, volunteer_value],
            key="total_cost_with_volunteers",
            label=_("Coût total avec bénévolat valorisé"),
            method=_("Coût total avec bénévolat = coût total + valorisation du bénévolat."),
        )
        distributed_label = _("repas distribués")
        full_cost = ratio_figure(
            key="full_cost_per_meal",
            label=_("Coût complet par repas distribué"),
            unit=_(PER_MEAL),
            method=_(
                "Coût complet par repas distribué = (cuisines + transport + associations + coordination) "
                "÷ repas distribués. Les repas perdus ont coûté : ils restent au numérateur."
            ),
            numerator=total_cost,
            denominator=volumes.meals_distributed,
            denominator_label=distributed_label,
        )
        full_cost_with_volunteers = ratio_figure(
            key="full_cost_per_meal_with_volunteers",
            label=_("Coût complet par repas distribué, bénévolat valorisé compris"),
            unit=_(PER_MEAL),
            method=_(
                "Coût complet avec bénévolat = (coût total + valorisation du bénévolat) ÷ repas distribués."
            ),
            numerator=total_with_volunteers,
            denominator=volumes.meals_distributed,
            denominator_label=distributed_label,
        )
        cost_per_person = ratio_figure(
            key="cost_per_person",
            label=_("Coût par passage (personne servie)"),
            unit=_("€/passage"),
            method=_(
                "Coût par passage = coût total (hors bénévolat) ÷ passages (personnes servies, comptées à "
                "chaque distribution : une personne servie deux fois compte deux fois)."
            ),
            numerator=total_cost,
            denominator=volumes.people_served,
            denominator_label=_("passages (personnes servies)"),
        )
        lost, distributed_or_lost = loss_terms(volumes.as_dict())
        discarded = Figure(
            key="meals_lost",
            label=_("repas perdus"),
            unit="",
            value=Decimal(lost),
            method="",
            exact=Decimal(lost),
        )
        loss_rate = ratio_figure(
            key="loss_rate",
            label=_("Taux de perte"),
            unit=PERCENT,
            method=loss_rate_definition(),
            numerator=discarded,
            denominator=distributed_or_lost,
            denominator_label=_("repas distribués ou perdus"),
            scale=HUNDRED,
            step=TENTH,
        )
        shares = [
            ratio_figure(
                key=f"share_{item.key}",
                label=_("Part : %(item)s") % {"item": item.label},
                unit=PERCENT,
                method=_("Part d'un poste = coût du poste ÷ coût total (hors bénévolat)."),
                numerator=Figure(
                    key=item.key,
                    label=item.label,
                    unit=EURO,
                    value=item.value,
                    method="",
                    missing=total_cost.missing,
                    exact=item.exact,
                ),
                denominator=total_cost.exact,
                denominator_label=total_cost.label,
                scale=HUNDRED,
                step=TENTH,
            )
            for item in items
        ]
        comparisons = [
            figure
            for code in COMPARED_REFERENCES
            for figure in reference_figures(full_cost, data.references.get(code), code)
        ]
        months = data.months
        return CostReport(
            territory_ids=data.territory_ids,
            start=months[0],
            end=last_of_month(months[-1]),
            months=months,
            volumes=volumes,
            figures=[
                marginal_dedicated,
                marginal_surplus,
                kitchen_cost,
                transport,
                association_cost,
                coordination_cost,
                total_cost,
                full_cost,
                volunteer_value,
                total_with_volunteers,
                full_cost_with_volunteers,
                cost_per_person,
                loss_rate,
                *shares,
                *comparisons,
            ],
            kitchens=kitchens,
            associations=associations,
            coordination=coordination,
        )


# --- Entry points -----------------------------------------------------------------------


def territory_cost(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
) -> CostReport:
    """The cost report of territories (None: every territory) over the whole months from start to end.

    Callers check the reader's scope first: this reads every row of the territories it is given."""
    from .selectors import cost_data

    return cost_report(cost_data(territory_ids=territory_ids, start=start, end=end))


def cost_input_saved(*, territory_id: int, month: datetime.date, transport: bool = False) -> None:
    """What a saved or deleted monthly input sets off once the transaction commits.

    Its territory-month's ``MonthlyCost`` is refreshed. A transport rate also changes the
    estimated cost of the month's pickups, so the month's roll-ups are rebuilt first (queued;
    the roll-up task refreshes the monthly cost again when it is done)."""
    from functools import partial

    from django.core.exceptions import ValidationError

    from territories.bounds import date_error

    message = date_error(month, ahead_years=1)
    if message:  # before anything is queued; the caller's transaction rolls the row back
        raise ValidationError({"month": message})
    # The month's figures change with the input: cached figures of the month are read anew.
    versions.bump([(territory_id, month)])
    if transport:
        from .tasks import enqueue_rollups

        last = min(last_of_month(month), timezone.localdate())
        days = {month + datetime.timedelta(days=n) for n in range((last - month).days + 1)}
        if days:
            enqueue_rollups(territory_id, days)
    transaction.on_commit(partial(monthly_cost_refresh, territory_id=territory_id, month=month))


def monthly_cost_refresh(*, territory_id: int, month: datetime.date) -> MonthlyCost:
    """Computes one territory-month and upserts its ``MonthlyCost`` (idempotent, safe concurrently)."""
    month = first_of_month(month)
    report = territory_cost(territory_ids=[territory_id], start=month, end=month)
    with transaction.atomic():
        versions.bump([(territory_id, month)])
        MonthlyCost.objects.bulk_create(
            [
                MonthlyCost(
                    territory_id=territory_id,
                    month=month,
                    figures=report.as_dict(),
                    complete=report.complete,
                )
            ],
            update_conflicts=True,
            unique_fields=["territory", "month"],
            update_fields=["figures", "complete", "computed_at"],
        )
    return MonthlyCost.objects.all_territories().get(territory_id=territory_id, month=month)
