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
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

from associations.models import DistributionSite, Partnership
from config import leases
from territories.exceptions import Conflict

from . import services
from .api import BatchSerializer, DistributionSerializer, PickupSerializer
from .models import RecordImport, created_text

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from territories.models import Territory

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
LIST_SEPARATOR = "|"
# A date alone where a date and time is expected (naive times are Paris time: TIME_ZONE).
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")

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
COLUMN_ORDER = {name: index for index, name in enumerate(COLUMNS)}

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
        created = created_text(self.counts)
        if self.ok and self.dry_run:
            return ngettext(
                "Simulation réussie : %(rows)s ligne vérifiée, rien n'a été enregistré. "
                "L'import créerait %(created)s.",
                "Simulation réussie : %(rows)s lignes vérifiées, rien n'a été enregistré. "
                "L'import créerait %(created)s.",
                self.rows,
            ) % {"rows": self.rows, "created": created}
        if self.ok:
            return ngettext(
                "Import réussi : %(rows)s ligne ; enregistrés : %(created)s.",
                "Import réussi : %(rows)s lignes ; enregistrés : %(created)s.",
                self.rows,
            ) % {"rows": self.rows, "created": created}
        lines = [
            ngettext(
                "Fichier refusé : %(count)s erreur, rien n'a été enregistré.",
                "Fichier refusé : %(count)s erreurs, rien n'a été enregistré.",
                len(self.errors),
            )
            % {"count": len(self.errors)}
        ]
        lines.extend(str(error) for error in self.errors)
        return "\n".join(lines)


class Refused(Exception):
    """The file as a whole cannot be read (size, encoding, header, number of rows)."""

    def __init__(self, message: str, line: int | None = None, field: str = "") -> None:
        super().__init__(message)
        self.error = LineError(line, field, message)


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

    fields = {record: record.serializer_for(territory).fields for record in STEPS}
    errors: list[LineError] = []
    counts = no_counts()
    with transaction.atomic():
        for raw in raw_rows:
            row = check_row(raw, territory, fields)
            try:
                with transaction.atomic():
                    created = load_row(row, by=by)
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
            _("colonnes inconnues : %(columns)s (les noms des colonnes sont donnés sur la page d'import).")
            % {"columns": ", ".join(name or "(sans nom)" for name in unknown)},
            line=1,
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise Refused(
            _("colonnes en double : %(columns)s.") % {"columns": ", ".join(duplicated)},
            line=1,
        )


# From cells to the API's values, then through the API's serializers


class FileFormats:
    """The file's date notations, said in the serializers' messages (``api_value`` reads them)."""

    fields: Any

    def say_file_formats(self) -> None:
        for item in self.fields.values():
            if isinstance(item, serializers.DateTimeField):
                item.error_messages["invalid"] = _(
                    "date et heure attendues (AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM)"
                )
            elif isinstance(item, serializers.DateField):
                item.error_messages["invalid"] = _("date attendue (AAAA-MM-JJ ou JJ/MM/AAAA)")


class ImportBatchSerializer(FileFormats, BatchSerializer):
    """The API's batch serializer, its partnership taken in the imported territory only."""

    def __init__(self, *args: Any, territory: Territory, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"] = in_territory(Partnership, territory, _("partenariat"))
        self.say_file_formats()


class ImportPickupSerializer(FileFormats, PickupSerializer):
    """The API's pickup serializer, with the columns a pickup of the file needs."""

    class Meta(PickupSerializer.Meta):
        # A pickup of the past says when it happened, and the file needs these four columns.
        extra_kwargs = {
            **PickupSerializer.Meta.extra_kwargs,
            "picked_up_at": {"required": True},
            "meals_received": {"min_value": 0, "required": True},
            "temperature_c": {"required": True},
            "transport_mode": {"required": True},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.say_file_formats()


class ImportDistributionSerializer(FileFormats, DistributionSerializer):
    """The API's distribution serializer, for the pickup of the same line, at a site of the
    imported territory."""

    pickup = None  # type: ignore[assignment]  # the line's own pickup, recorded just before

    class Meta(DistributionSerializer.Meta):
        fields = [name for name in DistributionSerializer.Meta.fields if name != "pickup"]

    def __init__(self, *args: Any, territory: Territory, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"] = in_territory(DistributionSite, territory, _("lieu de distribution"))
        self.say_file_formats()


def in_territory(model: type[models.Model], territory: Territory, label: str) -> serializers.Field:
    """A reference by number to a row of the imported territory (another's reads as unknown)."""
    return serializers.PrimaryKeyRelatedField(
        queryset=model._default_manager.filter(territory=territory),
        error_messages={
            "does_not_exist": _("%(what)s n° {pk_value} introuvable dans le territoire « %(territory)s ».")
            % {"what": label, "territory": territory.name},
        },
    )


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per step
class Step:
    """One record a line may hold: its serializer, its columns, and the columns named after a
    serializer field that the file names otherwise."""

    name: str  # the count it adds to, and the Row attribute that holds it
    label: str
    columns: tuple[str, ...]
    renamed: dict[str, str]
    serializer: type[serializers.Serializer]
    in_territory: bool  # whether the serializer takes the imported territory

    def serializer_for(self, territory: Territory, data: Any = empty) -> serializers.Serializer:
        kwargs: dict[str, Any] = {"territory": territory} if self.in_territory else {}
        return self.serializer(data=data, **kwargs)

    def column(self, field_name: str) -> str:
        return self.renamed.get(field_name, field_name)

    def field(self, column: str) -> str:
        return next((name for name, named in self.renamed.items() if named == column), column)


BATCH = Step("batch", "lot", BATCH_COLUMNS, {}, ImportBatchSerializer, True)
PICKUP = Step("pickup", "collecte", PICKUP_COLUMNS, PICKUP_FIELD_COLUMNS, ImportPickupSerializer, False)
DISTRIBUTION = Step(
    "distribution", "distribution", DISTRIBUTION_COLUMNS, DISTRIBUTION_FIELD_COLUMNS,
    ImportDistributionSerializer, True,
)  # fmt: skip
STEPS = (BATCH, PICKUP, DISTRIBUTION)


def compact(number: str) -> str:
    """A number without the spaces that spreadsheets put between thousands."""
    return number.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")


def french_moment(value: str, patterns: tuple[str, ...]) -> datetime.datetime | None:
    for pattern in patterns:
        try:
            return datetime.datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None


def api_value(field: serializers.Field, value: str) -> Any:
    """A cell in the form the API takes, by the kind of the serializer's field: only the file's
    own notations are translated here (decimal commas, French dates, oui / non, lists joined by
    « | »); whatever the value, the serializer then checks it and says what is wrong."""
    if isinstance(field, serializers.ListField):
        return [item.strip().lower() for item in value.split(LIST_SEPARATOR) if item.strip()]
    if isinstance(field, serializers.BooleanField):
        word = value.lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else value
    if isinstance(field, serializers.DecimalField):
        return compact(value).replace(",", ".")
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return compact(value)
    if isinstance(field, serializers.DateTimeField):
        if DATE_ONLY.fullmatch(value):
            return f"{value}T00:00"  # a date alone is midnight
        moment = french_moment(value, ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"))
        return moment.isoformat() if moment else value
    if isinstance(field, serializers.DateField):
        day = french_moment(value, ("%d/%m/%Y",))
        return day.date().isoformat() if day else value
    if isinstance(field, serializers.ChoiceField):
        return value.lower()
    return value


def step_data(step: Step, fields: dict[str, serializers.Field], cells: dict[str, str]) -> dict[str, Any]:
    """The API's data for one step from the line's filled cells (an empty cell is left out)."""
    data: dict[str, Any] = {}
    for column in step.columns:
        value = cells.get(column, "")
        name = step.field(column)
        if value and name in fields:
            data[name] = api_value(fields[name], value)
    if step is BATCH and cells.get("allergens", "").lower() in NO_ALLERGEN_WORDS:
        # "aucun": none of the 14 regulated allergens, said in one word.
        data.update(allergens=[], no_regulated_allergens=True)
    return data


def serializer_errors(line: int, step: Step, detail: Any, field: str = "") -> list[LineError]:
    """A serializer's errors as line errors named by the file's columns (the step's name for
    errors of the whole record); a list's errors (one per item) come out flat."""
    if isinstance(detail, dict):
        errors: list[LineError] = []
        for name, inner in detail.items():
            inner_field = field or (step.label if name == api_settings.NON_FIELD_ERRORS_KEY else name)
            errors.extend(serializer_errors(line, step, inner, inner_field))
        return errors
    if isinstance(detail, list):
        return [error for item in detail for error in serializer_errors(line, step, item, field)]
    return [LineError(line, step.column(field) if field != step.label else field, str(detail))]


@dataclass
class Row:
    """A line's records, each validated by its serializer (None: not on the line, or invalid)."""

    line: int
    batch: dict[str, Any] | None
    pickup: dict[str, Any] | None = None
    distribution: dict[str, Any] | None = None
    errors: list[LineError] = field(default_factory=list)
    # Whether the line records what became of the batch (then it is a batch of the past).
    of_the_past: bool = False


def check_row(raw: RawRow, territory: Territory, fields: dict[Step, Any]) -> Row:
    """Every error of the line's cells at once: each record it holds (the batch, its pickup, its
    distribution) goes through its API serializer, whatever the others gave. ``fields``: each
    step's serializer fields, read once per file, which say how to read each cell."""
    errors: list[LineError] = []
    if raw.extra_cells:
        errors.append(
            LineError(raw.line, "", _("cette ligne a plus de cellules que l'en-tête n'a de colonnes."))
        )
    has_pickup = any(raw.cells.get(name) for name in PICKUP_COLUMNS)
    has_distribution = any(raw.cells.get(name) for name in DISTRIBUTION_COLUMNS)
    if has_distribution and not has_pickup:
        errors.append(
            LineError(
                raw.line,
                "picked_up_at",
                _("une distribution ne peut être importée qu'avec la collecte du lot."),
            )
        )
    row = Row(raw.line, batch=None, of_the_past=has_pickup or has_distribution)
    present = {BATCH: True, PICKUP: has_pickup, DISTRIBUTION: has_distribution}
    for record in STEPS:
        if not present[record]:
            continue
        serializer = record.serializer_for(territory, step_data(record, fields[record], raw.cells))
        if serializer.is_valid():
            setattr(row, record.name, dict(serializer.validated_data))
        else:
            errors.extend(serializer_errors(raw.line, record, serializer.errors))
    row.errors = errors  # put in the columns' order by load_row, with the services' errors
    return row


# Loading one row


class RowFailed(Exception):
    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(errors)
        self.errors = errors


def load_row(row: Row, *, by: User) -> dict[str, bool]:
    """Runs the line's valid records through the services, as far as they go; raises
    ``RowFailed`` with the services' errors and the line's own (the caller's savepoint rolls
    back). A pickup needs its batch, and a distribution its pickup: their rules run only then."""
    created = {"batches": False, "pickups": False, "distributions": False}
    errors = list(row.errors)
    batch = pickup = None
    if row.batch is not None:
        with step(row.line, BATCH, errors):
            # A line with its pickup records a batch of the past, declared on its production day; a
            # line without one leaves the batch ready to collect, which its use-by date must allow.
            declared_on = row.batch["production_date"] if row.of_the_past else None
            batch = services.batch_create(by=by, declared_on=declared_on, **row.batch)
            created["batches"] = True
    if row.pickup is not None and batch is not None:
        with step(row.line, PICKUP, errors):
            pickup = services.pickup_confirm(batch=batch, by=by, **row.pickup)
            created["pickups"] = True
    if row.distribution is not None and pickup is not None:
        with step(row.line, DISTRIBUTION, errors):
            services.distribution_record(pickup=pickup, by=by, **row.distribution)
            created["distributions"] = True
    if errors:
        # Errors that name no column (the line's own, a record's as a whole) first, then by column.
        raise RowFailed(sorted(errors, key=lambda error: COLUMN_ORDER.get(error.field, -1)))
    return created


@contextmanager
def step(line: int, record: Step, errors: list[LineError]) -> Iterator[None]:
    """Turns a service's refusal into errors named by the file's columns (the record's name when
    none fits), added to ``errors``. Anything else (the database refusing a write that the rules
    let through, as two imports racing for one lot number would) stops the file: nothing is
    written and the import says it failed."""
    try:
        yield
    except ValidationError as exc:
        by_field = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        for name, messages in by_field.items():
            column = record.column(name) if record.column(name) in COLUMNS else record.label
            errors.extend(LineError(line, column, message) for message in messages)
    except Conflict as exc:
        errors.append(LineError(line, record.label, exc.message))


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
