"""(c) Every panel (on a node of each of its levels) and every widget answers
200 both as an HTMX request and as a full page, for the district admin and for
the community admin of the node's community (a node in scope)."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from core.extensions import db
from core.models import GridNode

from . import checks
from . import world as w


def _panels():
    out = []
    for p in w.registry().panels:
        for level in p.levels:
            out.append(pytest.param(p.key, level, marks=w.pending(p.module), id=f"{p.key}-{level}"))
    return out


def _widgets():
    return [pytest.param(x.key, marks=w.pending(x.module), id=x.key) for x in w.registry().widgets]


def _node(world, level):
    if level == "district":
        return world.district
    if level == "community":
        return world.a
    return db.session.scalar(
        select(GridNode.id).where(GridNode.level == level, GridNode.community_id == world.a).order_by(GridNode.id)
    )


def _users(world, app, endpoint, with_community=True):
    """The users in scope who may use the endpoint: the district admin, and the
    community admin, a grid worker, a handler and a Party member of community A."""
    names = [world.district_admin]
    if with_community:
        names += [world.admin_a, world.worker_a, world.handler, world.member_a]
    users = [u for u in names if checks.may_use(u, app, endpoint)]
    assert users, f"{endpoint}: no user of the contract world may use it"
    return users


def _both_ways(client, url):
    full = client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true"})
    return full.status_code, fragment.status_code


@pytest.mark.parametrize(("key", "level"), _panels())
def test_every_panel_answers_as_fragment_and_page(world, client, as_user, key, level):
    app = world.app
    with app.app_context(), app.test_request_context():
        panel = next(p for p in w.registry(app).panels if p.key == key)
        node_id = _node(world, level)
        assert node_id is not None, f"the contract world has no {level} node"
        url = url_for(panel.endpoint, node_id=node_id)
        users = [u for u in _users(world, app, panel.endpoint, with_community=level != "district")
                 if checks.in_scope_of(u, node_id)]
    for username in users:
        as_user(username)
        assert _both_ways(client, url) == (200, 200), f"{url} as {username}"


@pytest.mark.parametrize("key", _widgets())
def test_every_widget_answers_as_fragment_and_page(world, client, as_user, key):
    app = world.app
    with app.app_context(), app.test_request_context():
        widget = next(x for x in w.registry(app).widgets if x.key == key)
        url = url_for(widget.endpoint)
        users = _users(world, app, widget.endpoint)
    for username in users:
        as_user(username)
        client.post("/community", data={"community": ""})
        assert _both_ways(client, url) == (200, 200), f"{url} as {username}"
