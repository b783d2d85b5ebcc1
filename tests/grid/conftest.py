"""Helpers of the grid tests."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.models import Leave
from tests.factories import assign_post, make_user

TODAY = clock.today()


def row_counts() -> dict[str, int]:
    db.session.rollback()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def add_leave(user, start, end, reason="年休假"):
    lv = Leave(user_id=user.id, start_date=start, end_date=end, reason=reason)
    db.session.add(lv)
    db.session.commit()
    return lv


@pytest.fixture
def staffed(tree):
    """Two estates of community 1 with workers A (estate 1) and B (estate 2)
    backing each other up, and a worker C in community 2."""
    e1, e2 = tree.estates[0], tree.estates[1]
    a = make_user("wa", "grid_worker", e1, display_name="王甲")
    b = make_user("wb", "grid_worker", e2, display_name="李乙")
    c = make_user("wc", "grid_worker", tree.estates[2], display_name="张丙")
    p1 = assign_post(e1, a, b)
    p2 = assign_post(e2, b, a)
    p3 = assign_post(tree.estates[2], c)
    return {"a": a, "b": b, "c": c, "e1": e1, "e2": e2, "p1": p1, "p2": p2, "p3": p3, "tree": tree}


@pytest.fixture
def english(app):
    """Messages of the rules in English, so the tests read them."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield
