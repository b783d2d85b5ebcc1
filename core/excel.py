"""The one Excel helper: write a list to .xlsx, read a template back with
row-level errors, and write an error report.

Imports report errors as (row, column, reason); callers decide between
all-or-nothing and good-rows-only, never silently partial.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import Response
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_bytes(headers: Sequence[str], rows: Iterable[Sequence], title: str = "Sheet1") -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append([str(h) for h in headers])
    for row in rows:
        ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(value):
    if value is None:
        return None
    if isinstance(value, int | float | str):
        # Excel reads "=…" as a formula: neutralise formula injection.
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
            return "'" + value
        return value
    return str(value) if not hasattr(value, "isoformat") else value


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence], title: str = "Sheet1") -> Response:
    from urllib.parse import quote

    data = workbook_bytes(headers, rows, title)
    resp = Response(data, mimetype=XLSX_MIME)
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename)}"
    )
    return resp


def template_bytes(headers: Sequence[str], example: Sequence | None = None, notes: Sequence[str] = ()) -> bytes:
    """An import template: bold header row, an optional example row, notes sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append([str(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    if example:
        ws.append(list(example))
    if notes:
        ns = wb.create_sheet("notes")
        for n in notes:
            ns.append([str(n)])
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
            name: (v.strip() if isinstance(v, str) else v)
            for name, v in zip(names, values, strict=False)
        }


def error_report_bytes(errors: Sequence[RowError]) -> bytes:
    return workbook_bytes(
        [_("Row"), _("Column"), _("Reason")],
        ((e.row, e.column, e.reason) for e in errors),
        title="errors",
    )
