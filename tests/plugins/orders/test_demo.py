"""The demo: members registered in every community, posts, orders in every
state, commitments on the board, and exactly 25 projects each traceable to
the resources and needs it was matched from."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.demo import build_demo
from core.extensions import db
from core.models import GridNode
from plugins.orders.models import Commitment, Order, Project, Registration, ServicePost, Take
from plugins.orders.services.orders import display_state


@pytest.fixture
def demo_app(app_factory):
    app = app_factory(PLUGINS=["orders"], LOAD_ENTRY_POINTS=False)
    with app.app_context():
        build_demo(scale=1, seed=3, report=lambda s: None)
        yield app


def test_the_demo_has_everything_the_seed_describes(demo_app):
    communities = db.session.scalar(select(func.count()).select_from(GridNode).where(GridNode.level == "community"))
    with_members = db.session.scalar(select(func.count(func.distinct(Registration.community_id)))
                                     .where(Registration.state == "confirmed"))
    assert with_members == communities == 19
    assert db.session.scalar(select(func.count()).select_from(ServicePost).where(ServicePost.is_template)) == 8
    orders = db.session.scalars(select(Order)).all()
    assert {display_state(o) for o in orders} >= {"open", "full", "cancelled", "under_way", "closed"}
    assert {t.state for t in db.session.scalars(select(Take))} >= {"taken", "reported", "accepted"}
    assert db.session.scalar(select(func.count(func.distinct(Commitment.community_id)))) == 19
    projects = db.session.scalars(select(Project)).all()
    assert len(projects) == 25
    assert {p.category for p in projects} == {"governance", "social_work", "specific_groups", "party_service"}
    for p in projects:
        assert p.resources and p.needs
        assert {r.community_id for r in p.resources} == {n.community_id for n in p.needs} == {p.community_id}
        assert {r.category for r in p.resources} == {n.category for n in p.needs} == {p.category}
