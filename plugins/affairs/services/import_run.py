"""Running an import of residents or houses: read the file, check every row,
apply (good rows as they come, or all or nothing), write the error report,
recompute the totals of the grids imported into. `run_import` has the shape
of a core.jobs task, so it can be handed to the job queue unchanged."""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _

from core import access, clock
from core.extensions import db
from core.models import User

from ..models import ImportJob
from .imports import _Importer, columns_for, headers
from .totals import recompute_totals


def _open_rows(path: str, kind: str, locale: str):
    """(estimated row count, iterator of (row number, {key: value})). ImportFileError on a bad file."""
    import zipfile

    from openpyxl import load_workbook

    from core.excel import ImportFileError

    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise ImportFileError(_("The file is empty."))
    if not zipfile.is_zipfile(path):
        raise ImportFileError(_("This is not an Excel .xlsx file."))
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook
        raise ImportFileError(_("This is not an Excel .xlsx file.")) from exc
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None:
        wb.close()
        raise ImportFileError(_("The file is empty."))
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
        raise ImportFileError(
            _("The columns are wrong. Expected columns: %(cols)s.", cols=", ".join(headers(kind, locale)))
        )
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


class InlineJob:
    """The job-like object for an import run in the request (today's default):
    progress goes to the import's own row only."""

    def progress(self, done: int, total: int | None = None) -> None:
        pass


def _touch(job: ImportJob, processed: int, reporter=None):
    job.processed_rows = processed
    job.heartbeat_at = clock.utcnow()
    if reporter is not None:
        reporter.progress(processed, job.total_rows or None)


def upload_path(stored: str) -> Path:
    """The file of an import's upload: a name under core.uploads' root (or an absolute path)."""
    from core.uploads import upload_root

    return upload_root() / stored


def run_import(reporter, import_id: int) -> ImportJob:
    """Run the import `import_id` to its end, committing progress as it goes.

    A plain function with the signature of a core.jobs task: `reporter` (the
    job) is anything
    with ``progress(done, total)`` (a core.jobs job, or :class:`InlineJob`);
    the ImportJob row keeps the state (phase, counts, heartbeat, error report)
    whoever runs it.

    good_rows: applies each chunk's good rows as it reads them.
    all_or_nothing: checks every row first; applies only when none failed."""
    from core.audit import record
    from core.excel import ImportFileError, error_report_bytes

    job = db.session.get(ImportJob, import_id)
    job.status, job.phase = "running", "checking"
    _touch(job, 0, reporter)
    db.session.commit()
    with force_locale(job.locale):
        try:
            scope = json.loads(job.scope or "[]")
            total, rows = _open_rows(str(upload_path(job.stored_path)), job.kind, job.locale)
            job.total_rows = total
            db.session.commit()
            imp = _Importer(job, scope)
            apply_now = job.mode == "good_rows"
            if apply_now:
                job.phase = "applying"
            processed, chunk = 0, []
            for rownum, row in rows:
                values = imp.check(rownum, row)
                processed += 1
                if values is not None:
                    values["_row"] = rownum
                    chunk.append(values)
                if processed % _Importer.CHUNK == 0:
                    chunk = imp.screen(chunk)
                    if apply_now:
                        imp.apply(chunk)
                    chunk = []
                    _touch(job, processed, reporter)
                    db.session.commit()
            chunk = imp.screen(chunk)
            if apply_now:
                imp.apply(chunk)
            if not apply_now and not imp.errors and processed:
                # Every row is good: apply them all, reading the file again.
                job.phase = "applying"
                _touch(job, 0, reporter)
                db.session.commit()
                imp.seen.clear()
                _t, rows = _open_rows(str(upload_path(job.stored_path)), job.kind, job.locale)
                done, chunk = 0, []
                for rownum, row in rows:
                    values = imp.check(rownum, row)
                    values["_row"] = rownum
                    chunk.append(values)
                    done += 1
                    if len(chunk) >= _Importer.CHUNK:
                        imp.apply(chunk)
                        chunk = []
                        # One transaction for the whole file: a failure late in it stores nothing.
                        _touch(job, done, reporter)
                        db.session.flush()
                imp.apply(chunk)
            job.total_rows = processed
            _touch(job, processed, reporter)
            job.created_count, job.updated_count, job.unchanged_count = imp.created, imp.updated, imp.unchanged
            job.error_count = len(imp.errors)
            if imp.errors:
                job.error_report = error_report_bytes(sorted(imp.errors, key=lambda e: e.row))
            if not processed:
                job.status, job.message = "failed", _("The file has no data rows.")
            else:
                job.status = "done"
            user = db.session.get(User, job.user_id)
            record(
                "affairs.import",
                job,
                community_id=access.community_of(job) if job.node_id else None,
                summary=f"{job.kind} {job.mode} {job.filename}: +{imp.created} ~{imp.updated} ={imp.unchanged} !{len(imp.errors)}",
                user=user,
            )
        except ImportFileError as exc:
            db.session.rollback()
            job = db.session.get(ImportJob, import_id)
            job.status, job.message = "failed", str(exc)
        except Exception:  # noqa: BLE001 - the job must end, whatever failed
            from flask import current_app

            current_app.logger.exception("affairs import %s failed", import_id)
            db.session.rollback()
            job = db.session.get(ImportJob, import_id)
            job.status = "failed"
            # Never the database's own (English, SQL) text: what happened and what was kept.
            if job.mode == "all_or_nothing":
                job.message = _("The import stopped on an unexpected error; nothing was stored. Try again, or "
                                "ask the administrator (the error is in the server log).")
            else:
                job.message = _("The import stopped on an unexpected error after %(n)s rows; the good rows before "
                                "them were stored. Try again, or ask the administrator (the error is in the server "
                                "log).", n=job.processed_rows)
        job.finished_at = clock.utcnow()
        db.session.commit()
    if job.created_count or job.updated_count or job.processed_rows:
        # The rows went in by bulk statements: recompute the totals of the grids imported into.
        try:
            recompute_totals(json.loads(job.scope or "[]"))
            db.session.commit()
        except Exception:  # noqa: BLE001 - reported below by a wrong total only; never fails the job
            db.session.rollback()
    if job.status == "done" and (job.created_count or job.updated_count):
        try:
            refresh_statistics()
        except Exception:  # noqa: BLE001 - statistics are an optimisation only
            db.session.rollback()
    # The upload holds personal data: keep it no longer than the job needs it.
    try:
        os.remove(upload_path(job.stored_path))
    except OSError:
        pass
    return job


