"""The audit log: written by the actions it records, append-only, filterable, exportable."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.audit import record
from core.extensions import db
from core.models import AuditLog
from tests import factories


@pytest.fixture
def boss(client, tree, login):
    factories.make_user("boss", "district_admin", tree.district)
    login("boss")
    return client


def test_user_changes_are_written_with_who_and_what(boss, tree):
    boss.post(
        "/admin/users/new",
        data={
            "username": "wang", "display_name": "王", "password": "long-password", "active": "y",
            "organisation_id": "0", "g-role": "grid_worker", "g-node_code": tree.zones[0].code,
        },
    )
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.created"))
    assert entry.username == "boss" and entry.object_type == "user_account"
    assert entry.summary == f"grid_worker@{tree.zones[0].code}"
    assert entry.community_id == tree.communities[0].id and entry.ip == "127.0.0.1"


def test_the_log_is_append_only(app, tree):
    entry = record("test.entry", summary="first")
    db.session.commit()
    entry.summary = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditLog, entry.id))
    with pytest.raises(ValueError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditLog, entry.id).summary == "first"


def test_the_audit_page_filters(boss):
    record("grid.node.created", summary="新建一栋楼")
    record("user.disabled", summary="停用了账号")
    db.session.commit()
    page = boss.get("/admin/audit?action=user").get_data(as_text=True)
    assert "停用了账号" in page and "新建一栋楼" not in page
    frag = boss.get("/admin/audit?action=grid", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "新建一栋楼" in frag and "停用了账号" not in frag and "<html" not in frag
    page = boss.get("/admin/audit?user=nobody-like-this").get_data(as_text=True)
    assert "新建一栋楼" not in page


def test_a_community_admin_reads_only_their_community_s_entries(client, tree, login):
    c1, c2 = tree.communities
    record("x.one", summary="一社区的事", community_id=c1.id)
    record("x.two", summary="二社区的事", community_id=c2.id)
    db.session.commit()
    factories.make_user("ca1", "community_admin", c1)
    login("ca1")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "一社区的事" in page and "二社区的事" not in page


def test_xlsx_export(boss):
    record("x.export", summary="=1+2 导出我")
    db.session.commit()
    resp = boss.get("/admin/audit/export.xlsx?action=x.")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert rows[0][2] == "操作"
    assert [r[5] for r in rows[1:]] == ["'=1+2 导出我"]  # filtered, and a formula neutralised
    # Reading the log is itself written to it.
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "audit.exported")) is not None


def test_csv_export(boss):
    record("x.csv", summary="逗号, 和引号\"")
    db.session.commit()
    resp = boss.get("/admin/audit/export.csv?action=x.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel opens UTF-8 CSV with a BOM correctly
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][2] == "操作" and rows[1][2] == "x.csv" and rows[1][5] == "逗号, 和引号\""


def test_record_takes_the_community_from_the_object(app):
    from core.audit import record
    from core.extensions import db

    t = factories.build_tree()
    zone = t.zones[-1]
    entry = record("test.touched", zone, summary="a zone")
    db.session.commit()
    assert entry.community_id == zone.community_id == t.communities[-1].id
    assert record("test.district", t.district).community_id is None
    assert record("test.given", zone, community_id=t.communities[0].id).community_id == t.communities[0].id
