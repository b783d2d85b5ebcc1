"""Grid affairs (网格事务, "one network"): the task and admission lists,
residents and houses, special groups, grid squads and visits with the
weekly quota."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from core.hookspecs import hookimpl
from core.plugins import Action, Export, Module, NavItem, Panel, Widget

HERE = Path(__file__).parent
ADMINS = ("district_admin", "community_admin")
STAFF = ("district_admin", "community_admin", "grid_worker")


@hookimpl
def wangge_module():
    return Module(
        name="affairs",
        title=_l("Grid affairs"),
        description=_l("Task and admission lists, residents and houses, special groups, grid squads and visits."),
    )


@hookimpl
def wangge_blueprints():
    from .views import bp

    return [bp]


@hookimpl
def wangge_permissions():
    return [
        Action("affairs.view", _l("See residents, houses, special groups, squads and visits"), STAFF),
        Action("affairs.edit", _l("Add and edit residents, houses, special-group periods and squad reports"), STAFF),
        Action("affairs.pii", _l("See ID-card numbers and phones in full (written to the audit log)"), ADMINS),
        Action("affairs.export", _l("Export residents and houses with personal data"), ADMINS),
        Action("affairs.import", _l("Import residents and houses from Excel"), ADMINS),
        Action("affairs.visit", _l("Record visits"), ("grid_worker", "community_admin")),
        Action("affairs.compliance", _l("See the weekly visit quota compliance"), STAFF),
        Action("affairs.tasks", _l("See the task list and the grid checklists, and update their status"), STAFF),
        Action("affairs.tasks.assign", _l("Push admitted items down to grids"), ADMINS),
        Action("affairs.tasks.manage", _l("Import and edit the task list and admission list"), ("district_admin",)),
        Action("affairs.squads.manage", _l("Add and remove grid squad members"), ADMINS),
        Action("affairs.settings", _l("Set the visit quota and define special groups"), ADMINS),
    ]


@hookimpl
def wangge_nav_items():
    return [
        NavItem("affairs.index", _l("Grid affairs"), "affairs.view", order=20),
        NavItem("affairs.visit_new", _l("Record a visit"), "affairs.visit", order=21),
    ]


@hookimpl
def wangge_node_panels():
    below_district = ("district", "community", "estate", "building", "zone")
    return [
        Panel("affairs.residents", _l("Residents"), "affairs.panel_residents", "affairs.view", below_district, order=30),
        Panel("affairs.houses", _l("Houses"), "affairs.panel_houses", "affairs.view", below_district, order=31),
        Panel("affairs.groups", _l("Special groups"), "affairs.panel_groups", "affairs.view", below_district, order=32),
        Panel(
            "affairs.compliance",
            _l("Visit compliance this week"),
            "affairs.panel_compliance",
            "affairs.compliance",
            ("district", "community", "estate", "building"),
            order=33,
        ),
    ]


@hookimpl
def wangge_dashboard_widgets():
    return [
        Widget("affairs.my_week", _l("My visits this week"), "affairs.widget_my_week", "affairs.visit", order=20),
        Widget("affairs.due", _l("Special groups due for a visit"), "affairs.widget_due", "affairs.view", order=21),
    ]


@hookimpl
def wangge_exports():
    return [
        Export("affairs.residents_export", _l("Residents (masked)"), "affairs.view", _l("ID numbers and phones masked")),
        Export(
            "affairs.residents_export_full",
            _l("Residents with ID numbers and phones"),
            "affairs.export",
            _l("Personal data in full; written to the audit log"),
        ),
        Export("affairs.houses_export", _l("Houses"), "affairs.view"),
        Export("affairs.groups_export", _l("Special groups"), "affairs.export", _l("Written to the audit log")),
        Export("affairs.compliance_export", _l("Visit quota compliance (this week)"), "affairs.compliance"),
        Export("affairs.visits_export", _l("Visits"), "affairs.view", _l("Written to the audit log")),
        Export("affairs.checklist_export", _l("Grid checklist of this month"), "affairs.tasks"),
        Export("affairs.items_export", _l("Task list and admission list"), "affairs.tasks"),
    ]


@hookimpl
def wangge_migrations_dir():
    return str(HERE / "migrations" / "versions")


@hookimpl
def wangge_translations_dir():
    return str(HERE / "translations")


@hookimpl
def wangge_node_moved(node_id, old_path, new_path):
    from .services import follow_node_move

    follow_node_move(old_path, new_path)


@hookimpl
def wangge_node_holders(node_ids):
    from .services import node_holders

    return node_holders(node_ids)


@hookimpl
def wangge_demo_data(scale, rng, report):
    from .demo import build_demo

    build_demo(scale, rng, report)


@hookimpl
def wangge_tasks():
    from .tasks import tasks

    return tasks()


@hookimpl
def wangge_periodic_tasks():
    from .tasks import periodic_tasks

    return periodic_tasks()


@hookimpl
def wangge_notification_kinds():
    from .tasks import notification_kinds

    return notification_kinds()
