"""Fixtures: a fresh app per test on a database emptied after each test.

The schema is created once per run; each test gets its own app (and so its
own plugin manager) and every table is emptied afterwards. With
WANGGE_TEST_BACKEND=postgresql the run uses a database of its own on the
server named by WANGGE_TEST_DATABASE_URL, created here and dropped at the end.
"""

from __future__ import annotations

import os
import threading
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, delete, text
from werkzeug.serving import make_server

from core import create_app
from core.extensions import db
from tests import factories

BACKEND = os.environ.get("WANGGE_TEST_BACKEND", "sqlite")


def pytest_report_header(config):
    return f"wangge database backend: {BACKEND}"


def _server_url() -> str:
    url = os.environ.get("WANGGE_TEST_DATABASE_URL")
    if not url:
        pytest.exit("WANGGE_TEST_BACKEND=postgresql needs WANGGE_TEST_DATABASE_URL", returncode=2)
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "postgresql":
        server = _server_url()
        name = f"wangge_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        base = server.rsplit("/", 1)[0]
        yield f"{base}/{name}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


def make_app(database_url, instance_path, extra_plugins=None, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance_path),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SERVER_NAME": "localhost",
        # Jobs run inside jobs.start(); tests/core/test_jobs_consumer.py runs real consumers.
        "JOBS_IMMEDIATE": True,
    }
    config.update(overrides)
    return create_app(config, extra_plugins=extra_plugins)


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return True


def empty_all_tables():
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.commit()


@pytest.fixture
def app_factory(database_url, _schema, tmp_path):
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


@contextmanager
def served(app):
    """Serve `app` on 127.0.0.1 (a free port) in a thread; sets app.base_url.

    For the browser tests and for HTTP clients such as georeport.
    """
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
    return factories.build_tree()


@pytest.fixture
def login(client):
    def do(username, password=factories.PASSWORD):
        client.post("/logout")
        resp = client.post("/login", data={"username": username, "password": password})
        assert resp.status_code == 302, resp.data[:500]
        return client

    return do
