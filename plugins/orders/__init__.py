"""Volunteer orders (社区下单、党员接单): the "one group" of the source article.

In-service Party members register with the community where they live (双报到);
the community defines service posts, places orders, members take them and
report completion; public commitments on a board; resource and needs lists
matched into public-benefit projects (惠民项目).
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
READERS = (*STAFF, "member")


@hookimpl
def wangge_module():
    return Module(
        name="orders",
        title=_l("Volunteer orders"),
        description=_l("Party members register with their home community, take the community's "
                       "orders and make public commitments; resources and needs matched into projects."),
    )


@hookimpl
def wangge_permissions():
    return [
        Action("orders.view", _l("See service posts, orders, the board and projects"), READERS),
        Action("orders.take", _l("Take orders, report completion and make commitments"), ("member",)),
        Action("orders.manage", _l("Place orders, confirm members, accept completions, run projects"), ADMINS),
        Action("orders.registrations", _l("See members' registrations"), STAFF),
        Action("orders.unit", _l("See where one's unit's members registered"), ("handler",)),
        Action("orders.export", _l("Export the orders module's lists to Excel"), ADMINS),
    ]


@hookimpl
def wangge_blueprints():
    from .views import bp

    return [bp]


@hookimpl
def wangge_nav_items():
    return [
        NavItem("orders.index", _l("Volunteer orders"), "orders.view", order=300),
        NavItem("orders.unit", _l("Our members' registrations"), "orders.unit", order=301),
    ]


@hookimpl
def wangge_node_panels():
    return [Panel("orders.node", _l("Volunteer orders here"), "orders.node_panel", "orders.view",
                  levels=("community", "estate", "building", "zone"), order=300)]


@hookimpl
def wangge_dashboard_widgets():
    return [Widget("orders.summary", _l("Volunteer orders"), "orders.widget", "orders.view", order=300)]


@hookimpl
def wangge_exports():
    return [
        Export("orders.registrations_xlsx", _l("Party members' registrations (双报到)"), "orders.export",
               _l("Every registration in your scope: member, unit, branch, community, state.")),
        Export("orders.status_xlsx", _l("Registration status per community and unit"), "orders.export"),
        Export("orders.orders_xlsx", _l("Volunteer orders"), "orders.export",
               _l("Every order with its post, grid, date, places and takers.")),
        Export("orders.board_xlsx", _l("Public commitments"), "orders.export"),
        Export("orders.resources_xlsx", _l("Resource list"), "orders.export"),
        Export("orders.needs_xlsx", _l("Needs list"), "orders.export"),
        Export("orders.projects_xlsx", _l("Public-benefit projects"), "orders.export",
               _l("Each project with the resources and needs it was matched from.")),
    ]


@hookimpl
def wangge_periodic_tasks():
    from .tasks import send_reminders

    return [Periodic("orders.reminders", send_reminders, schedule={"minute": "5"}, per_community=True)]


@hookimpl
def wangge_notification_kinds():
    return [
        NotificationKind("orders.reminder", _l("A volunteer order I took starts soon")),
        NotificationKind("orders.underfilled", _l("Taking closed for an order with places still open")),
        NotificationKind("orders.commitment_overdue", _l("My public commitment passed its deadline")),
    ]


@hookimpl
def wangge_assets():
    return [Asset("orders.static", "orders/orders.css")]


@hookimpl
def wangge_migrations_dir():
    return str(HERE / "migrations" / "versions")


@hookimpl
def wangge_translations_dir():
    return str(HERE / "translations")


@hookimpl
def wangge_node_holders(node_ids):
    from .services.holders import holders

    return holders(node_ids)


@hookimpl
def wangge_service_records(member_ids, start, end):
    from .services.records import service_records

    return service_records(member_ids, start, end)


@hookimpl
def wangge_demo_data(scale, rng, report):
    from .demo import build

    build(scale, rng, report)
