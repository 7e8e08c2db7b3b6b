# ruff: noqa: RUF001, RUF002, RUF003 - definitions are written with the signs × and − of French arithmetic
"""The evaluation's indicators, computed from the roll-ups and the cost method.

Each indicator has a code, a French label, a definition, its unit and the evaluation
question it answers (``Question``); ``docs/indicators.md`` lists them. They are computed,
never stored, from ``DailyRollup`` (the daily sums of the meal flow), the cost method of
``costing.services`` (whose figures are taken as they are, not recomputed), the partnerships'
planned meals, the memberships, the observation journal and the survey answers — never from
batches, pickups or distributions at request time, so their cost does not grow with history.

The completeness rule is the cost method's: an input a formula needs and that is missing
makes the indicator incomplete, listed in ``missing`` (in French); its value is then ``None``
(or, for a sum, the known part). A count of zero is a true zero: the roll-ups count what was
recorded. An indicator that does not apply (the marginal cost of a dedicated meal when no
dedicated meal was produced) has ``applicable=False``, no value and nothing missing.

``compute_indicators`` aggregates the territories it is given into one set; side by side
is one call per territory (``side_by_side``). Like the costing selectors, it reads every
row of the territories it is given: callers check the reader's scope first.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.models import Partnership
from costing import selectors as cost_selectors
from costing.models import AssociationCost, ReferenceValue
from costing.services import (
    CENT,
    HUNDRED,
    PER_MEAL,
    PERCENT,
    RATIO,
    TENTH,
    CostReport,
    Figure,
    as_json,
    cost_report,
    dedup,
    last_of_month,
    months_of,
    rounded,
    verbose,
)
from territories.models import Membership, Territory

from .models import JournalEntry, Survey, SurveyQuestion, SurveyResponse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from costing.services import CostData

THOUSANDTH = Decimal("0.001")
SEVEN = Decimal(7)

Value = Decimal | int | None


class Question(models.TextChoices):
    """The evaluation's questions, in the order the reports ask them."""

    NEEDS = "needs", gettext_lazy("Réponse aux besoins")
    COST = "cost", gettext_lazy("Coût d'un repas")
    LOGISTICS = "logistics", gettext_lazy("Logistique et sécurité sanitaire")
    PRODUCTION = "production", gettext_lazy("Production des cuisines")
    IMPACT = "impact", gettext_lazy("Effets sociaux, économiques et environnementaux")
    ROLES = "roles", gettext_lazy("Rôle de chaque acteur")


@dataclass
class Indicator:
    """One indicator's value for a set of territories and a period, with what it lacks."""

    code: str
    label: str
    definition: str
    unit: str
    question: str
    value: Value
    missing: list[str] = field(default_factory=list)
    applicable: bool = True
    # Rows that detail the value (per choice of a survey question, per actor kind...).
    breakdown: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def question_label(self) -> str:
        return str(Question(self.question).label)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "definition": self.definition,
            "unit": self.unit,
            "question": self.question,
            "question_label": self.question_label,
            "value": None if self.value is None else str(self.value),
            "complete": self.complete,
            "missing": list(self.missing),
            "applicable": self.applicable,
            "breakdown": [{key: as_json(item) for key, item in row.items()} for row in self.breakdown],
        }


@dataclass
class IndicatorSet:
    """Every indicator of a set of territories (None: all) over a period.

    The cost indicators cover the whole months the period touches (``cost_start`` to
    ``cost_end``), since cost inputs are monthly; every other indicator covers the period."""

    territory_ids: list[int] | None
    start: datetime.date
    end: datetime.date
    cost_start: datetime.date
    cost_end: datetime.date
    indicators: list[Indicator]

    def get(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(code)

    def by_question(self) -> dict[str, list[Indicator]]:
        grouped: dict[str, list[Indicator]] = {question.value: [] for question in Question}
        for indicator in self.indicators:
            grouped[indicator.question].append(indicator)
        return grouped

    @property
    def complete(self) -> bool:
        return all(indicator.complete for indicator in self.indicators)

    @property
    def missing(self) -> list[str]:
        return dedup(item for indicator in self.indicators for item in indicator.missing)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: every value as a string (exact decimals and counts alike) or null, the
        breakdowns' decimals as strings, dates in ISO format — as the cost API does."""
        return {
            "territories": self.territory_ids,
            "start": as_json(self.start),
            "end": as_json(self.end),
            "cost_start": as_json(self.cost_start),
            "cost_end": as_json(self.cost_end),
            "complete": self.complete,
            "indicators": [indicator.as_dict() for indicator in self.indicators],
        }


# --- The catalogue ----------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What an indicator is: the part that does not depend on the data."""

    code: str
    question: str
    label: StrOrPromise
    unit: StrOrPromise
    definition: StrOrPromise

    def indicator(
        self,
        value: Value,
        missing: Iterable[str] = (),
        *,
        applicable: bool = True,
        breakdown: list[dict[str, Any]] | None = None,
    ) -> Indicator:
        return Indicator(
            code=self.code,
            label=str(self.label),
            definition=str(self.definition),
            unit=str(self.unit),
            question=self.question,
            value=value,
            missing=dedup(missing),
            applicable=applicable,
            breakdown=breakdown or [],
        )


PEOPLE = gettext_lazy("personnes")
MEALS = gettext_lazy("repas")

SPECS: list[Spec] = [
    # Needs
    Spec(
        "meals_distributed",
        Question.NEEDS,
        gettext_lazy("Repas distribués"),
        MEALS,
        gettext_lazy(
            "Σ des repas distribués sur la période (agrégats journaliers, par jour de distribution)."
        ),
    ),
    Spec(
        "people_served",
        Question.NEEDS,
        gettext_lazy("Personnes servies"),
        PEOPLE,
        gettext_lazy(
            "Σ des personnes servies lors des distributions de la période. Les comptes sont anonymes : "
            "une personne servie à deux distributions compte deux fois (ce sont des passages)."
        ),
    ),
    Spec(
        "meals_per_person",
        Question.NEEDS,
        gettext_lazy("Repas par personne servie"),
        gettext_lazy("repas/personne"),
        gettext_lazy("Repas distribués ÷ personnes servies."),
    ),
    Spec(
        "distribution_days_per_week",
        Question.NEEDS,
        gettext_lazy("Régularité : jours de distribution par semaine"),
        gettext_lazy("jours/semaine"),
        gettext_lazy(
            "Jours avec au moins une distribution ÷ semaines de la période (jours de la période ÷ 7). "
            "Pour plusieurs territoires : moyenne des territoires (jours-territoires ÷ semaines "
            "÷ territoires)."
        ),
    ),
    Spec(
        "planned_meals_delivered_share",
        Question.NEEDS,
        gettext_lazy("Part des repas prévus effectivement distribués"),
        PERCENT,
        gettext_lazy(
            "Repas distribués ÷ repas prévus. Repas prévus = Σ par partenariat (hors conventions en "
            "préparation) des repas prévus par semaine × jours de la convention compris dans la "
            "période ÷ 7."
        ),
    ),
    # Cost: the cost method's figures, as they are.
    Spec(
        "marginal_cost_dedicated",
        Question.COST,
        gettext_lazy("Coût marginal d'un repas dédié"),
        PER_MEAL,
        gettext_lazy(
            "Méthode des coûts (coût marginal d'un repas dédié) : denrées + conditionnement + énergie "
            "par repas + heures supplémentaires × coût horaire ÷ repas dédiés, moyenne pondérée des mois."
        ),
    ),
    Spec(
        "marginal_cost_surplus",
        Question.COST,
        gettext_lazy("Coût marginal d'un repas d'excédent"),
        PER_MEAL,
        gettext_lazy(
            "Méthode des coûts (coût marginal d'un repas d'excédent) : conditionnement par repas "
            "+ heures de manutention × coût horaire ÷ repas d'excédents, moyenne pondérée des mois."
        ),
    ),
    Spec(
        "full_cost_per_meal",
        Question.COST,
        gettext_lazy("Coût complet par repas distribué (hors bénévolat)"),
        PER_MEAL,
        gettext_lazy(
            "Méthode des coûts : (cuisines + transport + associations + coordination) ÷ repas distribués."
        ),
    ),
    Spec(
        "full_cost_per_meal_with_volunteers",
        Question.COST,
        gettext_lazy("Coût complet par repas distribué, bénévolat valorisé compris"),
        PER_MEAL,
        gettext_lazy(
            "Méthode des coûts : (coût total + heures de bénévoles × valeur de référence d'une heure) "
            "÷ repas distribués."
        ),
    ),
    Spec(
        "cost_per_person",
        Question.COST,
        gettext_lazy("Coût par personne servie"),
        gettext_lazy("€/personne"),
        gettext_lazy("Méthode des coûts : coût total (hors bénévolat) ÷ personnes servies."),
    ),
    Spec(
        "food_parcel_cost_per_meal_ratio",
        Question.COST,
        gettext_lazy("Coût complet rapporté au coût d'un colis alimentaire (par repas)"),
        RATIO,
        gettext_lazy(
            "Méthode des coûts : coût complet par repas distribué ÷ valeur de référence du coût d'un "
            "colis alimentaire par équivalent repas."
        ),
    ),
    Spec(
        "food_parcel_cost_per_meal_difference",
        Question.COST,
        gettext_lazy("Écart avec le coût d'un colis alimentaire (par repas)"),
        PER_MEAL,
        gettext_lazy("Méthode des coûts : coût complet par repas distribué − valeur de référence."),
    ),
    Spec(
        "social_grocery_cost_per_meal_ratio",
        Question.COST,
        gettext_lazy("Coût complet rapporté au coût en épicerie solidaire (par repas)"),
        RATIO,
        gettext_lazy(
            "Méthode des coûts : coût complet par repas distribué ÷ valeur de référence du coût en "
            "épicerie solidaire par équivalent repas."
        ),
    ),
    Spec(
        "social_grocery_cost_per_meal_difference",
        Question.COST,
        gettext_lazy("Écart avec le coût en épicerie solidaire (par repas)"),
        PER_MEAL,
        gettext_lazy("Méthode des coûts : coût complet par repas distribué − valeur de référence."),
    ),
    # Logistics and safety
    Spec(
        "pickups_on_time_share",
        Question.LOGISTICS,
        gettext_lazy("Part des lots collectés à temps"),
        PERCENT,
        gettext_lazy(
            "Collectes faites au plus tard à la date limite de consommation ÷ (collectes + lots restés "
            "prêts après leur date limite)."
        ),
    ),
    Spec(
        "batches_expired",
        Question.LOGISTICS,
        gettext_lazy("Lots non collectés avant leur date limite"),
        gettext_lazy("lots"),
        gettext_lazy(
            "Σ des lots encore prêts après leur date limite de consommation (par jour de production)."
        ),
    ),
    Spec(
        "temperature_compliance_share",
        Question.LOGISTICS,
        gettext_lazy("Part des collectes dans les limites de température"),
        PERCENT,
        gettext_lazy(
            "1 − collectes reçues hors limites ÷ collectes (liaison froide : +3 °C au plus ; "
            "liaison chaude : 63 °C au moins)."
        ),
    ),
    Spec(
        "dispatch_breaches",
        Question.LOGISTICS,
        gettext_lazy("Lots partis hors limites de température"),
        gettext_lazy("lots"),
        gettext_lazy("Σ des lots dont la température au départ de la cuisine était hors limites."),
    ),
    Spec(
        "meals_discarded",
        Question.LOGISTICS,
        gettext_lazy("Repas écartés"),
        MEALS,
        gettext_lazy(
            "Σ des repas écartés à la distribution ou perdus avec un lot écarté après sa collecte. "
            "Les raisons sont saisies avec chaque distribution, hors agrégats."
        ),
    ),
    Spec(
        "meals_discarded_share",
        Question.LOGISTICS,
        gettext_lazy("Part des repas écartés"),
        PERCENT,
        gettext_lazy("Repas écartés ÷ (repas distribués + repas écartés)."),
    ),
    Spec(
        "km_per_meal",
        Question.LOGISTICS,
        gettext_lazy("Kilomètres par repas collecté"),
        gettext_lazy("km/repas"),
        gettext_lazy("Σ des kilomètres des collectes ÷ repas collectés."),
    ),
    # Production
    Spec(
        "dedicated_meals",
        Question.PRODUCTION,
        gettext_lazy("Repas dédiés produits"),
        MEALS,
        gettext_lazy("Σ des repas des lots dédiés, par jour de production."),
    ),
    Spec(
        "dedicated_share_of_production",
        Question.PRODUCTION,
        gettext_lazy("Part des repas dédiés dans la production des cuisines"),
        PERCENT,
        gettext_lazy(
            "Repas dédiés ÷ (production journalière habituelle de la cuisine × jours où elle a produit "
            "des repas dédiés), sommé sur les cuisines. Approximation : la production réelle du jour "
            "n'est pas saisie, la production habituelle déclarée pour la cuisine en tient lieu."
        ),
    ),
    Spec(
        "surplus_meals",
        Question.PRODUCTION,
        gettext_lazy("Repas d'excédents donnés"),
        MEALS,
        gettext_lazy("Σ des repas des lots d'excédents, par jour de production."),
    ),
    # Impact
    Spec(
        "food_waste_avoided_kg",
        Question.IMPACT,
        gettext_lazy("Gaspillage alimentaire évité"),
        gettext_lazy("kg"),
        gettext_lazy(
            "Repas d'excédents distribués × poids moyen d'un repas (valeur de référence). Les agrégats "
            "ne distinguent pas le type des repas distribués : pour chaque partenariat, repas distribués "
            "× part des excédents dans ses repas produits sur la période."
        ),
    ),
    Spec(
        "co2_avoided_kg",
        Question.IMPACT,
        gettext_lazy("CO2 évité"),
        gettext_lazy("kg éq. CO2"),
        gettext_lazy("Gaspillage évité (kg) × CO2 par kg de gaspillage évité (valeur de référence)."),
    ),
    Spec(
        "staff_involved",
        Question.IMPACT,
        gettext_lazy("Personnes mobilisées sur la plateforme"),
        PEOPLE,
        gettext_lazy(
            "Utilisateurs actifs ayant un rôle dans le territoire (cuisines, associations, "
            "collectivités), chacun compté une fois ; le détail est par rôle."
        ),
    ),
    Spec(
        "paid_staff_hours",
        Question.IMPACT,
        gettext_lazy("Heures de salariés des associations"),
        gettext_lazy("heures"),
        gettext_lazy("Σ des heures de salariés saisies par les associations actives, mois par mois."),
    ),
    Spec(
        "volunteer_hours",
        Question.IMPACT,
        gettext_lazy("Heures de bénévoles des associations"),
        gettext_lazy("heures"),
        gettext_lazy("Σ des heures de bénévoles saisies par les associations actives, mois par mois."),
    ),
    # Roles
    Spec(
        "actors_involved",
        Question.ROLES,
        gettext_lazy("Acteurs actifs"),
        gettext_lazy("acteurs"),
        gettext_lazy(
            "Cuisines ayant produit des repas, associations ayant collecté ou distribué, collectivités "
            "ayant saisi un temps de coordination sur la période."
        ),
    ),
    Spec(
        "journal_entries",
        Question.ROLES,
        gettext_lazy("Observations du journal"),
        gettext_lazy("observations"),
        gettext_lazy(
            "Entrées du journal d'observation datées de la période ; le détail croise l'acteur concerné "
            "(cuisine, association, collectivité, ou le territoire), la catégorie et la nature "
            "(frein ou levier). Une entrée qui nomme deux acteurs compte pour chacun."
        ),
    ),
    Spec(
        "journal_obstacles",
        Question.ROLES,
        gettext_lazy("Freins observés"),
        gettext_lazy("observations"),
        gettext_lazy("Entrées du journal marquées « frein » ; le détail est par catégorie."),
    ),
    Spec(
        "journal_levers",
        Question.ROLES,
        gettext_lazy("Leviers observés"),
        gettext_lazy("observations"),
        gettext_lazy("Entrées du journal marquées « levier » ; le détail est par catégorie."),
    ),
]
SPEC = {spec.code: spec for spec in SPECS}

# Survey indicators are named after the survey kind and the question's code.
SURVEY_QUESTIONS: dict[str, str] = {
    Survey.Kind.BENEFICIARY: Question.NEEDS,
    Survey.Kind.PARTNER: Question.IMPACT,
}


def survey_code(kind: str, code: str) -> str:
    return f"survey_{kind}_{code}"


# --- Helpers ----------------------------------------------------------------------------


def nothing(what: StrOrPromise) -> str:
    return _("%(what)s : aucun sur la période") % {"what": what}


def ratio(
    spec: Spec,
    numerator: Decimal | int | None,
    denominator: Decimal | int | None,
    *,
    denominator_label: StrOrPromise,
    scale: Decimal = Decimal(1),
    step: Decimal = CENT,
    missing: Iterable[str] = (),
) -> Indicator:
    """``numerator ÷ denominator`` (× scale); missing when the denominator is zero."""
    missing = list(missing)
    exact = None
    if not denominator:
        missing.append(nothing(denominator_label))
    elif numerator is not None:
        exact = Decimal(numerator) * scale / Decimal(denominator)
    return spec.indicator(rounded(exact, step), missing)


def from_figure(spec: Spec, figure: Figure) -> Indicator:
    """A cost indicator: the cost method's figure as it is (value, missing, applicability)."""
    return spec.indicator(figure.value, figure.missing, applicable=figure.applicable)


def weeks_in(start: datetime.date, end: datetime.date) -> Decimal:
    return Decimal((end - start).days + 1) / SEVEN


# --- Reads ------------------------------------------------------------------------------


@dataclass
class RollupSums:
    """The period's roll-ups: totals, and per partnership what the impact needs."""

    totals: dict[str, Any]
    partnerships: list[dict[str, Any]]


def rollup_sums(*, territory_ids: list[int] | None, start: datetime.date, end: datetime.date) -> RollupSums:
    """One aggregate query: every roll-up column summed per partnership (with its kitchen,
    association and mode); the totals are their sums."""
    rows = list(
        cost_selectors.rollups_in(territory_ids=territory_ids, start=start, end=end)
        .values("partnership", "kitchen", "association")
        .annotate(**cost_selectors.sums())
        .order_by("partnership")
    )
    totals = {
        name: sum(
            (cost_selectors.as_number(name, row[name]) for row in rows),
            Decimal(0) if name in cost_selectors.DECIMAL_SUMS else 0,
        )
        for name in cost_selectors.ROLLUP_SUMS
    }
    return RollupSums(totals=totals, partnerships=rows)


def distribution_days(*, territory_ids: list[int] | None, start: datetime.date, end: datetime.date) -> int:
    """Territory-days with at least one distribution: one query."""
    return (
        cost_selectors.rollups_in(territory_ids=territory_ids, start=start, end=end)
        .filter(distributions__gt=0)
        .values("territory", "day")
        .distinct()
        .count()
    )


def territory_count(territory_ids: list[int] | None) -> int:
    if territory_ids is not None:
        return len(set(territory_ids))
    return Territory.objects.all_territories().count()  # type: ignore[attr-defined]


def of_territories(queryset: models.QuerySet, territory_ids: list[int] | None, lookup: str = "territory_id"):
    return queryset if territory_ids is None else queryset.filter(**{f"{lookup}__in": territory_ids})


def planned_meals(*, territory_ids: list[int] | None, start: datetime.date, end: datetime.date) -> Decimal:
    """Σ over the partnerships (but drafts) of planned meals per week × days of the period they cover ÷ 7."""
    partnerships = of_territories(
        Partnership.objects.all_territories()  # type: ignore[attr-defined]
        .exclude(status=Partnership.Status.DRAFT)
        .filter(starts_on__lte=end)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=start)),
        territory_ids,
    ).values_list("starts_on", "ends_on", "planned_meals_per_week")
    total = Decimal(0)
    for starts_on, ends_on, per_week in partnerships:
        first, last = max(start, starts_on), min(end, ends_on or end)
        total += Decimal(per_week) * Decimal((last - first).days + 1) / SEVEN
    return total


# --- Needs ------------------------------------------------------------------------------


def needs_indicators(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, sums: RollupSums
) -> list[Indicator]:
    totals = sums.totals
    distributed, people = totals["meals_distributed"], totals["people_served"]
    days = distribution_days(territory_ids=territory_ids, start=start, end=end)
    territories = territory_count(territory_ids)
    weeks = weeks_in(start, end) * territories
    planned = planned_meals(territory_ids=territory_ids, start=start, end=end)
    return [
        SPEC["meals_distributed"].indicator(distributed),
        SPEC["people_served"].indicator(people),
        ratio(SPEC["meals_per_person"], distributed, people, denominator_label=_("personnes servies")),
        ratio(
            SPEC["distribution_days_per_week"],
            days,
            weeks,
            denominator_label=_("territoires"),
        ),
        ratio(
            SPEC["planned_meals_delivered_share"],
            distributed,
            planned,
            denominator_label=_("repas prévus par les conventions"),
            scale=HUNDRED,
            step=TENTH,
        ),
    ]


# --- Cost -------------------------------------------------------------------------------

COST_CODES = [
    "marginal_cost_dedicated",
    "marginal_cost_surplus",
    "full_cost_per_meal",
    "full_cost_per_meal_with_volunteers",
    "cost_per_person",
    "food_parcel_cost_per_meal_ratio",
    "food_parcel_cost_per_meal_difference",
    "social_grocery_cost_per_meal_ratio",
    "social_grocery_cost_per_meal_difference",
]


def cost_indicators(report: CostReport) -> list[Indicator]:
    """The cost method's figures under their own keys; nothing is recomputed here."""
    return [from_figure(SPEC[code], report.figure(code)) for code in COST_CODES]


# --- Logistics and safety ---------------------------------------------------------------


def logistics_indicators(sums: RollupSums) -> list[Indicator]:
    totals = sums.totals
    pickups, expired = totals["pickups"], totals["batches_expired"]
    distributed, discarded = totals["meals_distributed"], totals["meals_discarded"]
    within = pickups - totals["receipt_breaches"]
    return [
        ratio(
            SPEC["pickups_on_time_share"],
            totals["pickups_on_time"],
            pickups + expired,
            denominator_label=_("collectes ou lots à collecter"),
            scale=HUNDRED,
            step=TENTH,
        ),
        SPEC["batches_expired"].indicator(expired),
        ratio(
            SPEC["temperature_compliance_share"],
            within,
            pickups,
            denominator_label=_("collectes"),
            scale=HUNDRED,
            step=TENTH,
        ),
        SPEC["dispatch_breaches"].indicator(totals["dispatch_breaches"]),
        SPEC["meals_discarded"].indicator(discarded),
        ratio(
            SPEC["meals_discarded_share"],
            discarded,
            distributed + discarded,
            denominator_label=_("repas distribués ou écartés"),
            scale=HUNDRED,
            step=TENTH,
        ),
        ratio(
            SPEC["km_per_meal"],
            totals["km"],
            totals["meals_picked_up"],
            denominator_label=_("repas collectés"),
            step=THOUSANDTH,
        ),
    ]


# --- Production -------------------------------------------------------------------------


def production_indicators(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, sums: RollupSums
) -> list[Indicator]:
    totals = sums.totals
    dedicated = totals["meals_produced_dedicated"]
    share_spec = SPEC["dedicated_share_of_production"]
    if not dedicated:
        share = share_spec.indicator(None, applicable=False)
    else:
        # Per kitchen: its usual daily production on each day it produced dedicated meals.
        kitchens = (
            cost_selectors.rollups_in(territory_ids=territory_ids, start=start, end=end)
            .filter(meals_produced_dedicated__gt=0)
            .values("kitchen", "kitchen__name", "kitchen__usual_daily_production")
            .annotate(days=Count("day", distinct=True), dedicated=Sum("meals_produced_dedicated"))
            .order_by("kitchen")
        )
        usual = Decimal(0)
        missing, breakdown = [], []
        for row in kitchens:
            daily = row["kitchen__usual_daily_production"] or 0
            if not daily:
                missing.append(
                    _("%(kitchen)s : production journalière habituelle") % {"kitchen": row["kitchen__name"]}
                )
            usual += Decimal(daily) * row["days"]
            kitchen_share = (
                rounded(Decimal(row["dedicated"]) * HUNDRED / (daily * row["days"]), TENTH) if daily else None
            )
            breakdown.append(
                {
                    "kitchen": row["kitchen"],
                    "kitchen_name": row["kitchen__name"],
                    "dedicated_meals": row["dedicated"],
                    "days": row["days"],
                    "usual_daily_production": daily,
                    "share": kitchen_share,
                }
            )
        share = ratio(
            share_spec,
            None if missing else dedicated,
            usual,
            denominator_label=_("production habituelle des jours de production"),
            scale=HUNDRED,
            step=TENTH,
            missing=missing,
        )
        share.breakdown = breakdown
    return [
        SPEC["dedicated_meals"].indicator(dedicated),
        share,
        SPEC["surplus_meals"].indicator(totals["meals_produced_surplus"]),
    ]


# --- Impact -----------------------------------------------------------------------------


def reference_missing(code: str) -> str:
    return _("valeur de référence : %(name)s") % {"name": ReferenceValue.Code(code).label}


def surplus_meals_distributed(sums: RollupSums) -> tuple[Decimal, int]:
    """Meals distributed that were surplus, estimated per partnership from its production mix;
    and the meals distributed by partnerships that produced nothing in the period (unknown mix)."""
    estimated, unknown = Decimal(0), 0
    for row in sums.partnerships:
        distributed = int(row["meals_distributed"] or 0)
        if not distributed:
            continue
        surplus = int(row["meals_produced_surplus"] or 0)
        produced = surplus + int(row["meals_produced_dedicated"] or 0)
        if not produced:
            unknown += distributed
            continue
        estimated += Decimal(distributed) * surplus / produced
    return estimated, unknown


def impact_indicators(
    *, territory_ids: list[int] | None, sums: RollupSums, data: CostData
) -> list[Indicator]:
    references = data.references
    surplus, unknown = surplus_meals_distributed(sums)
    mix_missing = (
        [
            _(
                "part des excédents de %(count)s repas distribués par des partenariats sans production "
                "sur la période"
            )
            % {"count": unknown}
        ]
        if unknown
        else []
    )
    weight = references.get(ReferenceValue.Code.MEAL_WEIGHT)
    waste_missing = [*mix_missing]
    if weight is None:
        waste_missing.append(reference_missing(ReferenceValue.Code.MEAL_WEIGHT))
    waste_exact = surplus * weight.value if weight is not None else None
    waste = SPEC["food_waste_avoided_kg"].indicator(rounded(waste_exact, TENTH), waste_missing)

    co2_reference = references.get(ReferenceValue.Code.CO2_PER_KG_WASTE)
    co2_missing = list(waste_missing)
    if co2_reference is None:
        co2_missing.append(reference_missing(ReferenceValue.Code.CO2_PER_KG_WASTE))
    co2_exact = (
        waste_exact * co2_reference.value if waste_exact is not None and co2_reference is not None else None
    )
    co2 = SPEC["co2_avoided_kg"].indicator(rounded(co2_exact, TENTH), co2_missing)

    return [waste, co2, staff_indicator(territory_ids), *hours_indicators(data)]


def staff_indicator(territory_ids: list[int] | None) -> Indicator:
    memberships = of_territories(
        Membership.objects.all_territories().filter(territory__isnull=False, user__is_active=True),  # type: ignore[attr-defined]
        territory_ids,
    )
    total = memberships.values("user").distinct().count()
    labels = dict(Membership._meta.get_field("role").flatchoices)  # type: ignore[union-attr]
    by_role = memberships.values("role").annotate(people=Count("user", distinct=True)).order_by("role")
    breakdown = [
        {
            "role": row["role"],
            "role_label": str(labels.get(row["role"], row["role"])),
            "people": row["people"],
        }
        for row in by_role
    ]
    return SPEC["staff_involved"].indicator(total, breakdown=breakdown)


def hours_indicators(data: CostData) -> list[Indicator]:
    """Associations' paid and volunteer hours, month by month; an active month without them is missing."""
    results = []
    for name in ("paid_staff_hours", "volunteer_hours"):
        total, known, missing = Decimal(0), False, []
        for row in data.associations:
            value = getattr(row.inputs, name) if row.inputs is not None else None
            if value is None:
                if row.active:
                    what = verbose(AssociationCost, name) if row.inputs else _("coûts du mois non saisis")
                    missing.append(
                        _("%(association)s, %(month)s : %(what)s")
                        % {"association": row.association_name, "month": f"{row.month:%m/%Y}", "what": what}
                    )
                continue
            total += Decimal(value)
            known = True
        results.append(SPEC[name].indicator(total if known or not missing else None, missing))
    return results


# --- Roles ------------------------------------------------------------------------------

ACTOR_KINDS = {
    "kitchen": gettext_lazy("Cuisine"),
    "association": gettext_lazy("Association"),
    "authority": gettext_lazy("Collectivité"),
    "territory": gettext_lazy("Le territoire (sans acteur désigné)"),
}


def actors_indicator(sums: RollupSums, data: CostData) -> Indicator:
    kitchens = {
        row["kitchen"]
        for row in sums.partnerships
        if (row["meals_produced_dedicated"] or 0) + (row["meals_produced_surplus"] or 0)
    }
    associations = {
        row["association"] for row in sums.partnerships if (row["pickups"] or 0) + (row["distributions"] or 0)
    }
    authorities = {cost.authority_id for month in data.coordination for cost in month.rows}
    counts = {"kitchen": len(kitchens), "association": len(associations), "authority": len(authorities)}
    breakdown = [
        {"actor_kind": kind, "actor_kind_label": str(ACTOR_KINDS[kind]), "actors": count}
        for kind, count in counts.items()
    ]
    return SPEC["actors_involved"].indicator(sum(counts.values()), breakdown=breakdown)


def journal_indicators(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
) -> list[Indicator]:
    """One aggregate query over the period's entries, per category and nature."""
    no_actor = Q(kitchen__isnull=True, association__isnull=True, authority__isnull=True)
    rows = (
        of_territories(
            JournalEntry.objects.all_territories().filter(observed_on__gte=start, observed_on__lte=end),  # type: ignore[attr-defined]
            territory_ids,
        )
        .values("category", "nature")
        .annotate(
            entries=Count("id"),
            by_kitchen=Count("id", filter=Q(kitchen__isnull=False)),
            by_association=Count("id", filter=Q(association__isnull=False)),
            by_authority=Count("id", filter=Q(authority__isnull=False)),
            by_territory=Count("id", filter=no_actor),
        )
        .order_by("category", "nature")
    )
    categories = dict(JournalEntry.Category.choices)
    natures = dict(JournalEntry.Nature.choices)
    breakdown = []
    total = 0
    by_nature: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        total += row["entries"]
        by_nature[row["nature"]][row["category"]] += row["entries"]
        for kind in ACTOR_KINDS:
            if row[f"by_{kind}"]:
                breakdown.append(
                    {
                        "actor_kind": kind,
                        "actor_kind_label": str(ACTOR_KINDS[kind]),
                        "category": row["category"],
                        "category_label": str(categories.get(row["category"], row["category"])),
                        "nature": row["nature"],
                        "nature_label": str(natures.get(row["nature"], row["nature"])),
                        "entries": row[f"by_{kind}"],
                    }
                )
    breakdown.sort(
        key=lambda item: (list(ACTOR_KINDS).index(item["actor_kind"]), item["category"], item["nature"])
    )

    def per_category(nature: str) -> list[dict[str, Any]]:
        return [
            {"category": code, "category_label": str(label), "entries": by_nature[nature][code]}
            for code, label in JournalEntry.Category.choices
            if by_nature[nature][code]
        ]

    return [
        SPEC["journal_entries"].indicator(total, breakdown=breakdown),
        SPEC["journal_obstacles"].indicator(
            sum(by_nature[JournalEntry.Nature.OBSTACLE].values()),
            breakdown=per_category(JournalEntry.Nature.OBSTACLE),
        ),
        SPEC["journal_levers"].indicator(
            sum(by_nature[JournalEntry.Nature.LEVER].values()),
            breakdown=per_category(JournalEntry.Nature.LEVER),
        ),
    ]


# --- Surveys ----------------------------------------------------------------------------


@dataclass
class SurveyTally:
    """The answers to one question (by survey kind and code) across the territories' surveys."""

    survey_kind: str
    code: str
    kind: str
    text: str
    choices: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    @property
    def answered(self) -> int:
        return sum(self.counts.values())


def survey_indicators(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
) -> list[Indicator]:
    """Survey answers aggregated per (survey kind, question code): two queries, whatever the count."""
    questions = of_territories(
        SurveyQuestion.objects.select_related("survey"), territory_ids, "survey__territory_id"
    ).order_by("survey__kind", "position", "-survey__created_at", "survey_id")
    tallies: dict[tuple[str, str, str], SurveyTally] = {}
    by_survey: dict[int, dict[str, SurveyTally]] = defaultdict(dict)
    survey_kinds: dict[int, str] = {}
    for question in questions:
        survey_kind = question.survey.kind
        survey_kinds[question.survey_id] = survey_kind
        key = (survey_kind, question.code, question.kind)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = SurveyTally(survey_kind, question.code, question.kind, question.text)
        for choice in question.choices or []:
            if choice not in tally.choices:
                tally.choices.append(choice)
        by_survey[question.survey_id][question.code] = tally
    if not tallies:
        return []

    responses_by_kind: Counter[str] = Counter()
    responses = of_territories(
        SurveyResponse.objects.all_territories().filter(  # type: ignore[attr-defined]
            answered_on__gte=start, answered_on__lte=end, survey_id__in=list(by_survey)
        ),
        territory_ids,
    ).values_list("survey_id", "answers")
    for survey_id, answers in responses:
        responses_by_kind[survey_kinds[survey_id]] += 1
        for code, answer in (answers or {}).items():
            tally = by_survey[survey_id].get(code)
            if tally is not None and answer is not None:
                tally.counts[answer] += 1

    codes = Counter((tally.survey_kind, tally.code) for tally in tallies.values())
    indicators: list[Indicator] = []
    for survey_kind in sorted({kind for kind, _code, _qkind in tallies}):
        kind_label = Survey.Kind(survey_kind).label
        question = SURVEY_QUESTIONS.get(survey_kind, Question.IMPACT)
        count = responses_by_kind[survey_kind]
        indicators.append(
            Indicator(
                code=survey_code(survey_kind, "responses"),
                label=_("%(survey)s : réponses") % {"survey": kind_label},
                definition=_("Réponses saisies (papier) ou reçues (en ligne) sur la période."),
                unit=_("réponses"),
                question=question,
                value=count,
            )
        )
        for tally in tallies.values():
            if tally.survey_kind != survey_kind:
                continue
            code = survey_code(survey_kind, tally.code)
            if codes[(survey_kind, tally.code)] > 1:
                code = f"{code}_{tally.kind}"
            indicators.append(survey_indicator(tally, code, str(kind_label), question))
    return indicators


def survey_indicator(tally: SurveyTally, code: str, kind_label: str, question: str) -> Indicator:
    answered = tally.answered
    missing = [] if answered else [_("aucune réponse à cette question sur la période")]
    label = f"{kind_label} : {tally.text}"
    value: Value = None
    breakdown: list[dict[str, Any]] = []
    if tally.kind == SurveyQuestion.Kind.SCALE:
        definition = _("Moyenne des notes de 1 à 5 données à cette question ; le détail compte chaque note.")
        unit = _("/5")
        if answered:
            total = sum(int(note) * count for note, count in tally.counts.items())
            value = rounded(Decimal(total) / answered, CENT)
        breakdown = [{"answer": note, "answers": tally.counts[note]} for note in range(1, 6)]
    elif tally.kind == SurveyQuestion.Kind.YES_NO:
        definition = _("Réponses « oui » ÷ réponses à cette question.")
        unit = PERCENT
        yes = tally.counts[True]
        if answered:
            value = rounded(Decimal(yes) * HUNDRED / answered, TENTH)
        breakdown = [{"answer": True, "answers": yes}, {"answer": False, "answers": tally.counts[False]}]
    else:
        definition = _("Réponses à cette question ; le détail donne la part de chaque choix.")
        unit = _("réponses")
        value = answered
        breakdown = [
            {
                "answer": choice,
                "answers": tally.counts[choice],
                "share": rounded(Decimal(tally.counts[choice]) * HUNDRED / answered, TENTH)
                if answered
                else None,
            }
            for choice in tally.choices
        ]
    return Indicator(
        code=code,
        label=label,
        definition=definition,
        unit=unit,
        question=question,
        value=value,
        missing=missing,
        breakdown=breakdown,
    )


# --- Entry points -----------------------------------------------------------------------


def compute_indicators(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
) -> IndicatorSet:
    """Every indicator of the territories (None: every territory) taken together, over start–end.

    A constant number of queries, whatever the length of the period or the number of records.
    Callers check the reader's scope on the territories first."""
    if end < start:
        raise ValueError("end before start")
    months = months_of(start, end)
    sums = rollup_sums(territory_ids=territory_ids, start=start, end=end)
    data = cost_selectors.cost_data(territory_ids=territory_ids, start=start, end=end)
    report = cost_report(data)
    indicators = [
        *needs_indicators(territory_ids=territory_ids, start=start, end=end, sums=sums),
        *cost_indicators(report),
        *logistics_indicators(sums),
        *production_indicators(territory_ids=territory_ids, start=start, end=end, sums=sums),
        *impact_indicators(territory_ids=territory_ids, sums=sums, data=data),
        actors_indicator(sums, data),
        *journal_indicators(territory_ids=territory_ids, start=start, end=end),
        *survey_indicators(territory_ids=territory_ids, start=start, end=end),
    ]
    order = list(Question.values)
    indicators.sort(
        key=lambda indicator: order.index(indicator.question)
    )  # stable: keeps each question's order
    return IndicatorSet(
        territory_ids=territory_ids,
        start=start,
        end=end,
        cost_start=months[0],
        cost_end=last_of_month(months[-1]),
        indicators=indicators,
    )


def side_by_side(
    *, territories: Iterable[Territory], start: datetime.date, end: datetime.date
) -> list[tuple[Territory, IndicatorSet]]:
    """One set per territory, in the order given (the comparison of territories)."""
    return [
        (territory, compute_indicators(territory_ids=[territory.pk], start=start, end=end))
        for territory in territories
    ]
