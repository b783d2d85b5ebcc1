"""The demo: two completed batches whose awards follow from the records and
ratings (each nomination passed the app's own eligibility check), reproducible."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from core.extensions import db
from plugins.fivestar import demo
from plugins.fivestar.models import Batch, Nomination, ScoreMonth
from plugins.fivestar.services import batches


def test_the_demo_awards_two_batches_backed_by_records(tree, app):
    lines = []
    with app.test_request_context():
        demo.build(1, random.Random(1), lines.append)
        db.session.commit()
        assert [b.state for b in db.session.scalars(select(Batch).order_by(Batch.number))] == ["awarded", "awarded"]
        awarded = list(db.session.scalars(select(Nomination).where(Nomination.state == "awarded")))
        assert len(awarded) == 2 * demo.MEMBERS_PER_COMMUNITY  # every member of the 2-community test tree
        for n in awarded:
            # Re-checked from the published months and ratings, not from the stored snapshot.
            assert batches.evidence(n.batch, [n.member_id])[n.member_id]["eligible"], n.member_id
        assert db.session.scalar(select(func.count()).select_from(ScoreMonth).where(
            ScoreMonth.state == "published")) == 2 * len(demo.MONTHS)
    assert "2 batches" in lines[-1]
