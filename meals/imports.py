"""Import of past batches, pickups and distributions of one territory from a CSV file.

One row per batch, with optional pickup and distribution columns. Each row goes through
the same services as the API and the forms (``batch_create``, then ``pickup_confirm``,
then ``distribution_record``), inside one transaction and a savepoint per row, so every
line is checked and every error reported. If any line fails, everything is rolled back:
a file is loaded whole or not at all.

Who may import into the territory is the caller's decision (the upload page checks the
role, the management command is run by an operator); this module only makes sure that
every partnership and site of the file belongs to the given territory.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.models import DistributionSite, Partnership
from config import leases
from territories.exceptions import Conflict

from . import services
from .models import (
    Allergen,
    Batch,
    Component,
    Liaison,
    Pickup,
    PortionType,
    RecordImport,
    ShortfallReason,
    TransportMode,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from territories.models import Territory

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# Naive times in the file are local times of the platform's territories.
LOCAL_TZ = ZoneInfo("Europe/Paris")
LIST_SEPARATOR = "|"
MAX_INTEGER = 2_147_483_647  # PositiveIntegerField on PostgreSQL

REQUIRED_COLUMNS = (
    "partnership", "kind", "production_date", "meals_count", "liaison", "lot_number",
    "use_by_date", "dispatch_temperature_c",
)  # fmt: skip
BATCH_COLUMNS = (
    *REQUIRED_COLUMNS, "service", "components", "allergens", "discard_reason", "dishes", "portion_type",
    "portion_grams", "reheating_instructions", "confirm_unusual",
)  # fmt: skip
PICKUP_COLUMNS = (
    "picked_up_at", "meals_received", "pickup_temperature_c", "transport_mode",
    "refrigerated_vehicle", "distance_km", "duration_minutes", "transport_cost", "pickup_discard_reason",
    "shortfall_reason", "shortfall_note",
)  # fmt: skip
# The allergens cell says "none of the 14 regulated allergens" with one of these words.
NO_ALLERGEN_WORDS = {"aucun", "aucune", "none"}
PICKUP_REQUIRED = ("picked_up_at", "meals_received", "pickup_temperature_c", "transport_mode")
DISTRIBUTION_COLUMNS = (
    "site", "distributed_on", "meals_distributed", "beneficiaries", "households", "children",
    "meals_discarded", "distribution_discard_reason", "distribution_temperature_c", "consumed_on_receipt",
    "reheat_temperature_c", "reheat_minutes",
)  # fmt: skip
DISTRIBUTION_REQUIRED = ("site", "distributed_on", "meals_distributed", "beneficiaries")
COLUMNS = (*BATCH_COLUMNS, *PICKUP_COLUMNS, *DISTRIBUTION_COLUMNS)

# Service field names that differ from the file's column names, per step.
PICKUP_FIELD_COLUMNS = {"temperature_c": "pickup_temperature_c", "discard_reason": "pickup_discard_reason"}
DISTRIBUTION_FIELD_COLUMNS = {
    "discard_reason": "distribution_discard_reason",
    "temperature_c": "distribution_temperature_c",
}

TRUE_WORDS = {"oui", "true", "vrai", "1", "o", "yes"}
FALSE_WORDS = {"non", "false", "faux", "0", "n", "no"}


class LineError(NamedTuple):
    """One error: the line in the file (the header is line 1; None for the whole file)."""

    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = _("fichier") if self.line is None else _("ligne %(line)s") % {"line": self.line}
        return f"{where}, {self.field} : {self.message}" if self.field else f"{where} : {self.message}"


def no_counts() -> dict[str, int]:
    return {"batches": 0, "pickups": 0, "distributions": 0}


@dataclass
class ImportReport:
    """What an import did, or why it refused the file (then nothing was written)."""

    ok: bool
    errors: list[LineError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=no_counts)
    rows: int = 0
    dry_run: bool = False

    def as_text(self) -> str:
        """The report in French, one error a line."""
        created = _("%(batches)s lot(s), %(pickups)s collecte(s), %(distributions)s distribution(s)") % (
            self.counts
        )
        if self.ok and self.dry_run:
            return _(
                "Simulation réussie : %(rows)s ligne(s) vérifiée(s), rien n'a été enregistré. "
                "L'import créerait %(created)s."
            ) % {"rows": self.rows, "created": created}
        if self.ok:
            return _("Import réussi : %(rows)s ligne(s), %(created)s enregistré(s).") % {
                "rows": self.rows,
                "created": created,
            }
        lines = [
            _("Fichier refusé : %(count)s erreur(s), rien n'a été enregistré.") % {"count": len(self.errors)}
        ]
        lines.extend(str(error) for error in self.errors)
        return "\n".join(lines)


class Refused(Exception):
    """The file as a whole cannot be read (size, encoding, header, number of rows)."""

    def __init__(self, message: str, line: int | None = None, field: str = "") -> None:
        super().__init__(message)
        self.error = LineError(line, field, message)


@dataclass
class Row:
    line: int
    batch: dict[str, Any]
    pickup: dict[str, Any] | None
    distribution: dict[str, Any] | None
    partnership_id: int
    site_id: int | None


def import_records(
    *, file: IO[str] | IO[bytes], territory: Territory, by: User, dry_run: bool = False
) -> ImportReport:
    """Loads a CSV file of past batches (with their pickup and distribution) into ``territory``.

    Every line is checked; if one fails, nothing is written and the report lists every error.
    With ``dry_run`` the file is checked the same way, and rolled back even when valid.
    """
    try:
        raw_rows = read_rows(file)
    except Refused as refused:
        return ImportReport(ok=False, errors=[refused.error], dry_run=dry_run)

    errors: list[LineError] = []
    rows: list[Row] = []
    for raw in raw_rows:
        row, row_errors = parse_row(raw)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)

    partnerships = Partnership.objects.filter(
        territory=territory, pk__in={row.partnership_id for row in rows}
    ).select_related("kitchen")
    site_ids = {row.site_id for row in rows if row.site_id is not None}
    sites = DistributionSite.objects.filter(territory=territory, pk__in=site_ids)
    partnership_by_id = {partnership.pk: partnership for partnership in partnerships}
    site_by_id = {site.pk: site for site in sites}

    counts = no_counts()
    with transaction.atomic():
        for row in rows:
            partnership = partnership_by_id.get(row.partnership_id)
            site = site_by_id.get(row.site_id) if row.site_id is not None else None
            missing = []
            if partnership is None:
                missing.append(
                    LineError(
                        row.line,
                        "partnership",
                        _("partenariat n° %(id)s introuvable dans le territoire « %(territory)s ».")
                        % {"id": row.partnership_id, "territory": territory.name},
                    )
                )
            if row.site_id is not None and site is None:
                missing.append(
                    LineError(
                        row.line,
                        "site",
                        _("lieu de distribution n° %(id)s introuvable dans le territoire « %(territory)s ».")
                        % {"id": row.site_id, "territory": territory.name},
                    )
                )
            if missing:
                errors.extend(missing)
                continue
            assert partnership is not None
            try:
                with transaction.atomic():
                    created = load_row(row, partnership=partnership, site=site, by=by)
            except RowFailed as failed:
                errors.extend(failed.errors)
            else:
                for name, made in created.items():
                    counts[name] += int(made)
        ok = not errors
        if not ok or dry_run:
            transaction.set_rollback(True)

    if not ok:
        errors.sort(key=lambda error: error.line or 0)
        return ImportReport(ok=False, errors=errors, rows=len(raw_rows), dry_run=dry_run)
    return ImportReport(ok=True, counts=counts, rows=len(raw_rows), dry_run=dry_run)


# Reading the file


class RawRow(NamedTuple):
    line: int
    cells: dict[str, str]
    extra_cells: bool


def read_rows(file: IO[str] | IO[bytes]) -> list[RawRow]:
    """The non-blank rows of the file with their line number, keyed by column; or ``Refused``."""
    text = read_text(file)
    if not text.strip():
        raise Refused(_("le fichier est vide."))
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[RawRow] = []
    try:
        header = [name.strip().lower() for name in next(reader)]
        check_header(header)
        next_line = reader.line_num + 1
        for cells in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise Refused(
                    _("le fichier compte plus de %(max)s lignes : découpez-le en plusieurs fichiers.")
                    % {"max": f"{MAX_ROWS:,}".replace(",", " ")}
                )
            values = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}
            extra = any(cell.strip() for cell in cells[len(header) :])
            rows.append(RawRow(line, values, extra))
    except csv.Error as exc:
        raise Refused(_("fichier CSV illisible : %(error)s") % {"error": exc}, line=reader.line_num) from exc
    if not rows:
        raise Refused(_("le fichier ne contient aucune ligne à importer."))
    return rows


def read_text(file: IO[str] | IO[bytes]) -> str:
    data = file.read(MAX_FILE_BYTES + 1)
    too_big = Refused(
        _("le fichier dépasse %(max)s Mo : découpez-le en plusieurs fichiers.")
        % {"max": MAX_FILE_BYTES // (1024 * 1024)}
    )
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise too_big
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Refused(
                _("le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 ».")
            ) from exc
    if len(data.encode("utf-8")) > MAX_FILE_BYTES:
        raise too_big
    return data.removeprefix("\ufeff")


def check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise Refused(
            _("colonnes obligatoires absentes de l'en-tête : %(columns)s.") % {"columns": ", ".join(missing)},
            line=1,
        )
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise Refused(
            _("colonnes inconnues : %(columns)s (les noms sont ceux de l'API, voir docs/import.md).")
            % {"columns": ", ".join(name or "(sans nom)" for name in unknown)},
            line=1,
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise Refused(
            _("colonnes en double : %(columns)s.") % {"columns": ", ".join(duplicated)},
            line=1,
        )


# Parsing one row


def compact(number: str) -> str:
    """A number without the spaces that spreadsheets put between thousands."""
    return number.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")


class Parser:
    """Reads the cells of one row into typed values, collecting an error per bad cell."""

    def __init__(self, line: int, cells: dict[str, str]) -> None:
        self.line = line
        self.cells = cells
        self.errors: list[LineError] = []

    def error(self, name: str, message: str) -> None:
        self.errors.append(LineError(self.line, name, message))

    def text(self, name: str, *, max_length: int | None = None) -> str:
        value = self.cells.get(name, "")
        if max_length is not None and len(value) > max_length:
            self.error(name, _("%(max)s caractères au plus.") % {"max": max_length})
        return value

    def present(self, names: tuple[str, ...]) -> bool:
        return any(self.cells.get(name, "") for name in names)

    def require(self, names: tuple[str, ...], step: str) -> None:
        for name in names:
            if not self.cells.get(name, ""):
                self.error(name, _("valeur obligatoire pour enregistrer %(step)s.") % {"step": step})

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.cells.get(name, "")
        if not value:
            return default
        try:
            number = int(compact(value))
        except ValueError:
            self.error(name, _("nombre entier attendu"))
            return default
        if abs(number) > MAX_INTEGER:
            self.error(name, _("nombre trop grand"))
            return default
        return number

    def decimal(self, name: str, *, max_digits: int, decimal_places: int = 1) -> Decimal | None:
        value = self.cells.get(name, "")
        if not value:
            return None
        try:
            number = Decimal(compact(value).replace(",", "."))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            self.error(name, _("nombre attendu (ex. 2,5)"))
            return None
        if number != round(number, decimal_places):
            self.error(name, _("%(places)s chiffre(s) après la virgule au plus") % {"places": decimal_places})
            return None
        if abs(number) >= Decimal(10) ** (max_digits - decimal_places):
            self.error(name, _("nombre trop grand"))
            return None
        return round(number, decimal_places)

    def date(self, name: str) -> datetime.date | None:
        value = self.cells.get(name, "")
        if not value:
            return None
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.datetime.strptime(value, pattern).date()
            except ValueError:
                continue
        self.error(name, _("date attendue (AAAA-MM-JJ ou JJ/MM/AAAA)"))
        return None

    def moment(self, name: str) -> datetime.datetime | None:
        """An ISO date and time (naive ones are Paris time), or a date alone (at midnight)."""
        value = self.cells.get(name, "")
        if not value:
            return None
        moment: datetime.datetime | None = None
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
                try:
                    moment = datetime.datetime.strptime(value, pattern)
                    break
                except ValueError:
                    continue
        if moment is None:
            self.error(name, _("date et heure attendues (AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM)"))
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, LOCAL_TZ)
        return moment

    def choice(self, name: str, values: list[str], default: str | None = None) -> str | None:
        value = self.cells.get(name, "").lower()
        if not value:
            return default
        if value not in values:
            self.error(name, _("valeur inconnue (attendu : %(values)s)") % {"values": ", ".join(values)})
            return default
        return value

    def codes(self, name: str, values: list[str], label: str) -> list[str]:
        items = [item.strip().lower() for item in self.cells.get(name, "").split(LIST_SEPARATOR)]
        items = [item for item in items if item]
        unknown = [item for item in items if item not in values]
        if unknown:
            self.error(
                name,
                _("%(label)s inconnu(s) : %(unknown)s (attendu : %(values)s, séparés par « | »)")
                % {"label": label, "unknown": ", ".join(unknown), "values": ", ".join(values)},
            )
        return items

    def allergens(self, name: str) -> dict[str, Any]:
        """The allergen codes, or "aucun" for none of the 14 (an empty cell declares nothing)."""
        if self.cells.get(name, "").strip().lower() in NO_ALLERGEN_WORDS:
            return {"allergens": [], "no_regulated_allergens": True}
        return {
            "allergens": self.codes(name, Allergen.values, _("allergène")),
            "no_regulated_allergens": False,
        }

    def boolean(self, name: str) -> bool:
        value = self.cells.get(name, "").lower()
        if not value or value in FALSE_WORDS:
            return False
        if value in TRUE_WORDS:
            return True
        self.error(name, _("oui ou non attendu"))
        return False


def parse_row(raw: RawRow) -> tuple[Row | None, list[LineError]]:
    """The typed values of a row for the services, or its parse errors."""
    p = Parser(raw.line, raw.cells)
    if raw.extra_cells:
        p.error("", _("cette ligne a plus de cellules que l'en-tête n'a de colonnes."))
    p.require(REQUIRED_COLUMNS, _("un lot"))
    partnership_id = p.integer("partnership")
    batch = {
        "kind": p.choice("kind", Batch.Kind.values),
        "production_date": p.date("production_date"),
        "service": p.choice("service", Batch.Service.values, default=Batch.Service.LUNCH),
        "meals_count": p.integer("meals_count"),
        "liaison": p.choice("liaison", Liaison.values),
        "lot_number": p.text("lot_number", max_length=Batch._meta.get_field("lot_number").max_length),
        "use_by_date": p.date("use_by_date"),
        "dispatch_temperature_c": p.decimal("dispatch_temperature_c", max_digits=4),
        "components": p.codes("components", Component.values, _("composante")),
        **p.allergens("allergens"),
        "discard_reason": p.text("discard_reason"),
        "dishes": p.text("dishes"),
        "portion_type": p.choice("portion_type", PortionType.values, default=""),
        "portion_grams": p.integer("portion_grams"),
        "reheating_instructions": p.text("reheating_instructions"),
        "confirm_unusual": p.boolean("confirm_unusual"),
    }

    pickup: dict[str, Any] | None = None
    if p.present(PICKUP_COLUMNS):
        p.require(PICKUP_REQUIRED, _("une collecte"))
        pickup = {
            "picked_up_at": p.moment("picked_up_at"),
            "meals_received": p.integer("meals_received"),
            "temperature_c": p.decimal("pickup_temperature_c", max_digits=4),
            "transport_mode": p.choice("transport_mode", TransportMode.values),
            "refrigerated_vehicle": p.boolean("refrigerated_vehicle"),
            "distance_km": p.decimal("distance_km", max_digits=6) or Decimal("0"),
            "duration_minutes": p.integer("duration_minutes", default=0),
            "transport_cost": p.decimal("transport_cost", max_digits=8, decimal_places=2),
            "discard_reason": p.text("pickup_discard_reason"),
            "shortfall_reason": p.choice("shortfall_reason", ShortfallReason.values, default=""),
            "shortfall_note": p.text("shortfall_note"),
        }

    distribution: dict[str, Any] | None = None
    site_id = None
    if p.present(DISTRIBUTION_COLUMNS):
        p.require(DISTRIBUTION_REQUIRED, _("une distribution"))
        if pickup is None:
            p.error("picked_up_at", _("une distribution ne peut être importée qu'avec la collecte du lot."))
        site_id = p.integer("site")
        distribution = {
            "distributed_on": p.date("distributed_on"),
            "meals_distributed": p.integer("meals_distributed"),
            "beneficiaries": p.integer("beneficiaries"),
            "households": p.integer("households"),
            "children": p.integer("children"),
            "meals_discarded": p.integer("meals_discarded", default=0),
            "discard_reason": p.text("distribution_discard_reason"),
            "temperature_c": p.decimal("distribution_temperature_c", max_digits=4),
            "consumed_on_receipt": p.boolean("consumed_on_receipt"),
            "reheat_temperature_c": p.decimal("reheat_temperature_c", max_digits=4),
            "reheat_minutes": p.integer("reheat_minutes"),
        }

    if p.errors or partnership_id is None:
        # In the order of the columns, the line's own errors first.
        order = {name: index for index, name in enumerate(COLUMNS)}
        return None, sorted(p.errors, key=lambda error: order.get(error.field, -1))
    return Row(raw.line, batch, pickup, distribution, partnership_id=partnership_id, site_id=site_id), []


# Loading one row


class RowFailed(Exception):
    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(errors)
        self.errors = errors


def load_row(
    row: Row, *, partnership: Partnership, site: DistributionSite | None, by: User
) -> dict[str, bool]:
    """Runs the row through the services; raises ``RowFailed`` (the caller's savepoint rolls back)."""
    created = {"batches": False, "pickups": False, "distributions": False}
    with step(row.line, "lot", {}):
        # A line with its pickup records a batch of the past, declared on its production day; a
        # line without one leaves the batch ready to collect, which its use-by date must allow.
        declared_on = row.batch["production_date"] if row.pickup is not None else None
        batch = services.batch_create(partnership=partnership, by=by, declared_on=declared_on, **row.batch)
        created["batches"] = True
    pickup: Pickup | None = None
    if row.pickup is not None:
        with step(row.line, "collecte", PICKUP_FIELD_COLUMNS):
            pickup = services.pickup_confirm(batch=batch, by=by, **row.pickup)
            created["pickups"] = True
    if row.distribution is not None and pickup is not None and site is not None:
        with step(row.line, "distribution", DISTRIBUTION_FIELD_COLUMNS):
            services.distribution_record(pickup=pickup, by=by, site=site, **row.distribution)
            created["distributions"] = True
    return created


@contextmanager
def step(line: int, label: str, columns: dict[str, str]) -> Iterator[None]:
    """Turns a service's refusal into errors named by the file's columns (``label`` when none fits)."""
    try:
        yield
    except ValidationError as exc:
        by_field = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        errors: list[LineError] = []
        for name, messages in by_field.items():
            column = columns.get(name, name)
            if column not in COLUMNS:
                column = label
            errors.extend(LineError(line, column, message) for message in messages)
        raise RowFailed(errors) from exc
    except Conflict as exc:
        raise RowFailed([LineError(line, label, exc.message)]) from exc
    except (IntegrityError, DataError) as exc:
        message = _("enregistrement refusé par la base de données (%(error)s).") % {"error": exc}
        raise RowFailed([LineError(line, label, message)]) from exc


# Imports uploaded from the browser


class ImportNotRetryable(Exception):
    """Only a failed import, or one lost on its way (``config.leases.may_retry``), is run again."""


def send_import(import_id: int) -> bool:
    from config.celery import delay_or_log

    from .tasks import run_record_import

    return delay_or_log(run_record_import, import_id)


def record_import_request(*, territory: Territory, file: Any, by: User) -> RecordImport:
    """Stores an uploaded file as a pending import and queues it once committed; with the broker
    down the import says it is queued and the sweeper sends it once the broker is back.
    Callers check the role."""
    with transaction.atomic():
        record_import = RecordImport.objects.create(territory=territory, file=file, uploaded_by=by)
        transaction.on_commit(lambda: leases.sent(RecordImport, record_import.pk, send_import, "report"))
    record_import.refresh_from_db()
    return record_import


def record_import_retry(*, record_import: RecordImport) -> RecordImport:
    """Runs a failed (or lost) import again, with the same file. Callers check the role."""
    with transaction.atomic():
        locked = RecordImport.objects.select_for_update().get(pk=record_import.pk)
        if not leases.may_retry(locked):
            raise ImportNotRetryable(_("Seul un import en échec ou interrompu peut être relancé."))
        RecordImport.objects.filter(pk=locked.pk).update(
            status=RecordImport.Status.PENDING,
            report="",
            rows=0,
            counts={},
            finished_at=None,
            attempts=0,
            lease_expires_at=None,
            sent_at=None,
        )
        transaction.on_commit(lambda: leases.sent(RecordImport, locked.pk, send_import, "report"))
    record_import.refresh_from_db()
    return record_import


def record_import_sweep() -> dict[str, int]:
    """Sends lost imports again and takes them back from stopped workers (the beat task's work)."""
    return leases.sweep(RecordImport, send=send_import, reason_field="report")


def record_import_run(*, import_id: int) -> RecordImport:
    """Loads an uploaded file (the Celery task's work); the outcome is stored on the import.

    The import is claimed under a lease renewed while the file loads (one transaction: a worker
    killed mid-way leaves nothing, and the sweeper gives the file to another worker)."""
    attempt = leases.lease_claim(RecordImport, import_id, report="")
    record_import = RecordImport.objects.select_related("territory", "uploaded_by").get(pk=import_id)
    if attempt is None:
        return record_import  # a duplicate delivery: handled already, or loading on a live worker
    outcome: dict[str, Any] = {}
    try:
        with leases.lease_kept(RecordImport, import_id, attempt), record_import.file.open("rb") as file:
            report = import_records(
                file=file, territory=record_import.territory, by=record_import.uploaded_by
            )
    except Exception as error:
        outcome["status"] = RecordImport.Status.FAILED
        outcome["report"] = _("L'import a échoué pour une raison technique : %(error)s") % {"error": error}
        raise
    else:
        outcome["status"] = RecordImport.Status.DONE if report.ok else RecordImport.Status.REFUSED
        outcome.update(rows=report.rows, counts=report.counts, report=report.as_text())
    finally:
        leases.lease_finish(RecordImport, import_id, attempt, finished_at=timezone.now(), **outcome)
    record_import.refresh_from_db()
    return record_import
