"""The node page's SQL statements do not grow with the number of children."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from core.extensions import db
from core.grid.services import create_node
from core.models import GridNode
from tests.factories import assign_post, make_org, make_user


@contextmanager
def count_statements():
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def grow(community, n, company):
    """Add `n` staffed estates (each with a building and a zone) to a community."""
    for i in range(n):
        e = create_node(community, "estate", f"小区{i}", f"{community.code}-X{i:03d}", property_company_id=company.id)
        b = create_node(e, "building", "1栋", f"{e.code}-B")
        create_node(b, "zone", "1单元", f"{b.code}-Z")
        worker = make_user(f"w{community.id}-{i}", "grid_worker", e)
        assign_post(e, worker)
    db.session.commit()


def statements_for(client, url):
    client.get(url)  # warm: the first request loads the user and the module switches
    db.session.expunge_all()  # the tests share the session: start each count from nothing
    with count_statements() as seen:
        resp = client.get(url)
    assert resp.status_code == 200
    import os
    if os.environ.get("SHOW_SQL"):
        print(url, *[x.split("FROM")[0][:60] + "|" + x[-90:] for x in seen], sep="\n  ")
    return len(seen)


def test_node_page_statements_do_not_grow_with_children(client, tree, login):
    make_user("boss", "district_admin", tree.district)
    company = make_org("芜湖安居物业管理有限公司", "property_company")
    small = create_node(tree.district, "community", "小社区", "S-1")
    big = create_node(tree.district, "community", "大社区", "B-1")
    db.session.commit()
    grow(small, 2, company)
    grow(big, 20, company)
    small_id, big_id = small.id, big.id
    login("boss")
    few = statements_for(client, f"/grid/node/{small_id}")
    many = statements_for(client, f"/grid/node/{big_id}")
    assert many == few, f"{few} statements for 2 children, {many} for 20"
    # An estate page, a building page and the children fragment too.
    # The first estate of each community: 1 building and staffed; then 15 more buildings in one.
    first = {
        c: db.session.scalar(select(GridNode.id).where(GridNode.parent_id == c).order_by(GridNode.id).limit(1))
        for c in (small_id, big_id)
    }
    few_e, many_e = first[small_id], first[big_id]
    estate = db.session.get(GridNode, many_e)
    for i in range(15):
        b = create_node(estate, "building", f"{i + 2}栋", f"{estate.code}-B{i}")
        create_node(b, "zone", "1单元", f"{b.code}-Z")
    db.session.commit()
    assert statements_for(client, f"/grid/node/{few_e}") == statements_for(client, f"/grid/node/{many_e}")
    for page in ("children", "coverage"):
        assert statements_for(client, f"/grid/node/{small_id}/{page}") == statements_for(client, f"/grid/node/{big_id}/{page}")
