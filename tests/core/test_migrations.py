"""Migrations == models: upgrading a fresh database with every migration
branch (`flask db upgrade heads`) yields exactly the schema of the models,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import MetaData, create_engine, text

from core.extensions import db
from tests.conftest import BACKEND, make_app


def loaded_metadata(app) -> MetaData:
    """The tables of the models of the plugins this app loaded.

    Other plugins' models may sit in the shared metadata too (imported by
    their own tests while WANGGE_PLUGINS limits the app); their migrations
    do not run for this app, so they are not expected in its schema.
    """
    pm = app.extensions["wangge"].pm
    roots = set()
    for plugin in pm.get_plugins():
        name = getattr(plugin, "__name__", "")
        roots.add("core" if name.startswith("core.") else name)
    mapped = {}
    for mapper in db.Model.registry.mappers:
        for table in mapper.tables:
            mapped[table.name] = mapper.class_.__module__
    md = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        module = mapped.get(table.name)
        if module is None or any(module == r or module.startswith(r + ".") for r in roots):
            table.to_metadata(md)
    return md


def upgrade_and_compare(url, instance_path):
    app = make_app(url, instance_path)
    with app.app_context():
        upgrade(revision="heads")
        expected = loaded_metadata(app)
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            diffs = compare_metadata(ctx, expected)
            versions = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        heads = set(script.get_heads())
        applied = {r.revision for r in script.iterate_revisions(tuple(versions), "base")}
        db.engine.dispose()
    return expected, diffs, applied, heads


def _assert_same(expected, diffs, applied, heads):
    assert "grid_node" in expected.tables
    assert diffs == [], "the migrations differ from the models:\n" + "\n".join(map(repr, diffs))
    assert heads <= applied  # every branch is at its head


def test_sqlite_fresh_upgrade_equals_the_models(tmp_path):
    url = "sqlite:///" + str(tmp_path / "migrated.sqlite")
    _assert_same(*upgrade_and_compare(url, tmp_path / "instance"))


@pytest.mark.skipif(BACKEND != "postgresql", reason="needs WANGGE_TEST_BACKEND=postgresql")
def test_postgresql_fresh_upgrade_equals_the_models(tmp_path):
    server = os.environ["WANGGE_TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"wangge_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.rsplit("/", 1)[0] + "/" + name
        _assert_same(*upgrade_and_compare(url, tmp_path / "instance"))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_every_plugin_branch_starts_from_the_core(tmp_path):
    app = make_app("sqlite:///" + str(tmp_path / "x.sqlite"), tmp_path / "instance")
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        bases = [script.get_revision(b) for b in script.get_bases()]
    for rev in bases:
        if rev.revision == "core_0001":
            continue
        assert rev.branch_labels, f"{rev.revision} has no branch label"
        deps = rev.dependencies if isinstance(rev.dependencies, tuple | list) else (rev.dependencies,)
        assert "core_0001" in deps or any(d.startswith("core") for d in deps if d), rev.revision
