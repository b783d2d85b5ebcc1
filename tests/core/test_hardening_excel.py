"""Input that breaks output, and spreadsheets that exhaust the server
(issue 11, items 5 and 6): core.text.clean, the exporters, the upload limits."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from core import excel
from core.audit import record
from core.extensions import db
from core.text import clean, clean_line
from tests import factories

NASTY = "王\x00五\x1b[31m\x07\x0b\x7f\x85\ufffe正常\t文本\n第二行"


def test_clean_drops_control_characters_and_keeps_text():
    assert clean(NASTY) == "王五[31m正常\t文本\n第二行"
    assert clean_line(NASTY) == "王五[31m正常 文本 第二行"
    assert clean(None) is None and clean(5) == 5
    assert clean("\ud800x") == "x"


def test_the_xlsx_export_survives_control_characters_and_neutralises_formulas(app):
    data = excel.workbook_bytes(["名称\x01", "值"], [(NASTY, 1), ("=HYPERLINK(\"http://x\")", "-2+3"), ("@SUM(A1)", None)], title="a/b:c\x02")
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("名称", "值")
    assert rows[1][0] == "王五[31m正常\t文本\n第二行"
    assert rows[2] == ("'=HYPERLINK(\"http://x\")", "'-2+3")
    assert rows[3][0] == "'@SUM(A1)"


def test_the_audit_exports_with_a_control_character_answer_200_and_the_csv_is_safe(client, tree, login):
    factories.make_user("boss", "district_admin", tree.district)
    record("note", object_type="x", summary='=HYPERLINK("http://evil","点我")\x00\x1b')
    record("note", object_type="x", summary="+cmd|' /C calc'!A0")
    db.session.commit()
    login("boss")
    assert client.get("/admin/audit/export.xlsx").status_code == 200
    resp = client.get("/admin/audit/export.csv")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    text = resp.get_data(as_text=True).lstrip("\ufeff")
    assert "\x00" not in text and "\x1b" not in text
    summaries = [row[5] for row in csv.reader(io.StringIO(text))][1:]
    assert "'=HYPERLINK(\"http://evil\",\"点我\")" in summaries
    assert "'+cmd|' /C calc'!A0" in summaries
    assert all(s[:1] not in "=+-@" for s in summaries if s)


def _xlsx_with(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _good_xlsx() -> bytes:
    return excel.template_bytes(["姓名", "电话"], example=["张三", "13800000000"])


def test_a_good_file_still_reads(app):
    rows = list(excel.read_rows(_good_xlsx(), ["姓名", "电话"]))
    assert rows == [(2, {"姓名": "张三", "电话": "13800000000"})]


def test_a_zip_bomb_is_refused_before_parsing(app_factory):
    app = app_factory(XLSX_MAX_UNPACKED=2 * 1024 * 1024)
    bomb = _xlsx_with({"[Content_Types].xml": b"<x/>", "xl/worksheets/sheet1.xml": b"<a>" + b"0" * (20 * 1024 * 1024) + b"</a>"})
    assert len(bomb) < 100 * 1024
    with app.test_request_context():
        with pytest.raises(excel.ImportFileError) as err:
            list(excel.read_rows(bomb, ["姓名"]))
    assert "2 MB" in str(err.value) and "解压" in str(err.value)


def test_a_zip_that_lies_about_its_sizes_is_measured_while_unpacking(app_factory):
    app = app_factory(XLSX_MAX_UNPACKED=1024 * 1024)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"1" * (8 * 1024 * 1024))
    raw = bytearray(buf.getvalue())
    # Patch the declared uncompressed size (local header and central directory) down to 10 bytes.
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(sig)
        raw[at + offset:at + offset + 4] = (10).to_bytes(4, "little")
    with app.test_request_context():
        with pytest.raises(excel.ImportFileError):
            list(excel.read_rows(bytes(raw), ["姓名"]))


def test_too_many_members_or_shared_strings_are_refused(app_factory):
    app = app_factory(XLSX_MAX_MEMBERS=50, XLSX_MAX_SHARED_STRINGS=1000)
    many = _xlsx_with({f"xl/media/{i}.xml": b"<x/>" for i in range(60)})
    sst = b"<sst>" + b"<si><t>x</t></si>" * 5000 + b"</sst>"
    strings = _xlsx_with({"[Content_Types].xml": b"<x/>", "xl/sharedStrings.xml": sst})
    with app.test_request_context():
        with pytest.raises(excel.ImportFileError, match="60"):
            list(excel.read_rows(many, ["姓名"]))
        with pytest.raises(excel.ImportFileError, match="1000"):
            list(excel.read_rows(strings, ["姓名"]))
        # A real template passes the same limits.
        assert list(excel.read_rows(_good_xlsx(), ["姓名", "电话"]))
