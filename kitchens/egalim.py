# ruff: noqa: RUF002, RUF003 - written with the sign × of French arithmetic
"""A kitchen's EGalim shares, imported from a ma-cantine export.

ma-cantine (the State's service where collective catering declares its purchases each year)
publishes its teledeclarations with the columns of its open-data schema (betagouv/ma-cantine,
``data/schemas/export_opendata/schema_teledeclarations.json``): among them ``id`` (the
teledeclaration), ``year``, ``canteen_siret``, ``canteen_name``,
``teledeclaration_ratio_bio`` (share of organic purchases, in value excluding VAT, 0 to 1) and
``teledeclaration_ratio_egalim_hors_bio`` (share of the other EGalim products, 0 to 1). The
import reads those four, plus ``id`` when present, and nothing else: the export's
``applicant_id`` (the person who declared) is never read nor kept.

    quality and sustainable share (organic included) = (ratio_bio + ratio_egalim_hors_bio) × 100
    organic share = ratio_bio × 100

Each line is matched to a kitchen the user may declare for (its kitchen manager, an evaluator)
by its SIRET. A line is refused, with its number and the reason, when a column is empty or not a
number, a ratio lies outside 0 to 1 or the two add up to more than 1, the year is not a year, or
no such kitchen is within reach; the others are saved (one declaration per kitchen and year,
replaced when imported again), all in one transaction. A missing share is refused, never read as 0.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from territories.roles import Role
from territories.scoping import memberships_of

from .models import EgalimDeclaration, Kitchen

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REQUIRED = ("canteen_siret", "year", "teledeclaration_ratio_bio", "teledeclaration_ratio_egalim_hors_bio")
MAX_BYTES = 5 * 1024 * 1024
HUNDRED = Decimal(100)


@dataclass
class EgalimImport:
    created: int = 0
    updated: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "refused": self.refused}


class EgalimFileError(ValueError):
    """The file cannot be read at all (its encoding, its columns): nothing is imported."""


def declaring_kitchens(user: User) -> dict[str, Kitchen]:
    """The kitchens the user may declare for, by SIRET: all for an evaluator, their own for a
    kitchen manager."""
    kitchens = Kitchen.objects.for_user(user).exclude(siret="")
    memberships = list(memberships_of(user))
    if not user.is_superuser and not any(membership.role == Role.EVALUATOR for membership in memberships):
        own = {m.kitchen_id for m in memberships if m.role == Role.KITCHEN_MANAGER and m.kitchen_id}
        kitchens = kitchens.filter(pk__in=own)
    return {kitchen.siret: kitchen for kitchen in kitchens}


def ratio(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def rows_of(content: bytes) -> tuple[list[str], Any]:
    if len(content) > MAX_BYTES:
        raise EgalimFileError(_("Le fichier dépasse 5 Mo."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise EgalimFileError(_("Le fichier n'est pas en UTF-8.")) from error
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = [name.strip() for name in reader.fieldnames or []]
    absent = [name for name in REQUIRED if name not in columns]
    if absent:
        raise EgalimFileError(
            _("Colonnes absentes de l'export ma-cantine : %(columns)s.") % {"columns": ", ".join(absent)}
        )
    reader.fieldnames = columns
    return columns, reader


def line_error(row: dict[str, Any], kitchens: dict[str, Kitchen]) -> tuple[str | None, dict[str, Any]]:
    """The reason a line is refused, or None and the declaration's fields."""
    siret = (row.get("canteen_siret") or "").strip()
    kitchen = kitchens.get(siret)
    if kitchen is None:
        return _("aucune cuisine de votre périmètre n'a le SIRET « %(siret)s »") % {"siret": siret[:20]}, {}
    year_text = (row.get("year") or "").strip()
    if not year_text.isdigit() or not 2000 <= int(year_text) <= 2100:
        return _("année illisible : « %(year)s »") % {"year": year_text[:10]}, {}
    values = {}
    for name in ("teledeclaration_ratio_bio", "teledeclaration_ratio_egalim_hors_bio"):
        text = (row.get(name) or "").strip()
        if not text:
            return _("%(column)s est vide : la part n'est pas connue") % {"column": name}, {}
        value = ratio(text)
        if value is None or not 0 <= value <= 1:
            return _("%(column)s doit être un nombre de 0 à 1 : « %(value)s »") % {
                "column": name,
                "value": text[:20],
            }, {}
        values[name] = value
    organic, others = values["teledeclaration_ratio_bio"], values["teledeclaration_ratio_egalim_hors_bio"]
    if organic + others > 1:
        return _("les deux parts dépassent ensemble 100 %"), {}
    return None, {
        "kitchen": kitchen,
        "year": int(year_text),
        "quality_share": ((organic + others) * HUNDRED).quantize(Decimal("0.01")),
        "organic_share": (organic * HUNDRED).quantize(Decimal("0.01")),
        "source_reference": (row.get("id") or "").strip()[:100],
    }


def egalim_import(*, content: bytes, by: User) -> EgalimImport:
    """Imports a ma-cantine export's lines for the kitchens ``by`` may declare for; returns how
    many declarations were created and updated, and each refused line with its reason."""
    _columns, reader = rows_of(content)
    kitchens = declaring_kitchens(by)
    result = EgalimImport()
    with transaction.atomic():
        for number, row in enumerate(reader, start=2):
            reason, fields = line_error(row, kitchens)
            if reason is not None:
                result.refused.append({"line": number, "reason": reason})
                continue
            kitchen = fields.pop("kitchen")
            _declaration, created = EgalimDeclaration.objects.update_or_create(
                kitchen=kitchen,
                year=fields.pop("year"),
                defaults={
                    **fields,
                    "territory_id": kitchen.territory_id,
                    "source": EgalimDeclaration.Source.MA_CANTINE,
                },
            )
            if created:
                result.created += 1
            else:
                result.updated += 1
    return result
