"""Long lists of a district: a page is found along an index and the pager
counts only a little ahead ("more than N"); the district's compliance pages
its communities."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from core.extensions import db
from plugins.affairs import queries as Q
from plugins.affairs import services as S
from plugins.affairs.models import GroupTag, House, Resident
from tests import factories

from .conftest import make_id

HX = {"HX-Request": "true"}  # the list block only, not the layout (whose switcher lists every community)


def text(resp):
    return resp.get_data(as_text=True)


def test_a_long_special_group_list_says_more_than_and_pages_on(app, login):
    app.config["PER_PAGE"] = 50  # the figures below are for pages of 50 rows
    t = factories.build_tree(1, 1, 1, 1)
    factories.make_user("admin", "district_admin", t.district)
    zone = t.zones[0]
    house_id = db.session.scalars(
        insert(House).returning(House.id), [{"node_id": zone.id, "unit": "1", "room": "101"}]
    ).one()
    n = 170
    db.session.execute(insert(Resident.__table__), [
        {"id": 1000 + i, "house_id": house_id, "node_id": zone.id, "name": f"居民{i:03d}", "id_number": make_id("19400101", i),
         "birth_date": dt.date(1940, 1, 1), "sex": "M" if i % 2 else "F"} for i in range(n)
    ])
    group = S.ensure_group_types()[0]
    db.session.execute(insert(GroupTag.__table__), [
        {"resident_id": 1000 + i, "group_type_id": group.id, "start_date": dt.date(2025, 1, 1)} for i in range(n)
    ])
    S.recompute_totals()
    db.session.commit()
    c = login("admin")
    first = text(c.get("/affairs/groups", headers=HX))
    assert "共 150 条以上" in first and "居民000" in first and "居民050" not in first
    third = text(c.get("/affairs/groups?page=4", headers=HX))
    assert "居民150" in third and "居民169" in third and "条以上" not in third
    # Only those due: nobody was ever visited, so all are due (counted as "20+" on the widget).
    assert "共 150 条以上" in text(c.get("/affairs/groups?due=1", headers=HX))
    assert "20+" in text(c.get("/affairs/widgets/due", headers=HX))
    assert Q.subtree_counts(t.district)["residents"] == n


def test_the_district_compliance_pages_its_communities(app, login):
    t = factories.build_tree(22, 1, 1, 1)
    t.district.n_communities = 22  # as core/grid/services.py keeps it
    db.session.commit()
    factories.make_user("admin", "district_admin", t.district)
    c = login("admin")
    first = text(c.get("/affairs/compliance", headers=HX))
    assert "测试1社区" in first and "测试20社区" in first and "测试21社区" not in first
    second = text(c.get("/affairs/compliance?page=2", headers=HX))
    assert "测试21社区" in second and "测试22社区" in second and "测试20社区" not in second


def test_every_page_renders_as_an_htmx_fragment(world, login):
    """A fragment request renders only the block: its macros are imported inside it."""
    c = login("cadmin")
    for url in ("/affairs/residents", "/affairs/houses", "/affairs/groups", "/affairs/groups?due=1", "/affairs/visits",
                "/affairs/squads", f"/affairs/squads/{world.tree.estates[0].id}", "/affairs/compliance",
                f"/affairs/residents/{world.res_a.id}", f"/affairs/houses/{world.house_a.id}", "/affairs/residents/new",
                "/affairs/houses/new", "/affairs/checklist", "/affairs/items", "/affairs/import", "/affairs/settings"):
        resp = c.get(url, headers=HX)
        assert resp.status_code == 200, url
        assert "<html" not in text(resp), url
