"""Importing a tree from Excel: a background job (immediate in tests), all
or nothing, with row-level errors on the job's page and in its error list."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core.extensions import db
from core.grid.importer import HEADERS
from core.models import GridNode
from tests.factories import make_user

from .conftest import row_counts


def xlsx(rows, headers=HEADERS) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r) + [None] * (len(headers) - len(r)))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def upload(client, data, filename="tree.xlsx"):
    return client.post("/grid/import", data={"file": (data, filename)}, content_type="multipart/form-data")


# What a queued import adds whatever its outcome: the job, its notification, audit entries.
BOOKKEEPING = {"job", "notification", "audit_log"}


def data_counts() -> dict[str, int]:
    return {k: v for k, v in row_counts().items() if k not in BOOKKEEPING}


def job_page(client, resp):
    """Follow the import's redirect to its job page (the job ran at once in tests)."""
    assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"], resp.get_data(as_text=True)[:300]
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.fixture
def admin(client, tree, login):
    make_user("boss", "district_admin", tree.district)
    login("boss")
    client.post("/locale", data={"locale": "en"})
    return client


def good_rows(tree):
    c = tree.communities[0].code
    return [
        ("小区", "N-E1", "新华小区", c, 3),
        ("楼栋", "N-E1-B1", "1栋", "N-E1", 1),
        ("党员责任区", "N-E1-B1-Z1", "1单元", "N-E1-B1", 1, None, None, "刘党员"),
        ("community", "N-C9", "新社区", tree.district.code, 9, "湾沚大道1号", "新社区党委", "陈书记", "13800000000"),
    ]


def test_a_good_file_imports_and_re_importing_it_duplicates_nothing(admin, tree):
    body = job_page(admin, upload(admin, xlsx(good_rows(tree))))
    assert 'data-state="done"' in body and "Imported: 4 grids added" in body
    zone = db.session.scalar(select(GridNode).where(GridNode.code == "N-E1-B1-Z1"))
    assert zone.level == "zone" and zone.party_leader == "刘党员"
    assert zone.community_id == tree.communities[0].id and zone.path.startswith(tree.communities[0].path)
    db.session.refresh(tree.district)
    assert (tree.district.n_communities, tree.district.n_estates, tree.district.n_zones) == (3, 5, 17)
    before = data_counts()
    rows = good_rows(tree)
    rows[0] = ("小区", "N-E1", "新华小区(改名)", tree.communities[0].code, 3)
    body = job_page(admin, upload(admin, xlsx(rows)))
    assert "1 updated" in body
    after = data_counts()
    assert after["grid_node"] == before["grid_node"]
    assert db.session.scalar(select(GridNode.name).where(GridNode.code == "N-E1")) == "新华小区(改名)"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (("小区", "X-1", "无父小区", "NOPE"), "上级编码 (parent code)", "neither in the tree nor in this file"),
        (("楼栋", "X-2", "错层楼", "COMMUNITY"), "层级 (level)", "cannot sit under"),
        (("小区", "ESTATE0", "重复编码", "COMMUNITY"), "网格编码 (code)", None),
        (("小区", "X-4", "", "COMMUNITY"), "名称 (name)", "name is empty"),
        (("乡镇", "X-5", "未知层级", "COMMUNITY"), "层级 (level)", "Unknown level"),
    ],
)
def test_bad_rows_refuse_the_whole_file(admin, tree, row, column, reason):
    c = tree.communities[0].code
    row = tuple({"COMMUNITY": c, "ESTATE0": tree.estates[0].code}.get(v, v) if isinstance(v, str) else v for v in row)
    rows = [("小区", "OK-1", "好小区", c, 1), row]
    bad_row = 3
    if row[1] == tree.estates[0].code:
        # An existing code under another parent, and the same code twice in the file.
        rows = [("小区", "OK-1", "好小区", c, 1), ("小区", "DUP", "甲", c), ("小区", "DUP", "乙", c)]
        column, reason, bad_row = "网格编码 (code)", "appears twice", 4
    before = data_counts()
    body = job_page(admin, upload(admin, xlsx(rows)))
    assert 'data-state="failed"' in body and "Nothing was imported" in body
    assert column in body and reason in body
    assert f'class="num">{bad_row}<' in body  # the row number of the bad row
    assert data_counts() == before
    assert db.session.scalar(select(func.count()).select_from(GridNode).where(GridNode.code == "OK-1")) == 0


def test_the_error_list_downloads_as_excel(admin, tree):
    body = job_page(admin, upload(admin, xlsx([("小区", "X-1", "", "NOPE")])))
    import re

    link = re.search(r'href="(/jobs/\d+/file)"', body).group(1)
    report = admin.get(link)
    ws = load_workbook(io.BytesIO(report.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:2] == (2, "名称 (name)") and len(rows) == 2


@pytest.mark.parametrize(
    ("payload", "filename"),
    [(b"level,code\ncommunity,1\n", "tree.csv"), (b"not a zip at all", "tree.xlsx"), (b"", "tree.xlsx")],
)
def test_a_wrong_file_type_is_refused(admin, tree, payload, filename):
    before = row_counts()
    resp = upload(admin, io.BytesIO(payload), filename)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "xlsx" in body or "empty" in body or "Choose a file" in body
    assert row_counts() == before


def test_wrong_columns_name_the_expected_ones(admin, tree):
    body = job_page(admin, upload(admin, xlsx([("a", "b")], headers=["level", "code"])))
    assert 'data-state="failed"' in body and "Expected columns" in body


def test_export_of_a_subtree_re_imports_unchanged(admin, tree):
    resp = admin.get(f"/grid/node/{tree.communities[0].id}/export.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert tuple(rows[0]) == HEADERS
    assert len(rows) == 1 + 1 + 2 + 4 + 8  # header, community, its estates, buildings, zones
    before = row_counts()
    body = job_page(admin, upload(admin, io.BytesIO(resp.data)))
    assert 'data-state="done"' in body
    assert row_counts()["grid_node"] == before["grid_node"]


def test_the_template_downloads_and_only_district_admins_import(client, tree, login):
    make_user("cadmin", "community_admin", tree.communities[0])
    login("cadmin")
    assert client.get("/grid/import").status_code == 403
    make_user("boss", "district_admin", tree.district)
    login("boss")
    resp = client.get("/grid/import/template.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert tuple(next(ws.iter_rows(values_only=True))) == HEADERS


def test_another_user_cannot_see_the_import_job_or_its_error_list(admin, tree, client, login):
    resp = upload(admin, xlsx([("小区", "X-1", "", "NOPE")]))
    job_url = resp.headers["Location"]
    make_user("boss2", "district_admin", tree.district)
    login("boss2")
    assert client.get(job_url).status_code == 404
    assert client.get(job_url.rstrip("/") + "/file").status_code == 404
