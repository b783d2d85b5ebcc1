"""(a) Switching module M off in community A hides every one of A's M-records
from every list, count, widget, export, search and API answer (B's remain),
and every object URL of A's M-records answers 404; switching on shows all again.

Lists are every GET route without arguments plus every node page and panel
(of the district and both communities), requested district-wide by the
district admin. A record counts as shown when the request loaded it (an ORM
load event) or linked to one of its object URLs.
"""

from __future__ import annotations

import pytest

from core.extensions import db
from core.modules import set_enabled
from core.testing import row_counts

from . import checks
from . import world as w


def _lists(app, world):
    urls = [w.fill(r, {}) for r in w.list_routes(app)]
    for rule in w.node_routes(app):
        urls += [w.fill(rule, {"node_id": n}) for n in (world.district, world.a, world.b)]
    return [u for u in urls if u]


def _switch(module, community_id, on):
    # Dependants follow when switching off (they need the module); requirements when on.
    from core.modules import ModuleSwitchError

    reg = w.registry()
    try:
        set_enabled(community_id, module, on, None)
    except ModuleSwitchError:
        for other in reg.modules.values():
            if module in other.requires:
                _switch(other.name, community_id, False)
        set_enabled(community_id, module, on, None)
    db.session.commit()


@pytest.mark.parametrize("module", [pytest.param(m, marks=w.pending(m)) for m in w.switchable_modules()])
def test_switching_off_hides_a_communitys_records_everywhere(world, client, as_user, switches, module):
    app = world.app
    with app.app_context():
        anchors = w.module_anchors(module, app)
        assert anchors, f"{module}: no model is anchored on the grid (core.access.anchored)"
        models = [a.model for a in anchors]
        in_a = {(m, i) for m in models for i in w.record_ids(m, world.a)}
        in_b = {(m, i) for m in models for i in w.record_ids(m, world.b)}
        assert in_a and in_b, f"{module}: its demo data must give records in every community"
        markers = {}
        for m in models:
            markers.update(checks.object_urls(app, m, w.record_ids(m, world.a, limit=200)))
            markers.update(checks.object_urls(app, m, w.record_ids(m, world.b, limit=200)))
        samples = {m: w.sample_ids(m, world.a) for m in models}
        lists = _lists(app, world)

    as_user(world.district_admin)
    client.post("/community", data={"community": ""})

    shown = checks.observe(client, lists, models, markers)
    assert set().union(*shown.values()) & in_a, f"{module}: no list shows any record of community A"

    with app.app_context():
        _switch(module, world.a, False)
    shown = checks.observe(client, lists, models, markers)
    leaks = {url: sorted(f"{m.__name__}#{i}" for m, i in recs & in_a)[:5] for url, recs in shown.items() if recs & in_a}
    assert leaks == {}, f"{module} is off in community A, yet these answers show A's records"
    assert set().union(*shown.values()) & in_b, f"{module}: community B's records vanished too"

    with app.app_context():
        before = row_counts()
        gated = []
        for m, ids in samples.items():
            anchor = next(a for a in anchors if a.model is m)
            rules = w.object_routes(app, anchor)
            for ident in ids:
                values = w.url_values(db.session.get(m, ident))
                for rule in rules:
                    url = w.fill(rule, values)
                    if url:
                        gated += [(meth, url) for meth in w.methods(rule)]
    wrong = []
    for meth, url in gated:
        resp = client.open(url, method=meth)
        if resp.status_code != 404:
            wrong.append((meth, url, resp.status_code))
    assert wrong == [], f"{module} is off in community A, yet these object URLs of A's records answer"
    with app.app_context():
        assert row_counts() == before

    with app.app_context():
        _switch(module, world.a, True)
    shown = checks.observe(client, lists, models, markers)
    assert set().union(*shown.values()) & in_a, f"{module}: switched on again, A's records stay hidden"
    for meth, url in gated:
        if meth == "GET":
            assert client.get(url).status_code < 400, url
