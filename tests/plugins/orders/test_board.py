"""Public commitments and the board: staff page, A4 print page, the public
link without login (no phone numbers) and the self-refreshing kiosk."""

from __future__ import annotations

import datetime as dt

from core import clock
from core.extensions import db
from core.modules import set_enabled
from plugins.orders.models import Commitment
from plugins.orders.services import commitments as svc


def _commit(world, member, days=10, text="每月宣讲两次"):
    c = svc.commit_to(member, world.c1, text=text, items="政策宣传", post=world.post1,
                      deadline=clock.today() + dt.timedelta(days=days))
    db.session.commit()
    return c


def _public_url(app, world, kiosk=False):
    with app.test_request_context():
        token = svc.board_token(world.c1.id)
    return f"/orders/public/{world.c1.id}/{token}" + ("/kiosk" if kiosk else "")


def test_a_member_makes_a_commitment_and_it_is_on_the_board(client, world, login):
    login("mem1")
    day = (clock.today() + dt.timedelta(days=20)).isoformat()
    resp = client.post("/orders/commitments/new",
                       data={"text": "每月宣讲两次", "items": "政策宣传", "deadline": day, "post_id": world.post1.id})
    assert resp.status_code == 302
    login("admin1")
    page = client.get(f"/orders/board/{world.c1.id}").get_data(as_text=True)
    assert "党员mem1" in page and "每月宣讲两次" in page and "进行中" in page


def test_a_commitment_in_the_past_is_refused(client, world, login):
    login("mem1")
    day = (clock.today() - dt.timedelta(days=1)).isoformat()
    resp = client.post("/orders/commitments/new", data={"text": "x", "items": "y", "deadline": day, "post_id": 0},
                       follow_redirects=True)
    assert "完成时限不能早于今天" in resp.get_data(as_text=True)
    assert db.session.query(Commitment).count() == 0


def test_states_in_progress_done_overdue(client, world, login):
    c1 = _commit(world, world.members[0], days=3, text="甲")
    c2 = _commit(world, world.members[1], days=3, text="乙")
    svc.mark_done(c2, world.admin1)
    db.session.commit()
    with clock.frozen(clock.utcnow() + dt.timedelta(days=5)):
        assert svc.state_of(c1) == "overdue" and svc.state_of(c2) == "done"
        login("admin1")
        page = client.get(f"/orders/board/{world.c1.id}").get_data(as_text=True)
        assert "已超期" in page or "超期" in page


def test_print_page_is_a4(client, world, login):
    _commit(world, world.members[0])
    login("admin1")
    html = client.get(f"/orders/board/{world.c1.id}/print").get_data(as_text=True)
    assert "orders-print" in html and "每月宣讲两次" in html
    css = client.get("/orders/static/orders/orders.css").get_data(as_text=True)
    assert "size: A4" in css and "@media print" in css


def test_public_link_needs_no_login_and_shows_no_phone(app, client, world):
    _commit(world, world.members[0])
    html = client.get(_public_url(app, world)).get_data(as_text=True)
    assert "党员mem1" in html and "政策宣传" in html and str(clock.today() + dt.timedelta(days=10)) in html
    assert "每月宣讲两次" not in html  # names, items and deadlines only
    assert "13800001234" not in html and "138****1234" not in html
    assert client.get(f"/orders/public/{world.c1.id}/forged").status_code == 404
    assert client.get(_public_url(app, world).replace(f"/{world.c1.id}/", f"/{world.c2.id}/")).status_code == 404


def test_kiosk_refreshes_itself_with_htmx(app, client, world):
    _commit(world, world.members[0])
    url = _public_url(app, world, kiosk=True)
    html = client.get(url).get_data(as_text=True)
    assert 'hx-trigger="every 60s"' in html and "<script>" not in html
    frag = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "党员mem1" in frag and "<html" not in frag


def test_module_off_hides_the_public_board_and_kiosk(app, client, world):
    _commit(world, world.members[0])
    set_enabled(world.c1.id, "orders", False, None)
    db.session.commit()
    assert client.get(_public_url(app, world)).status_code == 404
    assert client.get(_public_url(app, world, kiosk=True)).status_code == 404
    set_enabled(world.c1.id, "orders", True, None)
    db.session.commit()
    assert "党员mem1" in client.get(_public_url(app, world)).get_data(as_text=True)
