"""The core registers its own pages through the same hooks as every plugin."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .extensions import db
from . import jobs, reminders
from .grid import tasks as grid_tasks
from .grid import views as grid_views
from .hookspecs import hookimpl
from .jobs import views as jobs_views
from .notify import views as inbox_views
from .models import GridPost, RoleGrant
from .plugins import Action, Export, Module, NavItem, NotificationKind, Periodic, Task, Widget
from .views import admin, auth, main

ADMINS = ("district_admin", "community_admin")
STAFF = ("district_admin", "community_admin", "grid_worker")
EVERYONE = ("district_admin", "community_admin", "grid_worker", "member", "handler", "resident")


@hookimpl
def wangge_module():
    return Module(
        name="core",
        title=_l("Core"),
        description=_l("Grid tree, accounts, module switches and the audit log."),
        switchable=False,
    )


@hookimpl
def wangge_permissions():
    return [
        Action("dashboard.view", _l("See the dashboard"), EVERYONE),
        Action("grid.view", _l("Browse the grid tree and node pages"), STAFF),
        Action("grid.edit", _l("Create, edit, move and delete grid nodes"), ADMINS),
        Action("grid.import", _l("Import and export the grid tree"), ("district_admin",)),
        Action("orgs.view", _l("See departments, property companies and partner units"), STAFF),
        Action("orgs.edit", _l("Edit departments, property companies and partner units"), ("district_admin",)),
        Action("staffing.view", _l("See who covers which grid"), STAFF),
        Action("staffing.manage", _l("Assign grid workers, A/B posts and leave"), ADMINS),
        Action("users.manage", _l("Create, edit and disable user accounts"), ADMINS),
        Action("modules.manage", _l("Switch modules on and off"), ADMINS),
        Action("audit.view", _l("Read and export the audit log"), ADMINS),
        Action("exports.view", _l("Download Excel exports"), STAFF),
    ]


@hookimpl
def wangge_blueprints():
    return [auth.bp, main.bp, admin.bp, grid_views.bp, jobs_views.bp, inbox_views.bp]


@hookimpl
def wangge_nav_items():
    return [
        NavItem("main.dashboard", _l("Dashboard"), "dashboard.view", order=0, icon="home"),
        NavItem("grid.tree", _l("Grid tree"), "grid.view", order=10),
        NavItem("main.exports", _l("Exports"), "exports.view", order=900, icon="download"),
        NavItem("admin.index", _l("Administration"), "users.manage", order=1000, icon="cog"),
    ]


@hookimpl
def wangge_dashboard_widgets():
    return [Widget("core.summary", _l("The grid at a glance"), "main.widget_summary", "dashboard.view", order=0)]


@hookimpl
def wangge_exports():
    return [
        Export("admin.audit_export", _l("Audit log"), "audit.view"),
        Export("admin.users_export", _l("Users and roles"), "users.manage"),
    ]


@hookimpl
def wangge_migrations_dir():
    return str(Path(__file__).parent / "migrations" / "versions")


@hookimpl
def wangge_node_holders(node_ids):
    out = []
    n = db.session.scalar(select(func.count()).select_from(RoleGrant).where(RoleGrant.node_id.in_(node_ids)))
    if n:
        out.append((_l("role grants"), n))
    n = db.session.scalar(
        select(func.count()).select_from(GridPost).where(
            GridPost.node_id.in_(node_ids), (GridPost.a_user_id.isnot(None)) | (GridPost.b_user_id.isnot(None))
        )
    )
    if n:
        out.append((_l("staffed posts"), n))
    return out


@hookimpl
def wangge_tasks():
    return [Task(grid_tasks.TASK, grid_tasks.grid_import, _l("Import the grid tree"))]


@hookimpl
def wangge_periodic_tasks():
    return [
        Periodic("core.leave_cover", reminders.leave_cover_reminders, schedule={"hour": "7", "minute": "0"}),
        # Jobs whose consumer died are marked failed even when nobody looks.
        Periodic("core.sweep_jobs", jobs.sweep_stale, schedule={"minute": "*/5"}, per_community=False),
    ]


@hookimpl
def wangge_notification_kinds():
    return [
        NotificationKind("core.job_finished", _l("My background jobs finished or failed")),
        NotificationKind("core.leave_cover", _l("A grid I back up as B-post: the A-post's leave starts or ends")),
    ]
