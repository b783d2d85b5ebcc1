"""One test (at least) per hook of core/hookspecs.py, each with a small fake
plugin passed to create_app(extra_plugins=[…]); tests/core/test_hooks_meta.py
fails when a hook has none."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import click
import pytest
from flask import Blueprint, url_for
from flask_babel import gettext
from sqlalchemy import create_engine, inspect

from core import security
from core.extensions import db
from core.hookspecs import hookimpl
from core.modules import set_enabled
from core.plugins import PluginError, call_for_community
from tests import factories
from tests.core.conftest import choose_community, nav_modules, sign_in
from tests.core.fakes import full_plugin, module_plugin, plugin

# --- wangge_module -------------------------------------------------------------


def test_wangge_module_declares_a_module_shown_on_the_switch_page(fake_app):
    app = fake_app(module_plugin("base"), module_plugin("addon", requires=["base"], title="Add-on thing"))
    reg = app.extensions["wangge"].registry
    assert reg.modules["addon"].requires == ("base",)
    t = factories.build_tree()
    factories.make_user("boss", "district_admin", t.district)
    client = sign_in(app.test_client(), "boss")
    page = client.get("/admin/modules").get_data(as_text=True)
    row = page.split('<tr data-module="addon">', 1)[1].split("</tr>", 1)[0]
    assert "Add-on thing" in row and "The addon test module." in row and "Fake base" in row


def test_wangge_module_name_declared_twice_fails_start_up(fake_app):
    with pytest.raises(PluginError, match="'second'.*'twice'|twice"):
        fake_app(module_plugin("twice"), plugin("second", wangge_module=module_plugin("twice").wangge_module))


def test_wangge_module_requiring_a_missing_module_fails_start_up(fake_app):
    with pytest.raises(PluginError, match="'needy' requires 'nowhere'"):
        fake_app(module_plugin("needy", requires=["nowhere"]))


# --- wangge_blueprints ------------------------------------------------------------


def test_wangge_blueprints_pages_are_served_and_known_as_the_module_s(fake_app):
    app = fake_app(full_plugin("shelf"))
    assert app.extensions["wangge"].registry.blueprint_module["shelf"] == "shelf"
    t = factories.build_tree()
    factories.make_user("gw", "grid_worker", t.estates[0])
    client = sign_in(app.test_client(), "gw")
    resp = client.get("/shelf/")
    assert resp.status_code == 200 and "<h1>shelf page</h1>" in resp.get_data(as_text=True)


# --- wangge_permissions ---------------------------------------------------------


def test_wangge_permissions_default_roles_decide_who_may(fake_app):
    app = fake_app(full_plugin("shelf", roles=("grid_worker",)))
    act = app.extensions["wangge"].registry.actions["shelf.view"]
    assert act.default_roles == ("grid_worker",)
    assert app.extensions["wangge"].registry.action_module["shelf.view"] == "shelf"
    t = factories.build_tree()
    factories.make_user("gw", "grid_worker", t.estates[0])
    factories.make_user("ca", "community_admin", t.communities[0])
    client = app.test_client()
    assert sign_in(client, "gw").get("/shelf/").status_code == 200
    # A community admin is not among the action's roles: refused.
    assert sign_in(client, "ca").get("/shelf/").status_code == 403


def test_an_undeclared_permission_is_an_error_not_a_silent_no(fake_app):
    app = fake_app()
    with app.test_request_context("/"):
        with pytest.raises(KeyError, match="declare it with wangge_permissions"):
            security.allowed_roles("nobody.declared.this")


# --- wangge_nav_items -------------------------------------------------------------


def test_wangge_nav_items_show_to_users_holding_the_permission(fake_app):
    app = fake_app(full_plugin("shelf", roles=("grid_worker",)))
    t = factories.build_tree()
    factories.make_user("gw", "grid_worker", t.estates[0])
    factories.make_user("member1", "member", t.estates[0])
    client = app.test_client()
    page = sign_in(client, "gw").get("/").get_data(as_text=True)
    assert "shelf" in nav_modules(page)
    assert 'href="/shelf/"' in page and "Nav shelf" in page
    # Sorted by `order`: the dashboard (0) before shelf (400) before exports (900).
    assert page.index(">Nav shelf<") > page.index('href="/" data-module="core"')
    page = sign_in(client, "member1").get("/").get_data(as_text=True)
    assert "shelf" not in nav_modules(page) and "Nav shelf" not in page


# --- wangge_node_panels ------------------------------------------------------------


def _panels_on_node_page(app, client, node):
    """The keys of the panels the node page of `node` loads for the signed-in user."""
    page = client.get(url_for("grid.node", node_id=node.id, _external=False)).get_data(as_text=True)
    return {p.key for p in app.extensions["wangge"].registry.panels if f'data-panel="{p.key}"' in page}


def test_wangge_node_panels_are_shown_and_load_for_a_node_in_scope(fake_app):
    app = fake_app(full_plugin("shelf"))
    panel = next(p for p in app.extensions["wangge"].registry.panels if p.key == "shelf.panel")
    assert panel.module == "shelf" and "zone" in panel.levels
    t = factories.build_tree()
    factories.make_user("gw", "grid_worker", t.estates[0])
    client = sign_in(app.test_client(), "gw")
    assert "shelf.panel" in _panels_on_node_page(app, client, t.estates[0])
    resp = client.get(f"/shelf/panel/{t.estates[0].id}")
    assert resp.get_data(as_text=True) == f"shelf panel of {t.estates[0].name}"
    # Outside the worker's grid the panel's node does not exist for them.
    assert client.get(f"/shelf/panel/{t.estates[-1].id}").status_code == 404


def test_wangge_node_panels_show_only_on_their_levels(fake_app):
    from core.plugins import Panel

    shelf = full_plugin("shelf")
    only_estates = Panel("shelf.estates", "Estates only", "shelf.panel", "shelf.view", levels=("estate",))
    shelf.wangge_node_panels = hookimpl(lambda: [only_estates])
    app = fake_app(shelf)
    t = factories.build_tree()
    factories.make_user("boss", "district_admin", t.district)
    client = sign_in(app.test_client(), "boss")
    def shelf_panels(node):
        return {k for k in _panels_on_node_page(app, client, node) if k.startswith("shelf.")}

    assert shelf_panels(t.estates[0]) == {"shelf.estates"}
    assert shelf_panels(t.buildings[0]) == set()
    assert shelf_panels(t.communities[0]) == set()


# --- wangge_dashboard_widgets ---------------------------------------------------


def test_wangge_dashboard_widgets_load_by_hx_get_on_the_dashboard(fake_app):
    app = fake_app(full_plugin("shelf", roles=("grid_worker",)))
    t = factories.build_tree()
    factories.make_user("gw", "grid_worker", t.estates[0])
    factories.make_user("member1", "member", t.estates[0])
    client = sign_in(app.test_client(), "gw")
    dash = client.get("/").get_data(as_text=True)
    assert 'data-widget="shelf.widget"' in dash and 'hx-get="/shelf/widget"' in dash and "Widget shelf" in dash
    assert client.get("/shelf/widget", headers={"HX-Request": "true"}).get_data(as_text=True) == "shelf widget body"
    dash = sign_in(client, "member1").get("/").get_data(as_text=True)
    assert "shelf.widget" not in dash


# --- wangge_exports -----------------------------------------------------------------


def test_wangge_exports_are_listed_on_the_exports_page(fake_app):
    app = fake_app(full_plugin("shelf", roles=("community_admin",)))
    t = factories.build_tree()
    factories.make_user("ca", "community_admin", t.communities[0])
    factories.make_user("gw", "grid_worker", t.estates[0])
    client = sign_in(app.test_client(), "ca")
    page = client.get("/exports").get_data(as_text=True)
    assert 'href="/shelf/export.xlsx"' in page and "Export shelf" in page
    assert client.get("/shelf/export.xlsx").data[:2] == b"PK"  # an .xlsx (zip) file
    page = sign_in(client, "gw").get("/exports").get_data(as_text=True)
    assert "/shelf/export.xlsx" not in page


# --- wangge_cli_commands -----------------------------------------------------------


def test_wangge_cli_commands_are_added_to_flask(fake_app):
    @click.command("shelf-count")
    @click.option("--times", default=1)
    def shelf_count(times):
        click.echo("shelf " * times)

    app = fake_app(module_plugin("shelf", wangge_cli_commands=lambda: [shelf_count]))
    result = app.test_cli_runner().invoke(args=["shelf-count", "--times", "2"])
    assert result.exit_code == 0 and result.output.strip() == "shelf shelf"


# --- wangge_migrations_dir --------------------------------------------------------

REVISION = '''
import sqlalchemy as sa
from alembic import op

revision = "fakemig_0001"
down_revision = None
branch_labels = ("fakemig",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "fakemig_thing",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("node_id", sa.Integer, sa.ForeignKey("grid_node.id")),
    )


def downgrade():
    op.drop_table("fakemig_thing")
'''


def test_wangge_migrations_dir_adds_the_module_s_branch_to_upgrade_heads(tmp_path):
    from flask_migrate import upgrade

    from tests.conftest import make_app

    versions = tmp_path / "fakemig_versions"
    versions.mkdir()
    (versions / "fakemig_0001_schema.py").write_text(textwrap.dedent(REVISION))
    url = "sqlite:///" + str(tmp_path / "fresh.sqlite")
    fake = module_plugin("fakemig", wangge_migrations_dir=lambda: str(versions))
    app = make_app(url, tmp_path / "instance", extra_plugins=[fake])
    assert str(versions) in app.extensions["wangge"].registry.migration_dirs
    # Another app built afterwards (tests build many) must not change this app's branches.
    make_app(url, tmp_path / "instance2")
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            heads = {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
    finally:
        engine.dispose()
    assert {"grid_node", "fakemig_thing"} <= tables
    assert "fakemig_0001" in heads


# --- wangge_translations_dir ------------------------------------------------------

PO = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Language: zh_CN\\n"

msgid "A shelf of fake books"
msgstr "一架假书"
"""


def test_wangge_translations_dir_merges_the_module_s_catalog(fake_app, tmp_path):
    folder = tmp_path / "translations"
    (folder / "zh_CN" / "LC_MESSAGES").mkdir(parents=True)
    (folder / "zh_CN" / "LC_MESSAGES" / "messages.po").write_text(PO, encoding="utf-8")
    bp = Blueprint("shelf", __name__, url_prefix="/shelf")

    @bp.route("/")
    @security.public
    def index():
        return gettext("A shelf of fake books")

    app = fake_app(
        module_plugin("shelf", wangge_translations_dir=lambda: str(folder), wangge_blueprints=lambda: [bp])
    )
    # Compiled into the instance folder at start-up, never next to the module's .po.
    dirs = app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    compiled = [d for d in dirs if d.startswith(app.instance_path)]
    assert len(compiled) == 1 and list(folder.rglob("*.mo")) == []
    assert list(Path(compiled[0]).rglob("messages.mo"))
    client = app.test_client()
    assert client.get("/shelf/").get_data(as_text=True) == "一架假书"
    client.post("/locale", data={"locale": "en"})
    assert client.get("/shelf/").get_data(as_text=True) == "A shelf of fake books"


# --- wangge_demo_data -------------------------------------------------------------


def test_wangge_demo_data_runs_after_the_core_demo_with_scale_rng_and_report(fake_app):
    calls = []

    def demo(scale, rng, report):
        calls.append((scale, rng))
        report(f"shelf: {scale * 3} fake books")

    app = fake_app(module_plugin("shelf", wangge_demo_data=demo))
    result = app.test_cli_runner().invoke(args=["demo", "--scale", "1", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "shelf: 3 fake books" in result.output
    (scale, rng), = calls
    assert scale == 1 and isinstance(rng, random.Random)


def test_wangge_demo_data_takes_only_the_arguments_it_names(fake_app):
    seen = []
    app = fake_app(module_plugin("shelf", wangge_demo_data=lambda report: seen.append(report)))
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and callable(seen[0])


# --- wangge_node_holders ----------------------------------------------------------


def test_wangge_node_holders_refuse_deleting_a_node_that_holds_module_data(fake_app):
    services = pytest.importorskip("core.grid.services")
    if not hasattr(services, "delete_node"):
        pytest.skip("core.grid.services.delete_node is not there yet")
    held = set()
    app = fake_app(
        module_plugin("shelf", wangge_node_holders=lambda node_ids: [("fake books", 3)] if held & set(node_ids) else [])
    )
    t = factories.build_tree()
    zone, other = t.zones[0], t.zones[1]
    held.add(zone.id)
    pm = app.extensions["wangge"].pm
    with app.test_request_context("/"):
        with pytest.raises(services.TreeError, match="3 fake books"):
            services.delete_node(zone, pm)
        services.delete_node(other, pm)  # holds nothing: deleted
        db.session.commit()
    assert db.session.get(type(other), other.id) is None
    assert db.session.get(type(zone), zone.id) is not None


# --- wangge_report_problem --------------------------------------------------------


def test_wangge_report_problem_goes_only_to_modules_on_in_the_community(fake_app):
    received = []

    def report_problem(node_id, description, channel):
        received.append((node_id, description, channel))
        return f"P-{len(received)}"

    app = fake_app(
        module_plugin("handling", wangge_report_problem=report_problem),
        module_plugin("silent", wangge_report_problem=lambda node_id: None),
    )
    t = factories.build_tree()
    c1, c2 = t.communities
    args = dict(
        node_id=t.zones[0].id, description="楼道灯坏了", reporter_name="张三", reporter_phone="13800000000",
        channel="visit", user_id=None, source_ref="visit:1",
    )
    assert call_for_community(app, "wangge_report_problem", c1.id, **args) == "P-1"
    set_enabled(c1.id, "handling", False, None)
    db.session.commit()
    assert call_for_community(app, "wangge_report_problem", c1.id, **args) is None
    assert call_for_community(app, "wangge_report_problem", c2.id, **args) == "P-2"
    assert received == [(t.zones[0].id, "楼道灯坏了", "visit")] * 2


def test_fake_full_plugin_is_hidden_where_switched_off(fake_app):
    """All the declarations of one module follow its switch together."""
    app = fake_app(full_plugin("shelf"))
    t = factories.build_tree()
    ca = factories.make_user("ca", "community_admin", t.communities[0])
    db.session.add(factories.RoleGrant(user_id=ca.id, role="community_admin", node_id=t.communities[1].id))
    db.session.commit()
    client = sign_in(app.test_client(), "ca")
    choose_community(client, t.communities[0].id)
    client.post("/admin/modules/switch", data={"module": "shelf", "enabled": "0", "community": t.communities[0].id})
    dash = client.get("/").get_data(as_text=True)
    assert "shelf" not in nav_modules(dash) and "shelf.widget" not in dash
    assert "shelf.panel" not in _panels_on_node_page(app, client, t.estates[0])
    assert "/shelf/export.xlsx" not in client.get("/exports").get_data(as_text=True)
    choose_community(client, t.communities[1].id)
    dash = client.get("/").get_data(as_text=True)
    assert "shelf" in nav_modules(dash) and "shelf.widget" in dash
    assert "/shelf/export.xlsx" in client.get("/exports").get_data(as_text=True)


# --- wangge_assets ----------------------------------------------------------------


def test_wangge_assets_are_loaded_by_the_layout_on_every_page(fake_app):
    from core.plugins import Asset

    bp = Blueprint("painted", __name__, url_prefix="/painted", static_folder=".", static_url_path="/static")
    app = fake_app(module_plugin(
        "painted",
        wangge_blueprints=lambda: [bp],
        wangge_assets=lambda: [Asset("painted.static", "painted.css"), Asset("painted.static", "painted.js", "js")],
    ))
    t = factories.build_tree()
    factories.make_user("boss", "district_admin", t.district)
    client = sign_in(app.test_client(), "boss")
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/painted/static/painted.css">' in page
    assert '<script src="/painted/static/painted.js" defer></script>' in page


# --- wangge_service_records -----------------------------------------------------------


def test_wangge_service_records_are_read_only_from_modules_on_in_the_community(fake_app):
    import datetime as dt

    from core.plugins import ServiceRecord, service_records

    def records(member_ids, start, end):
        return [
            ServiceRecord("duty", f"shift:{cid}", member_ids[0], start, 2.5, "shift", "值班", community_id=cid)
            for cid in (t.communities[0].id, t.communities[1].id)
        ]

    app = fake_app(module_plugin("duty", wangge_service_records=records))
    t = factories.build_tree()
    day = dt.date(2026, 3, 2)
    with app.test_request_context():
        got = service_records([7], day, day)
        assert sorted((r.key, r.hours, r.member_id) for r in got) == sorted([
            (f"shift:{t.communities[0].id}", 2.5, 7), (f"shift:{t.communities[1].id}", 2.5, 7)])
        set_enabled(t.communities[0].id, "duty", False, None)
        db.session.commit()
        assert [r.key for r in service_records([7], day, day)] == [f"shift:{t.communities[1].id}"]


# --- wangge_tasks -------------------------------------------------------------------


def test_wangge_tasks_run_as_jobs_with_progress_and_a_result(fake_app):
    from core import jobs
    from core.plugins import Task

    def tally(job, n):
        for i in range(1, n + 1):
            job.progress(i, n)
        return {"tallied": n}

    app = fake_app(module_plugin("tally", wangge_tasks=lambda: [Task("tally.count", tally, "Tally")]))
    assert app.extensions["wangge"].registry.tasks["tally.count"].module == "tally"
    t = factories.build_tree()
    user = factories.make_user("gw", "grid_worker", t.estates[0])
    job = jobs.start("tally.count", params={"n": 4}, user_id=user.id)
    assert (job.state, job.done, job.total, job.result, job.module) == ("done", 4, 4, {"tallied": 4}, "tally")
    page = sign_in(app.test_client(), "gw").get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-state="done"' in page and "Tally" in page


def test_wangge_tasks_a_name_declared_twice_fails_start_up(fake_app):
    from core.plugins import Task

    def declare():
        return [Task("dup.task", lambda job: None, "x")]

    with pytest.raises(PluginError, match="dup.task"):
        fake_app(module_plugin("one", wangge_tasks=declare), module_plugin("two", wangge_tasks=declare))


# --- wangge_periodic_tasks ----------------------------------------------------------


def test_wangge_periodic_tasks_skip_communities_where_the_module_is_off_and_run_once_a_slot(fake_app):
    import datetime as dt

    from core.jobs import run_periodic
    from core.plugins import Periodic

    calls = []
    app = fake_app(module_plugin("rounds", wangge_periodic_tasks=lambda: [
        Periodic("rounds.daily", calls.append, schedule={"hour": "8", "minute": "0"})]))
    t = factories.build_tree()
    set_enabled(t.communities[0].id, "rounds", False, None)
    db.session.commit()
    slot = dt.datetime(2026, 3, 2, 0, 0)  # 08:00 in the district
    assert run_periodic("rounds.daily", slot) == "done"
    assert calls == [t.communities[1].id]
    # A second consumer sending the same slot finds it claimed.
    assert run_periodic("rounds.daily", slot.isoformat()) == "skipped"
    assert calls == [t.communities[1].id]
    # The schedule is read in the district's time zone: 08:00 Beijing is 00:00 UTC.
    huey = app.extensions["wangge_jobs"].huey
    names = {type(task).__name__ for task in huey.read_periodic(slot)}
    assert "periodic:rounds.daily" in names
    assert "periodic:rounds.daily" not in {type(task).__name__ for task in huey.read_periodic(dt.datetime(2026, 3, 2, 8, 0))}


def test_wangge_periodic_tasks_with_a_bad_schedule_fail_start_up(fake_app):
    from core.plugins import Periodic

    with pytest.raises(PluginError, match="bad schedule"):
        fake_app(module_plugin("late", wangge_periodic_tasks=lambda: [
            Periodic("late.x", print, schedule={"hour": "25"})]))


# --- wangge_notification_kinds --------------------------------------------------------


def test_wangge_notification_kinds_are_offered_on_the_preferences_page_and_honoured(fake_app):
    from core.notify import notify
    from core.plugins import NotificationKind

    app = fake_app(module_plugin("alerts", wangge_notification_kinds=lambda: [
        NotificationKind("alerts.storm", "Storm warnings", level="danger"),
        NotificationKind("alerts.minor", "Minor news", default=False)]))
    t = factories.build_tree()
    user = factories.make_user("gw", "grid_worker", t.estates[0])
    client = sign_in(app.test_client(), "gw")
    page = client.get("/inbox/preferences").get_data(as_text=True)
    assert 'value="alerts.storm" checked' in page and 'value="alerts.minor" >' in page
    assert notify("alerts.minor", "Minor", users=[user]) == 0  # off by default
    client.post("/inbox/preferences", data={"kind": ["alerts.minor"]})
    assert notify("alerts.storm", "Storm", users=[user]) == 0  # turned off by the form
    assert notify("alerts.minor", "Minor", users=[user]) == 1
    db.session.commit()
    assert 'level-info" data-kind="alerts.minor"' in client.get("/inbox/").get_data(as_text=True)
    with pytest.raises(KeyError, match="alerts.typo"):
        notify("alerts.typo", "x", users=[user])


# --- wangge_deliver_notification ------------------------------------------------------


def test_wangge_deliver_notification_gets_each_new_notification_in_the_user_s_language(fake_app):
    from core.notify import notify
    from core.plugins import NotificationKind

    sent = []
    app = fake_app(
        module_plugin("sms", wangge_deliver_notification=lambda notification, user, text: sent.append((user.username, text))),
        module_plugin("alerts", wangge_notification_kinds=lambda: [NotificationKind("alerts.cover", "Cover")]),
    )
    t = factories.build_tree()
    factories.make_user("zh", "community_admin", t.communities[0])
    en = factories.make_user("en", "community_admin", t.communities[0])
    en.locale = "en"
    db.session.commit()
    msg = "%(worker)s's leave ends today (%(end)s): your cover of the grid %(grid)s ends with it."
    params = {"worker": "王", "end": "2026-03-02", "grid": "一号"}
    with app.test_request_context():
        assert notify("alerts.cover", msg, params, role="community_admin", node=t.zones[0], key="k") == 2
        assert notify("alerts.cover", msg, params, role="community_admin", node=t.zones[0], key="k") == 0
    assert sorted(sent) == [("en", "王's leave ends today (2026-03-02): your cover of the grid 一号 ends with it."),
                            ("zh", "王 的假期今天(2026-03-02)结束:您对网格 一号 的顶岗随之结束。")]
    # A channel module switched off in the community delivers nothing there.
    set_enabled(t.communities[0].id, "sms", False, None)
    db.session.commit()
    with app.test_request_context():
        assert notify("alerts.cover", msg, params, role="community_admin", node=t.zones[0], key="k2") == 2
    assert len(sent) == 2
# --- wangge_node_moved ----------------------------------------------------------------


def test_wangge_node_moved_tells_every_module_the_old_and_new_paths(fake_app):
    from core.grid.services import move_node

    moves = []
    app = fake_app(module_plugin("shelf", wangge_node_moved=lambda node_id, old_path, new_path:
                                 moves.append((node_id, old_path, new_path))))
    t = factories.build_tree()
    estate, target = t.estates[0], t.communities[1]
    old_path = estate.path
    with app.test_request_context("/"):
        move_node(estate, target)
        db.session.commit()
    assert moves == [(estate.id, old_path, estate.path)]
    assert estate.path.startswith(target.path) and old_path != estate.path
