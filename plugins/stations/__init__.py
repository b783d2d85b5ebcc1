"""Pioneer stations (爱湾沚·先锋驿站): stations claimed by contact departments,
staffed in rotation by Party-member volunteers; a duty rota with an exact
capacity, a waitlist and QR check-in; the modes service point / opinion post /
emergency command post; and the shared medicine box.

This file only declares; the work is in services/, queries.py and views/.
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
ORGANISERS = ("district_admin", "community_admin", "grid_worker")


@hookimpl
def wangge_module():
    return Module(
        name="stations",
        title=_l("Pioneer Stations"),
        description=_l(
            "Stations claimed by contact departments and staffed by Party-member volunteers: duty rota with "
            "sign-up, waitlist and QR check-in; opinion post and emergency command post; shared medicine box."
        ),
    )


@hookimpl
def wangge_permissions():
    return [
        Action("stations.view", _l("See the pioneer stations"), (*ORGANISERS, "member")),
        Action("stations.signup", _l("Sign up for duty shifts at stations"), ("member",)),
        Action("stations.organise", _l("Run a station: rota, check-ins, medicine box, modes"), ORGANISERS),
        Action("stations.manage", _l("Create and edit stations and their claims"), ADMINS),
        Action("stations.claimed", _l("See the stations one's department claims"), ("handler",)),
        Action("stations.export", _l("Export station lists and figures to Excel"), ADMINS),
    ]


@hookimpl
def wangge_blueprints():
    from .views import bp

    return [bp]


@hookimpl
def wangge_nav_items():
    return [
        NavItem("stations.index", _l("Pioneer Stations"), "stations.organise", order=450),
        NavItem("stations.my", _l("My duty"), "stations.signup", order=451),
        NavItem("stations.department", _l("Our stations"), "stations.claimed", order=452),
    ]


@hookimpl
def wangge_node_panels():
    return [Panel("stations.node", _l("Pioneer stations here"), "stations.node_panel", "stations.view",
                  levels=("district", "community", "estate"), order=450)]


@hookimpl
def wangge_dashboard_widgets():
    return [
        Widget("stations.summary", _l("Pioneer Stations"), "stations.widget", "stations.organise", order=450),
        Widget("stations.mine", _l("My duty"), "stations.widget_mine", "stations.signup", order=451),
    ]


@hookimpl
def wangge_exports():
    return [
        Export("stations.export_stations", _l("Stations (Pioneer Stations)"), "stations.export",
               _l("Every station with its grid, claim and mode; the same columns as the import.")),
        Export("stations.export_coverage", _l("Unfilled shifts, next 14 days (Pioneer Stations)"), "stations.export"),
        Export("stations.export_hours", _l("Members' duty hours (Pioneer Stations)"), "stations.export"),
        Export("stations.export_medicine", _l("Medicine box figures (Pioneer Stations)"), "stations.export"),
    ]


@hookimpl
def wangge_assets():
    return [Asset("stations.static", "stations/stations.css"),
            Asset("stations.static", "stations/stations.js", kind="js")]


@hookimpl
def wangge_periodic_tasks():
    from .tasks import generate_ahead, warn_expiring

    return [
        Periodic("stations.generate", generate_ahead, schedule={"hour": "2", "minute": "10"}),
        Periodic("stations.expiring", warn_expiring, schedule={"hour": "8", "minute": "0"}),
    ]


@hookimpl
def wangge_notification_kinds():
    return [
        NotificationKind("stations.promoted", _l("Pioneer stations: I was moved up from a shift's waitlist")),
        NotificationKind("stations.expiring", _l("Pioneer stations: medicine in a box I run expires soon")),
    ]


@hookimpl
def wangge_migrations_dir():
    return str(HERE / "migrations" / "versions")


@hookimpl
def wangge_translations_dir():
    return str(HERE / "translations")


@hookimpl
def wangge_cli_commands():
    from .tasks import stations_cli

    return [stations_cli]


@hookimpl
def wangge_node_holders(node_ids):
    from sqlalchemy import func, select

    from core.extensions import db

    from .models import ServedGrid, Station

    ids = list(node_ids)
    n = db.session.scalar(select(func.count()).select_from(Station).where(Station.node_id.in_(ids)))
    m = db.session.scalar(select(func.count()).select_from(ServedGrid).where(ServedGrid.node_id.in_(ids)))
    out = []
    if n:
        out.append((_l("pioneer stations"), n))
    if m:
        out.append((_l("grids served by pioneer stations"), m))
    return out


@hookimpl
def wangge_node_moved(node_id, old_path, new_path):
    from .services.stations import follow_node_move

    follow_node_move(old_path, new_path)


@hookimpl
def wangge_service_records(member_ids, start, end):
    from .services.records import service_records

    return service_records(member_ids, start, end)


@hookimpl
def wangge_demo_data(scale, rng, report):
    from .demo import build

    build(scale, rng, report)
