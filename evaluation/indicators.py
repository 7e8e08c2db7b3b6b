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

``compute_indicators`` aggregates the territories it is given into one set. Side by side
(``side_by_side``, the API's rows) gives each territory the values ``compute_indicators`` gives it
alone, with each query grouped by territory rather than repeated per territory; the part
read off the roll-ups and the cost method is cached per territory, keyed by a version of
its roll-ups (``rollup_versions``). Like the costing selectors, these read every row of the
territories they are given: callers check the reader's scope first.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, models
from django.db.models import Count, Sum
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from associations import planning
from associations.hygiene import trained_sites_by
from associations.models import Partnership
from costing import selectors as cost_selectors
from costing import versions as cost_versions
from costing.losses import meals_lost
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
from kitchens.models import Closure
from territories.models import Membership, Territory

from .models import JournalEntry, Survey, SurveyQuestion, SurveyRefusal, SurveyResponse
from .rates import flow_rates

if TYPE_CHECKING:
    import pandas as pd
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


# Each question's label, translated once per language: ``Question(code).label`` built the
# member and translated its label anew for each of the 330 indicators of a page side by side.
QUESTION_LABELS: dict[str, Any] = dict(Question.choices)
_translated_labels: dict[tuple[str, str], str] = {}


def question_label(code: str, language: str | None = None) -> str:
    key = (language if language is not None else get_language() or "", code)
    label = _translated_labels.get(key)
    if label is None:
        label = _translated_labels[key] = str(QUESTION_LABELS[code])
    return label


def question_labels() -> dict[str, str]:
    """Every question's label in the active language (which is looked up once)."""
    language = get_language() or ""
    return {code: question_label(code, language) for code in QUESTION_LABELS}


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
        return question_label(self.question)

    def as_dict(self, question_labels: dict[str, str] | None = None) -> dict[str, Any]:
        """``question_labels``: ``question_labels()``, looked up once for a whole set."""
        return {
            "code": self.code,
            "label": self.label,
            "definition": self.definition,
            "unit": self.unit,
            "question": self.question,
            "question_label": (question_labels or {}).get(self.question) or self.question_label,
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
        labels = question_labels()
        return {
            "territories": self.territory_ids,
            "start": as_json(self.start),
            "end": as_json(self.end),
            "cost_start": as_json(self.cost_start),
            "cost_end": as_json(self.cost_end),
            "complete": self.complete,
            "indicators": [indicator.as_dict(labels) for indicator in self.indicators],
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
        gettext_lazy("Passages (personnes servies)"),
        gettext_lazy("passages"),
        gettext_lazy(
            "Σ des personnes servies lors des distributions de la période. Les comptes sont anonymes : "
            "une personne servie à deux distributions compte deux fois (ce sont des passages)."
        ),
    ),
    Spec(
        "meals_per_person",
        Question.NEEDS,
        gettext_lazy("Repas par passage"),
        gettext_lazy("repas/passage"),
        gettext_lazy("Repas distribués ÷ passages (personnes servies, comptées à chaque distribution)."),
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
        gettext_lazy(PER_MEAL),
        gettext_lazy(
            "Méthode des coûts (coût marginal d'un repas dédié) : denrées + conditionnement + énergie "
            "par repas + heures supplémentaires × coût horaire ÷ repas dédiés, moyenne pondérée des mois."
        ),
    ),
    Spec(
        "marginal_cost_surplus",
        Question.COST,
        gettext_lazy("Coût marginal d'un repas d'excédent"),
        gettext_lazy(PER_MEAL),
        gettext_lazy(
            "Méthode des coûts (coût marginal d'un repas d'excédent) : conditionnement par repas "
            "+ heures de manutention × coût horaire ÷ repas d'excédents, moyenne pondérée des mois."
        ),
    ),
    Spec(
        "full_cost_per_meal",
        Question.COST,
        gettext_lazy("Coût complet par repas distribué (hors bénévolat)"),
        gettext_lazy(PER_MEAL),
        gettext_lazy(
            "Méthode des coûts : (cuisines + transport + associations + coordination) ÷ repas distribués."
        ),
    ),
    Spec(
        "full_cost_per_meal_with_volunteers",
        Question.COST,
        gettext_lazy("Coût complet par repas distribué, bénévolat valorisé compris"),
        gettext_lazy(PER_MEAL),
        gettext_lazy(
            "Méthode des coûts : (coût total + heures de bénévoles × valeur de référence d'une heure) "
            "÷ repas distribués."
        ),
    ),
    Spec(
        "cost_per_person",
        Question.COST,
        gettext_lazy("Coût par passage (personne servie)"),
        gettext_lazy("€/passage"),
        gettext_lazy(
            "Méthode des coûts : coût total (hors bénévolat) ÷ passages (personnes servies, comptées à "
            "chaque distribution)."
        ),
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
        gettext_lazy(PER_MEAL),
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
        gettext_lazy(PER_MEAL),
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
        "meals_short",
        Question.LOGISTICS,
        gettext_lazy("Repas manquants à la collecte"),
        MEALS,
        gettext_lazy(
            "Σ des repas d'un lot que l'association n'a pas reçus (repas du lot − repas reçus), "
            "par jour de collecte ; chaque collecte en indique le motif."
        ),
    ),
    Spec(
        "meals_lost",
        Question.LOGISTICS,
        gettext_lazy("Repas perdus"),
        MEALS,
        gettext_lazy(
            "Repas écartés + repas manquants à la collecte + repas des lots non collectés avant leur "
            "date limite + repas retirés par un rappel."
        ),
    ),
    Spec(
        "loss_rate",
        Question.LOGISTICS,
        gettext_lazy("Taux de perte"),
        PERCENT,
        gettext_lazy("Repas perdus ÷ (repas distribués + repas perdus)."),
    ),
    Spec(
        "batches_recalled",
        Question.LOGISTICS,
        gettext_lazy("Lots rappelés"),
        gettext_lazy("lots"),
        gettext_lazy("Σ des lots rappelés par la cuisine ou la collectivité (par jour de production)."),
    ),
    Spec(
        "trained_referent_sites_share",
        Question.LOGISTICS,
        gettext_lazy("Part des lieux tenus par une association au référent formé à l'hygiène"),
        PERCENT,
        gettext_lazy(
            "Lieux de distribution dont l'association a une formation à l'hygiène alimentaire de ses "
            "référents datée de trois ans au plus à la fin de la période ÷ lieux de distribution."
        ),
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

# Each read takes the territories either together (``split=False``: one group, keyed None)
# or side by side (``split=True``: one group per territory, keyed by its id), with the same
# query grouped by territory as well: the values of a territory are those of the same read
# given that territory alone.
Key = int | None


def group_key(row: dict[str, Any], split: bool) -> Key:
    return row.pop("territory") if split else None


@dataclass
class RollupSums:
    """The period's roll-ups: totals, and per partnership what the impact needs."""

    totals: dict[str, Any]
    partnerships: list[dict[str, Any]]


def sums_of(rows: list[dict[str, Any]]) -> RollupSums:
    totals = {
        name: sum(
            (cost_selectors.as_number(name, row[name]) for row in rows),
            Decimal(0) if name in cost_selectors.DECIMAL_SUMS else 0,
        )
        for name in cost_selectors.ROLLUP_SUMS
    }
    return RollupSums(totals=totals, partnerships=rows)


def rollup_sums_by(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, split: bool
) -> dict[Key, RollupSums]:
    """One aggregate query: every roll-up column summed per partnership (with its kitchen,
    association and mode); the totals are their sums."""
    keys = ["territory"] if split else []
    rows = (
        cost_selectors.rollups_in(territory_ids=territory_ids, start=start, end=end)
        .values(*keys, "partnership", "kitchen", "association")
        .annotate(**cost_selectors.sums())
        .order_by("partnership")
    )
    groups = grouped(rows, territory_ids, split)
    return {key: sums_of(groups[key]) for key in keys_of(territory_ids, split)}


def rollup_sums_of_frame(frame: pd.DataFrame) -> RollupSums:
    """``rollup_sums_by`` of one group from a roll-up frame over the same days
    (``costing.selectors.rollup_frame``): the same rows, summed in memory instead of read again
    from the roll-ups (a national synthesis: two million rows)."""
    keys = ["partnership", "kitchen", "association"]
    if not len(frame):
        return sums_of([])
    per_partnership = frame.groupby(keys, sort=True)[cost_selectors.ROLLUP_SUMS].sum()
    rows = [
        {
            **dict(zip(keys, (int(key) for key in index), strict=True)),
            **{
                name: cost_selectors.as_number(name, value)
                for name, value in zip(cost_selectors.ROLLUP_SUMS, values, strict=True)
            },
        }
        for index, values in zip(per_partnership.index, per_partnership.itertuples(index=False), strict=True)
    ]
    return sums_of(rows)


def keys_of(territory_ids: list[int] | None, split: bool) -> list[Key]:
    if not split:
        return [None]
    assert territory_ids is not None, "side by side needs the territories"
    return list(dict.fromkeys(territory_ids))


def grouped(
    rows: Iterable[dict[str, Any]], territory_ids: list[int] | None, split: bool
) -> dict[Key, list[dict[str, Any]]]:
    """A read's rows per group (``group_key``), with every group of ``keys_of``, empty or not."""
    groups: dict[Key, list[dict[str, Any]]] = {key: [] for key in keys_of(territory_ids, split)}
    for row in rows:
        groups[group_key(row, split)].append(row)
    return groups


def distribution_days_by(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, split: bool
) -> dict[Key, int]:
    """Territory-days with at least one distribution: one query."""
    rollups = cost_selectors.rollups_in(territory_ids=territory_ids, start=start, end=end).filter(
        distributions__gt=0
    )
    if not split:
        return {None: rollups.values("territory", "day").distinct().count()}
    days: dict[Key, int] = dict(
        rollups.values("territory")
        .annotate(days=Count("day", distinct=True))
        .values_list("territory", "days")
    )
    return {key: days.get(key, 0) for key in keys_of(territory_ids, split)}


def territory_count(territory_ids: list[int] | None) -> int:
    if territory_ids is not None:
        return len(set(territory_ids))
    return Territory.objects.all_territories().count()


def of_territories(queryset: models.QuerySet, territory_ids: list[int] | None, lookup: str = "territory_id"):
    return queryset if territory_ids is None else queryset.filter(**{f"{lookup}__in": territory_ids})


# The reads made on every request (the live part, the roll-up version) are written out rather
# than built by the ORM: building each query cost about a millisecond, several times the query.


def columns_of(model: type[models.Model]) -> tuple[str, dict[str, str]]:
    """A model's table and its columns by field name, quoted (from the model's own definition)."""
    quote = connection.ops.quote_name
    meta = model._meta
    return quote(meta.db_table), {field.name: quote(field.column) for field in meta.concrete_fields}


def in_territories(column: str, territory_ids: list[int] | None) -> tuple[str, list[int]]:
    """The condition on a territory column (none for every territory), and its parameters."""
    if territory_ids is None:
        return "1 = 1", []
    return f"{column} IN ({', '.join(['%s'] * len(territory_ids))})", list(territory_ids)


def fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def planned_meals_by(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, split: bool
) -> dict[Key, Decimal]:
    """Σ over the partnerships (but drafts) of their planned meals in the period
    (``associations.planning``: planned meals per week × running days ÷ 7, school holidays and
    kitchen closures left out). The partnerships and the closures touching the period come
    together, in one query (the page reads this on every request)."""
    table, column = columns_of(Partnership)
    territories, params = in_territories(column["territory"], territory_ids)
    closure_table, closure = columns_of(Closure)
    closed_in, closed_params = in_territories(closure["territory"], territory_ids)
    rows = fetch(
        f"SELECT 0, {column['id']}, {column['territory']}, {column['kitchen']}, "  # noqa: S608
        f"{column['starts_on']}, {column['ends_on']}, {column['planned_meals_per_week']} FROM {table} "
        f"WHERE {territories} AND {column['status']} <> %s "
        f"AND {column['starts_on']} <= %s AND ({column['ends_on']} IS NULL OR {column['ends_on']} >= %s) "
        f"UNION ALL SELECT 1, {closure['id']}, {closure['territory']}, {closure['kitchen']}, "
        f"{closure['starts_on']}, {closure['ends_on']}, NULL FROM {closure_table} "
        f"WHERE {closed_in} AND {closure['starts_on']} <= %s AND {closure['ends_on']} >= %s",
        [*params, Partnership.Status.DRAFT.value, end, start, *closed_params, end, start],
    )
    # In any order: the closed days are a set, and the planned meals a sum.
    partnerships = [row[2:] for row in rows if row[0] == 0]
    calendar = planning.ClosureCalendar(row[2:6] for row in rows if row[0] == 1)
    totals: dict[Key, Decimal] = dict.fromkeys(keys_of(territory_ids, split), Decimal(0))
    for territory_id, kitchen_id, starts_on, ends_on, per_week in partnerships:
        key = territory_id if split else None
        planned = planning.planned_meals(
            per_week=per_week,
            starts_on=starts_on,
            ends_on=ends_on,
            start=start,
            end=end,
            closed=calendar.closed(territory_id, kitchen_id),
        )
        totals[key] += planned.meals
    return totals


def production_rows_by(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, split: bool
) -> dict[Key, list[dict[str, Any]]]:
    """Per kitchen: the days it produced dedicated meals, and its usual daily production: one query."""
    keys = ["territory"] if split else []
    rows = (
        cost_selectors.rollups_in(territory_ids=territory_ids, start=start, end=end)
        .filter(meals_produced_dedicated__gt=0)
        .values(*keys, "kitchen", "kitchen__name", "kitchen__usual_daily_production")
        .annotate(days=Count("day", distinct=True), dedicated=Sum("meals_produced_dedicated"))
        .order_by("kitchen")
    )
    return grouped(rows, territory_ids, split)


# --- Needs ------------------------------------------------------------------------------


def needs_indicators(
    *, start: datetime.date, end: datetime.date, sums: RollupSums, days: int, territories: int
) -> list[Indicator]:
    """Every needs indicator but the share of planned meals (``planned_share_indicator``)."""
    totals = sums.totals
    distributed, people = totals["meals_distributed"], totals["people_served"]
    per_person = flow_rates(totals)["meals_per_person"]
    weeks = weeks_in(start, end) * territories
    return [
        SPEC["meals_distributed"].indicator(distributed),
        SPEC["people_served"].indicator(people),
        SPEC["meals_per_person"].indicator(
            per_person, [] if per_person is not None else [nothing(_("personnes servies"))]
        ),
        ratio(
            SPEC["distribution_days_per_week"],
            days,
            weeks,
            denominator_label=_("territoires"),
        ),
    ]


def planned_share_indicator(distributed: int, planned: Decimal) -> Indicator:
    return ratio(
        SPEC["planned_meals_delivered_share"],
        distributed,
        planned,
        denominator_label=_("repas prévus par les conventions"),
        scale=HUNDRED,
        step=TENTH,
    )


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
    discarded = totals["meals_discarded"]
    rates = flow_rates(totals)
    rate, on_time = rates["loss_rate"], rates["pickups_on_time_share"]
    within = rates["temperature_compliance"]
    return [
        SPEC["pickups_on_time_share"].indicator(
            on_time, [] if on_time is not None else [nothing(_("collectes ou lots à collecter"))]
        ),
        SPEC["batches_expired"].indicator(totals["batches_expired"]),
        SPEC["temperature_compliance_share"].indicator(
            within, [] if within is not None else [nothing(_("collectes"))]
        ),
        SPEC["dispatch_breaches"].indicator(totals["dispatch_breaches"]),
        SPEC["meals_discarded"].indicator(discarded),
        SPEC["meals_short"].indicator(totals["meals_short"]),
        SPEC["meals_lost"].indicator(meals_lost(totals)),
        SPEC["loss_rate"].indicator(
            rate, [] if rate is not None else [nothing(_("repas distribués ou perdus"))]
        ),
        SPEC["batches_recalled"].indicator(totals["batches_recalled"]),
        ratio(
            SPEC["km_per_meal"],
            totals["km"],
            totals["meals_picked_up"],
            denominator_label=_("repas collectés"),
            step=THOUSANDTH,
        ),
    ]


# --- Production -------------------------------------------------------------------------


def production_indicators(sums: RollupSums, kitchens: list[dict[str, Any]]) -> list[Indicator]:
    """``kitchens``: ``production_rows_by``, read only when dedicated meals were produced."""
    totals = sums.totals
    dedicated = totals["meals_produced_dedicated"]
    share_spec = SPEC["dedicated_share_of_production"]
    if not dedicated:
        share = share_spec.indicator(None, applicable=False)
    else:
        # Per kitchen: its usual daily production on each day it produced dedicated meals.
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


def impact_indicators(*, sums: RollupSums, data: CostData) -> list[Indicator]:
    """Food waste and CO2 avoided (the staff and hours: ``staff_indicator``, ``hours_indicators``)."""
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

    return [waste, co2]


@dataclass
class Staff:
    """Active users with a role in the territories: each counted once, and per role."""

    total: int = 0
    by_role: list[dict[str, Any]] = field(default_factory=list)


def staff_by(*, territory_ids: list[int] | None, split: bool) -> dict[Key, Staff]:
    """One query: the distinct (role, person) pairs, counted per person and per role."""
    table, column = columns_of(Membership)
    user_table, user_column = columns_of(get_user_model())
    territory, role, user = (f"m.{column[name]}" for name in ("territory", "role", "user"))
    territories, params = in_territories(territory, territory_ids)
    selected = ", ".join([territory, role, user] if split else [role, user])
    pairs = fetch(
        f"SELECT DISTINCT {selected} FROM {table} m "  # noqa: S608
        f"INNER JOIN {user_table} u ON {user} = u.{user_column['id']} "
        f"WHERE {territories} AND {territory} IS NOT NULL AND u.{user_column['is_active']} = %s",
        [*params, True],
    )
    people: dict[Key, set[int]] = defaultdict(set)
    roles: dict[Key, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for row in pairs:
        key, role_code, person = (row[0], row[1], row[2]) if split else (None, row[0], row[1])
        people[key].add(person)
        roles[key][role_code].add(person)
    staff = {}
    for key in dict.fromkeys([*keys_of(territory_ids, split), *people]):
        by_role = [{"role": role, "people": len(users)} for role, users in sorted(roles[key].items())]
        staff[key] = Staff(total=len(people[key]), by_role=by_role)
    return staff


def staff_indicator(staff: Staff) -> Indicator:
    labels = dict(Membership._meta.get_field("role").flatchoices)
    breakdown = [
        {
            "role": row["role"],
            "role_label": str(labels.get(row["role"], row["role"])),
            "people": row["people"],
        }
        for row in staff.by_role
    ]
    return SPEC["staff_involved"].indicator(staff.total, breakdown=breakdown)


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


def journal_rows_by(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, split: bool
) -> dict[Key, list[dict[str, Any]]]:
    """One aggregate query over the period's entries, per category and nature."""
    table, column = columns_of(JournalEntry)
    territories, params = in_territories(column["territory"], territory_ids)
    kitchen, association, authority = (column[name] for name in ("kitchen", "association", "authority"))
    counts = {
        "entries": "1 = 1",
        "by_kitchen": f"{kitchen} IS NOT NULL",
        "by_association": f"{association} IS NOT NULL",
        "by_authority": f"{authority} IS NOT NULL",
        "by_territory": f"{kitchen} IS NULL AND {association} IS NULL AND {authority} IS NULL",
    }
    observed = column["observed_on"]
    keys = [column["territory"]] if split else []
    groups = [*keys, column["category"], column["nature"]]
    names = [*(["territory"] if split else []), "category", "nature", *counts]
    found = fetch(
        f"SELECT {', '.join(groups)}, "  # noqa: S608
        f"{', '.join(f'COUNT(CASE WHEN {condition} THEN 1 END)' for condition in counts.values())} "
        f"FROM {table} WHERE {territories} AND {observed} >= %s AND {observed} <= %s "
        f"GROUP BY {', '.join(groups)} ORDER BY {column['category']}, {column['nature']}",
        [*params, start, end],
    )
    rows = [dict(zip(names, row, strict=True)) for row in found]
    return grouped(rows, territory_ids, split)


def journal_indicators(rows: list[dict[str, Any]]) -> list[Indicator]:
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


@dataclass
class SurveyReads:
    """The questions of the territories' surveys, and the period's answers (survey id, answers)."""

    questions: list[SurveyQuestion] = field(default_factory=list)
    responses: list[tuple[int, Any]] = field(default_factory=list)
    # Online answers the links refused over their limits in the period: (survey id, count).
    refused: list[tuple[int, int]] = field(default_factory=list)


def survey_reads_by(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, split: bool
) -> dict[Key, SurveyReads]:
    """Two queries, whatever the count: the questions, then the period's answers to them. Every
    row read belongs to one of the keys (the territories given), made beforehand."""
    reads = {key: SurveyReads() for key in keys_of(territory_ids, split)}
    questions = of_territories(
        SurveyQuestion.objects.select_related("survey"), territory_ids, "survey__territory_id"
    ).order_by("survey__kind", "position", "-survey__created_at", "survey_id")
    survey_ids: set[int] = set()
    for question in questions:
        key = question.survey.territory_id if split else None
        reads[key].questions.append(question)
        survey_ids.add(question.survey_id)
    if not survey_ids:
        return reads
    responses = of_territories(
        SurveyResponse.objects.all_territories().filter(
            answered_on__gte=start, answered_on__lte=end, survey_id__in=sorted(survey_ids)
        ),
        territory_ids,
    ).values_list("territory_id", "survey_id", "answers")
    for territory_id, survey_id, answers in responses:
        reads[territory_id if split else None].responses.append((survey_id, answers))
    refusals = (
        of_territories(
            SurveyRefusal.objects.all_territories().filter(
                day__gte=start, day__lte=end, survey_id__in=sorted(survey_ids)
            ),
            territory_ids,
        )
        .values_list("territory_id", "survey_id")
        .annotate(refused=Sum("count"))
        .order_by("territory_id", "survey_id")
    )
    for territory_id, survey_id, refused in refusals:
        reads[territory_id if split else None].refused.append((survey_id, refused))
    return reads


def survey_indicators(reads: SurveyReads) -> list[Indicator]:
    """Survey answers aggregated per (survey kind, question code)."""
    tallies: dict[tuple[str, str, str], SurveyTally] = {}
    by_survey: dict[int, dict[str, SurveyTally]] = defaultdict(dict)
    survey_kinds: dict[int, str] = {}
    for asked in reads.questions:
        survey_kind = asked.survey.kind
        survey_kinds[asked.survey_id] = survey_kind
        key = (survey_kind, asked.code, asked.kind)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = SurveyTally(survey_kind, asked.code, asked.kind, asked.text)
        for choice in asked.choices or []:
            if choice not in tally.choices:
                tally.choices.append(choice)
        by_survey[asked.survey_id][asked.code] = tally
    if not tallies:
        return []

    refused_by_kind: Counter[str] = Counter()
    for survey_id, refused in reads.refused:
        if survey_id in survey_kinds:
            refused_by_kind[survey_kinds[survey_id]] += refused
    responses_by_kind: Counter[str] = Counter()
    for survey_id, answers in reads.responses:
        if survey_id not in survey_kinds:
            continue  # a survey of another of the territories read together
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
        indicators.append(
            Indicator(
                code=survey_code(survey_kind, "refused"),
                label=_("%(survey)s : réponses en ligne refusées") % {"survey": kind_label},
                definition=_(
                    "Réponses envoyées par le lien public et refusées sur la période, au-delà des "
                    "limites par appareil et par lien (docs/indicators.md) ; elles ne comptent dans "
                    "aucun autre indicateur."
                ),
                unit=_("réponses"),
                question=question,
                value=refused_by_kind[survey_kind],
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


@dataclass
class FlowPart:
    """The indicators read off the roll-ups and the cost method, for one set of territories:
    the costly part (the cost method's Python), which ``side_by_side`` caches."""

    distributed: int
    needs: list[Indicator]
    cost: list[Indicator]
    logistics: list[Indicator]
    production: list[Indicator]
    impact: list[Indicator]
    hours: list[Indicator]
    actors: Indicator


@dataclass
class LivePart:
    """What is read anew on every request: conventions, people, journal and surveys."""

    planned: Decimal
    staff: Staff
    journal: list[dict[str, Any]]
    surveys: SurveyReads
    # (sites run by an association with a trained referent, sites), at the period's end.
    trained_sites: tuple[int, int] = (0, 0)
    # The offers' and rounds' indicators (evaluation.logistics_offers).
    offers_rounds: list[Indicator] = field(default_factory=list)

    def digest(self) -> str:
        """A digest of every value this part holds (each survey question with every column of
        its row and of its survey's): equal digests give equal indicators, so what is built
        from this part can be kept under it."""

        def columns(row: models.Model) -> tuple[Any, ...]:
            return tuple(getattr(row, column.attname) for column in row._meta.concrete_fields)

        surveys = self.surveys
        questions = [(columns(question), columns(question.survey)) for question in surveys.questions]
        content = (
            self.planned,
            self.staff,
            self.journal,
            questions,
            surveys.responses,
            surveys.refused,
            self.trained_sites,
            [(indicator.code, indicator.value) for indicator in self.offers_rounds],
        )
        return hashlib.sha256(repr(content).encode()).hexdigest()[:32]


def flow_parts(
    *,
    territory_ids: list[int] | None,
    start: datetime.date,
    end: datetime.date,
    split: bool,
    data: CostData | None = None,
    cost: CostReport | None = None,
    frame: pd.DataFrame | None = None,
    read_days: Callable[[], dict[Key, int]] | None = None,
    read_kitchens: Callable[[], dict[Key, list[dict[str, Any]]]] | None = None,
) -> dict[Key, FlowPart]:
    """Three grouped queries for every territory, then the cost method's reads (five queries)
    for each group: ``costing.selectors.cost_data`` reads one set of territories at a time.
    ``data``, ``cost``, ``frame``: that read, the cost method's report on it and the roll-up
    frame of the same days, already made for the territories together (``split=False``
    only); the sums per partnership then come from the frame. ``read_days``,
    ``read_kitchens``: ``distribution_days_by`` and ``production_rows_by`` of the same
    arguments, started ahead (``evaluation.selectors.ReadsAhead``)."""
    together = data is None and cost is None and frame is None
    assert together or not split, "a read of the territories together cannot be split"
    sums: dict[Key, RollupSums] = (
        {None: rollup_sums_of_frame(frame)}
        if frame is not None
        else rollup_sums_by(territory_ids=territory_ids, start=start, end=end, split=split)
    )
    if read_days is None:
        days = distribution_days_by(territory_ids=territory_ids, start=start, end=end, split=split)
    else:
        days = read_days()
    keys = keys_of(territory_ids, split)
    kitchens: dict[Key, list[dict[str, Any]]] = {}
    if any(sums[key].totals["meals_produced_dedicated"] for key in keys):
        if read_kitchens is None:
            kitchens = production_rows_by(territory_ids=territory_ids, start=start, end=end, split=split)
        else:
            kitchens = read_kitchens()
    parts = {}
    for key in keys:
        group = [key] if key is not None else territory_ids
        group_data = data or cost_selectors.cost_data(territory_ids=group, start=start, end=end)
        group_sums = sums[key]
        parts[key] = FlowPart(
            distributed=group_sums.totals["meals_distributed"],
            needs=needs_indicators(
                start=start, end=end, sums=group_sums, days=days[key], territories=territory_count(group)
            ),
            cost=cost_indicators(cost or cost_report(group_data)),
            logistics=logistics_indicators(group_sums),
            production=production_indicators(group_sums, kitchens.get(key, [])),
            impact=impact_indicators(sums=group_sums, data=group_data),
            hours=hours_indicators(group_data),
            actors=actors_indicator(group_sums, group_data),
        )
    return parts


def live_parts(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date, split: bool
) -> dict[Key, LivePart]:
    """Seven queries, whatever the number of territories."""
    planned = planned_meals_by(territory_ids=territory_ids, start=start, end=end, split=split)
    staff = staff_by(territory_ids=territory_ids, split=split)
    journal = journal_rows_by(territory_ids=territory_ids, start=start, end=end, split=split)
    surveys = survey_reads_by(territory_ids=territory_ids, start=start, end=end, split=split)
    sites = trained_sites_by(territory_ids=territory_ids, on=end)
    from .logistics_offers import offers_rounds_by

    offers_rounds = offers_rounds_by(territory_ids=territory_ids, start=start, end=end, split=split)
    trained: dict[Key, tuple[int, int]] = {}
    for territory_id, (count, total) in sites.items():
        key = territory_id if split else None
        before = trained.get(key, (0, 0))
        trained[key] = (before[0] + count, before[1] + total)
    return {
        key: LivePart(
            planned=planned[key],
            staff=staff[key],
            journal=journal[key],
            surveys=surveys[key],
            trained_sites=trained.get(key, (0, 0)),
            offers_rounds=offers_rounds[key],
        )
        for key in keys_of(territory_ids, split)
    }


def trained_sites_indicator(trained_sites: tuple[int, int]) -> Indicator:
    trained, sites = trained_sites
    return ratio(
        SPEC["trained_referent_sites_share"],
        trained,
        sites,
        denominator_label=_("lieux de distribution"),
        scale=HUNDRED,
        step=TENTH,
    )


def assemble(
    *,
    territory_ids: list[int] | None,
    start: datetime.date,
    end: datetime.date,
    flow: FlowPart,
    live: LivePart,
) -> IndicatorSet:
    months = months_of(start, end)
    indicators = [
        *flow.needs,
        planned_share_indicator(flow.distributed, live.planned),
        *flow.cost,
        *flow.logistics,
        trained_sites_indicator(live.trained_sites),
        *live.offers_rounds,
        *flow.production,
        *flow.impact,
        staff_indicator(live.staff),
        *flow.hours,
        flow.actors,
        *journal_indicators(live.journal),
        *survey_indicators(live.surveys),
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


def compute_indicators(
    *, territory_ids: list[int] | None, start: datetime.date, end: datetime.date
) -> IndicatorSet:
    """Every indicator of the territories (None: every territory) taken together, over start–end.

    A constant number of queries, whatever the length of the period or the number of records.
    Read anew on every call (reports freeze what it gives). Callers check the reader's scope
    on the territories first."""
    if end < start:
        raise ValueError("end before start")
    flow = flow_parts(territory_ids=territory_ids, start=start, end=end, split=False)[None]
    live = live_parts(territory_ids=territory_ids, start=start, end=end, split=False)[None]
    return assemble(territory_ids=territory_ids, start=start, end=end, flow=flow, live=live)


def side_by_side(
    *, territories: Iterable[Territory], start: datetime.date, end: datetime.date, cached: bool = True
) -> list[tuple[Territory, IndicatorSet]]:
    """One set per territory, in the order given: the sets the API's rows are encoded from
    (``evaluation.api.encoded_rows`` assembles the same parts, keeping each row encoded).

    The same values as ``compute_indicators`` of each territory alone, read with grouped
    queries for all of them. The part read off the roll-ups and the cost method comes from
    the cache while the territory's roll-up version (``rollup_versions``) is unchanged."""
    if end < start:
        raise ValueError("end before start")
    territories = list(territories)
    ids = list(dict.fromkeys(territory.pk for territory in territories))
    if not ids:
        return []
    flows: dict[Any, FlowPart] = (
        cached_flow_parts(territory_ids=ids, start=start, end=end)
        if cached
        else flow_parts(territory_ids=ids, start=start, end=end, split=True)
    )
    lives = live_parts(territory_ids=ids, start=start, end=end, split=True)
    return [
        (
            territory,
            assemble(
                territory_ids=[territory.pk],
                start=start,
                end=end,
                flow=flows[territory.pk],
                live=lives[territory.pk],
            ),
        )
        for territory in territories
    ]


# --- Cache ------------------------------------------------------------------------------

# A bound on any change the roll-up version does not see (a kitchen renamed, its usual
# production changed).
FLOW_CACHE_SECONDS = 600
FLOW_CACHE_PREFIX = "evaluation:indicators:flow:v1"


def rollup_versions(*, territory_ids: list[int], start: datetime.date, end: datetime.date) -> dict[int, str]:
    """Per territory, a digest of what its cached part reads, from two small queries:

    - the roll-up versions of its cost months (``costing.versions.versions_of``), which every
      write of its roll-ups, stale marks, cost inputs and monthly cost figures bumps in its own
      transaction (``costing.versions``);
    - the reference values (shared by every territory)."""
    months = months_of(start, end)
    counters = cost_versions.versions_of(territory_ids, months[0], last_of_month(months[-1]))
    digests = {
        territory_id: hashlib.sha256(repr(counters[territory_id]).encode()) for territory_id in territory_ids
    }
    table, column = columns_of(ReferenceValue)
    references = repr(
        fetch(
            f"SELECT {column['id']}, {column['code']}, {column['value']}, {column['valid_from']}, "  # noqa: S608
            f"{column['valid_until']} "
            f"FROM {table} ORDER BY {column['id']}",
            [],
        )
    ).encode()
    for digest in digests.values():
        digest.update(references)
    return {territory_id: digest.hexdigest()[:32] for territory_id, digest in digests.items()}


def cached_flow_parts(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    versions: dict[int, str] | None = None,
) -> dict[int, FlowPart]:
    """Each territory's ``FlowPart`` from the cache, keyed by its roll-up version (``versions``:
    ``rollup_versions``' answer, when the caller has just read it), the period and the language
    (labels are translated); the territories missing are read together."""
    versions = versions or rollup_versions(territory_ids=territory_ids, start=start, end=end)
    language = get_language() or ""
    keys = {
        territory_id: f"{FLOW_CACHE_PREFIX}:{territory_id}:{start}:{end}:{language}:{versions[territory_id]}"
        for territory_id in territory_ids
    }
    found = cache.get_many(list(keys.values()))
    parts: dict[int, FlowPart] = {
        territory_id: found[key] for territory_id, key in keys.items() if key in found
    }
    missing = [territory_id for territory_id in territory_ids if territory_id not in parts]
    if missing:
        computed = flow_parts(territory_ids=missing, start=start, end=end, split=True)
        fresh = {territory_id: computed[territory_id] for territory_id in missing}
        cache.set_many({keys[territory_id]: part for territory_id, part in fresh.items()}, FLOW_CACHE_SECONDS)
        parts.update(fresh)
    return parts
