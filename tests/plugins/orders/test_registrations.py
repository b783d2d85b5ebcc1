"""Registration with the home community (双报到): the member's form, the
community's confirmation or return, the unit's view, status and import."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core.extensions import db
from core.models import RoleGrant
from plugins.orders.models import Registration
from plugins.orders.services.registrations import IMPORT_COLUMNS
from tests import factories


def _form(world, **over):
    data = {"community_id": world.c1.id, "employer_org_id": world.unit.id, "employer_name": "",
            "party_branch": "机关党支部", "address": "测试1社区2号小区1栋2区", "phone": "139 0000 1111",
            "skills": "调解，法律", "resources": "法律咨询", "hours_per_month": "6"}
    data.update(over)
    return data


def test_a_member_registers_and_the_community_confirms(client, world, login):
    user = factories.make_user("newbie", display_name="新党员")
    login("newbie")
    resp = client.post("/orders/register", data=_form(world))
    assert resp.status_code == 302
    reg = db.session.scalar(select(Registration).where(Registration.user_id == user.id))
    assert reg.state == "submitted" and reg.phone == "13900001111"
    assert reg.skills == "调解, 法律"
    assert reg.home_node.name == "1栋2区" and reg.home_node.community_id == world.c1.id  # matched to the zone
    assert "待确认" in client.get("/orders/me").get_data(as_text=True)

    login("admin1")
    page = client.get("/orders/registrations").get_data(as_text=True)
    assert "新党员" in page and "13900001111" not in page and "139****1111" in page  # masked
    assert client.post(f"/orders/registrations/{reg.id}/confirm").status_code == 302
    db.session.expire_all()
    assert reg.state == "confirmed"
    assert db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == "member",
                                                     RoleGrant.node_id == world.c1.id)) is not None


def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(client, world, login):
    factories.make_user("newbie")
    login("newbie")
    before = db.session.scalar(select(func.count()).select_from(Registration))
    resp = client.post("/orders/register", data=_form(world, phone="12", address="锦绣花园"))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "请输入 7 到 11 位电话号码" in html and 'value="锦绣花园"' in html
    resp = client.post("/orders/register", data=_form(world, employer_org_id="0", employer_name=""))
    assert "请填写工作单位" in resp.get_data(as_text=True)
    resp = client.post("/orders/register", data=_form(world, hours_per_month="many"))
    assert resp.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Registration)) == before


def test_returning_needs_a_reason_and_the_member_sees_it(client, world, login):
    user = factories.make_user("newbie")
    login("newbie")
    client.post("/orders/register", data=_form(world))
    reg = db.session.scalar(select(Registration).where(Registration.user_id == user.id))
    login("admin1")
    resp = client.post(f"/orders/registrations/{reg.id}/return", data={"reason": ""})
    assert resp.status_code == 422 and "请填写退回理由" in resp.get_data(as_text=True)
    client.post(f"/orders/registrations/{reg.id}/return", data={"reason": "请补充党支部全称"})
    login("newbie")
    page = client.get("/orders/me").get_data(as_text=True)
    assert "已退回" in page and "请补充党支部全称" in page


def test_another_communitys_admin_gets_404(client, world, login):
    reg = db.session.scalar(select(Registration).where(Registration.community_id == world.c1.id))
    login("admin2")
    assert client.get(f"/orders/registrations/{reg.id}").status_code == 404
    assert client.post(f"/orders/registrations/{reg.id}/confirm").status_code == 404
    assert client.post(f"/orders/registrations/{reg.id}/return", data={"reason": "x"}).status_code == 404


def test_a_unit_handler_sees_only_its_own_members(client, world, login):
    login("cz1")
    page = client.get("/orders/unit").get_data(as_text=True)
    assert "党员mem1" in page and "党员mem3" in page      # the unit's members, in both communities
    assert "党员mem2" not in page                          # another unit's member
    login("sw1")
    page = client.get("/orders/unit").get_data(as_text=True)
    assert "党员mem2" in page and "党员mem1" not in page
    login("mem1")
    assert client.get("/orders/unit").status_code == 403


def test_status_per_community_and_unit_and_its_export(client, world, login):
    login("district")
    page = client.get("/orders/registrations/status").get_data(as_text=True)
    assert "测试1社区" in page and "湾沚区财政局" in page
    resp = client.get("/orders/export/status.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = {r[0]: r[1:] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["测试1社区"] == (0, 2, 0) and rows["湾沚区财政局"] == (0, 2, 0)
    resp = client.get("/orders/export/registrations.xlsx")
    assert resp.status_code == 200
    names = [r[0] for r in load_workbook(io.BytesIO(resp.data)).active.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["党员mem1", "党员mem2", "党员mem3"]


def _xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(list(IMPORT_COLUMNS))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


GOOD = ["李四", "13700001111", "湾沚区财政局", "机关党支部", "测试1社区", "测试1社区1号小区1栋1区", "调解", 6]
BAD = ["王五", "123", "湾沚区财政局", "", "测试1社区", "", "", 4]
OUTSIDE = ["赵六", "13700002222", "湾沚区财政局", "", "测试2社区", "", "", 4]


def test_import_is_all_or_nothing_with_a_row_error_report(client, world, login):
    login("admin1")
    before = db.session.scalar(select(func.count()).select_from(Registration))
    resp = client.post("/orders/registrations/import", data={"file": (_xlsx([GOOD, BAD, OUTSIDE]), "m.xlsx")},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "2 行有错误" in html and "未保存任何数据" in html
    assert db.session.scalar(select(func.count()).select_from(Registration)) == before
    report = client.get("/orders/registrations/import/errors")
    rows = list(load_workbook(io.BytesIO(report.data)).active.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in rows] == [(3, "手机"), (4, "报到社区")]  # row and column named


def test_import_of_good_rows_and_reimport_updates(client, world, login):
    login("admin1")
    before = db.session.scalar(select(func.count()).select_from(Registration))
    client.post("/orders/registrations/import", data={"file": (_xlsx([GOOD, BAD]), "m.xlsx"), "keep_good": "y"},
                content_type="multipart/form-data")
    assert db.session.scalar(select(func.count()).select_from(Registration)) == before + 1
    changed = list(GOOD)
    changed[6] = "调解, 法律"
    client.post("/orders/registrations/import", data={"file": (_xlsx([changed]), "m.xlsx")},
                content_type="multipart/form-data")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Registration)) == before + 1
    reg = db.session.scalar(select(Registration).where(Registration.phone == "13700001111"))
    assert reg.skills == "调解, 法律" and reg.state == "confirmed" and reg.employer_org_id == world.unit.id


def test_import_rejects_a_file_that_is_not_excel(client, world, login):
    login("admin1")
    resp = client.post("/orders/registrations/import", data={"file": (io.BytesIO(b"hello"), "m.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and "Excel" in resp.get_data(as_text=True)
