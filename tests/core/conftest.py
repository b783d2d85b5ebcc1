"""Helpers shared by the core's tests."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import RoleGrant
from tests.factories import make_user


def row_counts() -> dict[str, int]:
    """Rows in every table the app knows: what "nothing saved" means."""
    db.session.rollback()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def choose_community(client, community_id):
    """Pick the community in the header's switcher ('' for the whole district)."""
    resp = client.post("/community", data={"community": str(community_id or "")})
    assert resp.status_code == 302
    return resp


def switch_module(client, module, on, community_id=None):
    data = {"module": module, "enabled": "1" if on else "0"}
    if community_id is not None:
        data["community"] = str(community_id)
    return client.post("/admin/modules/switch", data=data)


def nav_modules(html: str) -> set[str]:
    """The modules that have an item in the main navigation of a page."""
    import re

    nav = html.split('class="mainnav"', 1)[1].split("</nav>", 1)[0] if 'class="mainnav"' in html else ""
    return set(re.findall(r'data-module="([^"]+)"', nav))


@pytest.fixture
def two_community_admin(tree):
    """A community admin of both communities of the test tree."""
    user = make_user("ca-both", "community_admin", tree.communities[0])
    db.session.add(RoleGrant(user_id=user.id, role="community_admin", node_id=tree.communities[1].id))
    db.session.commit()
    return user


def sign_in(client, username, password=None):
    from tests.factories import PASSWORD

    client.post("/logout")
    resp = client.post("/login", data={"username": username, "password": password or PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def fake_app(app_factory):
    """make(*plugins, **config): an app with these extra plugins and no built-in
    module (unless config names some in PLUGINS), its context pushed.

    Build data (tests.factories.build_tree()) after calling it, inside its context.
    """
    ctxs = []

    def make(*plugins, **config):
        # The fakes alone (plus entry-point plugins such as the example): the
        # built-in modules' own answers to the same hooks would blur the tests.
        config.setdefault("PLUGINS", [])
        app = app_factory(extra_plugins=list(plugins), **config)
        ctx = app.app_context()
        ctx.push()
        ctxs.append(ctx)
        return app

    yield make
    for ctx in reversed(ctxs):
        ctx.pop()
