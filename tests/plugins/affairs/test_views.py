"""Pages of grid affairs as users meet them: masking, the audited reveal,
scope, bad input next to the field, the module switch, the hand-off of a
problem found on a visit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.models import AuditLog
from core.modules import set_enabled
from core.plugins import Module
from plugins.affairs.models import House, Resident, Visit
from tests.core.fakes import plugin

from .conftest import make_id


def text(resp):
    return resp.get_data(as_text=True)


def test_lists_mask_id_numbers_and_phones(world, login):
    c = login("cadmin")
    body = text(c.get("/affairs/residents"))
    assert world.res_a.name in body
    assert world.res_a.id_number not in body
    assert world.res_a.id_number[:6] + "********" + world.res_a.id_number[-4:] in body
    assert "139****1234" in body and "13905531234" not in body


def test_seeing_in_full_is_a_permission_and_is_audited(world, login):
    c = login("worker_a")
    assert c.post(f"/affairs/residents/{world.res_a.id}/reveal").status_code == 403
    page = text(c.get(f"/affairs/residents/{world.res_a.id}"))
    assert world.res_a.id_number not in page
    c = login("cadmin")
    resp = c.post(f"/affairs/residents/{world.res_a.id}/reveal")
    assert resp.status_code == 200 and world.res_a.id_number in text(resp)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "affairs.resident.reveal"))
    assert entry.username == "cadmin" and entry.object_id == str(world.res_a.id)


def test_exports_with_personal_data_are_audited(world, login):
    c = login("cadmin")
    resp = c.get("/affairs/export/residents-full.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("sheet")
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "affairs.export.residents_full")) == 1
    assert login("worker_a").get("/affairs/export/residents-full.xlsx").status_code == 403


def test_a_grid_worker_sees_only_residents_under_their_grids(world, login):
    c = login("worker_a")
    body = text(c.get("/affairs/residents"))
    assert world.res_a.name in body
    assert world.res_b.name not in body and world.res_other.name not in body
    assert c.get(f"/affairs/residents/{world.res_b.id}").status_code == 404
    assert c.get(f"/affairs/houses/{world.house_other.id}").status_code == 404
    assert c.get(f"/affairs/panels/residents/{world.tree.communities[1].id}").status_code == 404
    # The community admin sees the whole community, not the other one.
    body = text(login("cadmin").get("/affairs/residents"))
    assert world.res_a.name in body and world.res_b.name in body and world.res_other.name not in body


def _resident_form(world, **over):
    data = {
        "name": "赵新", "id_number": make_id("19900505", 21), "phone": "13800001111",
        "building": world.tree.zones[0].code, "unit": "1", "room": "101",
        "household_id": "0", "residence": "registered", "social_security": "resident", "employment": "employed",
    }
    data.update(over)
    return data


def test_a_resident_is_saved_with_birth_date_and_sex_from_the_id(world, login):
    c = login("worker_a")
    resp = c.post("/affairs/residents/new", data=_resident_form(world))
    assert resp.status_code == 302
    r = db.session.scalar(select(Resident).where(Resident.name == "赵新"))
    assert r.birth_date == dt.date(1990, 5, 5) and r.sex == "M" and r.house_id == world.house_a.id


def test_bad_input_gets_a_message_next_to_the_field_and_saves_nothing(world, login):
    c = login("worker_a")
    c.post("/locale", data={"locale": "en"})
    before = db.session.scalar(select(func.count()).select_from(Resident))
    good = make_id("19900505", 21)
    cases = [
        ({"id_number": good[:-1] + ("1" if good[-1] != "1" else "2")}, "id_number", "check digit"),
        ({"id_number": make_id("19900230", 21)}, "id_number", "birth date"),
        ({"phone": "12345"}, "phone", "11-digit"),
        ({"building": "", "room": ""}, "room", "lives in a house"),
        ({"room": "999"}, "room", "add the house first"),
        ({"building": world.tree.zones[8].code}, "building", "not in your grids".replace("not in", "no building with this grid code in")),
    ]
    for over, field, words in cases:
        resp = c.post("/affairs/residents/new", data=_resident_form(world, **over))
        body = text(resp)
        assert resp.status_code == 200, over
        assert f'id="{field}-err"' in body, (over, body[body.find("error"):][:300])
        err = body[body.find(f'id="{field}-err"'):][:300]
        assert words.split()[0] in err, (over, err)
        assert 'value="赵新"' in body  # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(Resident)) == before


def test_a_house_outside_the_users_scope_is_refused_on_the_building_field(world, login):
    c = login("worker_a")
    c.post("/locale", data={"locale": "en"})
    data = {"building": world.tree.zones[8].code, "unit": "1", "room": "808", "use": "residential", "occupancy": "rented"}
    body = text(c.post("/affairs/houses/new", data=data))
    assert 'id="building-err"' in body and "no building with this grid code" in body
    assert db.session.scalar(select(func.count()).select_from(House).where(House.room == "808")) == 0
    data["building"] = world.tree.zones[1].code
    assert c.post("/affairs/houses/new", data=data).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(House).where(House.room == "808")) == 1


def test_module_off_in_one_community_hides_it_there_and_keeps_the_data(world, login):
    c1 = world.tree.communities[0]
    set_enabled(c1.id, "affairs", False, None)
    db.session.commit()
    c = login("worker_a")
    assert c.get("/affairs/residents").status_code == 404
    assert c.get("/affairs/visits/new").status_code == 404
    assert "/affairs/" not in text(c.get("/"))  # no nav item, no widget
    admin = login("admin")
    assert admin.get(f"/affairs/residents/{world.res_a.id}").status_code == 404
    assert admin.get(f"/affairs/panels/residents/{c1.id}").status_code == 404
    assert world.res_a.name not in text(admin.get("/affairs/residents"))
    assert world.res_other.name in text(admin.get("/affairs/residents"))  # community 2 still on
    set_enabled(c1.id, "affairs", True, None)
    db.session.commit()
    c = login("worker_a")
    assert world.res_a.name in text(c.get("/affairs/residents"))
    assert login("admin").get(f"/affairs/residents/{world.res_a.id}").status_code == 200


def _visit(c, target, finding="none", notes=""):
    return c.post("/affairs/visits/new", data={"target": target, "kind": "home", "finding": finding, "notes": notes,
                                               "visit_date": clock.today().isoformat()})


def test_a_worker_records_a_visit_and_the_count_rises(world, login):
    c = login("worker_a")
    assert "0 / 3" in text(c.get("/affairs/visits/new")) or "0 of 3" in text(c.get("/affairs/visits/new"))
    assert _visit(c, f"r:{world.res_a.id}").status_code == 302
    assert _visit(c, f"h:{world.house_a.id}").status_code == 302
    page = text(c.get("/affairs/visits/new"))
    assert "2 / 3" in page
    # Nobody chosen, or someone outside the worker's grids.
    assert 'id="target-err"' in text(_visit(c, ""))
    assert _visit(c, f"r:{world.res_b.id}").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 2
    comp = text(login("cadmin").get("/affairs/compliance"))
    assert 'data-testid="visits-worker_a">2<' in comp


def test_b_post_may_visit_the_a_grid_only_while_covering(world, login):
    from core.models import Leave

    c = login("worker_b")
    assert _visit(c, f"r:{world.res_a.id}").status_code == 404
    today = clock.today()
    db.session.add(Leave(user_id=world.worker_a.id, start_date=today, end_date=today, reason="年假"))
    db.session.commit()
    c = login("worker_b")
    assert _visit(c, f"r:{world.res_a.id}").status_code == 302
    v = db.session.scalar(select(Visit))
    assert v.worker_id == world.worker_b.id and v.covering_for_id == world.worker_a.id


def test_a_problem_without_the_inquiry_module_is_kept_and_the_user_told(world, login):
    c = login("worker_a")
    c.post("/locale", data={"locale": "en"})
    resp = _visit(c, f"r:{world.res_a.id}", "problem", "楼道堆物堵塞消防通道")
    assert resp.status_code == 302
    page = text(c.get(resp.headers["Location"]))
    assert "NOT handed on" in page
    v = db.session.scalar(select(Visit))
    assert v.finding == "problem" and v.problem_ref is None
    # A problem needs a description.
    body = text(_visit(c, f"r:{world.res_a.id}", "problem", ""))
    assert 'id="notes-err"' in body


def test_a_problem_is_handed_over_through_the_hook(app_factory):
    calls = []

    def report(node_id, description, reporter_name, reporter_phone, channel, user_id, source_ref):
        calls.append(dict(node_id=node_id, description=description, channel=channel, source_ref=source_ref,
                          reporter_name=reporter_name, user_id=user_id))
        return "WT-2026-0001"

    fake = plugin(
        "fakeinquiry",
        wangge_module=lambda: Module(name="fakeinquiry", title="Fake inquiry"),
        wangge_report_problem=report,
    )
    app = app_factory(PLUGINS=["affairs"], LOAD_ENTRY_POINTS=False, extra_plugins=[fake])
    with app.app_context():
        from tests import factories
        from tests.plugins.affairs.conftest import add_house, add_resident

        t = factories.build_tree()
        a = factories.make_user("worker_a", "grid_worker", t.estates[0])
        factories.assign_post(t.estates[0], a_user=a)
        r = add_resident(add_house(t.zones[0]), "张甲", 11)
        db.session.commit()
        c = app.test_client()
        c.post("/login", data={"username": "worker_a", "password": "test-password-1"})
        resp = _visit(c, f"r:{r.id}", "problem", "单元门禁损坏")
        assert resp.status_code == 302
        v = db.session.scalar(select(Visit))
        assert v.problem_ref == "WT-2026-0001"
        assert calls == [dict(node_id=r.node_id, description="单元门禁损坏", channel="visit", source_ref=f"affairs.visit:{v.id}",
                              reporter_name="张甲", user_id=v.worker_id)]
        # Off in the community: the hook is not called, the visit is kept.
        set_enabled(t.communities[0].id, "fakeinquiry", False, None)
        db.session.commit()
        assert _visit(c, f"r:{r.id}", "problem", "又坏了").status_code == 302
        assert len(calls) == 1
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 2


def test_admission_list_refusal_is_shown(world, login):
    from plugins.affairs.models import AffairCategory, AffairItem

    cat = AffairCategory(code="09", name="生态环境")
    db.session.add(cat)
    db.session.flush()
    item = AffairItem(category_id=cat.id, code="09-099", name="协税护税", responsible_role="网格员", levels="estate", admitted=False)
    db.session.add(item)
    db.session.commit()
    c = login("cadmin")
    c.post("/locale", data={"locale": "en"})
    resp = c.post(f"/affairs/checklist/{world.tree.estates[0].id}/assign", data={"item_id": item.id, "period": "2026-11"})
    page = text(c.get(resp.headers["Location"]))
    assert "not on the admission list" in page


def test_panels_and_widgets_render(world, login):
    c = login("cadmin")
    cid = world.tree.communities[0].id
    for url in (f"/affairs/panels/residents/{cid}", f"/affairs/panels/houses/{cid}", f"/affairs/panels/groups/{cid}",
                f"/affairs/panels/compliance/{cid}", "/affairs/widgets/due", "/affairs/widgets/my-week"):
        full = c.get(url)
        frag = c.get(url, headers={"HX-Request": "true"})
        assert full.status_code == 200 and frag.status_code == 200, url
        assert "<html" in text(full) and "<html" not in text(frag)
    assert ">2<" in text(c.get(f"/affairs/panels/residents/{cid}", headers={"HX-Request": "true"}))


def test_every_export_downloads_an_xlsx_in_scope(world, login, app):
    import io

    from openpyxl import load_workbook

    c = login("worker_a")
    _visit(c, f"r:{world.res_a.id}")
    c = login("cadmin")
    exports = [e for e in app.extensions["wangge"].registry.exports if e.module == "affairs"]
    assert len(exports) >= 7
    for e in exports:
        with app.test_request_context():
            from flask import url_for

            url = url_for(e.endpoint)
        resp = c.get(url)
        assert resp.status_code == 200 and resp.mimetype.endswith("sheet"), url
        ws = load_workbook(io.BytesIO(resp.data)).active
        text_cells = " ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
        assert world.res_other.name not in text_cells, url  # community 2 never leaks
    visits = load_workbook(io.BytesIO(c.get("/affairs/export/visits.xlsx").data)).active
    assert [r[1] for r in visits.iter_rows(min_row=2, values_only=True)] == [world.res_a.name]


def test_quota_is_set_per_community_and_groups_by_the_district(world, login):
    from plugins.affairs import services as S

    c = login("cadmin")
    assert c.post("/affairs/settings", data={"form": "quota", "q-weekly_quota": "5"}).status_code == 302
    assert S.weekly_quota(world.tree.communities[0].id) == 5
    assert S.weekly_quota(world.tree.communities[1].id) == 3  # the district default
    assert c.post("/affairs/settings", data={"form": "group", "g-name": "独居老人"}).status_code == 403
    a = login("admin")
    assert a.post("/affairs/settings", data={"form": "group", "g-name": "独居老人", "g-visit_interval_days": "7"}).status_code == 302
    assert "独居老人" in text(a.get("/affairs/residents"))  # offered in the group filter
    comp = text(login("cadmin").get("/affairs/compliance"))
    assert "达到每周 5 次" in comp


def test_the_district_sees_compliance_per_community(world, login):
    c = login("worker_a")
    for _i in range(3):
        assert _visit(c, f"r:{world.res_a.id}").status_code == 302
    page = text(login("admin").get("/affairs/compliance"))
    c1, c2 = world.tree.communities
    table = page[page.find('<table class="table">'):]
    row1 = table[table.find(c1.name):][:600]
    assert "<td" in row1 and ">2<" in row1  # two grid workers in community 1
    assert ">1 <span" in row1 and "50%" in row1  # worker A met the quota, worker B did not
    assert c2.name in page
    # and each community opens the list of its workers
    assert 'data-testid="visits-worker_a">3<' in text(login("admin").get(f"/affairs/compliance?node={c1.id}"))


def test_removing_a_resident_keeps_the_visits_and_is_audited(world, login):
    from plugins.affairs import services as S

    c = login("worker_a")
    _visit(c, f"r:{world.res_a.id}")
    S.add_tag(world.res_a, S.ensure_group_types()[0], dt.date(2025, 1, 1), None, None, None)
    db.session.commit()
    assert c.post(f"/affairs/residents/{world.res_b.id}/delete").status_code == 404  # not theirs
    rid = world.res_a.id
    assert c.post(f"/affairs/residents/{rid}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Resident, rid) is None
    v = db.session.scalar(select(Visit))
    assert v.resident_id is None and v.house_id == world.house_a.id
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "affairs.resident.delete")).username == "worker_a"
