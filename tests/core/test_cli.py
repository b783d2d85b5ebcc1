"""`flask --app wsgi …`: init, create-user, backup and restore; the secret key."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import create_engine, inspect, select, text

from core import create_app
from core.extensions import db
from core.models import GridNode, RoleGrant, User
from tests import factories
from tests.conftest import BACKEND, make_app

ON_POSTGRES = BACKEND == "postgresql"


@pytest.fixture
def fresh_sqlite_app(tmp_path):
    """An app on a new, empty SQLite file (init and restore work on a whole database)."""
    url = "sqlite:///" + str(tmp_path / "fresh.sqlite")
    app = make_app(url, tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_init_migrates_and_creates_the_first_district_admin(fresh_sqlite_app):
    app = fresh_sqlite_app
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init", "--admin", "root", "--password", "root-password-1"])
    assert result.exit_code == 0, result.output
    assert "District admin 'root' created." in result.output
    with app.app_context():
        assert "grid_node" in inspect(db.engine).get_table_names()
        user = db.session.scalar(select(User).where(User.username == "root"))
        grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == user.id))
        assert grant.role == "district_admin" and grant.node.level == "district"
    client = app.test_client()
    assert client.post("/login", data={"username": "root", "password": "root-password-1"}).status_code == 302
    # Running it again changes nothing.
    again = runner.invoke(args=["init", "--admin", "other", "--password", "other-password"])
    assert again.exit_code == 0 and "Users exist already" in again.output
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_create_user(runner, tree):
    zone = tree.zones[0]
    args = ["create-user", "xiao.ming", "--name", "小明", "--role", "grid_worker", "--node", zone.code]
    result = runner.invoke(args=[*args, "--password", "long-password-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "xiao.ming"))
    assert user.display_name == "小明" and [(g.role, g.node_id) for g in user.grants] == [("grid_worker", zone.id)]
    assert user.check_password("long-password-1")

    again = runner.invoke(args=[*args, "--password", "long-password-1"])
    assert again.exit_code != 0 and "exists already" in again.output
    nowhere = runner.invoke(args=["create-user", "x2", "--role", "member", "--node", "NOPE", "--password", "long-password-1"])
    assert nowhere.exit_code != 0 and "No grid node with code 'NOPE'" in nowhere.output
    short = runner.invoke(args=["create-user", "x3", "--role", "member", "--node", zone.code, "--password", "short"])
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    assert db.session.scalar(select(User).where(User.username.in_(["x2", "x3"]))) is None


def _dump(url) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names()]
            return {n: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{n}"'))), key=repr) for n in names}
    finally:
        engine.dispose()


@pytest.mark.skipif(ON_POSTGRES, reason="backup/restore copy a SQLite file; PostgreSQL uses pg_dump (README)")
def test_backup_and_restore_round_trip_without_loss(fresh_sqlite_app, tmp_path):
    app = fresh_sqlite_app
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init", "--admin", "root", "--password", "root-password-1"]).exit_code == 0
    with app.app_context():
        root = db.session.scalar(select(GridNode))
        from core.grid.services import create_node

        c = create_node(root, "community", "备份社区", "340221-B01")
        factories.make_user("keeper", "community_admin", c, display_name="保管员")
        db.session.commit()
        db.session.remove()
    uploads = os.path.join(app.instance_path, "uploads")
    os.makedirs(uploads, exist_ok=True)
    with open(os.path.join(uploads, "photo.jpg"), "wb") as f:
        f.write(b"\xff\xd8 not really a jpeg")
    original = _dump(url)
    assert original["user_account"] and original["grid_node"] and original["alembic_version"]

    target = str(tmp_path / "backup.sqlite")
    result = runner.invoke(args=["backup", target])
    assert result.exit_code == 0, result.output

    # Then things happen: a user is deleted, a node added, the upload lost.
    with app.app_context():
        db.session.delete(db.session.scalar(select(User).where(User.username == "keeper")))
        db.session.add(GridNode(level="community", name="后来的社区", code="LATER", path="/x/"))
        db.session.commit()
        db.session.remove()
    os.remove(os.path.join(uploads, "photo.jpg"))
    assert _dump(url) != original

    result = runner.invoke(args=["restore", target, "--yes"])
    assert result.exit_code == 0, result.output
    assert _dump(url) == original
    with open(os.path.join(uploads, "photo.jpg"), "rb") as f:
        assert f.read() == b"\xff\xd8 not really a jpeg"
    # The running app reads the restored database.
    client = app.test_client()
    assert client.post("/login", data={"username": "keeper", "password": factories.PASSWORD}).status_code == 302


@pytest.mark.skipif(ON_POSTGRES, reason="backup/restore copy a SQLite file; PostgreSQL uses pg_dump (README)")
def test_restore_refuses_a_file_that_is_not_a_backup(fresh_sqlite_app, tmp_path):
    runner = fresh_sqlite_app.test_cli_runner()
    runner.invoke(args=["init", "--admin", "root", "--password", "root-password-1"])
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    result = runner.invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code != 0 and "not a Wangge backup" in result.output
    with fresh_sqlite_app.app_context():
        assert db.session.scalar(select(User.username)) == "root"


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the PostgreSQL backend (WANGGE_TEST_BACKEND=postgresql)")
def test_backup_on_postgresql_points_to_pg_dump(runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "x.sqlite")])
    assert result.exit_code != 0 and "pg_dump" in result.output


def test_the_secret_key_is_generated_into_instance_on_first_run(tmp_path, monkeypatch):
    monkeypatch.delenv("WANGGE_SECRET_KEY", raising=False)
    config = {"INSTANCE_PATH": str(tmp_path / "inst"), "SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True}
    app = create_app(dict(config))
    key_file = tmp_path / "inst" / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 64 and app.config["SECRET_KEY"] == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The next start reads the same key: sessions survive a restart.
    assert create_app(dict(config)).config["SECRET_KEY"] == key
    # Another instance folder gets another key.
    other = create_app({**config, "INSTANCE_PATH": str(tmp_path / "inst2")})
    assert other.config["SECRET_KEY"] != key


@pytest.mark.parametrize("weak", ["dev", "secret", "changeme", "short-key"])
def test_production_refuses_a_default_or_short_secret_key(tmp_path, weak):
    with pytest.raises(RuntimeError, match="Refusing to start in production"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": weak, "INSTANCE_PATH": str(tmp_path)})


def test_production_with_the_generated_key_starts_with_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.delenv("WANGGE_SECRET_KEY", raising=False)
    app = create_app({"ENV_NAME": "production", "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_one_app_s_engine_options_do_not_leak_into_the_next(tmp_path):
    """A SQLite app's driver options must not reach a later PostgreSQL app (psycopg rejects them)."""
    from core import config as defaults

    sqlite_app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": str(tmp_path)})
    assert sqlite_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["timeout"] == 15
    assert defaults.SQLALCHEMY_ENGINE_OPTIONS == {"pool_pre_ping": True}
    pg_app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://u@localhost/x", "INSTANCE_PATH": str(tmp_path)})
    assert "connect_args" not in pg_app.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_demo_module_adds_one_module_s_demo_data_to_an_existing_district(app_factory):
    from tests.core.fakes import module_plugin

    calls = []
    app = app_factory(extra_plugins=[
        module_plugin("shelf", wangge_demo_data=lambda scale, report: calls.append(("shelf", scale))),
        module_plugin("other", wangge_demo_data=lambda report: calls.append(("other", None))),
    ], PLUGINS=[])
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["demo", "--module", "shelf"])
        assert result.exit_code != 0 and "build the demo first" in result.output
        factories.build_tree()
        result = runner.invoke(args=["demo", "--module", "shelf", "--scale", "2"])
        assert result.exit_code == 0, result.output
        assert calls == [("shelf", 2)]
        result = runner.invoke(args=["demo", "--module", "nosuch"])
        assert result.exit_code != 0 and "No installed module named nosuch" in result.output
