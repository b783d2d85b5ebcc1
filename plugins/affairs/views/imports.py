"""Excel import of residents and houses: the upload starts the core job
"affairs.import"; its progress, outcome and error report are on the core
job page (jobs.detail)."""

from __future__ import annotations

import json

from flask import Response, abort, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import access, jobs, uploads
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
from ..queries import MODULE
from . import bp


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
            paths = scope_paths("affairs.import")
            root = access.require_node(int(paths[0].strip("/").split("/")[-1]), "affairs.import", MODULE) if paths else None
            stored = uploads.save_bytes(MODULE, f.read(), ".xlsx", "imports")
            imp = ImportJob(kind=form.kind.data, mode=form.mode.data, filename=name[:255], stored_path=stored,
                            locale=str(get_locale()), scope=json.dumps(paths), user_id=current_user.id,
                            node_id=root.id if root is not None else None)
            db.session.add(imp)
            db.session.flush()
            title = (_("Import residents: %(name)s", name=imp.filename) if imp.kind == "residents"
                     else _("Import houses: %(name)s", name=imp.filename))
            job = jobs.start("affairs.import", params={"import_id": imp.id, "file": stored}, title=title,
                             community_id=access.community_of(root) if root is not None else None)
            return redirect(url_for("jobs.detail", job_id=job.id))
    recent = list(db.session.execute(
        select(jobs.Job.id, jobs.Job.title, jobs.Job.state, jobs.Job.created_at)
        .where(jobs.Job.user_id == current_user.id, jobs.Job.task == "affairs.import")
        .order_by(jobs.Job.id.desc()).limit(5)
    ))
    return render("affairs/import.html", form=form, recent=recent,
                  res_cols=S.headers("residents", str(get_locale())), house_cols=S.headers("houses", str(get_locale())))


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


