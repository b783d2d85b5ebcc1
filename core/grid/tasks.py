"""The grid tree import as a background job: all or nothing, with progress,
and the error report as the job's result file."""

from __future__ import annotations

from sqlalchemy import select

from ..audit import record
from ..excel import ImportFileError, error_report_bytes
from ..extensions import db
from ..i18n import N_
from ..jobs import JobFailed
from ..models import GridNode, RoleGrant
from ..security import allowed_roles
from . import importer

TASK = "core.grid_import"


def _import_paths(user_id: int | None) -> list[str]:
    """The subtrees the user may import into (as security.scope_paths, for a
    user who is not the one signed in: the consumer has no request)."""
    if user_id is None:
        return []
    roles = allowed_roles("grid.import")
    return list(db.session.scalars(
        select(GridNode.path).join(RoleGrant, RoleGrant.node_id == GridNode.id)
        .where(RoleGrant.user_id == user_id, RoleGrant.role.in_(roles))
    ))


def grid_import(job, file: str, filename: str = "") -> dict:
    """Import a stored workbook (`file`, a name under the upload folder)."""
    from ..uploads import path_of

    paths = _import_paths(job.user_id)

    def may_edit(path: str) -> bool:
        if path == "/":
            return any(p.count("/") == 2 for p in paths)
        return any(path.startswith(p) for p in paths)

    from werkzeug.exceptions import NotFound

    job.progress(0, message=filename)
    try:
        data = path_of(file).read_bytes()
    except NotFound as exc:
        raise JobFailed(N_("The uploaded file is no longer there; upload it again.")) from exc
    try:
        result = importer.import_tree(data, may_edit=may_edit, progress=job.progress)
    except ImportFileError as exc:
        raise JobFailed(N_("The file could not be read: %(reason)s"), reason=str(exc)) from exc
    if result.errors:
        job.result["errors"] = [{"row": e.row, "column": e.column, "reason": e.reason} for e in result.errors[:200]]
        job.save_file(error_report_bytes(result.errors), "import-errors.xlsx")
        raise JobFailed(N_("Nothing was imported: %(n)s errors. Download the error list, correct the rows "
                           "and import the file again."), n=len(result.errors))
    record("grid.imported", object_type="grid_node", user=job.user,
           summary=f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")
    return {
        "message": N_("Imported: %(created)s grids added, %(updated)s updated, %(unchanged)s unchanged."),
        "params": {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
        "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
    }
