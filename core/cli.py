"""`flask --app wsgi …` commands: init, create-user, backup, restore, demo."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from .demo import build_demo, print_demo_logins, reset_data
from .extensions import db
from .models import ROLES, GridNode, RoleGrant, User


def _upgrade():
    from flask_migrate import upgrade

    upgrade(revision="heads")


def _ensure_district(name: str, code: str) -> GridNode:
    root = db.session.scalar(select(GridNode).where(GridNode.level == "district"))
    if root is None:
        root = GridNode(level="district", name=name, code=code, depth=0, path="")
        db.session.add(root)
        db.session.flush()
        root.path = f"/{root.id}/"
    return root


@click.command("init")
@click.option("--admin", "admin_username", default="admin", show_default=True)
@click.option("--password", "admin_password", default=None, help="Prompted for when not given.")
@click.option("--demo-if-empty", is_flag=True, help="Load the demo district when the database is empty.")
@with_appcontext
def init_command(admin_username, admin_password, demo_if_empty):
    """Migrate the database and create the first district admin."""
    _upgrade()
    click.echo("Database schema is up to date.")
    has_nodes = db.session.scalar(select(func.count()).select_from(GridNode))
    if demo_if_empty:
        if not has_nodes:
            build_demo(scale=1, seed=1, report=click.echo)
        else:
            click.echo("The database holds data already; the demo was not loaded.")
        print_demo_logins(click.echo)
        return
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("Users exist already; no admin created.")
        return
    if admin_password is None:
        admin_password = click.prompt("Password for the district admin", hide_input=True, confirmation_prompt=True)
    root = _ensure_district("湾沚区", "340221")
    user = User(username=admin_username, display_name=admin_username)
    user.set_password(admin_password)
    db.session.add(user)
    db.session.flush()
    db.session.add(RoleGrant(user_id=user.id, role="district_admin", node_id=root.id))
    db.session.commit()
    click.echo(f"District admin {admin_username!r} created.")


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", default=None)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--node", "node_code", required=True, help="Grid code the role is granted on.")
@click.option("--password", default=None)
@with_appcontext
def create_user_command(username, display_name, role, node_code, password):
    """Create a user with one role on one grid node."""
    node = db.session.scalar(select(GridNode).where(GridNode.code == node_code))
    if node is None:
        raise click.ClickException(f"No grid node with code {node_code!r}.")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise click.ClickException(f"User {username!r} exists already.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException("The password needs at least 8 characters.")
    user = User(username=username, display_name=display_name or username)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    db.session.add(RoleGrant(user_id=user.id, role=role, node_id=node.id))
    db.session.commit()
    click.echo(f"User {username!r} created as {role} on {node.name} ({node.code}).")


def _sqlite_path() -> Path:
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///"):
        raise click.ClickException(
            "backup/restore handle the SQLite database. For PostgreSQL use pg_dump and "
            "pg_restore (see README, 'Backup')."
        )
    return Path(uri.removeprefix("sqlite:///"))


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(target):
    """Copy the SQLite database to TARGET with SQLite's online backup (safe while serving)."""
    src_path = _sqlite_path()
    db.session.remove()
    src = sqlite3.connect(src_path)
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    dst.close()
    src.close()
    uploads = Path(current_app.instance_path) / "uploads"
    if uploads.is_dir():
        shutil.make_archive(str(target) + ".uploads", "gztar", uploads)
    click.echo(f"Backed up {src_path} to {target}.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before overwriting.")
@with_appcontext
def restore_command(source, yes):
    """Replace the SQLite database with SOURCE (a file made by `backup`)."""
    dst_path = _sqlite_path()
    check = sqlite3.connect(source)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.execute("SELECT count(*) FROM grid_node").fetchone()
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(f"{source} is not a Wangge backup: {exc}") from exc
    finally:
        check.close()
    if not ok:
        raise click.ClickException(f"{source} fails SQLite's integrity check.")
    if not yes:
        click.confirm(f"Replace {dst_path} with {source}?", abort=True)
    db.session.remove()
    db.engine.dispose()
    src = sqlite3.connect(source)
    dst = sqlite3.connect(dst_path)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    archive = Path(str(source) + ".uploads.tar.gz")
    if archive.exists():
        shutil.unpack_archive(archive, Path(current_app.instance_path) / "uploads")
    click.echo(f"Restored {dst_path} from {source}.")


@click.command("demo")
@click.option("--scale", default=1, show_default=True, type=click.IntRange(1, 100))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--reset", is_flag=True, help="Delete every record first.")
@click.option("--module", "modules", multiple=True, metavar="NAME",
              help="Add only this module's demo data to the district already in the database "
                   "(for a module installed after the demo was built). Repeatable.")
@with_appcontext
def demo_command(scale, seed, reset, modules):
    """Build the seed district (scale 1: 19 communities … 3,134 zones)."""
    has_nodes = db.session.scalar(select(func.count()).select_from(GridNode))
    if modules:
        if not has_nodes or reset:
            raise click.ClickException("--module adds to an existing district: build the demo first (without --module).")
        add_module_demo(modules, scale=scale, seed=seed, report=click.echo)
        return
    if has_nodes and not reset:
        raise click.ClickException("The database holds data already. Run again with --reset to replace it.")
    if reset:
        reset_data()
    build_demo(scale=scale, seed=seed, report=click.echo)
    print_demo_logins(click.echo)


def add_module_demo(modules, scale=1, seed=1, report=print) -> None:
    """Call wangge_demo_data of the named modules only, on the data already there."""
    state = current_app.extensions["wangge"]
    plugin_module = state.registry._plugin_module
    unknown = sorted(set(modules) - set(state.registry.modules))
    if unknown:
        raise click.ClickException(f"No installed module named {', '.join(unknown)}.")
    others = [p for p in state.pm.get_plugins() if plugin_module.get(state.pm.get_name(p)) not in modules]
    caller = state.pm.subset_hook_caller("wangge_demo_data", remove_plugins=others)
    caller(scale=scale, rng=random.Random(seed), report=report)
    db.session.commit()
    report(f"Demo data added: {', '.join(modules)}.")


def register_cli(app):
    for cmd in (init_command, create_user_command, backup_command, restore_command, demo_command):
        app.cli.add_command(cmd)
    for cmd in app.extensions["wangge"].registry.cli_commands:
        app.cli.add_command(cmd)
