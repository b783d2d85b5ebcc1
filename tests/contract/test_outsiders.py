"""(b) Every route that takes an object id (found through each anchor's
url_args), requested for a record of community A by a user of another
community (the community admin of B) or of another unit (a handler of a
department that handles nothing), answers 404 and changes nothing.

A 403 is accepted only where the user may not use the endpoint at all (no
role of theirs holds its permission): that answer says nothing about the object.
"""

from __future__ import annotations

import pytest

from core.extensions import db
from core.testing import row_counts

from . import checks
from . import world as w

OUTSIDERS = ("admin_b", "outsider_handler")


def _cases():
    app = w.installed()
    out = []
    for anchor in w.installed_anchors(app):
        for rule in w.object_routes(app, anchor):
            module = w.module_of_endpoint(rule.endpoint, app)
            for who in OUTSIDERS:
                marks = [*w.pending(module), *w.pending(anchor.module)]
                out.append(pytest.param(anchor.model, rule.endpoint, who, marks=marks,
                                        id=f"{anchor.model.__name__}-{rule.endpoint}-{who}"))
    return out


@pytest.mark.parametrize(("model", "endpoint", "who"), _cases())
def test_an_outsider_gets_404_and_changes_nothing(world, client, as_user, model, endpoint, who):
    app = world.app
    username = getattr(world, who)
    as_user(username)  # before counting: signing in writes an audit entry
    with app.app_context():
        anchor = next(a for a in w.installed_anchors(app) if a.model is model)
        view_roles = set(w.registry(app).actions[anchor.view].default_roles) if anchor.view else set()
        if who == "outsider_handler" and "handler" in view_roles and anchor.reach is None:
            pytest.skip("handlers see every record of this model district-wide by design")
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        ids = w.sample_ids(model, world.a)
        if not ids:
            pytest.skip(f"no {model.__name__} in community A")
        urls = [w.fill(rule, w.url_values(db.session.get(model, i))) for i in ids]
        urls = [u for u in urls if u]
        if not urls:
            pytest.skip(f"{endpoint}: arguments {sorted(rule.arguments)} cannot all be filled from a record")
        allowed = {404} | ({403} if not checks.may_use(username, app, endpoint) else set())
        before = row_counts()
    wrong = []
    for url in urls:
        for meth in w.methods(rule):
            resp = client.open(url, method=meth, data={} if meth == "POST" else None)
            if resp.status_code not in allowed:
                wrong.append((meth, url, resp.status_code))
    assert wrong == [], f"{username} (outside community A) reached A's records"
    with app.app_context():
        assert row_counts() == before
