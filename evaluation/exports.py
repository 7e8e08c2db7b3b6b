"""A report's PDF and its tables (CSV, XLSX), streamed from what the report stored.

Exports read the report's frozen figures (``Report.figures``), never the live data: a table
downloaded next year holds the numbers the PDF printed. CSV is streamed row by row
(``StreamingHttpResponse``), in UTF-8 with a BOM, in the report's language: for a French report
``;`` as separator, decimals with a comma and dates as ``JJ/MM/AAAA``, as French spreadsheets open
it; for an English one ``,``, a decimal point and ISO dates. XLSX is written by openpyxl in
write-only mode (rows are not kept in memory) with real numbers and dates, then streamed from its
buffer.

Text cells never start a formula: a leading ``=``, ``+``, ``-`` or ``@`` is escaped in CSV and
written as a string in XLSX (names and journal entries come from users).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from costing import display

from . import reports
from .figures import missing_table
from .models import Report

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvStyle:
    """How a spreadsheet of the report's language reads a CSV file."""

    delimiter: str
    decimal: str
    date: str


CSV_STYLES = {
    "fr": CsvStyle(delimiter=";", decimal=",", date="%d/%m/%Y"),
    "en": CsvStyle(delimiter=",", decimal=".", date="%Y-%m-%d"),
}


def csv_style(language: str) -> CsvStyle:
    return CSV_STYLES.get(language, CSV_STYLES["fr"])


def yes_no(value: Any) -> str:
    """ "oui"/"non", "yes"/"no" in the active language (the report's, during an export)."""
    return _("oui") if value else _("non")


class UnknownTable(Exception):
    """The report has no such table, or the format is neither csv nor xlsx."""


# --- The PDF ---------------------------------------------------------------------------------


def pdf_response(report: Report) -> FileResponse:
    """The report's PDF; 404 until it is done."""
    if report.status != Report.Status.DONE:
        raise Http404(_("Le rapport n'est pas encore prêt."))
    try:
        handle = reports.report_pdf_file(report)
    except FileNotFoundError as missing:
        raise Http404 from missing
    return FileResponse(
        handle, content_type="application/pdf", as_attachment=True, filename=reports.file_name(report)
    )


# --- Tables ----------------------------------------------------------------------------------


def tables_of(report: Report) -> dict[str, dict[str, Any]]:
    """The report's tables, and the inputs it lacked as a table of their own (the figures list
    them once, for the PDF's sources, and not as a table)."""
    figures = report.figures or {}
    tables = dict(figures.get("tables", {}))
    if figures.get("missing"):
        tables["missing"] = missing_table(figures["missing"])
    return tables


def table_links(report: Report) -> list[dict[str, Any]]:
    """Every table of a done report, with its CSV and XLSX links (browser routes)."""
    url = reverse("report-export", kwargs={"pk": report.pk})
    return [
        {
            "name": name,
            "title": table["title"],
            "rows": len(table["rows"]),
            "csv": f"{url}?table={name}&format=csv",
            "xlsx": f"{url}?table={name}&format=xlsx",
        }
        for name, table in tables_of(report).items()
    ]


def header(column: dict[str, Any]) -> str:
    unit = column.get("unit")
    return f"{column['label']} ({unit})" if unit else str(column["label"])


def safe_text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def figure_complete(row: dict[str, Any], column: dict[str, Any]) -> bool:
    """Whether a figure cell is a complete, applicable value (then exported as a number)."""
    return (
        row.get(column["key"]) is not None
        and bool(row.get(column.get("complete", "complete"), True))
        and bool(row.get("applicable", True))
    )


def figure_words(row: dict[str, Any], column: dict[str, Any]) -> str:
    """An incomplete or unknown figure as words ("au moins 1,92 €", "inconnu"), never a plain
    number: a spreadsheet would read a lower bound as the cost itself."""
    unit = row.get(column["unit_key"]) if column.get("unit_key") else column.get("unit")
    return display.figure_text(
        row.get(column["key"]),
        unit=str(unit or ""),
        complete=bool(row.get(column.get("complete", "complete"), True)),
        applicable=bool(row.get("applicable", True)),
        bound=display.is_bound(row.get("key", column["key"])),
    )


def csv_cell(row: dict[str, Any], column: dict[str, Any], style: CsvStyle) -> str:
    if column["kind"] == "figure":
        if figure_complete(row, column):
            return str(row[column["key"]]).replace(".", style.decimal)
        return figure_words(row, column)
    return csv_value(row.get(column["key"]), column["kind"], style)


def xlsx_cell(row: dict[str, Any], column: dict[str, Any]) -> Any:
    if column["kind"] == "figure":
        if figure_complete(row, column):
            return Decimal(str(row[column["key"]]))
        return figure_words(row, column)
    return xlsx_value(row.get(column["key"]), column["kind"])


def csv_value(value: Any, kind: str, style: CsvStyle) -> str:
    if value is None:
        return ""
    if kind == "bool":
        return yes_no(value)
    if kind in ("date", "week"):
        return datetime.date.fromisoformat(value).strftime(style.date)
    if kind == "month":
        return str(value)[:7]
    if kind in ("int", "decimal", "euro", "percent"):
        return str(value).replace(".", style.decimal)
    return safe_text(str(value))


def xlsx_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bool":
        return yes_no(value)
    if kind in ("date", "week", "month"):
        return datetime.date.fromisoformat(value)
    if kind == "int":
        return int(value)
    if kind in ("decimal", "euro", "percent"):
        return Decimal(str(value))
    return str(value)


NUMBER_FORMATS = {
    "date": "DD/MM/YYYY",
    "week": "DD/MM/YYYY",
    "month": "MM/YYYY",
    "euro": '#,##0.00 "€"',
    "percent": '0.0 "%"',
    "decimal": "#,##0.##",
    "figure": "#,##0.00",
    "int": "#,##0",
}


class Echo:
    """A file-like object that hands back what is written, for ``csv.writer`` to stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(table: dict[str, Any], language: str) -> Iterator[str]:
    """The table's lines, in the report's language (the words of incomplete figures too), however
    late the response streams them."""
    style = csv_style(language)
    writer = csv.writer(Echo(), delimiter=style.delimiter)
    columns = table["columns"]
    with translation.override(language):
        yield "\ufeff" + writer.writerow([header(column) for column in columns])
        for row in table["rows"]:
            yield writer.writerow([csv_cell(row, column, style) for column in columns])


def xlsx_bytes(report: Report, table: dict[str, Any]) -> bytes:
    workbook = Workbook(write_only=True)
    built_on = (report.figures or {}).get("built_on")
    if built_on:
        # The workbook's dates are the report's, not the download's.
        moment = datetime.datetime.fromisoformat(built_on)
        workbook.properties.created = workbook.properties.modified = moment
    workbook.properties.title = table["title"]
    workbook.properties.creator = "Passerelle"
    sheet = workbook.create_sheet(title=table["title"][:31].replace("/", "-"))
    columns = table["columns"]
    bold = Font(bold=True)
    cells = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=header(column))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in table["rows"]:
        cells = []
        for column in columns:
            kind = column["kind"]
            cell = WriteOnlyCell(sheet, value=xlsx_cell(row, column))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            if kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[kind]
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_response(report: Report, *, table: str, file_format: str) -> StreamingHttpResponse | FileResponse:
    """One table of a done report as CSV or XLSX; 404 until the report is done."""
    if report.status != Report.Status.DONE:
        raise Http404(_("Le rapport n'est pas encore prêt."))
    tables = tables_of(report)
    if table not in tables:
        raise UnknownTable(
            _("Tableau inconnu. Tableaux du rapport : %(names)s.") % {"names": ", ".join(tables)}
        )
    if file_format not in FORMATS:
        raise UnknownTable(_("Format inconnu : csv ou xlsx."))
    name = f"rapport-{report.pk}-{table}.{file_format}"
    if file_format == "csv":
        response = StreamingHttpResponse(
            csv_lines(tables[table], report.language), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    with translation.override(report.language):
        workbook = xlsx_bytes(report, tables[table])
    return FileResponse(
        io.BytesIO(workbook),
        content_type=XLSX_TYPE,
        as_attachment=True,
        filename=name,
    )
