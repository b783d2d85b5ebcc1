"""The pages: intake, triage, sheets, the unit's side, return visit, ledgers,
analysis, scope and module switches."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.extensions import db
from core.modules import set_enabled
from plugins.inquiry import services as svc
from plugins.inquiry.models import AssignmentSheet, Event, Photo, Problem

from .conftest import node


def png(size=(40, 30), color="red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def report(client, world, **extra):
    b = node(world, "building", 0)
    data = {
        "community": str(world.tree.communities[0].id),
        "estate": str(world.tree.estates[0].id),
        "building": str(b.id),
        "zone": "",
        "description": "3栋楼道灯坏了",
        "address": "3栋2单元",
        "category_id": "",
        "reporter_name": "张三",
        "reporter_phone": "13912345678",
    }
    data.update(extra)
    return client.post("/inquiry/new", data=data, content_type="multipart/form-data")


def cats():
    return {c.code: c for c in svc.ensure_categories()}


def test_the_whole_loop_through_the_pages(client, login, world):
    login("worker1")
    resp = report(client, world, photos=[(io.BytesIO(png()), "a.png")])
    assert resp.status_code == 302, resp.data[:2000]
    p = db.session.scalar(select(Problem))
    assert p.channel == "grid_worker" and p.building_id == node(world, "building", 0).id
    photo = db.session.scalar(select(Photo))
    assert photo is not None and photo.filename.endswith(".jpg")
    assert client.get(f"/inquiry/photos/{photo.id}").status_code == 200

    login("comm1")
    page = client.get(f"/inquiry/p/{p.id}").get_data(as_text=True)
    assert "Triage" in page or "分拣" in page
    assert "139****5678" in page and "13912345678" not in page
    resp = client.post(f"/inquiry/p/{p.id}/verify", data={"category_id": cats()["power"].id, "unit_id": world.power.id,
                                                           "priority": "normal", "deadline_days": 5, "address": "3栋"})
    assert resp.status_code == 302, resp.data[:3000]
    client.post(f"/inquiry/p/{p.id}/sheet", data={"sheet_id": "new"})
    sheet = db.session.scalar(select(AssignmentSheet))
    assert sheet.number == 1
    printable = client.get(f"/inquiry/sheets/{sheet.id}/print").get_data(as_text=True)
    assert "供电公司" in printable and "sigline" in printable
    assert client.post(f"/inquiry/sheets/{sheet.id}/issue").status_code == 302
    db.session.expire_all()
    assert db.session.get(Problem, p.id).state == "issued"
    x = client.get(f"/inquiry/sheets/{sheet.id}.xlsx")
    assert x.status_code == 200 and x.data[:2] == b"PK"

    login("gd1")
    assert p.ref in client.get("/inquiry/unit").get_data(as_text=True)
    assert client.post(f"/inquiry/p/{p.id}/claim").status_code == 302
    resp = client.post(f"/inquiry/p/{p.id}/result", data={"result_text": "已更换灯具",
                                                           "photos": [(io.BytesIO(png(color="blue")), "b.png")]},
                       content_type="multipart/form-data")
    assert resp.status_code == 302

    login("worker1")
    assert client.post(f"/inquiry/p/{p.id}/visit", data={"outcome": "satisfied", "note": "很满意"}).status_code == 302
    db.session.expire_all()
    p = db.session.get(Problem, p.id)
    assert p.state == "closed"
    page = client.get(f"/inquiry/p/{p.id}").get_data(as_text=True)
    assert page.count('class="timeline"') == 1
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.problem_id == p.id)) == 7


def test_handler_sees_only_its_units_problems(client, login, world):
    p = svc.create_problem(node=node(world), description="x", channel="staff")
    svc.verify(p, world.community, category=cats()["power"], unit=world.power, priority="normal", deadline_days=5)
    s = svc.create_sheet(world.community)
    svc.add_to_sheet(s, p, world.community)
    svc.issue_sheet(s, world.community)
    db.session.commit()
    login("zj1")
    assert client.get(f"/inquiry/p/{p.id}").status_code == 404
    assert client.post(f"/inquiry/p/{p.id}/claim").status_code == 404
    assert p.ref not in client.get("/inquiry/unit").get_data(as_text=True)
    assert client.get("/inquiry/problems").status_code == 403
    login("gd1")
    assert client.get(f"/inquiry/p/{p.id}").status_code == 200


def test_problems_follow_their_estate_when_the_tree_moves_it(client, login, world):
    """wangge_node_moved: an estate moved to another community takes its problems along."""
    from core.grid.services import move_node

    estate = node(world, "estate", 0)
    p = svc.create_problem(node=node(world, "zone", 0), description="楼道灯坏了", channel="staff")
    db.session.commit()
    login("comm1")
    assert client.get(f"/inquiry/p/{p.id}").status_code == 200
    move_node(estate, world.tree.communities[1])
    db.session.commit()
    assert client.get(f"/inquiry/p/{p.id}").status_code == 404
    login("comm2")
    assert client.get(f"/inquiry/p/{p.id}").status_code == 200
    assert p.ref in client.get(f"/inquiry/problems?community={world.tree.communities[1].id}").get_data(as_text=True)


def test_community_admin_does_not_see_another_community(client, login, world):
    p = svc.create_problem(node=node(world, "zone", 15), description="别的社区", channel="staff")
    db.session.commit()
    login("comm1")
    assert client.get(f"/inquiry/p/{p.id}").status_code == 404
    assert p.ref not in client.get("/inquiry/problems").get_data(as_text=True)
    login("comm2")
    assert p.ref in client.get("/inquiry/problems").get_data(as_text=True)


def test_claiming_a_closed_problem_shows_a_message_and_changes_nothing(client, login, world):
    p = svc.create_problem(node=node(world), description="x", channel="staff")
    svc.verify(p, world.community, category=cats()["power"], unit=world.power, priority="normal", deadline_days=5)
    s = svc.create_sheet(world.community)
    svc.add_to_sheet(s, p, world.community)
    svc.issue_sheet(s, world.community)
    svc.claim(p, world.power_handler)
    svc.report_result(p, world.power_handler, "ok")
    svc.return_visit(p, world.community, "satisfied")
    db.session.commit()
    n = len(svc.timeline(p.id))
    login("gd1")
    resp = client.post(f"/inquiry/p/{p.id}/claim")
    assert resp.status_code == 409
    text = resp.get_data(as_text=True)
    assert "cannot be done now" in text or "现在不能" in text
    db.session.expire_all()
    assert len(svc.timeline(p.id)) == n


@pytest.mark.parametrize("extra,message", [
    ({"description": ""}, "Describe the problem"),
    ({"community": "", "estate": "", "building": ""}, "Choose where the problem is"),
    ({"photos": [(io.BytesIO(b"MZ not an image at all"), "virus.exe")]}, "is not a photo"),
    ({"photos": [(io.BytesIO(b"\xff" * (5 * 1024 * 1024 + 10)), "big.jpg")]}, "larger than 5 MB"),
])
def test_bad_report_is_refused_with_a_message_and_nothing_saved(client, login, world, extra, message):
    login("worker1")
    client.post("/locale", data={"locale": "en"})
    resp = report(client, world, **extra)
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert message in text
    assert "3栋2单元" in text  # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(Problem)) == 0
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_deadline_in_the_past_is_refused_on_the_page(client, login, world):
    p = svc.create_problem(node=node(world), description="x", channel="staff")
    db.session.commit()
    login("comm1")
    client.post("/locale", data={"locale": "en"})
    resp = client.post(f"/inquiry/p/{p.id}/verify", data={"category_id": cats()["power"].id, "unit_id": world.power.id,
                                                           "priority": "normal", "deadline_days": 5, "due_date": "2020-01-01"})
    assert resp.status_code == 422
    assert "The deadline is in the past" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Problem, p.id).state == "new"


def test_public_form_without_an_account(client, world):
    data = {"community": str(world.tree.communities[0].id), "estate": str(world.tree.estates[0].id),
            "address": "1号楼东侧", "description": "路灯不亮", "reporter_phone": "", "website": ""}
    resp = client.post("/inquiry/report", data=data)
    assert resp.status_code == 302 and "/report/thanks/WZ" in resp.headers["Location"]
    p = db.session.scalar(select(Problem))
    assert p.channel == "resident" and p.node_id == world.tree.estates[0].id


def test_public_form_honeypot_keeps_nothing(client, world):
    data = {"community": str(world.tree.communities[0].id), "address": "x", "description": "buy pills", "website": "http://spam"}
    resp = client.post("/inquiry/report", data=data)
    assert resp.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Problem)) == 0


def test_public_form_is_rate_limited(app_factory, world):
    app = app_factory(RATELIMIT_ENABLED=True, INQUIRY_PUBLIC_RATE_LIMIT="2 per minute")
    c = app.test_client()
    data = {"community": str(world.tree.communities[0].id), "address": "x", "description": "d"}
    codes = [c.post("/inquiry/report", data=data).status_code for _ in range(3)]
    assert codes == [302, 302, 429]


def test_module_off_for_a_community_answers_404_there(client, login, world):
    c1, c2 = world.tree.communities
    set_enabled(c1.id, "inquiry", False, None)
    db.session.commit()
    p = svc.create_problem(node=node(world), description="x", channel="staff")
    db.session.commit()
    login("district")
    assert client.get(f"/inquiry/panel/{c1.id}").status_code == 404
    assert client.get(f"/inquiry/problems?community={c1.id}").status_code == 404
    assert client.get(f"/inquiry/p/{p.id}").status_code == 404
    assert client.get(f"/inquiry/panel/{c2.id}").status_code == 200
    assert client.get(f"/inquiry/problems?community={c2.id}").status_code == 200


def test_lists_filters_exports_and_analysis(client, login, world):
    for i in range(3):
        p = svc.create_problem(node=node(world, "zone", 0), description=f"漏水{i}", channel="staff", category=cats()["water"],
                               reporter_phone="13800001111")
    svc.verify(p, world.community, category=cats()["water"], unit=world.housing, priority="urgent", deadline_days=3)
    svc.file_opinion(svc.create_problem(node=node(world), description="建议多种树", channel="resident"), world.community)
    db.session.commit()
    login("district")
    page = client.get("/inquiry/problems?state=triaged").get_data(as_text=True)
    assert "漏水2" in page and "漏水0" not in page
    assert "建议多种树" not in client.get("/inquiry/problems").get_data(as_text=True)
    assert "建议多种树" in client.get("/inquiry/ledger").get_data(as_text=True)
    frag = client.get(f"/inquiry/problems?category={cats()['water'].id}", headers={"HX-Request": "true"})
    assert "<html" not in frag.get_data(as_text=True) and "漏水1" in frag.get_data(as_text=True)
    for url in ("/inquiry/problems.xlsx?state=open", "/inquiry/ledger.xlsx"):
        r = client.get(url)
        assert r.status_code == 200 and r.data[:2] == b"PK"
    a = client.get("/inquiry/analysis").get_data(as_text=True)
    assert "data-chart" in a and "echarts-5.6.0" in a
    assert "Hotspots" in a or "热点" in a
    assert client.get("/inquiry/").status_code == 200
    assert client.get("/inquiry/overdue").status_code == 200
    assert client.get("/inquiry/widgets/summary").status_code == 200
    assert client.get(f"/inquiry/panel/{node(world, 'estate').id}").status_code == 200
    assert client.get("/inquiry/settings").status_code == 200
    assert client.get("/inquiry/sheets").status_code == 200
    assert client.get("/").status_code == 200


def test_contact_in_full_is_a_logged_permission(client, login, world):
    from core.models import AuditLog

    p = svc.create_problem(node=node(world), description="x", channel="staff", reporter_phone="13912345678")
    db.session.commit()
    login("worker1")
    assert client.post(f"/inquiry/p/{p.id}/contact").status_code == 403
    login("comm1")
    resp = client.post(f"/inquiry/p/{p.id}/contact", follow_redirects=True)
    assert "13912345678" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "inquiry.contact_view")) == 1


def test_visit_hook_creates_a_problem(app, world):
    from core.plugins import call_for_community

    ref = call_for_community(app, "wangge_report_problem", world.tree.communities[0].id, node_id=node(world).id,
                             description="走访发现：井盖缺失", reporter_name="李四", reporter_phone="", channel="visit",
                             user_id=world.worker.id, source_ref="visit:1")
    assert ref and ref.startswith("WZ")
    assert db.session.scalar(select(Problem).where(Problem.ref == ref)).channel == "visit"
    # An opinion taken at a pioneer station keeps its channel.
    ref = call_for_community(app, "wangge_report_problem", world.tree.communities[0].id, node_id=node(world).id,
                             description="驿站收集：楼道堆物", reporter_name="王五", reporter_phone="", channel="station",
                             user_id=None, source_ref="station:1")
    assert db.session.scalar(select(Problem).where(Problem.ref == ref)).channel == "station"
    set_enabled(world.tree.communities[0].id, "inquiry", False, None)
    db.session.commit()
    from flask import g

    g.pop("wangge_enabled", None)
    assert call_for_community(app, "wangge_report_problem", world.tree.communities[0].id, node_id=node(world).id,
                              description="x", reporter_name="", reporter_phone="", channel="visit",
                              user_id=None, source_ref="") is None


def test_node_holders_name_the_problems(app, world):
    svc.create_problem(node=node(world), description="x", channel="staff")
    db.session.commit()
    pm = app.extensions["wangge"].pm
    out = [r for rs in pm.hook.wangge_node_holders(node_ids=[node(world).id]) for r in rs]
    assert any(n == 1 and ("problems" in str(label) or "问题" in str(label)) for label, n in out)


def _issued_to_power(world):
    p = svc.create_problem(node=node(world), description="路灯坏了", channel="staff")
    svc.verify(p, world.community, category=cats()["power"], unit=world.power, priority="normal", deadline_days=5)
    s = svc.create_sheet(world.community)
    svc.add_to_sheet(s, p, world.community)
    svc.issue_sheet(s, world.community)
    db.session.commit()
    return p


def test_extension_asked_by_the_unit_and_decided_by_the_community(client, login, world):
    from plugins.inquiry.models import Extension

    p = _issued_to_power(world)
    old = p.deadline
    login("gd1")
    assert client.post(f"/inquiry/p/{p.id}/extension", data={"days": 3, "reason": "需要停电检修"}).status_code == 302
    assert client.post(f"/inquiry/p/{p.id}/extension", data={"days": 3, "reason": "again"}).status_code == 422
    ext = db.session.scalar(select(Extension))
    login("comm1")
    assert "需要停电检修" in client.get(f"/inquiry/p/{p.id}").get_data(as_text=True)
    assert client.post(f"/inquiry/p/{p.id}/extension/{ext.id}", data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Problem, p.id).deadline > old and db.session.get(Extension, ext.id).state == "approved"


def test_return_by_the_unit_goes_back_to_triage(client, login, world):
    p = _issued_to_power(world)
    login("gd1")
    assert client.post(f"/inquiry/p/{p.id}/return", data={"reason": ""}).status_code == 422
    assert client.post(f"/inquiry/p/{p.id}/return", data={"reason": "属于住建局"}).status_code == 302
    assert client.get(f"/inquiry/p/{p.id}").status_code == 404  # no longer the unit's
    db.session.expire_all()
    assert db.session.get(Problem, p.id).state == "returned"
    login("comm1")
    assert "属于住建局" in client.get(f"/inquiry/p/{p.id}").get_data(as_text=True)


def test_supervision_by_the_district_is_shown_to_the_unit(client, login, world):
    p = _issued_to_power(world)
    login("comm1")
    assert client.post(f"/inquiry/p/{p.id}/supervise", data={"note": "x"}).status_code == 403
    login("district")
    assert client.post(f"/inquiry/p/{p.id}/supervise", data={"note": "超期督办"}).status_code == 302
    login("gd1")
    page = client.get(f"/inquiry/p/{p.id}").get_data(as_text=True)
    assert "区里已对该问题督办" in page


def test_follow_up_check_after_close_out(client, login, world):
    p = _issued_to_power(world)
    svc.claim(p, world.power_handler)
    svc.report_result(p, world.power_handler, "ok")
    svc.return_visit(p, world.community, "basically_satisfied")
    db.session.commit()
    login("worker1")
    assert client.post(f"/inquiry/p/{p.id}/followup", data={"note": ""}).status_code == 422
    assert client.post(f"/inquiry/p/{p.id}/followup", data={"note": "未反弹"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Problem, p.id).followup_done_at is not None


def test_district_admin_issues_and_revokes_an_open311_key(client, login, world):
    from plugins.inquiry.models import ApiKey

    login("comm1")
    assert client.get("/inquiry/settings").status_code == 403
    login("district")
    resp = client.post("/inquiry/settings", data={"action": "key", "key-name": "12345 热线"})
    assert resp.status_code == 200
    key = db.session.scalar(select(ApiKey))
    assert key.name == "12345 热线" and key.prefix in resp.get_data(as_text=True)
    client.post("/inquiry/settings", data={"action": "key_revoke", "key_id": key.id})
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).revoked_at is not None
