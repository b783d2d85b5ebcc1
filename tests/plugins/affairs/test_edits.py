"""No lost updates and no 500 on a race: two people editing one resident (or
house) — the second is refused with a message naming what the first changed,
and nothing of the first is lost; the same resident created twice at the same
instant ends in one resident and one form error, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from core.extensions import db
from core.forms import DuplicateError
from plugins.affairs import services as S
from plugins.affairs.models import House, Resident
from tests import factories

from .conftest import make_id


def _token(html: str) -> str:
    m = re.search(r'name="edit_token" type="hidden" value="([^"]*)"', html) or re.search(
        r'value="([^"]*)"[^>]*name="edit_token"', html)
    assert m, "the edit form carries no edit token"
    return m.group(1)


def _resident_form(world, token, **changes):
    r = world.res_a
    data = {"name": r.name, "id_number": "", "phone": "", "building": world.tree.zones[0].code, "unit": "1",
            "room": "101", "household_id": "0", "residence": "registered", "social_security": "resident",
            "employment": "employed", "notes": "", "edit_token": token}
    data.update(changes)
    return data


def _client(app, username):
    c = app.test_client()
    assert c.post("/login", data={"username": username, "password": factories.PASSWORD}).status_code == 302
    return c


def test_two_people_edit_one_resident_the_second_is_told_what_changed(app, world):
    first, second = _client(app, "cadmin"), _client(app, "worker_a")
    url = f"/affairs/residents/{world.res_a.id}"
    page1, page2 = first.get(url).get_data(as_text=True), second.get(url).get_data(as_text=True)
    masked_id = re.search(r'name="id_number"[^>]*value="([^"]*)"', page1).group(1)
    assert world.res_a.id_number not in page1  # neither the form nor its token carries the number in full
    t1, t2 = _token(page1), _token(page2)
    resp = first.post(url, data=_resident_form(world, t1, id_number=masked_id, name="张甲乙"))
    assert resp.status_code == 302
    resp = second.post(url, data=_resident_form(world, t2, id_number=masked_id, name="张甲",
                                                notes="腿脚不便，需上门"))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "张甲 → 张甲乙" in html  # the message names the changed field and both values
    db.session.expire_all()
    r = db.session.get(Resident, world.res_a.id)
    assert r.name == "张甲乙" and not r.notes  # the first edit kept, the second not applied
    # What the second typed is still in the form, and the first's change is shown
    # in the field the second did not touch: saving again loses neither.
    assert "腿脚不便，需上门" in html
    assert re.search(r'name="name"[^>]*value="张甲乙"', html) or re.search(r'value="张甲乙"[^>]*name="name"', html)
    resp = second.post(url, data=_resident_form(world, _token(html), id_number=masked_id, name="张甲乙",
                                                notes="腿脚不便，需上门"))
    assert resp.status_code == 302
    db.session.expire_all()
    r = db.session.get(Resident, world.res_a.id)
    assert (r.name, r.notes, r.version) == ("张甲乙", "腿脚不便，需上门", 3)


def test_two_people_edit_one_house_the_second_is_refused(app, world):
    first, second = _client(app, "cadmin"), _client(app, "worker_a")
    url = f"/affairs/houses/{world.house_a.id}"
    t1, t2 = _token(first.get(url).get_data(as_text=True)), _token(second.get(url).get_data(as_text=True))
    base = {"building": world.tree.zones[0].code, "unit": "1", "floor": "1", "room": "101", "use": "residential",
            "occupancy": "owner", "area_m2": "", "notes": ""}
    assert first.post(url, data={**base, "occupancy": "rented", "edit_token": t1}).status_code == 302
    resp = second.post(url, data={**base, "area_m2": "88", "edit_token": t2})
    assert resp.status_code == 200
    db.session.expire_all()
    h = db.session.get(House, world.house_a.id)
    assert (h.occupancy, h.area_m2) == ("rented", None)


def test_the_same_resident_created_twice_at_once_is_one_resident_and_one_form_error(app, world, monkeypatch):
    """Both requests pass the "already registered?" check before either inserts:
    the database's unique key decides, and the loser sees a form error."""
    from plugins.affairs.services import residents as svc

    barrier = threading.Barrier(2)
    real_flush = svc.flush

    def flush_together(*args, **kw):
        barrier.wait(timeout=10)
        return real_flush(*args, **kw)

    monkeypatch.setattr(svc, "flush", flush_together)
    number = make_id("19900101", 77)
    clients = [_client(app, "cadmin"), _client(app, "admin")]
    out: list[tuple[int, str]] = []
    form = {"name": "孙同时", "id_number": number, "phone": "", "building": world.tree.zones[0].code,
            "unit": "1", "room": "101", "household_id": "0", "residence": "registered",
            "social_security": "unknown", "employment": "other", "notes": ""}

    def create(c):
        resp = c.post("/affairs/residents/new", data=form)
        out.append((resp.status_code, resp.get_data(as_text=True)))

    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = sorted(code for code, _html in out)
    assert codes == [200, 302], codes
    loser = next(html for code, html in out if code == 200)
    assert 'id="id_number-err"' in loser  # the message sits next to the ID-card number
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Resident).where(Resident.id_number == number)) == 1
    assert S.node_totals([world.tree.zones[0].id])["residents"] == 2  # 张甲 and one 孙同时, not two


def test_a_duplicate_flush_becomes_a_domain_error(world):
    S.save_resident(None, house=world.house_a, name="周一", id_number=make_id("19700101", 21))
    db.session.commit()
    dup = Resident(house_id=world.house_a.id, node_id=world.house_a.node_id, name="周二",
                   id_number=make_id("19700101", 21), birth_date=world.res_a.birth_date, sex="M")
    db.session.add(dup)
    try:
        S.flush("id_number")
    except DuplicateError as exc:
        assert exc.field == "id_number"
    else:
        raise AssertionError("a duplicate ID number was flushed")
