"""Scope: a role granted on a grid node covers that node's subtree; anything
outside answers 404 (never a 403 that would confirm it exists)."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import url_for
from flask_login import login_user
from sqlalchemy import func, select

from core import clock, security
from core.extensions import db
from core.models import GridNode, Leave
from tests import factories
from tests.core.conftest import sign_in
from tests.core.fakes import full_plugin


def _node_page(app, client, node):
    """Status of the node's page; a module's panel for the node must agree with it."""
    page = client.get(url_for("grid.node", node_id=node.id, _external=False)).status_code
    panel = client.get(f"/shelf/panel/{node.id}").status_code
    assert page == panel, (page, panel)
    return page


@pytest.fixture
def shelf_app(fake_app):
    app = fake_app(full_plugin("shelf", roles=("district_admin", "community_admin", "grid_worker")))
    return app, factories.build_tree()


def test_a_role_on_a_node_covers_its_subtree_only(shelf_app):
    app, t = shelf_app
    estate = t.estates[0]
    factories.make_user("gw", "grid_worker", estate)
    client = sign_in(app.test_client(), "gw")
    inside = [estate] + [b for b in t.buildings if b.parent_id == estate.id] + [
        z for z in t.zones if z.path.startswith(estate.path)
    ]
    assert len(inside) == 7
    for node in inside:
        assert _node_page(app, client, node) == 200, node.code
    sibling = next(e for e in t.estates if e.community_id == estate.community_id and e.id != estate.id)
    for node in (sibling, t.communities[0], t.communities[1], t.district, t.zones[-1]):
        assert _node_page(app, client, node) == 404, node.code


def test_a_district_admin_sees_everything(shelf_app):
    app, t = shelf_app
    factories.make_user("boss", "district_admin", t.district)
    client = sign_in(app.test_client(), "boss")
    for node in (t.district, t.communities[1], t.zones[-1]):
        assert _node_page(app, client, node) == 200


def test_scope_filter_selects_the_subtree_in_sql(shelf_app):
    app, t = shelf_app
    user = factories.make_user("gw", "grid_worker", t.estates[0])
    with app.test_request_context("/"):
        login_user(user)
        n = db.session.scalar(
            select(func.count()).select_from(GridNode).where(security.scope_filter(GridNode.path, "shelf.view"))
        )
        assert n == 7
        assert security.scope_paths() == [t.estates[0].path]


def test_a_b_post_covers_the_a_post_grid_only_during_the_leave(shelf_app):
    app, t = shelf_app
    mine, theirs = t.estates[0], t.estates[1]
    a = factories.make_user("worker-a", "grid_worker", theirs)
    b = factories.make_user("worker-b", "grid_worker", mine)
    factories.assign_post(theirs, a_user=a, b_user=b)
    client = sign_in(app.test_client(), "worker-b")
    assert _node_page(app, client, theirs) == 404

    today = clock.today()
    leave = Leave(user_id=a.id, start_date=today - dt.timedelta(days=1), end_date=today + dt.timedelta(days=2), reason="病假")
    db.session.add(leave)
    db.session.commit()
    assert _node_page(app, client, theirs) == 200
    assert _node_page(app, client, next(z for z in t.zones if z.path.startswith(theirs.path))) == 200

    leave.end_date = today - dt.timedelta(days=1)  # the leave is over
    db.session.commit()
    assert _node_page(app, client, theirs) == 404


def test_someone_else_s_notice_answers_404_and_stays(client, tree, login):
    wangge_noticeboard = pytest.importorskip("wangge_noticeboard")
    from wangge_noticeboard.services import post_notice

    c1, c2 = tree.communities
    notice = post_notice(c2, "二社区内部通知", "仅限二社区", None)
    db.session.commit()
    factories.make_user("ca1", "community_admin", c1)
    login("ca1")
    assert client.post(f"/noticeboard/{notice.id}/delete").status_code == 404
    assert db.session.get(wangge_noticeboard.models.Notice, notice.id) is not None
    assert "二社区内部通知" not in client.get("/noticeboard/").get_data(as_text=True)
