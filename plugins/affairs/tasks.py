"""Background work of grid affairs: the Excel import.

`services.run_import(job, import_id)` already has the shape of a core.jobs
task (a job with ``progress(done, total)``, the import's id as its one
parameter). Until core.jobs is merged, `start_import` runs it in the request
(tests, AFFAIRS_IMPORT_INLINE) or in a thread of the web process; when the
job queue lands, this function becomes ``jobs.start("affairs.import",
params={"import_id": import_id}, ...)`` and the thread goes.
"""

from __future__ import annotations

from flask import current_app

from core.extensions import db

from .services import InlineJob, run_import


def start_import(import_id: int) -> None:
    app = current_app._get_current_object()
    if app.config.get("AFFAIRS_IMPORT_INLINE", app.testing):
        run_import(InlineJob(), import_id)
        return
    _start_thread(app, import_id)


def _start_thread(app, import_id: int):
    """Run the import in a thread of this process; its state lives in the
    database. (To be replaced by core.jobs: no threads in the web process.)"""
    import threading

    def target():
        with app.app_context():
            try:
                run_import(InlineJob(), import_id)
            finally:
                db.session.remove()

    t = threading.Thread(target=target, name=f"affairs-import-{import_id}", daemon=True)
    t.start()
    return t
