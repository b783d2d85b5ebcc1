"""A community notice board: the example third-party plugin of docs/plugins.md.

The module shape (docs/conventions.md): this file declares the Module and
every hookimpl, each thin (it delegates); models.py (anchored on the grid),
services/ (the rules), queries.py (the read side, all through core.access),
forms.py, views/ (the blueprint, one file per area), exports.py, demo.py,
templates/noticeboard/, migrations/versions/, translations/.

Installed as its own package (`pip install -e examples/wangge-noticeboard`),
found by Wangge through the entry point `noticeboard` in the group
`wangge.plugins`. Every hook below returns a declaration; the core applies
it and remembers that it came from the module "noticeboard", which is what
lets a community switch the notice board off without a restart.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from core.hookspecs import hookimpl
from core.plugins import Action, Export, Module, NavItem, Panel, Widget

from . import models  # noqa: F401  - the table is known whenever the plugin is loaded

HERE = Path(__file__).resolve().parent
NAME = "noticeboard"

READERS = ("district_admin", "community_admin", "grid_worker", "member")
POSTERS = ("district_admin", "community_admin")


@hookimpl
def wangge_module():
    return Module(
        name=NAME,
        title=_l("Notice board"),
        description=_l("Notices a community posts for its grid workers and Party members."),
    )


@hookimpl
def wangge_blueprints():
    from .views import bp

    return [bp]


@hookimpl
def wangge_permissions():
    return [
        Action("noticeboard.view", _l("Read the notice board"), READERS),
        Action("noticeboard.post", _l("Post and remove notices"), POSTERS),
    ]


@hookimpl
def wangge_nav_items():
    return [NavItem("noticeboard.index", _l("Notice board"), "noticeboard.view", order=500, icon="pin")]


@hookimpl
def wangge_node_panels():
    return [
        Panel(
            "noticeboard.notices",
            _l("Notices"),
            "noticeboard.panel",
            "noticeboard.view",
            levels=("community", "estate", "building", "zone"),
            order=500,
        )
    ]


@hookimpl
def wangge_dashboard_widgets():
    return [Widget("noticeboard.latest", _l("Latest notices"), "noticeboard.widget", "noticeboard.view", order=500)]


@hookimpl
def wangge_exports():
    return [
        Export(
            "noticeboard.export",
            _l("Notices"),
            "noticeboard.view",
            description=_l("Every notice you can read, with its grid and author."),
        )
    ]


@hookimpl
def wangge_cli_commands():
    from .cli import noticeboard_group

    return [noticeboard_group]


@hookimpl
def wangge_migrations_dir():
    return str(HERE / "migrations" / "versions")


@hookimpl
def wangge_translations_dir():
    return str(HERE / "translations")


@hookimpl
def wangge_demo_data(report):
    from . import demo

    demo.build(report)


@hookimpl
def wangge_node_holders(node_ids):
    from .queries import count_on_nodes

    n = count_on_nodes(node_ids)
    return [(_l("notices"), n)] if n else []
