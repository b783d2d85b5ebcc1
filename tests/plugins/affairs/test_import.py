"""Excel import of residents and houses: upsert by ID-card number, the two
modes, the error report, and files that cannot be read."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core.extensions import db
from core.jobs import Job
from plugins.affairs import services as S
from plugins.affairs.models import House, ImportJob, Resident

from .conftest import make_id


def xlsx(rows, headers=None, kind="residents", locale="zh_CN") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers or S.headers(kind, locale))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def resident_row(world, name, seq, room="101", zone=0, phone="13905530000", id_number=None):
    return [name, id_number or make_id("19850101", seq), phone, world.tree.zones[zone].code, "1", 1, room,
            "户籍人口", "否", "城乡居民社保", "在职"]


def upload(c, data, mode="good_rows", kind="residents", filename="people.xlsx"):
    resp = c.post("/affairs/import", data={"kind": kind, "mode": mode, "file": (io.BytesIO(data), filename)},
                  content_type="multipart/form-data")
    return resp


def last_job():
    return db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))


def last_core_job():
    return db.session.scalar(select(Job).where(Job.task == "affairs.import").order_by(Job.id.desc()))


def report_rows(c, job_id):
    resp = c.get(f"/jobs/{job_id}/file")
    assert resp.status_code == 200
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_upserts_by_id_number_and_reimport_changes_nothing(world, login):
    c = login("cadmin")
    rows = [resident_row(world, f"居民{i}", 100 + i, room=f"{500 + i // 3}") for i in range(30)]
    data = xlsx(rows)
    resp = upload(c, data)
    assert resp.status_code == 302
    job = last_job()
    assert (job.status, job.created_count, job.error_count) == ("done", 30, 0)
    core_job = last_core_job()
    assert resp.headers["Location"].endswith(f"/jobs/{core_job.id}") and job.job_id == core_job.id
    assert core_job.state == "done" and core_job.result["created"] == 30 and core_job.result["resumable"] is True
    c.post("/locale", data={"locale": "en"})
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "30 created, 0 updated, 0 unchanged, 0 rows with errors." in page
    n_res, n_houses = count(Resident), count(House)
    stamp = db.session.scalar(select(Resident.updated_at).where(Resident.name == "居民0"))
    upload(c, data)
    job = last_job()
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 30)
    assert count(Resident) == n_res and count(House) == n_houses
    assert db.session.scalar(select(Resident.updated_at).where(Resident.name == "居民0")) == stamp
    # A changed phone updates that one person.
    rows[3][2] = "13600000000"
    upload(c, xlsx(rows))
    job = last_job()
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 29)
    assert db.session.scalar(select(Resident.phone).where(Resident.name == "居民3")) == "13600000000"
    r = db.session.scalar(select(Resident).where(Resident.name == "居民1"))
    assert r.birth_date.year == 1985 and r.residence == "registered" and r.social_security == "resident"


def _mixed_file(world):
    good = resident_row(world, "好人", 201)
    bad_id = resident_row(world, "错号", 202, id_number=make_id("19850101", 202)[:-1] + "0"
                          if not make_id("19850101", 202).endswith("0") else make_id("19850101", 202)[:-1] + "1")
    outside = resident_row(world, "外区", 203, zone=8)  # community 2: outside the community admin's scope
    dup = resident_row(world, "重复", 201)
    bad_phone = resident_row(world, "错电话", 204, phone="55555")
    good2 = resident_row(world, "好人二", 205)
    return xlsx([good, bad_id, outside, dup, bad_phone, good2])


def test_good_rows_mode_applies_good_rows_and_reports_the_others(world, login):
    c = login("cadmin")
    c.post("/locale", data={"locale": "en"})
    resp = upload(c, _mixed_file(world))
    job = last_job()
    assert (job.created_count, job.error_count) == (2, 4)
    assert {r for (r,) in db.session.execute(select(Resident.name).where(Resident.name.like("好人%")))} == {"好人", "好人二"}
    assert db.session.scalar(select(func.count()).select_from(Resident).where(Resident.name.in_(["错号", "外区", "重复", "错电话"]))) == 0
    core_job = last_core_job()
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"/jobs/{core_job.id}/file" in page and "import-" in core_job.result["filename"]
    rows = report_rows(c, core_job.id)
    assert rows[0] == ("Row", "Column", "Reason")
    by_row = {r[0]: (r[1], r[2]) for r in rows[1:]}
    assert by_row[3][0] == "ID-card number" and "check digit" in by_row[3][1]
    assert by_row[4][0] == "Building grid code"
    assert by_row[5][0] == "ID-card number" and "row 2" in by_row[5][1]
    assert by_row[6][0] == "Phone"


def test_all_or_nothing_applies_nothing_when_a_row_is_wrong(world, login):
    c = login("cadmin")
    before = count(Resident)
    upload(c, _mixed_file(world), mode="all_or_nothing")
    job = last_job()
    assert job.status == "done" and job.error_count == 4 and job.created_count == 0
    assert count(Resident) == before
    core_job = last_core_job()
    assert core_job.result["resumable"] is False and core_job.result["message"].startswith("Nothing was stored")
    assert len(report_rows(c, core_job.id)) == 5
    # The same rows without the wrong ones go in whole.
    upload(c, xlsx([resident_row(world, "甲", 301), resident_row(world, "乙", 302)]), mode="all_or_nothing")
    assert last_job().created_count == 2 and count(Resident) == before + 2


def test_houses_import_and_english_headers(world, login):
    c = login("cadmin")
    rows = [[world.tree.zones[1].code, "2", 3, "302", "Residential", "Rented", 88],
            [world.tree.zones[1].code, "2", 3, "303", "住宅", "空置", ""]]
    upload(c, xlsx(rows, kind="houses", locale="en"), kind="houses")
    job = last_job()
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 0), last_core_job().error
    h = db.session.scalar(select(House).where(House.room == "302"))
    assert (h.occupancy, h.area_m2, h.unit) == ("rented", 88, "2")
    rows[0][5] = "自住"
    upload(c, xlsx(rows, kind="houses"), kind="houses")
    job = last_job()
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 1)


def test_unreadable_files_get_a_message_naming_the_expected_columns(world, login):
    c = login("cadmin")
    c.post("/locale", data={"locale": "en"})
    cols = ", ".join(S.headers("residents", "en"))
    # Wrong columns
    resp = upload(c, xlsx([["x", "y"]], headers=["姓名", "电话"]))
    job = last_core_job()
    assert last_job().status == "failed" and job.state == "failed"
    assert "Expected columns" in job.error and job.error_params == {"cols": cols}
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Expected columns" in page and cols in page
    # Not an xlsx at all, named .xlsx
    upload(c, b"name,phone\n", filename="people.xlsx")
    assert last_core_job().state == "failed" and "not an Excel" in last_core_job().error
    # Empty file
    upload(c, b"", filename="people.xlsx")
    assert last_core_job().state == "failed" and "empty" in last_core_job().error
    # A .csv is refused on the form, naming the columns
    body = upload(c, b"a,b\n", filename="people.csv").get_data(as_text=True)
    assert 'id="file-err"' in body and cols in body
    # Headers only
    upload(c, xlsx([]))
    assert last_job().status == "failed" and "no data rows" in last_core_job().error


def test_only_the_importer_sees_the_job(world, login):
    c = login("cadmin")
    upload(c, xlsx([resident_row(world, "甲", 401)]))
    job = last_core_job()
    assert c.get(f"/jobs/{job.id}").status_code == 200
    assert login("admin").get(f"/jobs/{job.id}").status_code == 404
    assert login("worker_a").get(f"/jobs/{job.id}").status_code == 404
    assert login("worker_a").get("/affairs/import").status_code == 403


def test_progress_polls_while_running(world, login):
    c = login("cadmin")
    upload(c, xlsx([resident_row(world, "甲", 501)]))
    job = last_core_job()
    from core import clock

    job.state, job.total, job.done, job.heartbeat_at = "running", 100, 40, clock.utcnow()
    db.session.commit()
    frag = c.get(f"/jobs/{job.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in frag and 'value="40"' in frag and "<html" not in frag
    # The import page lists it among the recent imports.
    assert f"/jobs/{job.id}" in c.get("/affairs/import").get_data(as_text=True)


def test_the_template_downloads_with_the_expected_headers(world, login):
    c = login("cadmin")
    resp = c.get("/affairs/import/template/residents.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [cell.value for cell in ws[1]] == S.headers("residents", "zh_CN")
    example = [cell.value for cell in ws[2]]
    assert S.parse_id_number(example[1])


def test_an_import_never_moves_a_resident_from_outside_the_importers_grids(world, login):
    c = login("cadmin")
    c.post("/locale", data={"locale": "en"})
    other = world.res_other  # lives in community 2
    row = resident_row(world, "冒名", 0, id_number=other.id_number)
    for mode in ("good_rows", "all_or_nothing"):
        upload(c, xlsx([row, resident_row(world, "正常", 601)]), mode=mode)
        job = last_job()
        assert job.error_count == 1
        assert "outside your grids" in report_rows(c, last_core_job().id)[1][2]
    db.session.refresh(other)
    assert other.name == "王丙" and other.node_id == world.tree.zones[8].id


def test_run_import_is_a_plain_function_that_reports_progress_to_its_job(world, login):
    """The core.jobs task: run_import(job, import_id) with progress through job.progress."""
    from flask import current_app

    from core import uploads

    class FakeJob:
        id = None

        def __init__(self):
            self.calls = []

        def progress(self, done, total=None):
            self.calls.append((done, total))

        def save_file(self, data, filename):
            raise AssertionError("no errors, no report")

    rows = [resident_row(world, f"居民{i}", 300 + i, room=f"{700 + i}") for i in range(5)]
    with current_app.test_request_context():
        stored = uploads.save_bytes("affairs", xlsx(rows), ".xlsx", "imports")
    job = ImportJob(kind="residents", mode="all_or_nothing", filename="p.xlsx", stored_path=stored,
                    scope=f'["{world.tree.district.path}"]', user_id=world.admin.id, node_id=world.tree.district.id)
    db.session.add(job)
    db.session.commit()
    fake = FakeJob()
    result = S.run_import(fake, job.id)
    done = db.session.get(ImportJob, job.id)
    assert (done.status, done.created_count, result["created"]) == ("done", 5, 5)
    assert fake.calls and fake.calls[-1][0] == 5
    assert not S.upload_path(stored).exists()  # the upload (personal data) is gone with the job


def test_all_or_nothing_stores_nothing_when_the_database_fails_late(world, login, monkeypatch):
    """A failure while applying the last part of a file leaves nothing of the
    file stored, and the user reads a sentence, not the database's SQL."""
    from plugins.affairs.services.imports import _Importer

    monkeypatch.setattr(_Importer, "CHUNK", 2)
    real_apply, calls = _Importer.apply, []

    def failing_apply(self, rows):
        calls.append(len(rows))
        if self.job.phase == "applying" and len(calls) >= 3:
            raise RuntimeError("INSERT INTO affairs_resident ... (psycopg.errors.SomethingBad)")
        return real_apply(self, rows)

    monkeypatch.setattr(_Importer, "apply", failing_apply)
    before = count(Resident)
    c = login("cadmin")
    rows = [resident_row(world, f"居民{i}", 400 + i, room=f"{800 + i}") for i in range(7)]
    upload(c, xlsx(rows), mode="all_or_nothing")
    db.session.expire_all()
    job = last_job()
    assert job.status == "failed"
    assert count(Resident) == before
    core_job = last_core_job()
    assert core_job.state == "failed" and "nothing was stored" in core_job.error
    assert "INSERT" not in core_job.error_text and "psycopg" not in core_job.error_text


def test_good_rows_mode_stops_with_the_batches_before_stored_and_a_retry_resumes(world, login, monkeypatch):
    """Good rows commit in batches upserted by ID-card number: a job that fails
    (or whose consumer dies) half-way keeps the batches before; retry reads the
    file again, the stored rows come out unchanged, the rest is created."""
    from plugins.affairs.services.imports import _Importer

    monkeypatch.setattr(_Importer, "CHUNK", 2)
    real_apply, calls = _Importer.apply, []

    def failing_apply(self, rows):
        calls.append(len(rows))
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real_apply(self, rows)

    monkeypatch.setattr(_Importer, "apply", failing_apply)
    before = count(Resident)
    c = login("cadmin")
    rows = [resident_row(world, f"居民{i}", 450 + i, room=f"{900 + i}") for i in range(7)]
    upload(c, xlsx(rows), mode="good_rows")
    job = last_core_job()
    assert job.state == "failed" and job.error_params == {"n": 4}  # the rows stored before the failure
    assert count(Resident) == before + 4  # two batches of two
    assert c.post(f"/jobs/{job.id}/retry").status_code == 302
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == "done" and job.attempts == 2
    assert (job.result["created"], job.result["unchanged"]) == (3, 4)
    assert count(Resident) == before + 7
