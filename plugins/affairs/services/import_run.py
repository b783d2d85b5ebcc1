"""Running an import of residents or houses (the core.jobs task
"affairs.import"): read the file, check every row, apply (good rows as they
come, or all or nothing), save the error report as the job's file, recompute
the totals of the grids imported into.

What a failure leaves (also said in the job's result, "resumable"):
- all_or_nothing: the rows are applied in the job's one transaction, which the
  core commits when the task returns. A task that fails, or whose consumer is
  killed, stores nothing; retry runs it again from the start.
- good_rows: each chunk of good rows is committed as it is read, upserted by
  its natural key (ID-card number; building, unit and room for houses). A
  consumer killed half-way leaves the chunks before it stored; "Retry" reads
  the same file again and upserts every row by its key, so the rows already
  in come out unchanged and the import resumes where it stopped."""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask_babel import force_locale

from core import access, clock
from core.extensions import db
from core.i18n import N_
from core.jobs import JobFailed

from ..models import ImportJob
from .imports import _Importer, columns_for, headers
from .totals import recompute_totals


def _open_rows(path: str, kind: str, locale: str):
    """(estimated row count, iterator of (row number, {key: value})). JobFailed on a bad file."""
    import zipfile

    from openpyxl import load_workbook

    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise JobFailed(N_("The file is empty."))
    if not zipfile.is_zipfile(path):
        raise JobFailed(N_("This is not an Excel .xlsx file."))
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook
        raise JobFailed(N_("This is not an Excel .xlsx file.")) from exc
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None:
        wb.close()
        raise JobFailed(N_("The file is empty."))
    names = [str(h).strip() if h is not None else "" for h in header]
    while names and names[-1] == "":
        names.pop()
    keys = [k for k, _x in columns_for(kind)]
    index = None
    for loc in (locale, "zh_CN", "en"):
        hdr = headers(kind, loc)
        if sorted(names) == sorted(hdr):
            index = [keys[hdr.index(n)] for n in names]
            break
    if index is None:
        wb.close()
        raise JobFailed(N_("The columns are wrong. Expected columns: %(cols)s."), cols=", ".join(headers(kind, locale)))
    total = max(0, (ws.max_row or 1) - 1)

    def gen():
        try:
            for rownum, values in enumerate(it, start=2):
                if values is None or all(v is None or str(v).strip() == "" for v in values):
                    continue
                yield rownum, dict(zip(index, values, strict=False))
        finally:
            wb.close()

    return total, gen()


STAT_TABLES = ("affairs_house", "affairs_household", "affairs_resident", "affairs_group_tag", "affairs_visit")


def refresh_statistics() -> None:
    """ANALYZE the module's big tables after bulk loads, so that the query
    planner starts "who is due in this grid" from the grid, not from every tag
    (SQLite keeps no statistics until asked; PostgreSQL's autovacuum is lazy)."""
    from sqlalchemy import text

    for table in STAT_TABLES:
        db.session.execute(text(f"ANALYZE {table}"))
    db.session.execute(text("ANALYZE grid_node"))
    db.session.commit()


def _touch(imp_row: ImportJob, processed: int, job) -> None:
    imp_row.processed_rows = processed
    imp_row.heartbeat_at = clock.utcnow()
    job.progress(processed, imp_row.total_rows or None)


def upload_path(stored: str) -> Path:
    """The file of an import's upload: a name under core.uploads' root (or an absolute path)."""
    from core.uploads import upload_root

    return upload_root() / stored


RESUMABLE = {
    "all_or_nothing": N_("All or nothing: if the job fails or its worker stops, nothing of the file is stored; "
                         "retry runs it again from the start."),
    "good_rows": N_("Good rows are stored in batches, matched by their key (ID-card number, or building, unit "
                    "and room): if the job fails or its worker stops, retry reads the file again and the rows "
                    "already stored come out unchanged."),
}
FAILED_AON = N_("The import stopped on an unexpected error; nothing was stored. Try again, or ask the "
                "administrator (the error is in the server log).")
FAILED_GOOD = N_("The import stopped on an unexpected error after %(n)s rows; the good rows before them were "
                 "stored. Try again, or ask the administrator (the error is in the server log).")


def run_import(job, import_id: int, file: str | None = None) -> dict:
    """The task "affairs.import": run the import `import_id` to its end.

    `job` is the core.jobs handle (progress, save_file, result); `file` (the
    stored upload, also in the import row) is in the job's params so that the
    core deletes it with the job's files if the job never ends. Returns the
    job's result (the counts and a summary line); raises JobFailed with a
    reason in the starter's language when the file cannot be imported.

    good_rows: applies and commits each chunk's good rows as it reads them.
    all_or_nothing: checks every row first; applies only when none failed,
    in one transaction committed with the job's outcome."""
    from core.audit import record
    from core.excel import error_report_bytes

    row = db.session.get(ImportJob, import_id)
    if row is None:
        raise JobFailed(N_("This import is gone."))
    row.status, row.phase = "running", "checking"
    row.created_count = row.updated_count = row.unchanged_count = row.error_count = 0
    row.job_id = job.id
    _touch(row, 0, job)
    db.session.commit()
    scope = json.loads(row.scope or "[]")
    path = str(upload_path(row.stored_path))
    if not os.path.exists(path):
        raise JobFailed(N_("The uploaded file is no longer kept; upload it again."))
    with force_locale(row.locale):
        try:
            imp = _apply_file(job, row, scope, path)
        except JobFailed:
            _failed(import_id)
            raise
        except Exception as exc:  # noqa: BLE001 - the job must end with a sentence, never SQL
            from flask import current_app

            current_app.logger.exception("affairs import %s failed", import_id)
            processed = _failed(import_id)
            if row.mode == "all_or_nothing":
                raise JobFailed(FAILED_AON) from exc
            raise JobFailed(FAILED_GOOD, n=processed) from exc
        row.created_count, row.updated_count, row.unchanged_count = imp.created, imp.updated, imp.unchanged
        row.error_count = len(imp.errors)
        errors = sorted(imp.errors, key=lambda e: e.row)
        if errors:
            job.save_file(error_report_bytes(errors), f"import-{row.id}-errors.xlsx")
        row.status, row.finished_at = "done", clock.utcnow()
        record(
            "affairs.import",
            row,
            community_id=access.community_of(row) if row.node_id else None,
            summary=f"{row.kind} {row.mode} {row.filename}: +{imp.created} ~{imp.updated} ={imp.unchanged} !{len(errors)}",
        )
        # The rows went in by bulk statements: the totals of the grids imported
        # into are recomputed here, in the same transaction as the rows.
        if imp.created or imp.updated:
            recompute_totals(scope)
        result = {
            "import_id": row.id,
            "kind": row.kind,
            "mode": row.mode,
            "created": imp.created,
            "updated": imp.updated,
            "unchanged": imp.unchanged,
            "error_count": len(errors),
            "errors": [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors[:20]],
            "resumable": row.mode == "good_rows",
            "message": N_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(errors)s rows with "
                          "errors."),
            "params": {"created": imp.created, "updated": imp.updated, "unchanged": imp.unchanged,
                       "errors": len(errors)},
        }
        if row.mode == "all_or_nothing" and errors:
            result["message"] = N_("Nothing was stored: %(errors)s rows have errors (see the report). Correct "
                                   "them and import the file again.")
    db.session.commit()  # the rows (all or nothing), the counts, the totals, the audit record
    if imp.created or imp.updated:
        try:
            refresh_statistics()
        except Exception:  # noqa: BLE001 - statistics are an optimisation only
            db.session.rollback()
    _remove_upload(row.stored_path)
    return result


def _apply_file(job, row: ImportJob, scope: list[str], path: str):
    total, rows = _open_rows(path, row.kind, row.locale)
    row.total_rows = total
    db.session.commit()
    imp = _Importer(row, scope)
    apply_now = row.mode == "good_rows"
    if apply_now:
        row.phase = "applying"
    processed, chunk = 0, []
    for rownum, values_in in rows:
        values = imp.check(rownum, values_in)
        processed += 1
        if values is not None:
            values["_row"] = rownum
            chunk.append(values)
        if processed % _Importer.CHUNK == 0:
            chunk = imp.screen(chunk)
            if apply_now:
                imp.apply(chunk)
            chunk = []
            _touch(row, processed, job)
            # good_rows: this batch is stored (resumable by key). all_or_nothing:
            # nothing is applied yet, only the progress of the check.
            db.session.commit()
    chunk = imp.screen(chunk)
    if apply_now:
        imp.apply(chunk)
    if not processed:
        raise JobFailed(N_("The file has no data rows."))
    if not apply_now and not imp.errors:
        # Every row is good: apply them all, reading the file again, in one
        # transaction (committed with the job's outcome).
        row.phase = "applying"
        _touch(row, 0, job)
        db.session.commit()
        imp.seen.clear()
        _t, rows = _open_rows(path, row.kind, row.locale)
        done, chunk = 0, []
        for rownum, values_in in rows:
            values = imp.check(rownum, values_in)
            values["_row"] = rownum
            chunk.append(values)
            done += 1
            if len(chunk) >= _Importer.CHUNK:
                imp.apply(chunk)
                chunk = []
                _touch(row, done, job)
                db.session.flush()
        imp.apply(chunk)
    row.total_rows = processed
    _touch(row, processed, job)
    return imp


def _failed(import_id: int) -> int:
    """Mark the import failed (after a rollback: nothing of all_or_nothing
    stays); returns how many rows it had read."""
    db.session.rollback()
    row = db.session.get(ImportJob, import_id)
    row.status, row.finished_at = "failed", clock.utcnow()
    db.session.commit()
    if row.created_count or row.updated_count or row.mode == "good_rows":
        try:
            recompute_totals(json.loads(row.scope or "[]"))
            db.session.commit()
        except Exception:  # noqa: BLE001 - a wrong total is repaired by the next import
            db.session.rollback()
    return row.processed_rows


def _remove_upload(stored: str) -> None:
    # The upload holds personal data: keep it no longer than the job needs it.
    try:
        os.remove(upload_path(stored))
    except OSError:
        pass
