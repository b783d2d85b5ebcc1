"""The demo district at scale 1 is exactly the seed of the source article."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.demo import DEMO_LOGINS, DEMO_PASSWORD, build_demo
from core.extensions import db
from core.models import CommitteeMember, GridNode, GridPost, Leave, Organisation, User


@pytest.fixture
def demo_app(app_factory):
    app = app_factory(PLUGINS=[], LOAD_ENTRY_POINTS=False)
    with app.app_context():
        yield app


def level_counts():
    return dict(db.session.execute(select(GridNode.level, func.count()).group_by(GridNode.level)).all())


def test_scale_1_has_the_seed_counts(demo_app):
    build_demo(scale=1, seed=7, report=lambda s: None)
    assert level_counts() == {"district": 1, "community": 19, "estate": 191, "building": 897, "zone": 3134}
    root = db.session.scalar(select(GridNode).where(GridNode.level == "district"))
    assert (root.code, root.name) == ("340221", "湾沚区")
    assert (root.n_communities, root.n_estates, root.n_buildings, root.n_zones) == (19, 191, 897, 3134)
    kinds = dict(db.session.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind)).all())
    assert kinds == {"department": 13, "property_company": 24, "partner_unit": 82}
    seated = db.session.scalar(select(func.count(func.distinct(CommitteeMember.organisation_id))))
    assert seated == 82
    assert db.session.scalar(select(func.count(func.distinct(CommitteeMember.community_id)))) == 19
    assert db.session.scalar(select(func.count()).select_from(GridPost)) == 191
    assert db.session.scalar(select(func.count()).select_from(Leave)) > 0
    # Every demo login works with the demo password.
    for username, _what in DEMO_LOGINS:
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None and user.check_password(DEMO_PASSWORD), username
    # Every community's totals agree with its estates'.
    for c in db.session.scalars(select(GridNode).where(GridNode.level == "community")):
        n = db.session.scalar(select(func.count()).select_from(GridNode).where(GridNode.parent_id == c.id))
        assert c.n_estates == n


def test_the_demo_is_deterministic_for_a_seed(demo_app):
    from tests.conftest import empty_all_tables

    build_demo(scale=1, seed=3, report=lambda s: None)
    first = db.session.execute(select(GridNode.code, GridNode.name).order_by(GridNode.code)).all()
    empty_all_tables()
    build_demo(scale=1, seed=3, report=lambda s: None)
    again = db.session.execute(select(GridNode.code, GridNode.name).order_by(GridNode.code)).all()
    assert first == again


def test_the_cli_refuses_to_build_over_data_without_reset(demo_app):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "district" in result.output and DEMO_PASSWORD in result.output
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0 and "--reset" in result.output
    result = runner.invoke(args=["demo", "--reset", "--seed", "2"])
    assert result.exit_code == 0
    assert level_counts()["zone"] == 3134
