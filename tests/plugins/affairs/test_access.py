"""The access layer in grid affairs: every object route answers 404 to an
outsider and changes nothing; a community where the module is off disappears
from every list, count, export and widget (and its objects answer 404) until
it is switched on again; the module's default is honoured for a community
with no switch of its own; the scope stays indexable on PostgreSQL."""

from __future__ import annotations

import dataclasses

from flask_login import login_user
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from core import access
from core.extensions import db
from core.models import AuditLog
from core.modules import registry, set_enabled
from plugins.affairs import queries as Q
from plugins.affairs import services as S
from plugins.affairs.models import AffairItem, AffairTask, GroupTag, ImportJob, Resident
from tests import factories

AFFAIRS_ANCHORS = {a.model.__name__: a for a in access.anchors() if a.module == "affairs"}


def test_every_grid_model_of_the_module_is_anchored():
    assert set(AFFAIRS_ANCHORS) == {"AffairTask", "House", "Household", "Resident", "GroupTag", "SquadMember",
                                    "SquadReport", "Visit", "ImportJob"}


def _objects_of_community_one(world):
    """One object of community 1 per URL argument that carries an id."""
    tag = S.add_tag(world.res_a, S.ensure_group_types()[0], world.res_a.birth_date, None, None, None)
    item = S.import_items([(2, {"code": "01-001", "category_code": "01", "category": "综治", "name": "排查",
                                "responsible_role": "网格员", "levels": "estate", "admitted": "是"})])
    assert item[1] == []
    task = S.assign_item(db.session.scalar(select(AffairItem)), world.tree.estates[0], "2026-03", None)
    job = ImportJob(kind="residents", mode="good_rows", filename="x.xlsx", stored_path="none.xlsx",
                    scope="[]", user_id=world.cadmin.id, node_id=world.tree.communities[0].id)
    db.session.add(job)
    db.session.commit()
    return {"resident_id": world.res_a.id, "house_id": world.house_a.id, "tag_id": tag.id, "task_id": task.id,
            "job_id": job.id, "node_id": world.tree.estates[0].id}


def _object_routes(app):
    args = {a for anchor in access.anchors() for a in anchor.url_args} | {"node_id"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("affairs.") and set(rule.arguments) & args:
            yield rule


def test_every_object_route_answers_404_to_another_community_and_changes_nothing(app, world, login):
    ids = _objects_of_community_one(world)
    factories.make_user("cadmin2", "community_admin", world.tree.communities[1])
    c = login("cadmin2")
    before = (db.session.scalar(select(func.count()).select_from(AuditLog)), world.res_a.name,
              db.session.scalar(select(func.count()).select_from(GroupTag)),
              db.session.get(AffairTask, ids["task_id"]).status)
    rules = list(_object_routes(app))
    assert len(rules) >= 14  # the import job pages are the core job pages now
    for rule in rules:
        url = rule.build({a: ids[a] for a in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = c.open(url, method=method, data={"status": "done", "form": "member", "name": "x"})
            assert resp.status_code == 404, (rule.endpoint, method, resp.status_code)
    db.session.expire_all()
    after = (db.session.scalar(select(func.count()).select_from(AuditLog)), db.session.get(Resident, ids["resident_id"]).name,
             db.session.scalar(select(func.count()).select_from(GroupTag)),
             db.session.get(AffairTask, ids["task_id"]).status)
    assert after == before


def _page(c, url):
    resp = c.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.get_data(as_text=True)


def test_switching_the_module_off_hides_a_community_everywhere_until_it_is_on_again(world, login):
    comm1 = world.tree.communities[0]
    tag = S.add_tag(world.res_a, S.ensure_group_types()[2], world.res_a.birth_date, None, None, None)
    db.session.commit()
    c = login("admin")
    lists = ["/affairs/residents", "/affairs/houses", "/affairs/groups", "/affairs/groups?due=1"]

    def seen():
        pages = {u: _page(c, u) for u in lists}
        return {
            "residents": [n for n in ("张甲", "李乙", "王丙") if n in pages["/affairs/residents"]],
            "district_panel": _page(c, f"/affairs/panels/residents/{world.tree.district.id}"),
            "groups": "张甲" in pages["/affairs/groups"],
            "export": c.get("/affairs/export/residents.xlsx").status_code,
            "object": c.get(f"/affairs/residents/{world.res_a.id}").status_code,
            "tag_end": c.post(f"/affairs/tags/{tag.id}/end").status_code,
            "index": _page(c, "/affairs/"),
        }

    on = seen()
    assert on["residents"] == ["张甲", "李乙", "王丙"] and on["groups"] and on["object"] == 200
    set_enabled(comm1.id, "affairs", False, None)
    db.session.commit()
    off = seen()
    assert off["residents"] == ["王丙"]
    assert not off["groups"]
    assert off["object"] == 404 and off["tag_end"] == 404
    assert "<li><strong>1</strong>" in off["district_panel"]  # the district counts community 2 only
    assert "<li><strong>3</strong>" in on["district_panel"]
    set_enabled(comm1.id, "affairs", True, None)
    db.session.commit()
    again = seen()
    assert again["residents"] == ["张甲", "李乙", "王丙"] and again["object"] == 200
    assert "<li><strong>3</strong>" in again["district_panel"]


def test_the_module_default_is_honoured_for_a_community_without_a_switch(app, world, login):
    reg = registry()
    reg.modules["affairs"] = dataclasses.replace(reg.modules["affairs"], default_enabled=False)
    set_enabled(world.tree.communities[1].id, "affairs", True, None)  # community 2 switched on; 1 has no row
    db.session.commit()
    with app.test_request_context("/"):
        login_user(world.admin)
        names = set(db.session.scalars(Q.residents_stmt(Q.scope()).with_only_columns(Resident.name)))
        totals = Q.subtree_totals(world.tree.district)
    assert names == {"王丙"}
    assert totals["residents"] == 1
    c = login("admin")
    assert c.get(f"/affairs/residents/{world.res_a.id}").status_code == 404
    comm2 = world.tree.communities[1].id
    assert c.get(f"/affairs/residents/{world.res_other.id}?community={comm2}").status_code == 200
    assert c.get(f"/affairs/residents/{world.res_a.id}?community={comm2}").status_code == 404


def test_the_scope_condition_lets_postgresql_use_the_path_index(app, world, login):
    with app.test_request_context("/affairs/residents"):
        login_user(world.admin)
        sql = str(Q.scope().compile(dialect=postgresql.dialect()))
        walk = str(Q.scope(walk=True).compile(dialect=db.engine.dialect))
    assert "||" not in sql and "grid_node.path >=" in sql
    # The walk lists' index-defeating form is for SQLite's planner only.
    assert ("||" in walk) == (db.engine.dialect.name == "sqlite")
