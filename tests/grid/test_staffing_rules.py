"""A/B posts and leave: who covers a grid on a given day."""

from __future__ import annotations

import datetime as dt

import pytest

from core.extensions import db
from core.grid import services as svc
from core.staffing import StaffingError, covered_paths, responsible_worker_for_node
from tests.factories import make_user

from .conftest import TODAY, add_leave

pytestmark = pytest.mark.usefixtures("english")
D = dt.timedelta


def state(s, day):
    return svc.coverage([s["p1"]], day)[0]


def test_a_covers_their_grid_when_present(staffed):
    c = state(staffed, TODAY)
    assert c.state == "a" and c.covering.id == staffed["a"].id
    assert covered_paths(staffed["b"].id, TODAY) == [staffed["e2"].path]


def test_b_covers_during_a_leave_and_it_reverts_when_the_leave_ends(staffed):
    a, b, e1 = staffed["a"], staffed["b"], staffed["e1"]
    add_leave(a, TODAY - D(days=1), TODAY + D(days=2))
    c = state(staffed, TODAY)
    assert c.state == "b" and c.covering.id == b.id
    assert e1.path in covered_paths(b.id, TODAY)
    # Things routed to the estate (or anything under it) go to B.
    zone = staffed["tree"].zones[0]
    assert responsible_worker_for_node(zone, TODAY).id == b.id
    # The day after the leave: A again, and B's scope shrinks back.
    after = TODAY + D(days=3)
    assert state(staffed, after).state == "a"
    assert e1.path not in covered_paths(b.id, after)
    assert responsible_worker_for_node(zone, after).id == a.id
    # The first and last days of the leave are inclusive.
    assert state(staffed, TODAY + D(days=2)).state == "b"
    assert state(staffed, TODAY - D(days=1)).state == "b"
    assert state(staffed, TODAY - D(days=2)).state == "a"


def test_both_away_means_nobody_and_a_warning(staffed):
    add_leave(staffed["a"], TODAY, TODAY)
    add_leave(staffed["b"], TODAY - D(days=3), TODAY + D(days=3))
    c = state(staffed, TODAY)
    assert c.state == "nobody" and c.covering is None
    community = staffed["tree"].communities[0]
    names = [x.node.name for x in svc.uncovered(community, TODAY)]
    assert staffed["e1"].name in names and staffed["e2"].name in names
    assert svc.uncovered(community, TODAY + D(days=4)) == []


def test_overlapping_or_backwards_leave_is_refused(staffed):
    a = staffed["a"]
    svc.add_leave(a.id, TODAY, TODAY + D(days=4), "年休假", None)
    with pytest.raises(StaffingError, match="overlaps"):
        svc.add_leave(a.id, TODAY + D(days=4), TODAY + D(days=6), "病假", None)
    with pytest.raises(StaffingError, match="overlaps"):
        svc.add_leave(a.id, TODAY - D(days=5), TODAY + D(days=10), "病假", None)
    with pytest.raises(StaffingError, match="ends before it starts"):
        svc.add_leave(a.id, TODAY + D(days=10), TODAY + D(days=9), "病假", None)
    # Back to back is fine.
    svc.add_leave(a.id, TODAY + D(days=5), TODAY + D(days=6), "病假", None)


def test_b_post_must_be_a_neighbour_in_the_same_community(staffed):
    e1, c = staffed["e1"], staffed["c"]
    with pytest.raises(StaffingError, match="same community"):
        svc.set_post(e1, staffed["a"].id, c.id)
    loner = make_user("loner", "grid_worker", e1)
    with pytest.raises(StaffingError, match="neighbouring grid"):
        svc.set_post(e1, staffed["a"].id, loner.id)
    with pytest.raises(StaffingError, match="two different"):
        svc.set_post(e1, staffed["a"].id, staffed["a"].id)
    with pytest.raises(StaffingError, match="A-post worker first"):
        svc.set_post(e1, None, staffed["b"].id)
    # A neighbour of the same community is accepted.
    post = svc.set_post(e1, loner.id, staffed["b"].id)
    db.session.commit()
    assert (post.a_user_id, post.b_user_id) == (loner.id, staffed["b"].id)


def test_worker_candidates_are_the_communitys_workers(staffed):
    community = staffed["tree"].communities[0]
    names = {u.username for u in svc.worker_candidates(community)}
    assert names == {"wa", "wb"}
