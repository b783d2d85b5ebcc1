"""Five-star evaluation (五星级评定): residents rate, the community scores,
the organisation department files — the "precise assessment" of in-service
Party members in the source article.

Members' service records come from every module through the core's
`wangge_service_records` hook (this module answers it too, with the manual
records staff enter); scores are explained line by line.
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
    Task,
    Widget,
)

HERE = Path(__file__).parent
STAFF = ("district_admin", "community_admin", "grid_worker")
ADMINS = ("district_admin", "community_admin")
DISTRICT = ("district_admin",)


@hookimpl
def wangge_module():
    return Module(
        name="fivestar",
        title=_l("Five-star evaluation"),
        description=_l(
            "Residents rate, the community scores monthly and publishes, the organisation department "
            "files quarterly; five-star batches with public notice and certificates."
        ),
    )


@hookimpl
def wangge_permissions():
    return [
        Action("fivestar.view", _l("See members' service records, scores and ratings"), STAFF),
        Action("fivestar.record", _l("Enter members' service records"), STAFF),
        Action("fivestar.score", _l("Compute, review, publish and amend monthly scores; run rating rounds"), ADMINS),
        Action("fivestar.nominate", _l("Submit quarters and nominate five-star members"), ADMINS),
        Action("fivestar.rules", _l("Set the scoring rules"), DISTRICT),
        Action("fivestar.file", _l("File quarters and run five-star batches (organisation department)"), DISTRICT),
        Action("fivestar.export", _l("Export five-star ledgers to Excel"), ADMINS),
        Action("fivestar.own", _l("See one's own service record and scores"), ("member",)),
    ]


@hookimpl
def wangge_blueprints():
    from .views import bp

    return [bp]


@hookimpl
def wangge_nav_items():
    return [
        NavItem("fivestar.index", _l("Five-star evaluation"), "fivestar.view", order=450),
        NavItem("fivestar.me", _l("My service record"), "fivestar.own", order=451),
    ]


@hookimpl
def wangge_node_panels():
    return [Panel("fivestar.node", _l("Five-star evaluation"), "fivestar.node_panel", "fivestar.view",
                  levels=("district", "community", "estate", "building", "zone"), order=450)]


@hookimpl
def wangge_dashboard_widgets():
    return [Widget("fivestar.summary", _l("Five-star evaluation"), "fivestar.widget", "fivestar.view", order=450)]


@hookimpl
def wangge_exports():
    return [
        Export("fivestar.scores_xlsx", _l("Monthly scores (five-star evaluation)"), "fivestar.export",
               _l("Every member's published monthly score in your scope, with amendments.")),
        Export("fivestar.awards_xlsx", _l("Five-star members"), "fivestar.export",
               _l("Every member awarded five stars, by batch, with the certificate number.")),
    ]


@hookimpl
def wangge_assets():
    return [Asset("fivestar.static", "fivestar/fivestar.css", "css"),
            Asset("fivestar.static", "fivestar/fivestar.js", "js")]


@hookimpl
def wangge_migrations_dir():
    return str(HERE / "migrations" / "versions")


@hookimpl
def wangge_translations_dir():
    return str(HERE / "translations")


@hookimpl
def wangge_tasks():
    from .tasks import COMPUTE, compute_month_task

    return [Task(COMPUTE, compute_month_task, _l("Compute a community's monthly scores"))]


@hookimpl
def wangge_periodic_tasks():
    from .tasks import monthly

    # Early on the 1st: last month is over everywhere in the district.
    return [Periodic("fivestar.monthly_scores", monthly, schedule={"day": "1", "hour": "2", "minute": "30"})]


@hookimpl
def wangge_notification_kinds():
    return [
        NotificationKind("fivestar.month_computed", _l("A month's scores are computed and wait for review")),
        NotificationKind("fivestar.month_published", _l("My monthly service score is published")),
        NotificationKind("fivestar.quarter_submitted", _l("A community submitted its quarter for filing")),
        NotificationKind("fivestar.objection", _l("An objection to a five-star nomination")),
    ]


@hookimpl
def wangge_service_records(member_ids, start, end):
    from .services.records import manual_records

    return manual_records(member_ids, start, end)


@hookimpl
def wangge_node_holders(node_ids):
    from .queries import holders

    return holders(node_ids)


@hookimpl
def wangge_node_moved(node_id, old_path, new_path):
    from .services.records import follow_node_move

    follow_node_move(new_path)


@hookimpl
def wangge_demo_data(scale, rng, report):
    from .demo import build

    build(scale, rng, report)
