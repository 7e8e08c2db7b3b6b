"""The demo's evaluation records: the observation journal each authority coordinator keeps, and
the surveys of beneficiaries, associations and kitchen staff with their answers.

The journal holds two to four entries a month per territory, drawn (from a ``random.Random``
seeded with the territory and the month) from what the pilots' coordinators note: obstacles and
levers on transport, individual trays, cold storage at the sites, volunteers during the school
holidays, costs and governance. Some are shared with the funders. Entries and answers go through
``evaluation.services`` with the demo accounts, so every rule holds; an entry already there (same
territory, day and title) and a survey that already has answers are left as they are.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from associations.models import Association
from evaluation import services
from evaluation.models import JournalEntry, Survey, SurveyQuestion, SurveyResponse
from kitchens.models import Kitchen
from territories.models import Authority, Territory

from . import calendar as school_calendar
from .costs import add_months

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SEED = "passerelle-demo"
CAT = JournalEntry.Category
NAT = JournalEntry.Nature


@dataclass(frozen=True)
class Observation:
    category: str
    nature: str
    title: str
    text: str
    # Which actor the entry is about: "kitchen", "association", "authority" or "".
    about: str = ""
    shared: bool = False


OBSERVATIONS: tuple[Observation, ...] = (
    Observation(
        CAT.LOGISTICS,
        NAT.OBSTACLE,
        "Créneau de collecte trop tôt pour les bénévoles",
        "Les repas dédiés sont prêts à 9 h 30 ; les bénévoles disponibles arrivent rarement avant "
        "10 h 30. Deux collectes ont attendu en chambre froide plus d'une heure.",
        "association",
    ),
    Observation(
        CAT.LOGISTICS,
        NAT.LEVER,
        "Tournée commune de deux associations",
        "Les deux associations mutualisent une tournée le mardi avec le véhicule frigorifique de la "
        "plus grande : un trajet de moins par semaine.",
        "association",
        True,
    ),
    Observation(
        CAT.LOGISTICS,
        NAT.OBSTACLE,
        "Véhicule frigorifique immobilisé",
        "Le véhicule frigorifique de l'association est au garage pour une semaine ; la cuisine a "
        "livré elle-même, à ses frais, trois collectes.",
        "association",
    ),
    Observation(
        CAT.TECHNICAL,
        NAT.OBSTACLE,
        "Barquettes individuelles en rupture",
        "Le fournisseur de barquettes individuelles scellables a livré en retard ; les repas dédiés "
        "ont été conditionnés en bacs gastronormes de 10 portions, moins pratiques à distribuer.",
        "kitchen",
    ),
    Observation(
        CAT.TECHNICAL,
        NAT.LEVER,
        "Operculeuse pour les portions individuelles",
        "La cuisine a mis en service une operculeuse : les repas dédiés partent en barquettes "
        "individuelles étiquetées (lot, DLC, allergènes), appréciées par les bénévoles.",
        "kitchen",
        True,
    ),
    Observation(
        CAT.TECHNICAL,
        NAT.OBSTACLE,
        "Pas de froid sur un lieu de distribution",
        "Le local n'a qu'un réfrigérateur ménager : les repas en liaison froide doivent être "
        "distribués le jour même de la collecte, ce qui limite les volumes acceptés.",
        "association",
    ),
    Observation(
        CAT.TECHNICAL,
        NAT.LEVER,
        "Armoire réfrigérée installée sur le site",
        "Une armoire réfrigérée de 600 litres, financée par le projet, permet désormais de garder "
        "les repas jusqu'au lendemain à +3 °C, relevés de température à l'appui.",
        "association",
        True,
    ),
    Observation(
        CAT.SOCIAL,
        NAT.OBSTACLE,
        "Moins de bénévoles pendant les vacances scolaires",
        "Pendant les vacances, une partie des bénévoles part ; la cuisine est fermée et aucun repas "
        "dédié n'est produit. Les familles demandent ce qui remplace les repas.",
        "association",
    ),
    Observation(
        CAT.SOCIAL,
        NAT.LEVER,
        "Colis de relais pendant les vacances",
        "L'association distribue des colis pendant la fermeture de la cuisine et annonce la date de "
        "reprise des repas ; les familles reviennent dès la rentrée.",
        "association",
        True,
    ),
    Observation(
        CAT.SOCIAL,
        NAT.LEVER,
        "Repas chauds appréciés des personnes isolées",
        "Les personnes seules sans équipement de cuisine disent préférer un repas prêt à réchauffer "
        "à un colis : elles reviennent plus régulièrement.",
        "association",
    ),
    Observation(
        CAT.ECONOMIC,
        NAT.OBSTACLE,
        "Hausse du prix des denrées",
        "Le marché de denrées a été révisé : +4 % sur le coût matière. La cuisine demande si le "
        "prix convenu du repas dédié peut être revu.",
        "kitchen",
    ),
    Observation(
        CAT.ECONOMIC,
        NAT.LEVER,
        "Coût marginal connu chaque mois",
        "La cuisine saisit ses coûts du mois dans la semaine qui suit : le coût marginal d'un repas "
        "dédié est discuté en comité sur des chiffres à jour.",
        "kitchen",
        True,
    ),
    Observation(
        CAT.ECONOMIC,
        NAT.OBSTACLE,
        "Relevé mensuel des coûts en retard",
        "Le relevé des heures supplémentaires du mois n'a pas été transmis : le coût du mois reste "
        "incomplet en attendant.",
        "kitchen",
    ),
    Observation(
        CAT.PARTNERSHIP,
        NAT.LEVER,
        "Comité de pilotage trimestriel",
        "Cuisine, associations, CCAS et évaluateurs ont revu les volumes, les pertes et les retours "
        "des bénéficiaires ; un avenant ajuste les repas prévus par semaine.",
        "authority",
        True,
    ),
    Observation(
        CAT.PARTNERSHIP,
        NAT.OBSTACLE,
        "Convention à renouveler",
        "La convention arrive à échéance dans trois mois ; la signature du prestataire attend l'avis "
        "de son service juridique.",
        "authority",
    ),
    Observation(
        CAT.ADMINISTRATIVE,
        NAT.OBSTACLE,
        "Habilitation d'une association à renouveler",
        "L'habilitation à l'aide alimentaire d'une association partenaire expire dans l'année : le "
        "dossier est à déposer auprès de la préfecture de région.",
        "association",
    ),
    Observation(
        CAT.ADMINISTRATIVE,
        NAT.LEVER,
        "Référent unique à la collectivité",
        "Un référent unique répond aux associations et à la cuisine : les questions sur les lots et "
        "les collectes sont réglées dans la journée.",
        "authority",
        True,
    ),
    Observation(
        CAT.LOGISTICS,
        NAT.LEVER,
        "Vélo cargo pour les trajets courts",
        "Pour un site à moins de 3 km, les bénévoles collectent à vélo cargo avec caisses isothermes "
        "et accumulateurs de froid : ni carburant ni stationnement.",
        "association",
    ),
)

HOLIDAY_TITLES = {"Moins de bénévoles pendant les vacances scolaires", "Colis de relais pendant les vacances"}


def month_observations(
    territory: Territory, month: datetime.date, today: datetime.date
) -> list[tuple[datetime.date, Observation]]:
    """Two to four entries for the month, on days up to yesterday; the holiday entries only in
    months with school holidays."""
    rng = random.Random(f"{SEED}:journal:{territory.slug}:{month.isoformat()}")  # noqa: S311 - demo data
    last = min(add_months(month, 1) - datetime.timedelta(days=1), today - datetime.timedelta(days=1))
    if last < month:
        return []
    holidays = school_calendar.holidays_between(month, last)
    pool = [o for o in OBSERVATIONS if holidays or o.title not in HOLIDAY_TITLES]
    chosen = rng.sample(pool, rng.randint(2, 4))
    span = (last - month).days
    days = sorted(month + datetime.timedelta(days=rng.randint(0, span)) for _ in chosen)
    return list(zip(days, chosen, strict=True))


def seed_journal(
    *,
    territory: Territory,
    author: User,
    months: list[datetime.date],
    today: datetime.date,
    counts: Any,
) -> None:
    existing = set(JournalEntry.objects.filter(territory=territory).values_list("observed_on", "title"))
    actors: dict[str, Any] = {
        "kitchen": Kitchen.objects.filter(territory=territory).order_by("pk").first(),
        "association": Association.objects.filter(territory=territory).order_by("pk").first(),
        "authority": Authority.objects.filter(territory=territory).order_by("pk").first(),
    }
    for month in months:
        for day, observation in month_observations(territory, month, today):
            if (day, observation.title) in existing:
                continue
            about = {observation.about: actors[observation.about]} if observation.about else {}
            services.journal_entry_create(
                by=author,
                territory=territory,
                observed_on=day,
                category=observation.category,
                nature=observation.nature,
                title=observation.title,
                text=observation.text,
                shared_with_funders=observation.shared,
                **about,
            )
            counts[JournalEntry._meta.label] += 1


# -- surveys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveySeed:
    kind: str
    title: str
    introduction: str
    questions: tuple[dict[str, Any], ...]
    # Answers per territory, from which to which (a share of the people reached).
    answers: tuple[int, int]


SCALE = SurveyQuestion.Kind.SCALE
YES_NO = SurveyQuestion.Kind.YES_NO
CHOICE = SurveyQuestion.Kind.CHOICE

SURVEYS: tuple[SurveySeed, ...] = (
    SurveySeed(
        Survey.Kind.BENEFICIARY,
        "Satisfaction des personnes servies",
        "Questionnaire anonyme proposé sur les lieux de distribution (papier, saisi ensuite).",
        (
            {"code": "satisfaction", "text": "Êtes-vous satisfait(e) des repas reçus ?", "kind": SCALE},
            {"code": "quantite", "text": "La quantité vous suffit-elle pour un repas ?", "kind": YES_NO},
            {"code": "rechauffe", "text": "Pouvez-vous réchauffer le repas chez vous ?", "kind": YES_NO},
            {
                "code": "frequence",
                "text": "À quelle fréquence venez-vous chercher un repas ?",
                "kind": CHOICE,
                "choices": ["Chaque semaine", "Deux fois par mois", "Moins souvent"],
            },
        ),
        (60, 110),
    ),
    SurveySeed(
        Survey.Kind.PARTNER,
        "Questionnaire des associations partenaires",
        "Un questionnaire par responsable ou bénévole référent des associations du territoire.",
        (
            {
                "code": "organisation",
                "text": "L'organisation des collectes vous convient-elle ?",
                "kind": SCALE,
            },
            {
                "code": "stockage",
                "text": "Avez-vous assez de place au froid pour les repas ?",
                "kind": YES_NO,
            },
            {"code": "poursuite", "text": "Souhaitez-vous poursuivre le partenariat ?", "kind": YES_NO},
        ),
        (6, 14),
    ),
)


def answers_of(seed: SurveySeed, rng: random.Random) -> dict[str, Any]:
    """One plausible set of answers: mostly satisfied, a few questions left blank."""
    answers: dict[str, Any] = {}
    for question in seed.questions:
        if rng.random() < 0.06:
            continue  # left blank
        if question["kind"] == SCALE:
            answers[question["code"]] = rng.choices([1, 2, 3, 4, 5], weights=[2, 5, 15, 43, 35])[0]
        elif question["kind"] == YES_NO:
            answers[question["code"]] = rng.random() < 0.8
        else:
            answers[question["code"]] = rng.choices(
                question["choices"], weights=[5, 3, 2][: len(question["choices"])]
            )[0]
    return answers or {seed.questions[0]["code"]: 4}


def seed_surveys(
    *,
    territory: Territory,
    evaluator: User,
    months: list[datetime.date],
    counts: Any,
) -> None:
    """Each survey of the territory, with answers over the pilot year's last six months."""
    for seed in SURVEYS:
        survey = Survey.objects.filter(territory=territory, title=seed.title).first()
        if survey is None:
            survey = services.survey_create(
                by=evaluator,
                territory=territory,
                kind=seed.kind,
                title=seed.title,
                introduction=seed.introduction,
                questions=seed.questions,
            )
            counts[Survey._meta.label] += 1
        if SurveyResponse.objects.filter(survey=survey).exists():
            continue
        rng = random.Random(f"{SEED}:survey:{territory.slug}:{seed.title}")  # noqa: S311 - demo data
        first, last = months[-6], add_months(months[-1], 1) - datetime.timedelta(days=1)
        for _ in range(rng.randint(*seed.answers)):
            services.survey_response_record(
                survey=survey,
                channel=SurveyResponse.Channel.PAPER,
                answers=answers_of(seed, rng),
                answered_on=first + datetime.timedelta(days=rng.randint(0, (last - first).days)),
                by=evaluator,
            )
            counts[SurveyResponse._meta.label] += 1
