"""The pytest plugin of the testing kit (entry point ``pytest11: wangge``).

Fixtures: ``database_url`` (session: a SQLite file, or a PostgreSQL database
of its own with WANGGE_TEST_BACKEND=postgresql), ``app_factory`` (build apps,
optionally with extra plugins; every table is emptied after the test),
``app`` (one app, its context pushed), ``client``, ``runner``, ``tree`` (the
small district: 2 communities × 2 estates × 2 buildings × 2 zones),
``login`` (sign the client in by username), ``users`` (one user of each role
on the small tree, by role name).

The schema is created once per run with ``db.create_all()`` from every
installed module's models (the migrations have their own test).
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from core.extensions import db

from . import BACKEND, empty_all_tables, make_app, sign_in
from . import factories as f


def pytest_report_header(config):
    return f"wangge database backend: {BACKEND}"


def server_url() -> str:
    url = os.environ.get("WANGGE_TEST_DATABASE_URL")
    if not url:
        pytest.exit("WANGGE_TEST_BACKEND=postgresql needs WANGGE_TEST_DATABASE_URL", returncode=2)
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def new_database(tmp_path_factory, label="test"):
    """(url, drop) for a fresh database of the configured backend."""
    if BACKEND == "postgresql":
        server = server_url()
        name = f"wangge_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

        def drop():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        return f"{server.rsplit('/', 1)[0]}/{name}", drop
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / f"{label}.sqlite"), lambda: None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url, drop = new_database(tmp_path_factory)
    yield url
    drop()


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return True


@pytest.fixture
def app_factory(database_url, _schema, tmp_path):
    """factory(extra_plugins=None, **config) -> a new app on the test database."""
    apps = []

    def factory(extra_plugins=None, **overrides):
        app = make_app(database_url, tmp_path / "instance", extra_plugins=extra_plugins, **overrides)
        apps.append(app)
        return app

    yield factory
    if apps:
        with apps[0].app_context():
            empty_all_tables()
            db.engine.dispose()
        for app in apps[1:]:
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def tree(app):
    """A small district: 2 communities × 2 estates × 2 buildings × 2 zones."""
    return f.build_tree()


@pytest.fixture
def users(tree):
    """One user of each role on the small tree, by name: ``district_admin``,
    ``community_admin`` (of community 1), ``community_admin_b`` (of community 2),
    ``grid_worker`` (A post of community 1's first estate), ``member``,
    ``handler`` (of a department), ``resident``. Password: factories.PASSWORD."""
    c1, c2 = tree.communities[0], tree.communities[1]
    dept = f.make_org("测试部门")
    out = {
        "district_admin": f.make_user("t-district", "district_admin", tree.district),
        "community_admin": f.make_user("t-community", "community_admin", c1),
        "community_admin_b": f.make_user("t-community-b", "community_admin", c2),
        "grid_worker": f.make_user("t-worker", "grid_worker", tree.estates[0]),
        "member": f.make_user("t-member", "member", c1),
        "handler": f.make_user("t-handler", "handler", tree.district, organisation=dept),
        "resident": f.make_user("t-resident", "resident", tree.estates[0]),
    }
    f.assign_post(tree.estates[0], a_user=out["grid_worker"])
    return out


@pytest.fixture
def login(client):
    """login(username, password=PASSWORD) -> the client, signed in."""

    def do(username, password=f.PASSWORD):
        return sign_in(client, username, password)

    return do
