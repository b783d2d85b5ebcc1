"""Every list answers as an HTMX fragment and as a full page; the main lists
run a fixed number of SQL statements whatever the number of rows; deleting a
grid node that still holds orders data is refused by name."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from core import clock
from core.extensions import db
from core.grid.services import node_holders
from plugins.orders.services import orders as svc
from plugins.orders.services.commitments import commit_to

from .conftest import place_order, register_member

LISTS = ["/orders/?show=all", "/orders/posts", "/orders/registrations?state=", "/orders/reports",
         "/orders/resources", "/orders/needs", "/orders/match", "/orders/projects", "/orders/me",
         "/orders/registrations/status"]


@pytest.mark.parametrize("url", LISTS)
def test_lists_answer_as_fragment_and_page(client, world, login, url):
    place_order(world)
    login("admin1")
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    frag = client.get(url, headers={"HX-Request": "true"})
    assert frag.status_code == 200


def _count_statements(client, url) -> int:
    n = 0

    def count(*_args, **_kw):
        nonlocal n
        n += 1

    db.session.expire_all()  # the same starting point for every count
    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return n


def test_no_n_plus_one_on_the_main_lists(client, world, login):
    o = place_order(world)
    svc.take(o.id, world.members[0])
    login("admin1")
    urls = ["/orders/?show=all", "/orders/registrations?state=", f"/orders/board/{world.c1.id}", f"/orders/{o.id}"]
    before = {u: _count_statements(client, u) for u in urls}
    for i in range(6):
        m = register_member(f"more{i}", world.c1, unit=world.unit, by=world.admin1)
        extra = place_order(world, title=f"更多订单{i}")
        svc.take(extra.id, m)
        svc.take(o.id, m) if i < 1 else None


        commit_to(m, world.c1, text="承诺", items="宣讲", deadline=clock.today() + dt.timedelta(days=9), post=None)
        db.session.commit()
    after = {u: _count_statements(client, u) for u in urls}
    assert after == before


def test_deleting_a_node_with_orders_data_is_refused(app, world):
    place_order(world, node=world.tree.estates[0])
    labels = [str(label) for label, _n in node_holders(world.tree.estates[0], app.extensions["wangge"].pm)]
    assert "个志愿订单" in labels or "volunteer orders" in labels
