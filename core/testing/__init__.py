"""The plugin author's testing kit: fixtures and helpers for testing Wangge and its plugins.

Installed with the package as a pytest plugin (entry point ``pytest11`` →
``core.testing.plugin``), so any project that has ``wangge`` installed gets
the fixtures without a conftest: ``app``, ``client``, ``runner``, ``tree``,
``login``, ``app_factory``, ``database_url``. The helpers below are plain
functions to import::

    from core.testing import choose_community, row_counts, sign_in, switch_module
    from core.testing.factories import build_tree, make_org, make_user

The database: SQLite (a file per run) by default; with
``WANGGE_TEST_BACKEND=postgresql`` and ``WANGGE_TEST_DATABASE_URL`` a
PostgreSQL database of its own, created for the run and dropped after it.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager

from sqlalchemy import delete, func, inspect, select

from core import create_app
from core.extensions import db

from .factories import PASSWORD

BACKEND = os.environ.get("WANGGE_TEST_BACKEND", "sqlite")

TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "SERVER_NAME": "localhost",
    # Jobs run inside jobs.start(); tests/core/test_jobs_consumer.py runs real consumers.
    "JOBS_IMMEDIATE": True,
}


def make_app(database_url, instance_path, extra_plugins=None, **overrides):
    """An app for tests: CSRF and rate limits off, on `database_url`."""
    config = dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=database_url, INSTANCE_PATH=str(instance_path))
    config.update(overrides)
    return create_app(config, extra_plugins=extra_plugins)


def empty_all_tables():
    """Delete every row of every table (children first). Tables of models
    imported after the schema was made (another plugin's, by its tests) are
    not in the database: they are left alone."""
    db.session.rollback()
    existing = set(inspect(db.engine).get_table_names())
    for table in reversed(db.metadata.sorted_tables):
        if table.name in existing:
            db.session.execute(delete(table))
    db.session.commit()


def row_counts() -> dict[str, int]:
    """Rows in every table the app knows: what "nothing saved" means."""
    db.session.rollback()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def sign_in(client, username, password=None):
    """Sign `client` in as `username` (signing out whoever was signed in)."""
    client.post("/logout")
    resp = client.post("/login", data={"username": username, "password": password or PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def choose_community(client, community_id):
    """Pick the community in the header's switcher (None or '' for the whole district)."""
    resp = client.post("/community", data={"community": str(community_id or "")})
    assert resp.status_code == 302
    return resp


def switch_module(client, module, on, community_id=None):
    """Switch `module` on or off for a community (None: the district default),
    through the admin page as the signed-in user (a district or community admin)."""
    data = {"module": module, "enabled": "1" if on else "0"}
    if community_id is not None:
        data["community"] = str(community_id)
    return client.post("/admin/modules/switch", data=data)


def set_module(module, on, community_id=None):
    """Switch `module` for a community directly (no request, no audit): for
    fixtures. Commits."""
    from core.modules import set_enabled

    set_enabled(community_id, module, on, None)
    db.session.commit()


def nav_modules(html: str) -> set[str]:
    """The modules that have an item in the main navigation of a page."""
    nav = html.split('class="mainnav"', 1)[1].split("</nav>", 1)[0] if 'class="mainnav"' in html else ""
    return set(re.findall(r'data-module="([^"]+)"', nav))


def htmx_get(client, url, **kw):
    """GET `url` as an HTMX request (a fragment)."""
    headers = dict(kw.pop("headers", {}) or {}, **{"HX-Request": "true"})
    return client.get(url, headers=headers, **kw)


@contextmanager
def served(app):
    """Serve `app` on 127.0.0.1 (a free port) in a thread; sets app.base_url.

    For browser tests and for HTTP clients.
    """
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.base_url = f"http://127.0.0.1:{server.server_port}"
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        ctx.pop()
        server.shutdown()
        thread.join(timeout=5)


__all__ = [
    "BACKEND", "PASSWORD", "TEST_CONFIG", "choose_community", "empty_all_tables", "htmx_get", "make_app",
    "nav_modules", "row_counts", "served", "set_module", "sign_in", "switch_module",
]
