"""Excel import of residents and houses."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from flask import Response, abort, current_app, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import clock
from core.excel import XLSX_MIME, template_bytes
from core.extensions import db
from core.security import requires, scope_paths
from core.web import render

from .. import models as M
from .. import services as S
from ..forms import (
    ImportForm,
)
from ..models import (
    ImportJob,
)
from . import bp


def _upload_dir() -> Path:
    base = current_app.config.get("UPLOAD_FOLDER") or str(Path(current_app.instance_path) / "uploads")
    d = Path(base) / "affairs"
    d.mkdir(parents=True, exist_ok=True)
    return d


@bp.route("/import", methods=["GET", "POST"])
@requires("affairs.import")
def import_start():
    form = ImportForm()
    if request.method == "POST" and form.validate():
        f = form.file.data
        name = getattr(f, "filename", "") or ""
        if f is None or not name:
            form.file.errors = [_("Choose an .xlsx file.")]
        elif not name.lower().endswith(".xlsx"):
            form.file.errors = [_("This is not an Excel .xlsx file. Expected columns: %(cols)s.",
                                  cols=", ".join(S.headers(form.kind.data, str(get_locale()))))]
        else:
            path = _upload_dir() / f"{uuid.uuid4().hex}.xlsx"
            f.save(path)
            job = ImportJob(kind=form.kind.data, mode=form.mode.data, filename=name[:255], stored_path=str(path),
                            locale=str(get_locale()), scope=json.dumps(scope_paths("affairs.import")), user_id=current_user.id)
            db.session.add(job)
            db.session.commit()
            if current_app.config.get("AFFAIRS_IMPORT_INLINE", current_app.testing):
                S.run_import(job.id)
            else:
                S.start_import_thread(current_app._get_current_object(), job.id)
            return redirect(url_for("affairs.import_job", job_id=job.id))
    recent = list(db.session.scalars(select(ImportJob).where(ImportJob.user_id == current_user.id).order_by(ImportJob.id.desc()).limit(5)))
    return render("affairs/import.html", form=form, recent=recent,
                  res_cols=S.headers("residents", str(get_locale())), house_cols=S.headers("houses", str(get_locale())))


def _job_or_404(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None or job.user_id != current_user.id:
        abort(404)
    return job


@bp.route("/import/<int:job_id>")
@requires("affairs.import")
def import_job(job_id: int):
    job = _job_or_404(job_id)
    stalled = (
        job.status == "running" and job.heartbeat_at is not None
        and (clock.utcnow() - job.heartbeat_at).total_seconds() > 300
    )
    pct = int(100 * job.processed_rows / job.total_rows) if job.total_rows else 0
    return render("affairs/import_job.html", block="progress", job=job, pct=min(pct, 100), stalled=stalled)


@bp.route("/import/<int:job_id>/errors.xlsx")
@requires("affairs.import")
def import_errors(job_id: int):
    job = _job_or_404(job_id)
    if not job.error_report:
        abort(404)
    return Response(job.error_report, mimetype=XLSX_MIME,
                    headers={"Content-Disposition": f"attachment; filename=import-{job.id}-errors.xlsx"})


@bp.route("/import/template/<kind>.xlsx")
@requires("affairs.import")
def import_template(kind: str):
    if kind not in ("residents", "houses"):
        abort(404)
    loc = str(get_locale())
    notes = [
        _("One row per resident; the ID-card number is the key: importing the same person again updates them."),
        _("Building grid code: the code of the building or zone, as shown on the grid pages."),
        _("Residence: %(v)s", v=" / ".join(S.label(c) for c in M.RESIDENCE)),
        _("Social security: %(v)s", v=" / ".join(S.label(c) for c in M.SOCIAL_SECURITY)),
        _("Employment: %(v)s", v=" / ".join(S.label(c) for c in M.EMPLOYMENT)),
        _("Use: %(v)s", v=" / ".join(S.label(c) for c in M.HOUSE_USES)),
        _("Occupancy: %(v)s", v=" / ".join(S.label(c) for c in M.OCCUPANCIES)),
    ]
    data = template_bytes(S.headers(kind, loc), S.example_row(kind), notes)
    return Response(data, mimetype=XLSX_MIME, headers={"Content-Disposition": f"attachment; filename={kind}-template.xlsx"})


