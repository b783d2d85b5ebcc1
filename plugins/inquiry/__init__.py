"""Square Inquiry (广场问政): the "one platform" of the source article.

Problems are collected on the front line, triaged, handed to departments and
property companies on numbered assignment sheets, handled within a deadline
counted in working days, visited again and closed out; ledgers, analysis and
an Open311 GeoReport v2 API on top.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from core.hookspecs import hookimpl
from core.plugins import (
    Action,
    Asset,
    Export,
    Module,
    NavItem,
    NotificationKind,
    Panel,
    Periodic,
    Widget,
)

HERE = Path(__file__).parent
ADMINS = ("district_admin", "community_admin")
STAFF = ("district_admin", "community_admin", "grid_worker")


@hookimpl
def wangge_module():
    return Module(
        name="inquiry",
        title=_l("Square Inquiry"),
        description=_l(
            "Residents' problems from intake to claim, deadline, return visit and close-out; "
            "assignment sheets, ledgers, analysis and an Open311 API."
        ),
    )


@hookimpl
def wangge_permissions():
    return [
        Action("inquiry.view", _l("See problems, ledgers and assignment sheets"), STAFF),
        Action("inquiry.report", _l("Report a problem"), STAFF),
        Action("inquiry.triage", _l("Triage problems and issue assignment sheets"), ADMINS),
        Action("inquiry.handle", _l("Handle the problems assigned to one's unit"), ("handler",)),
        Action("inquiry.visit", _l("Record return visits and follow-up checks"), STAFF),
        Action("inquiry.supervise", _l("Put problems under supervision"), ("district_admin",)),
        Action("inquiry.analysis", _l("See the analysis of problems"), ADMINS),
        Action("inquiry.export", _l("Export the ledgers to Excel"), ADMINS),
        Action("inquiry.contact", _l("See reporters' contact details in full"), ADMINS),
        Action("inquiry.settings", _l("Set categories, deadlines, extra days and Open311 keys"), ("district_admin",)),
    ]


@hookimpl
def wangge_blueprints():
    from .open311 import bp as open311_bp
    from .views import bp

    return [bp, open311_bp]


@hookimpl
def wangge_assets():
    return [Asset("inquiry.static", "inquiry/inquiry.css"), Asset("inquiry.static", "inquiry/inquiry.js", kind="js")]


@hookimpl
def wangge_nav_items():
    return [
        NavItem("inquiry.index", _l("Square Inquiry"), "inquiry.view", order=400),
        NavItem("inquiry.unit", _l("My unit's problems"), "inquiry.handle", order=401),
    ]


@hookimpl
def wangge_node_panels():
    return [Panel("inquiry.node", _l("Problems here"), "inquiry.node_panel", "inquiry.view", order=400)]


@hookimpl
def wangge_dashboard_widgets():
    return [
        Widget("inquiry.summary", _l("Square Inquiry"), "inquiry.widget_summary", "inquiry.view", order=400),
        Widget("inquiry.unit", _l("My unit's problems"), "inquiry.widget_unit", "inquiry.handle", order=401),
    ]


@hookimpl
def wangge_exports():
    return [
        Export("inquiry.problems_xlsx", _l("Problem list (Square Inquiry)"), "inquiry.export",
               _l("Every problem in your scope with its state, unit and deadline.")),
        Export("inquiry.ledger_xlsx", _l("Public-opinion ledger (Square Inquiry)"), "inquiry.export",
               _l("Every request received, including opinions that are not problems.")),
    ]


@hookimpl
def wangge_migrations_dir():
    return str(HERE / "migrations" / "versions")


@hookimpl
def wangge_translations_dir():
    return str(HERE / "translations")


@hookimpl
def wangge_cli_commands():
    from .cli import inquiry_cli

    return [inquiry_cli]


@hookimpl
def wangge_node_holders(node_ids):
    from sqlalchemy import func, select

    from core.extensions import db

    from .models import Problem

    n = db.session.scalar(select(func.count()).select_from(Problem).where(Problem.node_id.in_(node_ids)))
    return [(_l("problems (Square Inquiry)"), n)] if n else []


@hookimpl
def wangge_node_moved(node_id, old_path, new_path):
    from .services import follow_node_move

    follow_node_move(old_path, new_path)


@hookimpl
def wangge_report_problem(node_id, description, reporter_name, reporter_phone, channel, user_id, source_ref):
    from core.extensions import db
    from core.models import GridNode, User

    from . import services

    node = db.session.get(GridNode, node_id)
    if node is None:
        return None
    user = db.session.get(User, user_id) if user_id else None
    from .models import CHANNELS

    ch = channel if channel in CHANNELS else "visit"
    problem = services.create_problem(
        node=node, description=description, channel=ch, user=user, reporter_name=reporter_name or "",
        reporter_phone=reporter_phone or "", source_ref=source_ref or "",
    )
    return problem.ref


@hookimpl
def wangge_demo_data(scale, rng, report):
    from .demo import build

    build(scale, rng, report)


@hookimpl
def wangge_periodic_tasks():
    from . import tasks

    return [Periodic("inquiry.deadlines", tasks.deadline_reminders, schedule={"hour": "8", "minute": "0"})]


@hookimpl
def wangge_notification_kinds():
    return [
        NotificationKind("inquiry.deadline_near", _l("A problem of my unit is due by the next working day"),
                         level="warning"),
        NotificationKind("inquiry.overdue", _l("A problem of my unit is past its deadline"), level="danger"),
    ]
