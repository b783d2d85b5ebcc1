"""Per-community module switches, with a district default (fake modules)."""

from __future__ import annotations

from tests import factories
from tests.core.conftest import choose_community, nav_modules, row_counts, sign_in, switch_module
from tests.core.fakes import full_plugin, module_plugin


def _setup(fake_app, *plugins):
    app = fake_app(*plugins)
    t = factories.build_tree()
    factories.make_user("boss", "district_admin", t.district)
    ca = factories.make_user("ca-both", "community_admin", t.communities[0])
    factories.db.session.add(factories.RoleGrant(user_id=ca.id, role="community_admin", node_id=t.communities[1].id))
    factories.make_user("ca2", "community_admin", t.communities[1])
    factories.db.session.commit()
    return app, t


def _module_state(client, module, community_id=None) -> str:
    """'on' or 'off' as the Modules admin page shows it."""
    url = "/admin/modules" + (f"?community={community_id}" if community_id else "")
    page = client.get(url).get_data(as_text=True)
    row = page.split(f'<tr data-module="{module}">', 1)[1].split("</tr>", 1)[0]
    return "on" if 'value="0"' in row else "off"


def test_district_default_applies_where_a_community_has_no_setting(fake_app):
    app, t = _setup(fake_app, full_plugin("shelf"))
    c1, c2 = t.communities
    client = sign_in(app.test_client(), "boss")
    assert switch_module(client, "shelf", False).status_code == 200  # the district default
    assert _module_state(client, "shelf") == "off"
    assert _module_state(client, "shelf", c1.id) == "off" and _module_state(client, "shelf", c2.id) == "off"
    # A community's own setting overrides the default.
    switch_module(client, "shelf", True, c2.id)
    assert _module_state(client, "shelf", c1.id) == "off" and _module_state(client, "shelf", c2.id) == "on"
    assert client.get(f"/shelf/?community={c1.id}").status_code == 404
    assert client.get(f"/shelf/?community={c2.id}").status_code == 200


def test_a_module_off_by_default_is_off_until_switched_on(fake_app):
    app, t = _setup(fake_app, full_plugin("optin", default_enabled=False))
    c1 = t.communities[0]
    client = sign_in(app.test_client(), "ca-both")
    choose_community(client, c1.id)
    assert "optin" not in nav_modules(client.get("/").get_data(as_text=True))
    switch_module(client, "optin", True, c1.id)
    assert "optin" in nav_modules(client.get("/").get_data(as_text=True))


def test_switching_on_switches_on_what_it_requires(fake_app):
    app, t = _setup(fake_app, full_plugin("base"), full_plugin("addon", requires=["base"], default_enabled=False))
    c1, c2 = t.communities
    client = sign_in(app.test_client(), "ca-both")
    switch_module(client, "base", False, c1.id)
    assert _module_state(client, "base", c1.id) == "off" and _module_state(client, "addon", c1.id) == "off"
    resp = switch_module(client, "addon", True, c1.id)
    assert resp.status_code == 200
    assert _module_state(client, "addon", c1.id) == "on" and _module_state(client, "base", c1.id) == "on"
    assert _module_state(client, "addon", c2.id) == "off"  # only in that community


def test_switching_off_what_an_enabled_module_requires_is_refused_by_name(fake_app):
    app, t = _setup(fake_app, full_plugin("base"), full_plugin("addon", requires=["base"]))
    c1 = t.communities[0]
    client = sign_in(app.test_client(), "ca-both")
    before = row_counts()
    resp = client.post(
        "/admin/modules/switch",
        data={"module": "base", "enabled": "0", "community": c1.id},
        headers={"HX-Request": "true", "HX-Target": "switches"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'role="alert"' in html
    assert "不能关闭" in html and "Fake base" in html and "Fake addon" in html
    assert "<html" not in html  # the switches fragment, not a whole page
    assert _module_state(client, "base", c1.id) == "on"
    assert row_counts() == before
    # Once the dependant is off, the required module may go.
    switch_module(client, "addon", False, c1.id)
    switch_module(client, "base", False, c1.id)
    assert _module_state(client, "base", c1.id) == "off"


def test_off_in_one_community_hidden_there_only_without_restart_and_nothing_deleted(fake_app):
    app, t = _setup(fake_app, full_plugin("shelf"))
    c1, c2 = t.communities
    client = sign_in(app.test_client(), "ca-both")
    choose_community(client, c1.id)
    assert "shelf" in nav_modules(client.get("/").get_data(as_text=True))

    data_before = {k: v for k, v in row_counts().items() if k not in ("module_setting", "audit_log")}
    switch_module(client, "shelf", False, c1.id)
    assert {k: v for k, v in row_counts().items() if k not in ("module_setting", "audit_log")} == data_before

    # The same app, the next request: gone in c1.
    dash = client.get("/").get_data(as_text=True)
    assert "shelf" not in nav_modules(dash) and "shelf.widget" not in dash
    assert "/shelf/export.xlsx" not in client.get("/exports").get_data(as_text=True)
    for url in ("/shelf/", "/shelf/widget", f"/shelf/panel/{t.estates[0].id}"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "“Fake shelf”模块在" in resp.get_data(as_text=True) and "已关闭" in resp.get_data(as_text=True)
    # A node in the other community decides by its own community, whatever the header says.
    estate2 = next(e for e in t.estates if e.community_id == c2.id)
    assert client.get(f"/shelf/panel/{estate2.id}").status_code == 200

    choose_community(client, c2.id)
    dash = client.get("/").get_data(as_text=True)
    assert "shelf" in nav_modules(dash) and "shelf.widget" in dash
    assert client.get("/shelf/").status_code == 200

    switch_module(client, "shelf", True, c1.id)
    choose_community(client, c1.id)
    assert "shelf" in nav_modules(client.get("/").get_data(as_text=True))
    assert client.get("/shelf/").status_code == 200


def test_module_off_page_in_an_htmx_request_goes_to_the_flash_area(fake_app):
    app, t = _setup(fake_app, full_plugin("shelf"))
    c1 = t.communities[0]
    client = sign_in(app.test_client(), "ca-both")
    switch_module(client, "shelf", False, c1.id)
    resp = client.get(f"/shelf/widget?community={c1.id}", headers={"HX-Request": "true"})
    assert resp.status_code == 404 and resp.headers["HX-Retarget"] == "#flash"
    assert "Fake shelf" in resp.get_data(as_text=True) and t.communities[0].name in resp.get_data(as_text=True)


def test_a_community_admin_switches_only_their_own_communities(fake_app):
    app, t = _setup(fake_app, full_plugin("shelf"))
    c1, c2 = t.communities
    client = sign_in(app.test_client(), "ca2")
    assert client.get(f"/admin/modules?community={c1.id}").status_code == 404
    before = row_counts()
    assert switch_module(client, "shelf", False, c1.id).status_code == 404
    assert row_counts() == before
    # Their own community is what the page shows; there is no district default for them.
    page = client.get("/admin/modules").get_data(as_text=True)
    assert c2.name in page and c1.name not in page
    assert switch_module(client, "shelf", False, c2.id).status_code == 200
    assert _module_state(client, "shelf", c2.id) == "off"


def test_the_core_cannot_be_switched_off(fake_app):
    app, t = _setup(fake_app, module_plugin("shelf"))
    client = sign_in(app.test_client(), "boss")
    assert '<tr data-module="core">' not in client.get("/admin/modules").get_data(as_text=True)
    before = row_counts()
    resp = switch_module(client, "core", False)
    assert "core" in resp.get_data(as_text=True) and 'role="alert"' in resp.get_data(as_text=True)
    assert row_counts() == before
    assert client.get("/").status_code == 200
