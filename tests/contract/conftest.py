"""The contract world: one small demo district (2 communities) built once per
run through every installed module's own ``wangge_demo_data``, on a database
of its own (SQLite, or PostgreSQL with WANGGE_TEST_BACKEND=postgresql).

Tests must leave it as they found it: module switches are restored after
each test (``switches`` fixture), and the outsider requests must change nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from core.demo import DEMO_PASSWORD, build_demo
from core.extensions import db
from core.models import GridNode, ModuleSetting, Organisation, RoleGrant, User
from core.testing import make_app, sign_in
from core.testing.plugin import new_database

from . import world as w

SMALL = {"community": 2, "estate": 6, "building": 12, "zone": 24}


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    url, drop = new_database(tmp_path_factory, "contract")
    app = make_app(url, tmp_path_factory.mktemp("contract-instance"))
    with app.app_context():
        db.create_all()
        build_demo(scale=1, seed=1, report=lambda _line: None, counts=SMALL)
        a, b = db.session.scalars(
            select(GridNode).where(GridNode.level == "community").order_by(GridNode.sort_order, GridNode.id)
        ).all()[:2]
        district = db.session.scalar(select(GridNode).where(GridNode.level == "district"))
        # A handler of a department that handles nothing: an outsider to every record.
        org = Organisation(name="合同测试局", short_name="测试局", kind="department")
        db.session.add(org)
        db.session.flush()
        outsider = User(username="outsider-handler", display_name="外单位经办人", organisation_id=org.id)
        outsider.set_password(DEMO_PASSWORD)
        db.session.add(outsider)
        db.session.flush()
        db.session.add(RoleGrant(user_id=outsider.id, role="handler", node_id=district.id))
        db.session.commit()
        admin_b = db.session.scalar(
            select(User.username).join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == "community_admin", RoleGrant.node_id == b.id)
        )
        admin_a = db.session.scalar(
            select(User.username).join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == "community_admin", RoleGrant.node_id == a.id)
        )
        world = w.World(app=app, a=a.id, b=b.id, district=district.id, admin_a=admin_a, admin_b=admin_b,
                        district_admin="district", outsider_handler="outsider-handler")
    yield world
    with app.app_context():
        db.engine.dispose()
    drop()


@pytest.fixture
def client(world):
    return world.app.test_client()


@pytest.fixture
def as_user(client):
    """as_user(username) -> the client signed in (the demo password)."""

    def do(username):
        return sign_in(client, username, DEMO_PASSWORD)

    return do


@pytest.fixture
def switches(world):
    """Restore every module switch after the test."""
    with world.app.app_context():
        saved = [(s.community_id, s.module, s.enabled) for s in db.session.scalars(select(ModuleSetting))]
    yield
    with world.app.app_context():
        db.session.execute(delete(ModuleSetting))
        for cid, module, enabled in saved:
            db.session.add(ModuleSetting(community_id=cid, module=module, enabled=enabled))
        db.session.commit()
