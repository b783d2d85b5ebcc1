"""Big exports run as the core job "affairs.export": above the direct limit
the export page offers a button; the job writes the file (audited there) and
the user downloads it from the job's page."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from core.extensions import db
from core.jobs import Job
from core.models import AuditLog
from plugins.affairs import exports as X


def test_a_small_export_downloads_at_once(world, login):
    c = login("cadmin")
    resp = c.get("/affairs/export/residents.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("sheet")


def test_a_big_export_is_a_job_whose_file_is_downloaded_from_its_page(world, login, monkeypatch):
    monkeypatch.setattr(X, "DIRECT_LIMIT", 1)
    c = login("cadmin")
    c.post("/locale", data={"locale": "en"})
    page = c.get("/affairs/export/residents-full.xlsx").get_data(as_text=True)
    assert 'data-testid="export-job"' in page and "/affairs/export/residents_full/job" in page
    audits = db.session.scalar(select(func.count()).select_from(AuditLog))
    resp = c.post("/affairs/export/residents_full/job")
    job = db.session.scalar(select(Job).where(Job.task == "affairs.export").order_by(Job.id.desc()))
    assert resp.headers["Location"].endswith(f"/jobs/{job.id}")
    assert job.state == "done" and job.result["rows"] == 2, job.error  # community 1's residents only
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audits + 1
    assert "2 rows exported." in c.get(f"/jobs/{job.id}").get_data(as_text=True)
    ws = load_workbook(io.BytesIO(c.get(f"/jobs/{job.id}/file").data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 3 and {r[1] for r in rows[1:]} == {world.res_a.id_number, world.res_b.id_number}
    # The permission of the export is checked when it starts.
    assert login("worker_a").post("/affairs/export/residents_full/job").status_code == 403
    assert c.post("/affairs/export/nothing/job").status_code == 404
