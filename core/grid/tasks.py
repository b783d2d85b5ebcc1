"""The grid tree import as a background job: all or nothing, with progress,
and the error report as the job's result file."""

from __future__ import annotations

from ..audit import record
from ..excel import ImportFileError, error_report_bytes
from ..i18n import N_
from ..jobs import JobFailed
from ..security import scope_paths
from . import importer

TASK = "core.grid_import"


def grid_import(job, file: str, filename: str = "") -> dict:
    """Import a stored workbook (`file`, a name under the upload folder)."""
    from ..uploads import path_of

    paths = scope_paths("grid.import")  # the job runs as the user who started it

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
