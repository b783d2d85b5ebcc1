"""(d) No object route can hide from the gate: every route argument that
carries an integer id is named by some anchored model's url_args (so the
outsider tests request it) — an anchor of the route's own module, or the
core's (node_id) — except the core's own district-wide objects
listed here, each with the reason it needs no grid anchor."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db

from . import world as w

# The core's objects that do not hang on the grid (only core endpoints may use these).
CORE_UNANCHORED = {
    "user_id": "accounts: the admin pages check the admin's scope over the user's grants",
    "grant_id": "a role grant, always with its user_id (same check)",
    "org_id": "organisations are district-wide (departments, companies, partner units)",
    "seat_id": "a committee seat, always under its community's node_id (gated by the node)",
    "leave_id": "a leave, always under its grid's node_id (gated by the node)",
    # A user's own objects: not on the grid at all, gated by owner (anyone else gets a 404,
    # nothing changes) — proved in tests/core/test_own_objects.py, test_jobs.py, test_notify.py.
    "note_id": "inbox: the signed-in user's own notification (inbox._own: owner or 404)",
    "job_id": "jobs: the signed-in user's own background job (jobs._own: starter or 404)",
}

# A module's own objects that do not hang on the grid, each with the check that gates it.
MODULE_UNANCHORED = {
    "affairs": {
        "item_id": "an item of the district's task list (a catalogue, no node): only the district admin "
                   "holds affairs.tasks.manage, the one action of its routes (item_admission)",
        "user_id": "a worker (worker_compliance): 404 unless the worker works under a node of the viewer's "
                   "affairs.compliance scope (services.works_under) or is the viewer",
    },
}


def _modules():
    return [pytest.param(m, marks=w.pending(m)) for m in ["core", *w.switchable_modules()]]


@pytest.mark.parametrize("module", _modules())
def test_every_integer_route_argument_is_anchored(module):
    app = w.installed()
    named = {arg for a in w.installed_anchors(app) if a.module in (module, "core") for arg in a.url_args}
    allowed = named | (set(CORE_UNANCHORED) if module == "core" else set(MODULE_UNANCHORED.get(module, ())))
    ungated = sorted(
        f"{rule.endpoint} <{arg}>"
        for rule in app.url_map.iter_rules()
        if w.module_of_endpoint(rule.endpoint, app) == module
        for arg in w.int_args(rule)
        if arg not in allowed
    )
    assert ungated == [], (
        f"{module}: routes take integer ids that no anchored model names in url_args "
        "(anchor the model with core.access.anchored(..., url_args=(...)))"
    )


@pytest.mark.parametrize("module", [pytest.param("affairs", marks=w.pending("affairs"))])
def test_the_affairs_exemptions_are_gated_as_their_reasons_say(world, client, as_user, module):
    """item_admission is refused to a community admin (and changes nothing);
    a worker of community A is a 404 to community B's admin, seen by A's."""
    from core.models import RoleGrant, User
    from plugins.affairs.models import AffairItem

    with world.app.app_context():
        item = db.session.scalar(select(AffairItem).order_by(AffairItem.id))
        worker = db.session.scalar(select(User.id).where(User.username == world.worker_a))
        assert item is not None and worker is not None
        item_id, admitted = item.id, item.admitted
        assert db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == worker)) is not None
    as_user(world.admin_a)
    assert client.post(f"/affairs/items/{item_id}/admission", data={"admitted": "0" if admitted else "1"}).status_code in (403, 404)
    with world.app.app_context():
        assert db.session.get(AffairItem, item_id).admitted == admitted
    assert client.get(f"/affairs/compliance/workers/{worker}").status_code == 200
    as_user(world.admin_b)
    assert client.get(f"/affairs/compliance/workers/{worker}").status_code == 404
