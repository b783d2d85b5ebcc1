"""Import and export of the tree."""

from __future__ import annotations

import io
import zipfile

from flask import redirect, url_for
from flask_babel import gettext as _

from ... import jobs
from ...audit import record
from ...excel import XLSX_MIME, template_bytes, xlsx_response
from ...extensions import db
from ...security import (
    requires,
)
from ...uploads import save_bytes
from ...web import render
from .. import importer
from ..forms import ImportForm
from ..tasks import TASK
from .common import (
    _node,
    bp,
)

# --- import and export -------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@requires("grid.import")
def import_tree():
    """Take the file and queue the import (core/grid/tasks.py): the user
    follows its progress and result on the job's page."""

    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        if not (upload.filename or "").lower().endswith(".xlsx") or (data and not zipfile.is_zipfile(io.BytesIO(data))):
            form.file.errors.append(_("This is not an Excel .xlsx file."))
        elif not data:
            form.file.errors.append(_("The file is empty."))
        else:
            stored = save_bytes("grid", data, ".xlsx", "imports")
            job = jobs.start(TASK, params={"file": stored, "filename": upload.filename},
                             title=_("Import the grid tree: %(name)s", name=upload.filename))
            return redirect(url_for("jobs.detail", job_id=job.id))
    status = 422 if form.file.errors else 200
    return render("grid/import.html", form=form), status


@bp.route("/import/template.xlsx")
@requires("grid.import")
def import_template():
    from flask import Response

    data = template_bytes(importer.HEADERS, importer.template_example(), importer.template_notes())
    resp = Response(data, mimetype=XLSX_MIME)
    resp.headers["Content-Disposition"] = "attachment; filename=grid-import-template.xlsx"
    return resp


@bp.route("/node/<int:node_id>/export.xlsx")
@requires("grid.import")
def export(node_id: int):
    node = _node(node_id, "grid.import")
    record("grid.exported", node, summary=node.code, community_id=node.community_id)
    db.session.commit()
    return xlsx_response(f"{node.code}-{node.name}.xlsx", importer.HEADERS, importer.export_rows(node), title=node.code)
