"""The import file's format, as the import page explains it and its template CSV shows it.

One list (``FORMAT``) gives, for every column the importer reads (``meals.imports.COLUMNS``),
its record, whether it is needed, what it holds and an example; the page prints it as three
tables (the batch, its pickup, its distribution) and ``template_csv`` writes the header and two
example lines. The values themselves are checked by the API's serializers and the services.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .imports import COLUMNS
from .models import Allergen, Component, ShortfallReason, TransportMode


@dataclass(frozen=True)
class ColumnHelp:
    """One column: when it is needed, what it holds (with its codes, if any), an example."""

    column: str
    needed: Promise | str
    content: Promise | str
    example: str = ""
    codes: str = ""


REQUIRED = _("obligatoire")
OPTIONAL = _("facultatif")
WITH_PICKUP = _("obligatoire pour une collecte")
WITH_DISTRIBUTION = _("obligatoire pour une distribution")


def codes(choices: type) -> str:
    return ", ".join(choices.values)  # type: ignore[attr-defined]


BATCH_FORMAT = [
    ColumnHelp("partnership", REQUIRED, _("n° du partenariat (convention), du territoire importé"), "12"),
    ColumnHelp("kind", REQUIRED, _("dedicated (repas dédiés) ou surplus (excédents)"), "surplus"),
    ColumnHelp("production_date", REQUIRED, _("date de production : AAAA-MM-JJ ou JJ/MM/AAAA"), "10/04/2025"),
    ColumnHelp("meals_count", REQUIRED, _("nombre de repas (nombre entier)"), "120"),
    ColumnHelp("liaison", REQUIRED, _("cold (froide) ou hot (chaude)"), "cold"),
    ColumnHelp("lot_number", REQUIRED, _("numéro de lot, unique par cuisine (50 caractères)"), "L-1004"),
    ColumnHelp("use_by_date", REQUIRED, _("date limite de consommation"), "13/04/2025"),
    ColumnHelp("dispatch_temperature_c", REQUIRED, _("température au départ en °C, une décimale"), "2,5"),
    ColumnHelp(
        "allergens",
        REQUIRED,
        _("« aucun » pour aucun des 14 allergènes, sinon les allergènes séparés par « | »"),
        "milk|gluten", codes(Allergen),
    ),
    ColumnHelp("service", OPTIONAL, _("lunch (par défaut) ou dinner"), ""),
    ColumnHelp("components", OPTIONAL, _("composantes séparées par « | »"), "main|dessert", codes(Component)),
    ColumnHelp("discard_reason", _("si la température est hors limites"), _("motif de l'écart du lot"), ""),
    ColumnHelp("dishes", OPTIONAL, _("les plats du lot"), ""),
    ColumnHelp("portion_type", OPTIONAL, _("child (enfant) ou adult (adulte)"), ""),
    ColumnHelp("portion_grams", OPTIONAL, _("poids d'une portion en grammes, avec portion_type"), ""),
    ColumnHelp("reheating_instructions", OPTIONAL, _("consignes de remise en température"), ""),
    ColumnHelp(
        "confirm_unusual", OPTIONAL,
        _("oui pour confirmer plus de trois fois le volume quotidien habituel du partenariat"), "",
    ),
]  # fmt: skip
PICKUP_FORMAT = [
    ColumnHelp(
        "picked_up_at", WITH_PICKUP,
        _("date et heure : AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM, heure de Paris"), "10/04/2025 14:00",
    ),
    ColumnHelp("meals_received", WITH_PICKUP, _("repas reçus"), "120"),
    ColumnHelp("pickup_temperature_c", WITH_PICKUP, _("température à réception en °C"), "2,8"),
    ColumnHelp(
        "transport_mode", WITH_PICKUP, _("mode de transport"), "association_vehicle", codes(TransportMode)
    ),
    ColumnHelp("refrigerated_vehicle", OPTIONAL, _("véhicule réfrigéré : oui ou non"), "oui"),
    ColumnHelp("distance_km", OPTIONAL, _("distance en km (0 par défaut)"), "3,4"),
    ColumnHelp("duration_minutes", OPTIONAL, _("durée en minutes (0 par défaut)"), ""),
    ColumnHelp("transport_cost", OPTIONAL, _("coût réel du transport en euros ; vide : estimé"), ""),
    ColumnHelp("pickup_discard_reason", _("si la température est hors limites"), _("motif de l'écart"), ""),
    ColumnHelp(
        "shortfall_reason", _("si moins de repas reçus que produits"), _("motif du manque"), "",
        codes(ShortfallReason),
    ),
    ColumnHelp("shortfall_note", _("avec other"), _("précision sur le manque"), ""),
]  # fmt: skip
DISTRIBUTION_FORMAT = [
    ColumnHelp("site", WITH_DISTRIBUTION, _("n° du lieu de distribution de l'association"), "7"),
    ColumnHelp("distributed_on", WITH_DISTRIBUTION, _("date de distribution"), "11/04/2025"),
    ColumnHelp("meals_distributed", WITH_DISTRIBUTION, _("repas distribués"), "115"),
    ColumnHelp("beneficiaries", WITH_DISTRIBUTION, _("personnes servies"), "100"),
    ColumnHelp("households", OPTIONAL, _("foyers"), ""),
    ColumnHelp("children", OPTIONAL, _("dont enfants"), ""),
    ColumnHelp("meals_discarded", OPTIONAL, _("repas écartés (0 par défaut)"), ""),
    ColumnHelp("distribution_discard_reason", _("si des repas sont écartés"), _("motif de l'écart"), ""),
    ColumnHelp(
        "distribution_temperature_c", _("en liaison froide"),
        _("température à la distribution en °C (sauf repas consommés dès réception)"), "2,6",
    ),
    ColumnHelp("consumed_on_receipt", OPTIONAL, _("repas consommés dès réception : oui ou non"), ""),
    ColumnHelp(
        "reheat_temperature_c", _("lieu qui réchauffe"), _("température atteinte en °C, 63 ou plus"), ""
    ),
    ColumnHelp("reheat_minutes", _("lieu qui réchauffe"), _("minutes pour atteindre 63 °C, 60 au plus"), ""),
]  # fmt: skip
FORMAT = [*BATCH_FORMAT, *PICKUP_FORMAT, *DISTRIBUTION_FORMAT]
# A second example line: a batch and its pickup, the distribution still to record.
SECOND_EXAMPLE = {
    "partnership": "13", "kind": "dedicated", "production_date": "11/04/2025", "meals_count": "50",
    "liaison": "cold", "lot_number": "L-1104", "use_by_date": "14/04/2025", "dispatch_temperature_c": "1,5",
    "allergens": "aucun", "components": "main", "picked_up_at": "11/04/2025 10:30", "meals_received": "50",
    "pickup_temperature_c": "2,0", "transport_mode": "kitchen_delivery", "refrigerated_vehicle": "oui",
    "distance_km": "6,0",
}  # fmt: skip


def template_rows() -> list[list[str]]:
    """The template's header and its two example lines: the columns of the examples."""
    first = {item.column: item.example for item in FORMAT if item.example}
    header = [column for column in COLUMNS if column in first or column in SECOND_EXAMPLE]
    return [
        header,
        [first.get(column, "") for column in header],
        [SECOND_EXAMPLE.get(column, "") for column in header],
    ]


def template_csv() -> str:
    """The template CSV, as a spreadsheet saves it (« CSV UTF-8 », semicolons)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(template_rows())
    return "\ufeff" + buffer.getvalue()


def format_tables() -> list[tuple[Promise | str, list[ColumnHelp]]]:
    """The page's three tables: the batch, its pickup, its distribution."""
    return [
        (_("Le lot (une ligne par lot)"), BATCH_FORMAT),
        (_("Sa collecte (facultative)"), PICKUP_FORMAT),
        (_("Sa distribution (facultative, avec la collecte)"), DISTRIBUTION_FORMAT),
    ]
