"""``manage.py seed_demo``: the four pilot territories of Île-de-France, with demo accounts,
and a whole pilot year: the twelve whole months before the current one, with their daily flow
of meals (up to yesterday), the school holidays of zone C during which kitchens are closed, the
monthly cost inputs of every kitchen, association and authority, transport rates, reference
values, fundings, the observation journal, surveys and the previous quarter's reports
(``territories.demo``; the values and their sources are in docs/methodology.md). One territory,
Grand Paris Sud, lacks a kitchen's inputs for two months on purpose.

Every directory record is looked up by a natural key (slug, name within its territory,
username...) and only written when it is new or differs from the demo data, so running the
command again changes nothing. Every record passes ``full_clean()`` before it is saved.

The flow (``meals.demo``) goes through the meal services with the territory's demo accounts;
a partnership-day whose lot numbers exist is skipped. ``--no-flow`` seeds the directory only,
``--days`` sets how many days of flow, ending yesterday, and then seeds the flow only (no cost
inputs, journal, surveys nor reports: those belong to a whole pilot year).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import logging
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractUser
from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.db.models import Count
from django.utils import timezone

from associations.conventions.selectors import convention_missing_signatures
from associations.conventions.services import (
    convention_draw_up_and_sign,
    convention_sign,
    convention_version_issue,
)
from associations.models import Association, DistributionSite, Partnership
from costing import rollups
from costing.services import first_of_month, monthly_cost_refresh, months_of
from evaluation.models import Report
from kitchens.models import Closure, Kitchen
from meals import demo
from meals.models import Batch
from territories.demo import calendar as school_calendar
from territories.demo import costs as demo_costs
from territories.demo import evaluation as demo_evaluation
from territories.demo import funders as demo_funders
from territories.demo import offers as demo_offers
from territories.demo import receipts as demo_receipts
from territories.demo import reports as demo_reports
from territories.models import Authority, Membership, Territory
from territories.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEMO_PASSWORD = "passerelle-demo"  # noqa: S105 - published demo password, documented in the README
REGION = "Île-de-France"

# Logs a line per task run; the roll-ups queued by the flow run eagerly in the demo.
CELERY_TASK_LOGGER = "celery.app.trace"
# WeasyPrint warns about every CSS property it does not support, for each report.
REPORT_LOGGER = "weasyprint"

ModelT = TypeVar("ModelT", bound=models.Model)


@dataclass(frozen=True)
class KitchenSeed:
    name: str
    operator_type: str
    daily_capacity: int
    usual_daily_production: int
    address: str
    siret: str
    # The prefix of the kitchen's lot numbers in the demo flow.
    lot_code: str
    does_cold_liaison: bool = True
    does_hot_liaison: bool = False
    # Fictitious numbers in the official format FR dd.ddd.ddd CE: the département, the commune's
    # INSEE code and the establishment's number within it (Règlement (CE) 853/2004 art. 4 and
    # annex II section I; arrêté du 8 juin 2006). A kitchen without a number is exempted, with
    # its reason.
    sanitary_approval_number: str = ""
    sanitary_exemption_reason: str = ""


@dataclass(frozen=True)
class SiteSeed:
    name: str
    address: str
    opening_days: tuple[str, ...]
    cold_storage_litres: int | None = None
    # People served per distribution at most: above the largest distribution the demo flow
    # records there (a dedicated batch of the partnership's busiest day, or 150 surplus meals).
    capacity_people: int | None = None


@dataclass(frozen=True)
class AssociationSeed:
    name: str
    rna: str
    habilitation: str
    habilitation_number: str
    habilitation_expires_on: datetime.date
    sites: tuple[SiteSeed, ...]
    # The food-hygiene training of the association's referents (associations.hygiene).
    hygiene_training_on: datetime.date | None = None


@dataclass(frozen=True)
class AuthoritySeed:
    kind: str
    name: str


@dataclass(frozen=True)
class PartnershipSeed:
    kitchen: str
    association: str
    mode: str
    starts_on: datetime.date
    planned_meals_per_week: int
    # A convention with an end date this many days after the seeding day (counted from the day the
    # seed runs, so that it is always "ending soon" on the authority's page and dashboard).
    ends_in_days: int | None = None


@dataclass(frozen=True)
class PersonSeed:
    first_name: str
    last_name: str


@dataclass(frozen=True)
class TerritorySeed:
    slug: str
    name: str
    departement_code: str
    has_pat: bool
    kitchens: tuple[KitchenSeed, ...]
    authorities: tuple[AuthoritySeed, ...]
    associations: tuple[AssociationSeed, ...]
    partnerships: tuple[PartnershipSeed, ...]
    # The kitchen manager, volunteer, association coordinator and authority coordinator.
    people: tuple[PersonSeed, PersonSeed, PersonSeed, PersonSeed]


OP = Kitchen.OperatorType
HAB = Association.Habilitation
MODE = Partnership.Mode
KIND = Authority.Kind

# The one demo kitchen exempted from the sanitary approval: since the arrêté du 24 septembre 2014
# (instruction DGAL/SDSSA/2014-823), the quantity and distance limits of article 12 of the arrêté
# du 8 juin 2006 no longer apply to free donations to food-aid associations; the exemption is
# declared to the prefect (DDPP) on Cerfa 13982.
CORBEIL_EXEMPTION = (
    "Dérogation à l'obligation d'agrément déclarée à la DDPP de l'Essonne (Cerfa 13982) : "
    "arrêté du 8 juin 2006, art. 12 ; dons gratuits à des associations d'aide alimentaire, "
    "sans limite de quantité ni de distance depuis l'arrêté du 24 septembre 2014."
)

# The convention that ends within the 60 days the authority watches (associations.duties).
ENDING_IN_DAYS = 45
# A donation convention awaiting the association's signature (first territory): kitchen, association.
AWAITING_SIGNATURE = ("Cuisine centrale d'Aubervilliers", "Épicerie solidaire Le Panier dionysien")

TERRITORIES: tuple[TerritorySeed, ...] = (
    TerritorySeed(
        slug="plaine-commune",
        name="Plaine Commune",
        departement_code="93",
        has_pat=True,
        kitchens=(
            KitchenSeed(
                name="Cuisine centrale de Saint-Denis",
                operator_type=OP.PUBLIC_REGIE,
                daily_capacity=12500,
                usual_daily_production=11200,
                address="9 rue du Landy, 93200 Saint-Denis",
                siret="21930066000129",
                lot_code="SDN",
                sanitary_approval_number="FR 93.066.001 CE",
            ),
            KitchenSeed(
                name="Cuisine centrale d'Aubervilliers",
                operator_type=OP.SYNDICATE,
                daily_capacity=7000,
                usual_daily_production=6100,
                address="25 rue de la Commune de Paris, 93300 Aubervilliers",
                siret="21930001000150",
                lot_code="AUB",
                sanitary_approval_number="FR 93.001.002 CE",
            ),
        ),
        authorities=(
            AuthoritySeed(KIND.EPCI, "Établissement public territorial Plaine Commune"),
            AuthoritySeed(KIND.CCAS, "CCAS de Saint-Denis"),
        ),
        associations=(
            AssociationSeed(
                name="Les Restaurants du Cœur (Seine-Saint-Denis)",
                rna="W932001457",
                habilitation=HAB.NATIONAL,
                habilitation_number="HAB-NAT-2022-014",
                habilitation_expires_on=datetime.date(2027, 12, 31),
                hygiene_training_on=datetime.date(2025, 3, 15),
                sites=(
                    SiteSeed(
                        "Centre de distribution de la Plaine",
                        "14 avenue du Président Wilson, 93200 Saint-Denis",
                        ("tue", "thu", "sat"),
                        1200,
                        capacity_people=350,
                    ),
                    SiteSeed(
                        "Centre d'Aubervilliers",
                        "3 rue Henri Barbusse, 93300 Aubervilliers",
                        ("mon", "wed", "fri"),
                        800,
                        capacity_people=300,
                    ),
                ),
            ),
            AssociationSeed(
                name="Secours populaire français (Comité de Saint-Denis)",
                rna="W932003218",
                habilitation=HAB.NATIONAL,
                habilitation_number="HAB-NAT-2021-006",
                habilitation_expires_on=datetime.date(2026, 12, 31),
                hygiene_training_on=datetime.date(2024, 10, 8),
                sites=(
                    SiteSeed(
                        "Local du Franc-Moisin",
                        "2 rue Danielle Casanova, 93200 Saint-Denis",
                        ("wed", "sat"),
                        600,
                        capacity_people=180,
                    ),
                ),
            ),
            AssociationSeed(
                name="Épicerie solidaire Le Panier dionysien",
                rna="W932010984",
                habilitation=HAB.REGIONAL,
                habilitation_number="HAB-IDF-2024-0157",
                habilitation_expires_on=datetime.date(2029, 3, 31),
                hygiene_training_on=datetime.date(2026, 2, 2),
                sites=(
                    SiteSeed(
                        "Épicerie de la gare",
                        "6 rue Gabriel Péri, 93200 Saint-Denis",
                        ("mon", "tue", "thu", "fri"),
                        capacity_people=160,
                    ),
                ),
            ),
        ),
        partnerships=(
            PartnershipSeed(
                "Cuisine centrale de Saint-Denis",
                "Les Restaurants du Cœur (Seine-Saint-Denis)",
                MODE.DEDICATED,
                datetime.date(2025, 1, 6),
                1190,
            ),
            PartnershipSeed(
                "Cuisine centrale de Saint-Denis",
                "Épicerie solidaire Le Panier dionysien",
                MODE.SURPLUS,
                datetime.date(2025, 3, 3),
                150,
            ),
            PartnershipSeed(
                "Cuisine centrale d'Aubervilliers",
                "Secours populaire français (Comité de Saint-Denis)",
                MODE.DEDICATED,
                datetime.date(2025, 2, 3),
                600,
                ends_in_days=ENDING_IN_DAYS,
            ),
            PartnershipSeed(
                "Cuisine centrale de Saint-Denis",
                "Les Restaurants du Cœur (Seine-Saint-Denis)",
                MODE.SURPLUS,
                datetime.date(2025, 1, 6),
                210,
            ),
        ),
        people=(
            PersonSeed("Nadia", "Benali"),
            PersonSeed("Julien", "Moreau"),
            PersonSeed("Aïssata", "Diallo"),
            PersonSeed("Thomas", "Lefèvre"),
        ),
    ),
    TerritorySeed(
        slug="paris-13",
        name="Paris 13e",
        departement_code="75",
        has_pat=False,
        kitchens=(
            KitchenSeed(
                name="Cuisine centrale de la Caisse des écoles du 13e",
                operator_type=OP.PUBLIC_REGIE,
                daily_capacity=15000,
                usual_daily_production=13500,
                address="38 rue Dunois, 75013 Paris",
                siret="21750130000214",
                lot_code="P13",
                sanitary_approval_number="FR 75.113.004 CE",
            ),
        ),
        authorities=(
            AuthoritySeed(KIND.MAIRIE, "Mairie du 13e arrondissement"),
            AuthoritySeed(KIND.CCAS, "Centre d'action sociale de la Ville de Paris (13e)"),
        ),
        associations=(
            AssociationSeed(
                name="Les Restaurants du Cœur (Paris)",
                rna="W751012345",
                habilitation=HAB.NATIONAL,
                habilitation_number="HAB-NAT-2022-014",
                habilitation_expires_on=datetime.date(2027, 12, 31),
                hygiene_training_on=datetime.date(2025, 9, 20),
                sites=(
                    SiteSeed(
                        "Centre de Tolbiac",
                        "112 rue de Tolbiac, 75013 Paris",
                        ("mon", "wed", "fri"),
                        1500,
                        capacity_people=450,
                    ),
                ),
            ),
            AssociationSeed(
                name="Solidarité 13 (Aide alimentaire)",
                rna="W751208765",
                habilitation=HAB.REGIONAL,
                habilitation_number="HAB-IDF-2023-0388",
                habilitation_expires_on=datetime.date(2028, 9, 30),
                hygiene_training_on=datetime.date(2024, 6, 11),
                sites=(
                    SiteSeed(
                        "Local de la Butte-aux-Cailles",
                        "8 rue de la Butte-aux-Cailles, 75013 Paris",
                        ("tue", "fri"),
                        400,
                        capacity_people=160,
                    ),
                    SiteSeed(
                        "Halle solidaire Masséna",
                        "45 boulevard Masséna, 75013 Paris",
                        ("wed", "sat"),
                        capacity_people=250,
                    ),
                ),
            ),
        ),
        partnerships=(
            PartnershipSeed(
                "Cuisine centrale de la Caisse des écoles du 13e",
                "Les Restaurants du Cœur (Paris)",
                MODE.DEDICATED,
                datetime.date(2025, 1, 13),
                1700,
            ),
            PartnershipSeed(
                "Cuisine centrale de la Caisse des écoles du 13e",
                "Solidarité 13 (Aide alimentaire)",
                MODE.SURPLUS,
                datetime.date(2025, 4, 7),
                250,
            ),
            PartnershipSeed(
                "Cuisine centrale de la Caisse des écoles du 13e",
                "Les Restaurants du Cœur (Paris)",
                MODE.SURPLUS,
                datetime.date(2025, 1, 13),
                300,
            ),
        ),
        people=(
            PersonSeed("Sophie", "Garnier"),
            PersonSeed("Karim", "Haddad"),
            PersonSeed("Léa", "Nguyen"),
            PersonSeed("François", "Roussel"),
        ),
    ),
    TerritorySeed(
        slug="grand-paris-sud",
        name="Grand Paris Sud",
        departement_code="91",
        has_pat=True,
        kitchens=(
            KitchenSeed(
                name="Cuisine centrale d'Évry-Courcouronnes",
                operator_type=OP.PRIVATE,
                daily_capacity=9000,
                usual_daily_production=7800,
                address="5 rue du Bois Briard, 91080 Évry-Courcouronnes",
                siret="45219876300040",
                lot_code="EVR",
                does_hot_liaison=True,
                sanitary_approval_number="FR 91.228.003 CE",
            ),
            KitchenSeed(
                name="Cuisine centrale de Corbeil-Essonnes",
                operator_type=OP.PUBLIC_REGIE,
                daily_capacity=5000,
                usual_daily_production=4200,
                address="12 allée Aristide Briand, 91100 Corbeil-Essonnes",
                siret="21910174000161",
                lot_code="COR",
                sanitary_exemption_reason=CORBEIL_EXEMPTION,
            ),
        ),
        authorities=(
            AuthoritySeed(KIND.EPCI, "Communauté d'agglomération Grand Paris Sud Seine-Essonne-Sénart"),
            AuthoritySeed(KIND.CCAS, "CCAS d'Évry-Courcouronnes"),
        ),
        associations=(
            AssociationSeed(
                name="Secours populaire français (Fédération de l'Essonne)",
                rna="W913000512",
                habilitation=HAB.NATIONAL,
                habilitation_number="HAB-NAT-2021-006",
                habilitation_expires_on=datetime.date(2026, 12, 31),
                hygiene_training_on=datetime.date(2025, 1, 27),
                sites=(
                    SiteSeed(
                        "Antenne des Pyramides",
                        "10 place de l'Agora, 91000 Évry-Courcouronnes",
                        ("mon", "thu"),
                        900,
                        capacity_people=300,
                    ),
                    SiteSeed(
                        "Antenne de Montconseil",
                        "4 rue Paul Cézanne, 91100 Corbeil-Essonnes",
                        ("wed", "sat"),
                        500,
                        capacity_people=250,
                    ),
                ),
            ),
            AssociationSeed(
                name="Croix-Rouge française (Unité locale d'Évry)",
                rna="W913004781",
                habilitation=HAB.NATIONAL,
                habilitation_number="HAB-NAT-2020-003",
                habilitation_expires_on=datetime.date(2028, 6, 30),
                hygiene_training_on=datetime.date(2026, 5, 19),
                sites=(
                    SiteSeed(
                        "Épicerie sociale du Bras de Fer",
                        "27 cours Blaise Pascal, 91000 Évry-Courcouronnes",
                        ("tue", "fri"),
                        700,
                        capacity_people=160,
                    ),
                ),
            ),
            AssociationSeed(
                name="Le Relais solidaire de Corbeil",
                rna="W913008245",
                habilitation=HAB.REGIONAL,
                habilitation_number="HAB-IDF-2024-0211",
                habilitation_expires_on=datetime.date(2029, 6, 30),
                hygiene_training_on=datetime.date(2022, 11, 14),
                sites=(
                    SiteSeed(
                        "Local des Tarterêts",
                        "3 rue Émile Zola, 91100 Corbeil-Essonnes",
                        ("mon", "wed", "fri"),
                        350,
                        capacity_people=120,
                    ),
                ),
            ),
        ),
        partnerships=(
            PartnershipSeed(
                "Cuisine centrale d'Évry-Courcouronnes",
                "Secours populaire français (Fédération de l'Essonne)",
                MODE.DEDICATED,
                datetime.date(2025, 1, 20),
                935,
            ),
            PartnershipSeed(
                "Cuisine centrale d'Évry-Courcouronnes",
                "Croix-Rouge française (Unité locale d'Évry)",
                MODE.SURPLUS,
                datetime.date(2025, 2, 10),
                200,
            ),
            PartnershipSeed(
                "Cuisine centrale de Corbeil-Essonnes",
                "Le Relais solidaire de Corbeil",
                MODE.DEDICATED,
                datetime.date(2025, 3, 17),
                400,
            ),
            PartnershipSeed(
                "Cuisine centrale d'Évry-Courcouronnes",
                "Secours populaire français (Fédération de l'Essonne)",
                MODE.SURPLUS,
                datetime.date(2025, 1, 20),
                165,
            ),
        ),
        people=(
            PersonSeed("Marc", "Delaunay"),
            PersonSeed("Fatoumata", "Koné"),
            PersonSeed("Isabelle", "Perrin"),
            PersonSeed("Yannick", "Le Goff"),
        ),
    ),
    TerritorySeed(
        slug="vitry-sur-seine",
        name="Vitry-sur-Seine",
        departement_code="94",
        has_pat=False,
        kitchens=(
            KitchenSeed(
                name="Cuisine centrale de Vitry-sur-Seine",
                operator_type=OP.PUBLIC_REGIE,
                daily_capacity=10000,
                usual_daily_production=8600,
                address="22 avenue Paul Vaillant-Couturier, 94400 Vitry-sur-Seine",
                siret="21940081000194",
                lot_code="VIT",
                does_hot_liaison=True,
                sanitary_approval_number="FR 94.081.001 CE",
            ),
        ),
        authorities=(
            AuthoritySeed(KIND.CCAS, "CCAS de Vitry-sur-Seine"),
            AuthoritySeed(KIND.EPCI, "Établissement public territorial Grand-Orly Seine Bièvre"),
        ),
        associations=(
            AssociationSeed(
                name="Les Restaurants du Cœur (Val-de-Marne)",
                rna="W941002367",
                habilitation=HAB.NATIONAL,
                habilitation_number="HAB-NAT-2022-014",
                habilitation_expires_on=datetime.date(2027, 12, 31),
                hygiene_training_on=datetime.date(2024, 11, 30),
                sites=(
                    SiteSeed(
                        "Centre du Port-à-l'Anglais",
                        "17 rue Charles Fourier, 94400 Vitry-sur-Seine",
                        ("tue", "thu"),
                        1000,
                        capacity_people=250,
                    ),
                    SiteSeed(
                        "Centre des Ardoines",
                        "40 rue Léon Geffroy, 94400 Vitry-sur-Seine",
                        ("mon", "fri"),
                        600,
                        capacity_people=200,
                    ),
                ),
            ),
            AssociationSeed(
                name="La Main tendue vitriote",
                rna="W941009812",
                habilitation=HAB.REGIONAL,
                habilitation_number="HAB-IDF-2023-0274",
                habilitation_expires_on=datetime.date(2028, 12, 31),
                hygiene_training_on=datetime.date(2025, 6, 23),
                sites=(
                    SiteSeed(
                        "Local du Plateau",
                        "5 avenue Rouget de Lisle, 94400 Vitry-sur-Seine",
                        ("wed", "sat"),
                        300,
                        capacity_people=160,
                    ),
                ),
            ),
        ),
        partnerships=(
            PartnershipSeed(
                "Cuisine centrale de Vitry-sur-Seine",
                "Les Restaurants du Cœur (Val-de-Marne)",
                MODE.DEDICATED,
                datetime.date(2025, 1, 6),
                765,
            ),
            PartnershipSeed(
                "Cuisine centrale de Vitry-sur-Seine",
                "La Main tendue vitriote",
                MODE.SURPLUS,
                datetime.date(2025, 5, 5),
                180,
            ),
            PartnershipSeed(
                "Cuisine centrale de Vitry-sur-Seine",
                "Les Restaurants du Cœur (Val-de-Marne)",
                MODE.SURPLUS,
                datetime.date(2025, 1, 6),
                135,
            ),
        ),
        people=(
            PersonSeed("Hélène", "Marchand"),
            PersonSeed("Samir", "Belkacem"),
            PersonSeed("Claire", "Dubois"),
            PersonSeed("Olivier", "Fontaine"),
        ),
    ),
)

# Funders and the territories of their grants (all of them when None).
FUNDERS: dict[str, tuple[PersonSeed, tuple[str, ...] | None]] = {
    "funder.drihl": (PersonSeed("Anne", "Rivière"), None),
    "funder.carasso": (PersonSeed("Paul", "Mercier"), ("plaine-commune", "vitry-sur-seine")),
}
EVALUATOR = ("evaluator", PersonSeed("Élise", "Bonnet"))
ADMIN = ("admin", PersonSeed("Admin", "Passerelle"))


def territory_usernames(slug: str) -> dict[str, str]:
    """The demo accounts of one territory, by role."""
    return {
        Role.KITCHEN_MANAGER: f"kitchen.{slug}",
        Role.VOLUNTEER: f"volunteer.{slug}",
        Role.ASSOCIATION_COORDINATOR: f"coordinator.{slug}",
        Role.AUTHORITY_COORDINATOR: f"authority.{slug}",
    }


def demo_usernames() -> list[str]:
    """Every demo account, the superuser included."""
    names = [name for seed in TERRITORIES for name in territory_usernames(seed.slug).values()]
    return [*names, EVALUATOR[0], *FUNDERS, ADMIN[0]]


def assign(obj: models.Model, values: Mapping[str, Any]) -> bool:
    """Set the values that differ on ``obj``; tell whether any did."""
    changed = False
    for name, value in values.items():
        field = obj._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            current, wanted = getattr(obj, field.attname), (value.pk if value is not None else None)
        else:
            current, wanted = getattr(obj, name), value
        if current != wanted:
            setattr(obj, name, value)
            changed = True
    return changed


@contextmanager
def quiet(logger_name: str) -> Iterator[None]:
    """Only warnings and errors from that logger for the duration."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def positive_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if days < 1:
        raise argparse.ArgumentTypeError(f"nombre de jours attendu (1 ou plus), reçu « {value} »")
    return days


class Command(BaseCommand):
    help = (
        "Crée ou met à jour les données de démonstration : quatre territoires pilotes d'Île-de-France "
        "et leurs flux quotidiens de repas."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--no-flow",
            action="store_true",
            help="Seulement l'annuaire et les comptes : ni lots, ni collectes, ni distributions.",
        )
        parser.add_argument(
            "--days",
            type=positive_days,
            default=None,
            help=(
                "Jours de flux quotidien, jusqu'à hier, sans coûts, journal, questionnaires ni rapports "
                "(par défaut : l'année pilote entière, depuis le premier jour des douze derniers mois "
                "entiers, avec tout cela)."
            ),
        )

    def handle(self, *args: Any, no_flow: bool = False, days: int | None = None, **options: Any) -> None:
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        today = timezone.localdate()
        months = demo_costs.pilot_months(today)
        with transaction.atomic():
            territories = {seed.slug: self.seed_territory(seed) for seed in TERRITORIES}
            self.seed_global_accounts(territories)
            # The calendar, the references, the fundings and the transport rates come before the
            # flow: the roll-ups cost each pickup with the rate of its mode and month.
            demo_costs.seed_references(self.upsert)
            for territory in territories.values():
                self.seed_closures(territory)
                demo_costs.seed_fundings(self.upsert, territory)
                demo_costs.seed_transport_rates(self.upsert, territory, [*months, first_of_month(today)])
        self.report()
        if not no_flow:
            since, until = self.seed_flow(territories, days or (today - months[0]).days)
            self.stdout.write(
                "Offres, tournées ; agenda du bénévole de démonstration : "
                + demo_offers.seed_offers_and_rounds(
                    territories=territories, today=today, counts=self.created
                )
            )
            if days is None:  # the whole pilot year: its costs, its evaluation and its reports
                self.seed_pilot_year(territories, months, today)
            else:
                self.refresh_monthly_costs(territories, since, until)
        self.report_changes()

    def refresh_monthly_costs(
        self, territories: dict[str, Territory], since: datetime.date, until: datetime.date
    ) -> None:
        """The frozen monthly costs that dashboards and reports read, for every month of the range."""
        for territory in territories.values():
            for month in months_of(since, until):
                monthly_cost_refresh(territory_id=territory.pk, month=month)

    def seed_closures(self, territory: Territory) -> None:
        """The school holidays of zone C, during which the territory's kitchens are closed."""
        for holiday in school_calendar.ZONE_C:
            self.upsert(
                Closure,
                {"territory": territory, "kitchen": None, "starts_on": holiday.starts_on},
                {
                    "kind": Closure.Kind.SCHOOL_HOLIDAY,
                    "label": f"{holiday.label} {holiday.school_year} (zone C)",
                    "ends_on": holiday.ends_on,
                    "source": school_calendar.SOURCE,
                },
            )

    def seed_pilot_year(
        self, territories: dict[str, Territory], months: list[datetime.date], today: datetime.date
    ) -> None:
        """The pilot year's monthly cost inputs, journal and surveys, the monthly costs refreshed,
        then the previous quarter's reports built."""
        started = time.monotonic()
        evaluator = self.demo_user(EVALUATOR[0])
        with transaction.atomic():
            for seed in TERRITORIES:
                territory = territories[seed.slug]
                demo_costs.seed_monthly_inputs(self.upsert, territory, months, today)
                author = self.demo_user(territory_usernames(seed.slug)[Role.AUTHORITY_COORDINATOR])
                demo_evaluation.seed_journal(
                    territory=territory, author=author, months=months, today=today, counts=self.created
                )
                demo_evaluation.seed_surveys(
                    territory=territory, evaluator=evaluator, months=months, counts=self.created
                )
                demo_funders.seed_programme(self.upsert, territory, months, evaluator=evaluator)
            self.refresh_monthly_costs(territories, months[0], today)
            # Receipts value the surplus meals at the month's cost inputs, seeded just above.
            receipts = demo_receipts.seed_receipts(territories=territories, today=today, counts=self.created)
        inputs_seconds = time.monotonic() - started
        started = time.monotonic()
        with quiet(REPORT_LOGGER):
            built = demo_reports.seed_reports(
                territories=territories, evaluator=evaluator, today=today, counts=self.created
            )
        done = sum(report.status == Report.Status.DONE for report in built)
        start, end = demo_reports.previous_quarter(today)
        self.stdout.write(
            f"Année pilote de {months[0]:%m/%Y} à {months[-1]:%m/%Y} : coûts mensuels, journal et "
            f"questionnaires en {inputs_seconds:.1f} s ; rapports du {start:%d/%m/%Y} au {end:%d/%m/%Y} : "
            f"{done} prêt(s) sur {len(built)}, en {time.monotonic() - started:.1f} s ; "
            f"{len(receipts)} reçu(s) de dons émis."
        )

    # -- records --------------------------------------------------------------------------------

    def upsert(self, model: type[ModelT], lookup: Mapping[str, Any], values: Mapping[str, Any]) -> ModelT:
        """The record found by ``lookup``, created or brought up to ``values``."""
        return self.upsert_created(model, lookup, values)[0]

    def upsert_created(
        self, model: type[ModelT], lookup: Mapping[str, Any], values: Mapping[str, Any]
    ) -> tuple[ModelT, bool]:
        obj = model._default_manager.filter(**lookup).order_by("pk").first()
        created = obj is None
        if obj is None:
            obj = model(**lookup)
        if assign(obj, values) or created:
            obj.full_clean()
            obj.save()
            (self.created if created else self.updated)[model._meta.label] += 1
        return obj, created

    def seed_territory(self, seed: TerritorySeed) -> Territory:
        territory = self.upsert(
            Territory,
            {"slug": seed.slug},
            {
                "name": seed.name,
                "departement_code": seed.departement_code,
                "region": REGION,
                "is_pilot": True,
                "has_pat": seed.has_pat,
            },
        )
        kitchens = {
            kitchen.name: self.upsert(
                Kitchen,
                {"territory": territory, "name": kitchen.name},
                {
                    "operator_type": kitchen.operator_type,
                    "daily_capacity": kitchen.daily_capacity,
                    "usual_daily_production": kitchen.usual_daily_production,
                    "does_cold_liaison": kitchen.does_cold_liaison,
                    "does_hot_liaison": kitchen.does_hot_liaison,
                    "address": kitchen.address,
                    "siret": kitchen.siret,
                    "sanitary_approval_number": kitchen.sanitary_approval_number,
                    "sanitary_approval_exempt": bool(kitchen.sanitary_exemption_reason),
                    "sanitary_exemption_reason": kitchen.sanitary_exemption_reason,
                },
            )
            for kitchen in seed.kitchens
        }
        authorities = [
            self.upsert(Authority, {"territory": territory, "name": authority.name}, {"kind": authority.kind})
            for authority in seed.authorities
        ]
        associations = {seed_.name: self.seed_association(territory, seed_) for seed_ in seed.associations}
        for partnership in seed.partnerships:
            lookup = {
                "kitchen": kitchens[partnership.kitchen],
                "association": associations[partnership.association],
                "mode": partnership.mode,
            }
            existing = Partnership.objects.filter(**lookup).order_by("pk").first()
            signed = existing is not None and convention_missing_signatures(existing) == []
            record = self.upsert(
                Partnership,
                lookup,
                {
                    "territory": territory,
                    "starts_on": partnership.starts_on,
                    "ends_on": timezone.localdate() + datetime.timedelta(days=partnership.ends_in_days)
                    if partnership.ends_in_days
                    else None,
                    "planned_meals_per_week": partnership.planned_meals_per_week,
                    # The associations of hot-liaison kitchens take hot surplus, which expires the same
                    # day: they distribute it at the evening's service (Code de l'environnement D541-310).
                    "distribution_delay_hours": 4
                    if kitchens[partnership.kitchen].does_hot_liaison and partnership.mode == MODE.SURPLUS
                    else 48,
                    "price_per_meal": Decimal("2.40") if partnership.mode == MODE.DEDICATED else None,
                    "status": Partnership.Status.ACTIVE if signed else Partnership.Status.DRAFT,
                },
            )
            if not signed:
                # Drawn up and signed by both parties on its first day, then active.
                convention_draw_up_and_sign(record, on=partnership.starts_on)
                Partnership.objects.filter(pk=record.pk).update(status=Partnership.Status.ACTIVE)

        self.seed_pairs_and_awaiting(territory, seed, kitchens, associations)

        first_kitchen = kitchens[seed.kitchens[0].name]
        first_association = associations[seed.associations[0].name]
        actors: dict[str, dict[str, models.Model]] = {
            Role.KITCHEN_MANAGER: {"kitchen": first_kitchen},
            Role.VOLUNTEER: {"association": first_association},
            Role.ASSOCIATION_COORDINATOR: {"association": first_association},
            Role.AUTHORITY_COORDINATOR: {"authority": authorities[0]},
        }
        for (role, username), person in zip(territory_usernames(seed.slug).items(), seed.people, strict=True):
            user = self.seed_user(username, person)
            self.seed_membership(user, role, territory, actors[role])
        return territory

    def seed_pairs_and_awaiting(
        self,
        territory: Territory,
        seed: TerritorySeed,
        kitchens: dict[str, Kitchen],
        associations: dict[str, Association],
    ) -> None:
        """Links the two instruments of a pair, and gives the first territory a donation convention
        awaiting the association's signature: its kitchen, over 3,000 meals a day with a supply
        agreement only, shows the authority both the donation duty and a convention to sign."""
        partnerships = Partnership.objects.filter(territory=territory).order_by("pk")
        by_pair: dict[tuple[int, int], dict[str, Partnership]] = {}
        for partnership in partnerships:
            by_pair.setdefault((partnership.kitchen_id, partnership.association_id), {})[partnership.mode] = (
                partnership
            )
        for pair in by_pair.values():
            supply, donation = pair.get(MODE.DEDICATED), pair.get(MODE.SURPLUS)
            if supply and donation and supply.paired_with_id != donation.pk:
                Partnership.objects.filter(pk=supply.pk).update(paired_with=donation)
                Partnership.objects.filter(pk=donation.pk).update(paired_with=supply)
        if seed.slug != TERRITORIES[0].slug:
            return
        kitchen = kitchens[AWAITING_SIGNATURE[0]]
        association = associations[AWAITING_SIGNATURE[1]]
        draft = self.upsert(
            Partnership,
            {"kitchen": kitchen, "association": association, "mode": MODE.SURPLUS},
            {
                "territory": territory,
                "starts_on": datetime.date(2027, 1, 4),
                "ends_on": None,
                "planned_meals_per_week": 0,
                "status": Partnership.Status.DRAFT,
            },
        )
        if not draft.versions.exists():
            version = convention_version_issue(partnership=draft, by=None)
            convention_sign(
                version=version,
                party="kitchen",
                by=None,
                signer_name="Direction de la restauration",
                signed_on=datetime.date(2026, 11, 16),
            )

    def seed_association(self, territory: Territory, seed: AssociationSeed) -> Association:
        association = self.upsert(
            Association,
            {"territory": territory, "name": seed.name},
            {
                "rna": seed.rna,
                "siret": "",
                "habilitation": seed.habilitation,
                "habilitation_number": seed.habilitation_number,
                "habilitation_expires_on": seed.habilitation_expires_on,
                "hygiene_training_on": seed.hygiene_training_on,
            },
        )
        for site in seed.sites:
            self.upsert(
                DistributionSite,
                {"association": association, "name": site.name},
                {
                    "territory": territory,
                    "address": site.address,
                    "has_cold_storage": site.cold_storage_litres is not None,
                    "cold_storage_litres": site.cold_storage_litres,
                    "opening_days": list(site.opening_days),
                    "capacity_people": site.capacity_people,
                },
            )
        return association

    # -- accounts -------------------------------------------------------------------------------

    @functools.cached_property
    def demo_password_hash(self) -> str:
        """The demo password hashed once for every account (the hasher is slow on purpose)."""
        return make_password(DEMO_PASSWORD)

    @functools.cached_property
    def verified_hashes(self) -> set[str]:
        return set()

    def has_demo_password(self, user: AbstractUser) -> bool:
        """Whether the account's password is the demo one, checking each stored hash once."""
        if user.password in self.verified_hashes:
            return True
        if user.check_password(DEMO_PASSWORD):
            self.verified_hashes.add(user.password)
            return True
        return False

    def seed_user(self, username: str, person: PersonSeed, *, superuser: bool = False) -> AbstractUser:
        user_model = get_user_model()
        user = user_model._default_manager.filter(username=username).first()
        created = user is None
        if user is None:
            user = user_model(username=username)
        assert isinstance(user, AbstractUser)
        changed = assign(
            user,
            {
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": f"{username}@passerelle.example",
                "is_active": True,
                "is_staff": superuser,
                "is_superuser": superuser,
            },
        )
        if created or not self.has_demo_password(user):
            user.password = self.demo_password_hash
            changed = True
        if changed:
            user.full_clean()
            user.save()
            (self.created if created else self.updated)[user_model._meta.label] += 1
        return user

    def seed_membership(
        self,
        user: AbstractUser,
        role: str,
        territory: Territory | None,
        actor: Mapping[str, models.Model] | None = None,
        funded: list[Territory] | None = None,
    ) -> Membership:
        membership, created = self.upsert_created(
            Membership,
            {"user": user, "role": role, "territory": territory},
            {field: (actor or {}).get(field) for field in ("kitchen", "association", "authority")},
        )
        wanted = {t.pk for t in funded or []}
        if set(membership.funded_territories.values_list("pk", flat=True)) != wanted:
            membership.funded_territories.set(wanted)
            if not created:
                self.updated[Membership._meta.label] += 1
        return membership

    def seed_global_accounts(self, territories: dict[str, Territory]) -> None:
        username, person = EVALUATOR
        self.seed_membership(self.seed_user(username, person), Role.EVALUATOR, None)
        for username, (person, slugs) in FUNDERS.items():
            funded = [territories[slug] for slug in slugs] if slugs else list(territories.values())
            self.seed_membership(self.seed_user(username, person), Role.FUNDER, None, funded=funded)
        username, person = ADMIN
        self.seed_user(username, person, superuser=True)

    # -- daily flow -----------------------------------------------------------------------------

    def seed_flow(self, territories: dict[str, Territory], days: int) -> tuple[datetime.date, datetime.date]:
        """Each territory's flow, a transaction per week, then every roll-up of the range rebuilt."""
        since, until = demo.window(days)
        started = time.monotonic()
        counts = demo.FlowCounts()
        with quiet(CELERY_TASK_LOGGER):
            for seed in TERRITORIES:
                usernames = territory_usernames(seed.slug)
                territory_counts = demo.flow_seed(
                    partnerships=self.demo_partnerships(territories[seed.slug], seed),
                    kitchen_user=self.demo_user(usernames[Role.KITCHEN_MANAGER]),
                    volunteer=self.demo_user(usernames[Role.VOLUNTEER]),
                    since=since,
                    until=until,
                )
                counts.add(territory_counts)
            # One lot of the recent weeks recalled: the first territory's first partnership.
            first = TERRITORIES[0]
            recalled = demo.recall_seed(
                demo=self.demo_partnerships(territories[first.slug], first)[0],
                kitchen_user=self.demo_user(territory_usernames(first.slug)[Role.KITCHEN_MANAGER]),
                since=since,
                until=until,
            )
            if recalled is not None:
                self.updated["meals.Batch"] += 1
                self.stdout.write(
                    f"Lot rappelé : {recalled.lot_number} ({recalled.meals_recalled} repas retirés)."
                )
        flow_seconds = time.monotonic() - started
        self.created.update(
            {
                "meals.Batch": counts.batches,
                "meals.Pickup": counts.pickups,
                "meals.Distribution": counts.distributions,
            }
        )
        started = time.monotonic()
        ids = [territory.pk for territory in territories.values()]
        with transaction.atomic():  # one commit for the whole range, not one per territory-day
            rows = rollups.rebuild(territory_ids=ids, since=since, until=until)
        rollup_seconds = time.monotonic() - started

        school_days = len(demo.school_days(since, until))
        self.stdout.write(
            f"Flux quotidien du {since:%d/%m/%Y} au {until:%d/%m/%Y} ({days} jours, {school_days} jours "
            f"d'école) : {counts.batches} lot(s), {counts.pickups} collecte(s) et {counts.distributions} "
            f"distribution(s) créés, {counts.skipped_days} journée(s) de partenariat déjà présente(s), "
            f"en {flow_seconds:.1f} s."
        )
        statuses = dict(
            Batch.objects.all_territories()
            .filter(territory_id__in=ids, production_date__range=(since, until))
            .order_by()
            .values_list("status")
            .annotate(count=Count("pk"))
            .values_list("status", "count")
        )
        self.stdout.write(
            "Lots de la période : "
            + ", ".join(f"{label.lower()} {statuses.get(value, 0)}" for value, label in Batch.Status.choices)
            + "."
        )
        self.stdout.write(f"Agrégats journaliers recalculés : {rows} ligne(s), en {rollup_seconds:.1f} s.")
        return since, until

    def demo_partnerships(self, territory: Territory, seed: TerritorySeed) -> list[demo.DemoPartnership]:
        """The territory's demo partnerships, in the order of the demo data, with their sites."""
        lot_codes = {kitchen.name: kitchen.lot_code for kitchen in seed.kitchens}
        site_names = {a.name: [site.name for site in a.sites] for a in seed.associations}
        partnerships = []
        for number, partnership_seed in enumerate(seed.partnerships, start=1):
            partnership = Partnership.objects.select_related("kitchen", "association").get(
                territory=territory,
                kitchen__name=partnership_seed.kitchen,
                association__name=partnership_seed.association,
                mode=partnership_seed.mode,
            )
            names = site_names[partnership_seed.association]
            sites = DistributionSite.objects.filter(association=partnership.association, name__in=names)
            partnerships.append(
                demo.DemoPartnership(
                    partnership=partnership,
                    kitchen_code=lot_codes[partnership_seed.kitchen],
                    number=number,
                    sites=tuple(sorted(sites, key=lambda site: names.index(site.name))),
                    volunteers_own=partnership_seed.association == seed.associations[0].name,
                )
            )
        return partnerships

    def demo_user(self, username: str) -> User:
        return cast("User", get_user_model()._default_manager.get(username=username))

    # -- summary --------------------------------------------------------------------------------

    def report(self) -> None:
        kitchens = sum(len(seed.kitchens) for seed in TERRITORIES)
        associations = sum(len(seed.associations) for seed in TERRITORIES)
        sites = sum(len(a.sites) for seed in TERRITORIES for a in seed.associations)
        authorities = sum(len(seed.authorities) for seed in TERRITORIES)
        partnerships = sum(len(seed.partnerships) for seed in TERRITORIES)
        self.stdout.write(
            self.style.SUCCESS(
                f"Données de démonstration prêtes : {len(TERRITORIES)} territoires pilotes, "
                f"{kitchens} cuisines centrales, {associations} associations, {sites} lieux de distribution, "
                f"{authorities} collectivités, {partnerships} partenariats, {len(demo_usernames())} comptes."
            )
        )
        self.stdout.write(
            f"Mot de passe de tous les comptes : {DEMO_PASSWORD} "
            "(ex. kitchen.plaine-commune, evaluator, funder.drihl ; admin pour /admin/)."
        )

    def report_changes(self) -> None:
        created, updated = sum(self.created.values()), sum(self.updated.values())
        if created or updated:
            self.stdout.write(f"Cette exécution : {created} enregistrement(s) créé(s), {updated} mis à jour.")
        else:
            self.stdout.write("Rien à changer : les données étaient déjà à jour.")
