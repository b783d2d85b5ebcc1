"""Access through core.access: every list, count, export, analysis figure and
API answer leaves out communities where the module is off; every object
route is gated; workflow objects (sheets, extensions) keep to their
community; a handler reaches only its own unit's issued problems."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditLog
from core.modules import set_enabled
from plugins.inquiry import services as svc
from plugins.inquiry.models import AssignmentSheet, Extension, Photo, Problem

from .conftest import node


def cats():
    return {c.code: c for c in svc.ensure_categories()}


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(buf, "PNG")
    return buf.getvalue()


def issued(world, zone_index, unit, text, user=None):
    """A problem triaged, put on a district sheet and issued to `unit`."""
    user = user or world.district
    p = svc.create_problem(node=node(world, "zone", zone_index), description=text, channel="staff",
                           reporter_phone="13912345678", category=cats()["water"])
    svc.verify(p, user, category=cats()["water"], unit=unit, priority="normal", deadline_days=5)
    s = svc.create_sheet(user)
    svc.add_to_sheet(s, p, user)
    svc.issue_sheet(s, user)
    return p


def test_switching_off_hides_a_community_everywhere_and_on_shows_it_again(client, login, world):
    c1, c2 = world.tree.communities
    a = issued(world, 0, world.housing, "甲社区漏水")
    b = issued(world, 8, world.housing, "乙社区漏水")
    svc.store_photos(a.id, svc.prepare_photos([io.BytesIO(png())]), "report")
    db.session.commit()
    photo = db.session.scalar(select(Photo).where(Photo.problem_id == a.id))
    svc.rebuild_stats()
    db.session.commit()
    login("district")

    def district_sees():
        pages = {url: client.get(url).get_data(as_text=True)
                 for url in ("/inquiry/problems", "/inquiry/ledger", "/inquiry/problems?state=issued", "/inquiry/unit")}
        return {url: ("甲社区漏水" in text, "乙社区漏水" in text) for url, text in pages.items() if url != "/inquiry/unit"}

    assert set(district_sees().values()) == {(True, True)}
    set_enabled(c1.id, "inquiry", False, None)
    db.session.commit()
    assert set(district_sees().values()) == {(False, True)}
    # Object routes of the switched-off community: 404.
    assert client.get(f"/inquiry/p/{a.id}").status_code == 404
    assert client.get(f"/inquiry/photos/{photo.id}").status_code == 404
    assert client.get(f"/inquiry/p/{b.id}").status_code == 200
    # Exports.
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(client.get("/inquiry/problems.xlsx").data))
    refs = {row[0] for row in wb.active.iter_rows(min_row=2, values_only=True)}
    assert refs == {b.ref}
    # The analysis figures and the index counts come from the other community only.
    assert client.get("/inquiry/analysis").status_code == 200
    from plugins.inquiry import queries

    with client.application.test_request_context():
        from flask_login import login_user

        login_user(world.district)
        assert queries.community_ids("inquiry.analysis") == [c2.id, 0]
        data = queries.analysis(queries.community_ids("inquiry.analysis"), "2000-01", "2999-12")
        assert data["totals"]["received"] == 1
        assert queries.index_counts()["issued"] == 1
    # The handler's list and widget leave it out too.
    login("zj1")
    unit_page = client.get("/inquiry/unit").get_data(as_text=True)
    assert "乙社区漏水" in unit_page and "甲社区漏水" not in unit_page
    assert client.get(f"/inquiry/p/{a.id}").status_code == 404
    # Open311 (anonymous).
    client.post("/logout")
    listed = client.get("/open311/v2/requests.json").get_json()
    assert [r["service_request_id"] for r in listed] == [b.ref]
    assert client.get(f"/open311/v2/requests/{a.ref}.json").status_code == 404
    # On again: everything is back.
    set_enabled(c1.id, "inquiry", True, None)
    db.session.commit()
    login("district")
    assert set(district_sees().values()) == {(True, True)}
    assert client.get(f"/inquiry/photos/{photo.id}").status_code == 200


def test_every_problem_route_is_404_for_another_community_and_changes_nothing(client, login, world):
    p = svc.create_problem(node=node(world, "zone", 0), description="甲社区的问题", channel="staff")
    db.session.commit()
    login("comm2")
    assert client.get(f"/inquiry/p/{p.id}").status_code == 404
    for action in ("verify", "reject", "duplicate", "opinion", "sheet", "visit", "followup", "contact"):
        assert client.post(f"/inquiry/p/{p.id}/{action}", data={"reason": "x", "note": "x", "sheet_id": "new"}).status_code == 404, action
    db.session.expire_all()
    assert db.session.get(Problem, p.id).state == "new"
    assert db.session.scalar(select(func.count()).select_from(AssignmentSheet)) == 0


def test_a_handler_reaches_only_its_units_issued_problems(client, login, world):
    mine = issued(world, 0, world.power, "路灯不亮")
    other = issued(world, 1, world.housing, "墙面开裂")
    waiting = svc.create_problem(node=node(world, "zone", 2), description="尚未分拣", channel="staff")
    svc.verify(waiting, world.district, category=cats()["power"], unit=world.power, priority="normal", deadline_days=5)
    db.session.commit()
    login("gd1")
    assert client.get(f"/inquiry/p/{mine.id}").status_code == 200
    assert client.get(f"/inquiry/p/{other.id}").status_code == 404
    # Triaged for its unit but not issued yet: not the unit's to see.
    assert client.get(f"/inquiry/p/{waiting.id}").status_code == 404
    for action in ("claim", "return", "extension", "result"):
        assert client.post(f"/inquiry/p/{other.id}/{action}", data={"reason": "x", "days": 3, "result_text": "x"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Problem, other.id).state == "issued"


def test_a_community_sheet_holds_only_its_communitys_problems(client, login, world):
    c1, c2 = world.tree.communities
    own = svc.create_problem(node=node(world, "zone", 0), description="本社区", channel="staff")
    foreign = svc.create_problem(node=node(world, "zone", 8), description="别的社区", channel="staff")
    for p in (own, foreign):
        svc.verify(p, world.district, category=cats()["water"], unit=world.housing, priority="normal", deadline_days=5)
    db.session.commit()
    login("comm1")
    assert client.post("/inquiry/sheets/new").status_code == 302
    sheet = db.session.scalar(select(AssignmentSheet))
    assert sheet.node_id == c1.id
    client.post(f"/inquiry/sheets/{sheet.id}/add", data={"problem_id": [str(own.id), str(foreign.id)]})
    db.session.expire_all()
    assert db.session.get(Problem, own.id).sheet_id == sheet.id
    assert db.session.get(Problem, foreign.id).sheet_id is None
    # Not even through the service.
    try:
        svc.add_to_sheet(db.session.get(AssignmentSheet, sheet.id), db.session.get(Problem, foreign.id), world.district)
        raise AssertionError("a community sheet took another community's problem")
    except svc.InquiryError:
        db.session.rollback()
    # The other community does not see the sheet at all.
    login("comm2")
    for url in (f"/inquiry/sheets/{sheet.id}", f"/inquiry/sheets/{sheet.id}/print", f"/inquiry/sheets/{sheet.id}.xlsx"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/inquiry/sheets/{sheet.id}/issue").status_code == 404
    assert f"/inquiry/sheets/{sheet.id}\"" not in client.get("/inquiry/sheets").get_data(as_text=True)
    assert f"/inquiry/sheets/{sheet.id}\"" not in client.get("/inquiry/").get_data(as_text=True)
    login("comm1")
    assert client.post(f"/inquiry/sheets/{sheet.id}/issue").status_code == 302
    db.session.expire_all()
    assert db.session.get(Problem, own.id).state == "issued"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "inquiry.sheet_issue"))
    assert entry.community_id == c1.id


def test_an_extension_is_decided_only_where_its_problem_is_visible(client, login, world):
    p = issued(world, 0, world.power, "路灯")
    svc.request_extension(p, world.power_handler, 3, "材料未到")
    db.session.commit()
    ext = db.session.scalar(select(Extension))
    login("comm2")
    assert client.post(f"/inquiry/p/{p.id}/extension/{ext.id}", data={"decision": "approve"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Extension, ext.id).state == "pending"
    login("comm1")
    assert client.post(f"/inquiry/p/{p.id}/extension/{ext.id}", data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Extension, ext.id).state == "approved"


def test_the_staff_form_refuses_a_community_where_the_module_is_off(client, login, world):
    c1 = world.tree.communities[0]
    set_enabled(c1.id, "inquiry", False, None)
    db.session.commit()
    login("district")
    b = node(world, "building", 0)
    resp = client.post("/inquiry/new", data={"community": str(c1.id), "estate": str(world.tree.estates[0].id),
                                             "building": str(b.id), "zone": "", "description": "楼道灯坏了"})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "楼道灯坏了" in page  # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(Problem)) == 0
    # The community is not offered, and a preset node there is refused.
    form = client.get("/inquiry/new").get_data(as_text=True)
    select_ = form[form.index('<select id="community"'):]
    assert f'value="{c1.id}"' not in select_[:select_.index("</select>")]
    assert client.get(f"/inquiry/new?node_id={b.id}").status_code == 404


def test_the_node_panel_answers_as_a_fragment_and_as_a_page(client, login, world):
    svc.create_problem(node=node(world, "zone", 0), description="面板里的问题", channel="staff")
    db.session.commit()
    login("comm1")
    estate = node(world, "estate", 0)
    frag = client.get(f"/inquiry/panel/{estate.id}", headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "面板里的问题" in frag.get_data(as_text=True)
    assert "<html" not in frag.get_data(as_text=True)
    page = client.get(f"/inquiry/panel/{estate.id}")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert client.get(f"/inquiry/panel/{node(world, 'estate', 2).id}").status_code == 404


def test_full_contact_only_in_the_answer_to_the_logged_post(client, login, world):
    p = svc.create_problem(node=node(world, "zone", 0), description="x", channel="staff", reporter_phone="13912345678")
    db.session.commit()
    login("comm1")
    assert "13912345678" not in client.get(f"/inquiry/p/{p.id}?contact=1").get_data(as_text=True)
    resp = client.post(f"/inquiry/p/{p.id}/contact")
    assert resp.status_code == 200 and "13912345678" in resp.get_data(as_text=True)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "inquiry.contact_view"))
    assert entry.community_id == world.tree.communities[0].id


def test_open311_list_is_paged_by_key(client, world):
    made = [svc.create_problem(node=node(world, "zone", i % 8), description=f"问题{i}", channel="staff").ref for i in range(5)]
    db.session.commit()
    first = client.get("/open311/v2/requests.json?page_size=2")
    assert [r["service_request_id"] for r in first.get_json()] == made[::-1][:2]
    link = first.headers["Link"]
    assert 'rel="next"' in link and f"before={made[3]}" in link
    second = client.get(f"/open311/v2/requests.json?page_size=2&before={made[3]}").get_json()
    assert [r["service_request_id"] for r in second] == made[::-1][2:4]
    assert client.get("/open311/v2/requests.json?before=zzz").status_code == 400


def test_a_pixel_bomb_is_refused_before_it_is_decoded(world):
    buf = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buf, "PNG")  # a small file of 81 megapixels
    try:
        svc.prepare_photos([io.BytesIO(buf.getvalue())])
        raise AssertionError("81 megapixels accepted")
    except svc.InquiryError as exc:
        assert exc.field == "photos" and "4000" in str(exc)


def test_photos_are_kept_in_the_modules_upload_folder(app, world):
    from core import uploads

    p = svc.create_problem(node=node(world), description="x", channel="staff",
                           photos=svc.prepare_photos([io.BytesIO(png())]))
    db.session.commit()
    photo = db.session.scalar(select(Photo).where(Photo.problem_id == p.id))
    path = uploads.path_of(svc.photo_file(photo))
    assert path.is_relative_to(uploads.folder("inquiry")) and path.stat().st_mode & 0o077 == 0


def test_every_inquiry_route_with_an_object_id_is_404_for_an_outsider(client, login, world):
    """Walks app.url_map: every inquiry URL that takes an id, filled with the
    ids of community 1's objects, answers 404 to community 2's admin."""
    p = issued(world, 0, world.power, "甲社区的问题", user=world.community)
    svc.store_photos(p.id, svc.prepare_photos([io.BytesIO(png())]), "report")
    svc.request_extension(p, world.power_handler, 3, "材料未到")
    sheet = svc.create_sheet(world.community, world.tree.communities[0])
    db.session.commit()
    ids = {"problem_id": p.id, "photo_id": db.session.scalar(select(Photo.id)),
           "ext_id": db.session.scalar(select(Extension.id)), "sheet_id": sheet.id,
           "node_id": world.tree.estates[0].id}
    # Each outsider with the actions it holds: holding the action, it must get 404 (never 403).
    outsiders = {"comm2": {"inquiry.view", "inquiry.report", "inquiry.triage", "inquiry.visit", "inquiry.contact",
                           "inquiry.export", "inquiry.analysis", "__signed_in__"},
                 "zj1": {"inquiry.handle", "__signed_in__"}}
    checked = 0
    for username, holds in outsiders.items():
        login(username)
        for rule in client.application.url_map.iter_rules():
            if not rule.endpoint.startswith("inquiry.") or not rule.arguments & set(ids):
                continue
            needs = client.application.view_functions[rule.endpoint].wangge_permission
            url = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                resp = client.open(url, method=method, data={"sheet_id": str(sheet.id), "decision": "approve"})
                assert resp.status_code == (404 if needs in holds else 403), (username, method, url, resp.status_code)
                checked += needs in holds
    assert checked >= 20
    db.session.expire_all()
    assert db.session.get(Problem, p.id).state == "issued" and db.session.get(Extension, ids["ext_id"]).state == "pending"
