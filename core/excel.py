"""The one Excel helper: write a list to .xlsx, read a template back with
row-level errors, and write an error report.

Imports report errors as (row, column, reason); callers decide between
all-or-nothing and good-rows-only, never silently partial.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from flask import Response, current_app, has_app_context
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from .text import clean, no_formula

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_bytes(headers: Sequence[str], rows: Iterable[Sequence], title: str = "Sheet1") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(title))
    ws.append([clean(str(h)) for h in headers])
    for row in rows:
        ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_title(title: str) -> str:
    bad = set("[]:*?/\\")
    return "".join(c for c in clean(str(title)) if c not in bad)[:31] or "Sheet1"


def _cell(value):
    """A value as a cell: control characters dropped (openpyxl refuses them),
    formulas neutralised (Excel runs "=…" typed by a resident)."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal):
        return value
    if hasattr(value, "isoformat"):
        return value
    return no_formula(clean(str(value)))


def csv_cell(value) -> str:
    """A value as a CSV field: the same cleaning and formula guard as the xlsx."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    return no_formula(clean(str(value)))


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with a BOM (Excel in China opens it right), every field cleaned."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([csv_cell(str(h)) for h in headers])
    for row in rows:
        w.writerow([csv_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _attachment(resp: Response, filename: str, fallback: str) -> Response:
    resp.headers["Content-Disposition"] = f"attachment; filename={fallback}; filename*=UTF-8''{quote(filename)}"
    # Exports hold personal data: no browser or proxy keeps a copy.
    resp.headers["Cache-Control"] = "no-store"
    return resp


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence], title: str = "Sheet1") -> Response:
    data = workbook_bytes(headers, rows, title)
    return _attachment(Response(data, mimetype=XLSX_MIME), filename, "export.xlsx")


def csv_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence]) -> Response:
    return _attachment(Response(csv_bytes(headers, rows), mimetype="text/csv; charset=utf-8"), filename, "export.csv")


def template_bytes(headers: Sequence[str], example: Sequence | None = None, notes: Sequence[str] = ()) -> bytes:
    """An import template: bold header row, an optional example row, notes sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append([clean(str(h)) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    if example:
        ws.append([_cell(v) for v in example])
    if notes:
        ns = wb.create_sheet("notes")
        for n in notes:
            ns.append([clean(str(n))])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass
class RowError:
    row: int
    column: str
    reason: str


class ImportFileError(ValueError):
    """The file as a whole cannot be read; str() is the user's message."""


def read_rows(file_storage, expected: Sequence[str]) -> Iterable[tuple[int, dict]]:
    """Yield (row number, {column: value}) from the first sheet of an .xlsx.

    The header row must hold exactly the expected columns (any order).
    Raises ImportFileError naming the expected columns otherwise.
    """
    raw = file_storage.read() if hasattr(file_storage, "read") else file_storage
    if not raw:
        raise ImportFileError(_("The file is empty."))
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise ImportFileError(_("This is not an Excel .xlsx file."))
    check_xlsx_limits(raw)
    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook
        raise ImportFileError(_("This is not an Excel .xlsx file.")) from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    expected_s = [str(e) for e in expected]
    if header is None:
        raise ImportFileError(_("The file is empty."))
    names = [str(h).strip() if h is not None else "" for h in header]
    while names and names[-1] == "":
        names.pop()
    if sorted(names) != sorted(expected_s):
        raise ImportFileError(
            _("The columns are wrong. Expected columns: %(cols)s.", cols=", ".join(expected_s))
        )
    for idx, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        yield idx, {
            name: (clean(v).strip() if isinstance(v, str) else v)
            for name, v in zip(names, values, strict=False)
        }


def _limit(key: str, default: int) -> int:
    return int(current_app.config.get(key, default)) if has_app_context() else default


def check_xlsx_limits(raw: bytes) -> None:
    """Refuse an .xlsx that would take the server's memory or time before
    parsing it: too many members, too much once unpacked (a zip bomb; the
    sizes are measured while unpacking, not taken from the zip's headers),
    too many shared strings. Raises ImportFileError with the user's message."""
    max_members = _limit("XLSX_MAX_MEMBERS", 300)
    max_unpacked = _limit("XLSX_MAX_UNPACKED", 64 * 1024 * 1024)
    max_strings = _limit("XLSX_MAX_SHARED_STRINGS", 300_000)
    too_big = ImportFileError(
        _("The file is too large once unpacked (more than %(mb)d MB). Split it into smaller files.",
          mb=max_unpacked // (1024 * 1024))
    )
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        members = zf.infolist()
        if len(members) > max_members:
            raise ImportFileError(_("This .xlsx file has too many parts (%(n)d). Save it again from Excel or WPS.", n=len(members)))
        if sum(m.file_size for m in members) > max_unpacked:
            raise too_big
        total = 0
        for m in members:
            strings = m.filename.lower().endswith("sharedstrings.xml")
            count, tail = 0, b""
            with zf.open(m) as f:
                while chunk := f.read(1024 * 1024):
                    total += len(chunk)
                    if total > max_unpacked:
                        raise too_big
                    if strings:
                        window = tail + chunk
                        count += window.count(b"<si>") + window.count(b"<si ") - tail.count(b"<si>") - tail.count(b"<si ")
                        tail = chunk[-3:]
                        if count > max_strings:
                            raise ImportFileError(
                                _("This file holds too many different texts (more than %(n)d). Split it into smaller files.",
                                  n=max_strings)
                            )
    except ImportFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged zip, a bad CRC, an unknown compression
        raise ImportFileError(_("This is not an Excel .xlsx file.")) from exc


def error_report_bytes(errors: Sequence[RowError]) -> bytes:
    return workbook_bytes(
        [_("Row"), _("Column"), _("Reason")],
        ((e.row, e.column, e.reason) for e in errors),
        title="errors",
    )
