"""Pages per role and scope, object URLs as outsiders, the module switch,
bad input and the QR check-in, through the test client."""

from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook

from core import clock
from core.extensions import db
from core.modules import set_enabled
from plugins.stations.models import (
    BranchMember,
    Claim,
    Incident,
    Move,
    Opinion,
    Rota,
    Shift,
    Signup,
    Station,
    Swap,
)
from plugins.stations.services import medicine as med
from plugins.stations.services import modes
from plugins.stations.services import shifts as svc

from .conftest import future_shift, running_shift

HX = {"HX-Request": "true"}


def _objects(world):
    """One of every object of the first community, with its URLs."""
    st = world.station
    sh = future_shift(st)
    su = svc.sign_up(sh, world.members[0])
    db.session.commit()
    swap = svc.ask_swap(su, world.members[1])
    rota = svc.add_rota(st, 2, dt.time(9), dt.time(11))
    batch = med.add_batch(st, name="布洛芬", quantity=5, expiry=clock.today() + dt.timedelta(days=100), today=clock.today())
    loan = med.take(batch, "lend", 1, today=clock.today(), resident_name="王芳", resident_phone="13900000001")
    inc = modes.start_incident(st, "防汛", by=world.community, secretary="王书记", rota_days=0)
    db.session.commit()
    seat = inc.branch[0]
    claim = st.claims[0]
    gets = [f"/stations/{st.id}", f"/stations/{st.id}/schedule", f"/stations/{st.id}/checkins",
            f"/stations/{st.id}/medicine", f"/stations/{st.id}/mode", f"/stations/{st.id}/opinions",
            f"/stations/{st.id}/qr", f"/stations/{st.id}/edit", f"/stations/{st.id}/claims",
            f"/stations/shifts/{sh.id}", f"/stations/incidents/{inc.id}", f"/stations/signups/{su.id}/swap"]
    posts = [f"/stations/shifts/{sh.id}/signup", f"/stations/signups/{su.id}/drop", f"/stations/signups/{su.id}/mark",
             f"/stations/signups/{su.id}/remove", f"/stations/shifts/{sh.id}/assign", f"/stations/shifts/{sh.id}/needed",
             f"/stations/swaps/{swap.id}/decide", f"/stations/rota/{rota.id}/toggle", f"/stations/batches/{batch.id}/in",
             f"/stations/batches/{batch.id}/remove", f"/stations/loans/{loan.id}/return",
             f"/stations/claims/{claim.id}/end", f"/stations/branch/{seat.id}/leave", f"/stations/incidents/{inc.id}/end",
             f"/stations/{st.id}/medicine/take", f"/stations/{st.id}/rota", f"/stations/{st.id}/incidents"]
    return gets, posts


def _counts():
    return [db.session.scalar(db.select(db.func.count()).select_from(m)) for m in
            (Station, Shift, Signup, Swap, Rota, Move, Incident, BranchMember, Claim, Opinion)]


def test_another_communitys_staff_and_members_get_404_on_every_object_url(app, client, login, world):
    gets, posts = _objects(world)
    before = _counts()
    for user in ("comm2", "pm_c2", "gd1"):
        login(user)
        for url in gets:
            assert client.get(url).status_code in (404, 403), (user, url)
        for url in posts:
            assert client.post(url, data={"outcome": "worked", "reason": "x", "needed": 5}).status_code in (404, 403), (user, url)
    assert _counts() == before


def test_the_organiser_pages_answer_and_the_member_cannot_run_a_station(app, client, login, world):
    gets, _posts = _objects(world)
    login("comm1")
    for url in gets[:-1] + ["/stations/", "/stations/coverage", "/stations/hours", "/stations/medicine",
                            "/stations/department", "/stations/new", "/stations/import", "/stations/widget"]:
        assert client.get(url).status_code == 200, url
        assert client.get(url, headers=HX).status_code == 200, url  # every page also answers as a fragment
    login("pm0")
    for url in ("/stations/my", "/stations/my/records", "/stations/widget/mine", gets[-1]):
        assert client.get(url).status_code == 200, url
        assert client.get(url, headers=HX).status_code == 200, url
    login("pm0")
    st = world.station.id
    assert client.get(f"/stations/{st}").status_code == 200
    for url in (f"/stations/{st}/schedule", f"/stations/{st}/medicine", f"/stations/{st}/qr"):
        assert client.get(url).status_code in (403, 404)


def test_lists_and_figures_per_role(app, client, login, world):
    login("comm1")
    page = client.get("/stations/").get_data(as_text=True)
    assert "锦绣先锋驿站" in page and "二社区先锋驿站" not in page
    login("district")
    page = client.get("/stations/?community=").get_data(as_text=True)
    assert "锦绣先锋驿站" in page
    login("zj1")  # the housing department claims the first station only
    page = client.get("/stations/department").get_data(as_text=True)
    assert "锦绣先锋驿站" in page and "二社区先锋驿站" not in page
    assert client.get(f"/stations/{world.station.id}").status_code == 200
    assert client.get(f"/stations/{world.station2.id}").status_code == 404
    login("pm0")
    future_shift(world.station)
    future_shift(world.station2)
    page = client.get("/stations/my").get_data(as_text=True)
    assert page.count("锦绣先锋驿站") == 1 and "二社区先锋驿站" not in page


def test_member_signs_up_from_the_phone_page_and_a_full_shift_offers_the_waitlist(app, client, login, world):
    sh = future_shift(world.station, needed=1)
    login("pm0")
    resp = client.post(f"/stations/shifts/{sh.id}/signup", follow_redirects=True)
    assert resp.status_code == 200 and "锦绣先锋驿站" in resp.get_data(as_text=True)
    login("pm1")
    page = client.get("/stations/my").get_data(as_text=True)
    assert "加入候补" in page  # "Join the waitlist"
    client.post(f"/stations/shifts/{sh.id}/signup")  # without waitlist=1: refused, nothing saved
    assert db.session.scalar(db.select(db.func.count()).select_from(Signup).where(Signup.shift_id == sh.id)) == 1
    client.post(f"/stations/shifts/{sh.id}/signup", data={"waitlist": "1"})
    statuses = sorted(db.session.scalars(db.select(Signup.status).where(Signup.shift_id == sh.id)))
    assert statuses == ["held", "waiting"]
    login("pm_c2")  # another community's member cannot take it
    client.post(f"/stations/shifts/{sh.id}/signup", data={"waitlist": "1"})
    assert db.session.scalar(db.select(db.func.count()).select_from(Signup).where(Signup.shift_id == sh.id)) == 2


def test_qr_check_in_then_marked_worked_then_hours_in_my_records(app, client, login, world):
    sh = running_shift(world.station)
    db.session.add(Signup(shift_id=sh.id, member_id=world.members[0].id, status="held"))
    sh.taken = 1
    db.session.commit()
    login("comm1")
    qr = client.get(f"/stations/{world.station.id}/qr").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in qr
    link = re.search(r'<small>(http[^<]+)</small>', qr).group(1).replace("&amp;", "&")
    path = link.split("localhost", 1)[1]
    login("pm0")
    assert client.get(f"/stations/{world.station.id}/check-in?t=forged").get_data(as_text=True).count("flash-error") == 1
    page = client.get(path).get_data(as_text=True)
    assert "签到成功" in page
    page = client.get(path).get_data(as_text=True)
    assert "签退成功" in page
    su = db.session.scalar(db.select(Signup).where(Signup.shift_id == sh.id))
    login("comm1")
    assert client.post(f"/stations/signups/{su.id}/mark", data={"outcome": "worked"}).status_code == 302
    login("pm0")
    page = client.get("/stations/my/records").get_data(as_text=True)
    assert "由comm1标记已值班" in page and f"{sh.hours}" in page


def test_bad_input_stays_in_the_form_and_saves_nothing(app, client, login, world):
    login("comm1")
    st = world.station.id
    before = _counts()
    resp = client.post(f"/stations/{st}/schedule", data={"shift-day": "2026-13-40", "shift-start_time": "09:00",
                                                         "shift-end_time": "12:00", "shift-needed": "0",
                                                         "shift-role": "宣传"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'value="宣传"' in page and "has-error" in page
    resp = client.post(f"/stations/{st}/medicine", data={"batch-name": "布洛芬", "batch-quantity": "5",
                                                         "batch-expiry": "2001-01-01"})
    page = resp.get_data(as_text=True)
    assert "已过期" in page and 'value="布洛芬"' in page
    resp = client.post(f"/stations/{st}/medicine/take", data={"take-batch_id": "999999", "take-kind": "give",
                                                              "take-quantity": "1", "take-resident_name": "王芳"})
    assert resp.status_code == 200 and "has-error" in resp.get_data(as_text=True)
    resp = client.post("/stations/new", data={"node_id": str(world.tree.estates[0].id), "name": "锦绣先锋驿站",
                                              "kind": "party_centre", "weight": "1", "cutoff_hours": "2"})
    assert resp.status_code == 200 and "同名" in resp.get_data(as_text=True)
    resp = client.post("/stations/new", data={"node_id": str(world.tree.estates[2].id), "name": "越界驿站",
                                              "kind": "party_centre", "weight": "1", "cutoff_hours": "2"})
    assert resp.status_code == 404
    resp = client.post(f"/stations/{st}/edit", data={"name": "改名", "kind": "party_centre", "weight": "99",
                                                      "cutoff_hours": "2"})
    assert resp.status_code == 200 and "0.1" in resp.get_data(as_text=True)
    assert _counts() == before
    assert client.get("/stations/shifts/abc").status_code == 404
    assert client.get("/stations/shifts/99999999999999999999").status_code == 404


def test_module_off_hides_everything_and_on_again_shows_it(app, client, login, world):
    c1 = world.tree.communities[0]
    sh = future_shift(world.station)
    login("comm1")
    assert 'href="/stations/"' in client.get("/").get_data(as_text=True)
    panel = f"/stations/panel/{c1.id}"
    assert client.get(panel).status_code == 200 and client.get(panel, headers=HX).status_code == 200
    set_enabled(c1.id, "stations", False, None)
    db.session.commit()
    assert 'href="/stations/"' not in client.get("/").get_data(as_text=True)
    for url in ("/stations/", f"/stations/{world.station.id}", panel, "/stations/widget", "/stations/coverage",
                f"/stations/shifts/{sh.id}", "/stations/export.xlsx"):
        assert client.get(url).status_code == 404, url
    login("district")  # district-wide: the first community's stations left out
    page = client.get("/stations/").get_data(as_text=True)
    assert "锦绣先锋驿站" not in page and "二社区先锋驿站" in page
    wb = load_workbook(io.BytesIO(client.get("/stations/export.xlsx").data))
    names = [r[1] for r in wb.active.iter_rows(min_row=2, values_only=True)]
    assert names == ["二社区先锋驿站"]
    assert "锦绣先锋驿站" not in client.get("/stations/coverage").get_data(as_text=True)
    set_enabled(c1.id, "stations", True, None)
    db.session.commit()
    page = client.get("/stations/").get_data(as_text=True)
    assert "锦绣先锋驿站" in page and "二社区先锋驿站" in page


def test_panel_widget_and_exports_answer_as_fragment_and_page(app, client, login, world):
    med.take(med.add_batch(world.station, name="布洛芬", quantity=5, expiry=clock.today() + dt.timedelta(days=90),
                           today=clock.today()), "give", 2, today=clock.today(), resident_name="王芳",
             resident_phone="13900000001")
    db.session.commit()
    login("district")
    for url in (f"/stations/panel/{world.tree.district.id}", f"/stations/panel/{world.tree.estates[0].id}",
                "/stations/widget"):
        assert client.get(url).status_code == 200
        assert client.get(url, headers=HX).status_code == 200
    for url in ("/stations/export.xlsx", "/stations/coverage.xlsx", "/stations/hours.xlsx", "/stations/medicine.xlsx"):
        resp = client.get(url)
        assert resp.status_code == 200 and resp.data[:2] == b"PK", url
    wb = load_workbook(io.BytesIO(client.get("/stations/medicine.xlsx").data))
    rows = list(wb.active.iter_rows(min_row=2, values_only=True))
    assert rows[-1][2:] == (1, 2)


def test_station_import_is_all_or_nothing_and_reimport_updates(app, client, login, world):
    from core.excel import workbook_bytes
    from plugins.stations.services.stations import import_columns

    login("comm1")
    with app.test_request_context():
        cols = import_columns()
    good = [world.tree.estates[1].code, "新驿站", "物业用房", "路1号", "8:30-17:30", 1, 2, "区住建局", "王", "13900000000"]
    bad = ["340221-C02-E01", "越界", "", "", "", 1, 2, "", "", ""]
    data = workbook_bytes(cols, [good, bad])
    resp = client.post("/stations/import", data={"file": (io.BytesIO(data), "s.xlsx")}, content_type="multipart/form-data")
    assert resp.status_code == 200 and "未保存" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(Station.id).where(Station.name == "新驿站")) is None
    for _ in range(2):
        resp = client.post("/stations/import", data={"file": (io.BytesIO(workbook_bytes(cols, [good])), "s.xlsx")},
                           content_type="multipart/form-data")
        assert resp.status_code == 302
    assert db.session.scalar(db.select(db.func.count()).select_from(Station).where(Station.name == "新驿站")) == 1
