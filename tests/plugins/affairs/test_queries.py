"""No N+1: the lists run the same number of SQL statements for 3 rows as for 30."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from core import clock
from core.extensions import db
from plugins.affairs import services as S

from .conftest import add_house, add_resident


def statements(client, url) -> int:
    n = 0

    def count(*_args):
        nonlocal n
        n += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        resp = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert resp.status_code == 200, url
    return n


def grow(world, start, n):
    groups = {g.code: g for g in S.ensure_group_types()}
    for i in range(n):
        h = add_house(world.tree.zones[1], room=f"{start + i}")
        r = add_resident(h, f"新{start + i}", start + i)
        S.add_tag(r, groups["empty_nest"], dt.date(2025, 1, 1), None, None, None)
        S.record_visit(worker=world.worker_a, node=world.tree.zones[1], day=clock.today(), kind="home",
                       finding="none", notes=None, resident=r)
    db.session.commit()


@pytest.mark.parametrize("url", ["/affairs/residents", "/affairs/houses", "/affairs/groups", "/affairs/visits",
                                 "/affairs/compliance", "/affairs/squads", "/affairs/visits/new"])
def test_lists_do_not_grow_with_rows(world, login, url):
    c = login("cadmin")
    grow(world, 100, 3)
    c.get(url)  # warm caches
    few = statements(c, url)
    grow(world, 200, 27)
    c.get(url)  # the commit expired what the session held: reload it first
    many = statements(c, url)
    assert many == few, f"{url}: {few} statements for few rows, {many} for many"
