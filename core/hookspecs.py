"""Every hook of Wangge, in one place.

Hooks *return declarations* (see core/plugins.py for the dataclasses); the
core applies them and remembers which module each one came from, which is
what lets a community switch a module off without a restart. A plugin
implements only the hooks it needs; pluggy passes only the arguments an
implementation names, so a hook can gain arguments without breaking plugins.

Every hook here has a section in docs/plugins.md and a test
(tests/core/test_hooks_meta.py fails otherwise).
"""

import pluggy

PROJECT = "wangge"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- Declaration: what the module is and what it adds ----------------------


@hookspec
def wangge_module():
    """Return the plugin's `Module` (name, title, description, requires, default)."""


@hookspec
def wangge_blueprints():
    """Return a list of Flask blueprints; the core registers them and gates them
    by the module's switch for the community in scope."""


@hookspec
def wangge_permissions():
    """Return a list of `Action`s (name, description, default roles) the module checks."""


@hookspec
def wangge_nav_items():
    """Return a list of `NavItem`s for the main navigation."""


@hookspec
def wangge_node_panels():
    """Return a list of `Panel`s shown on grid-node pages; each loads by hx-get
    from an endpoint that takes `node_id`."""


@hookspec
def wangge_dashboard_widgets():
    """Return a list of `Widget`s for the dashboard; each loads by hx-get."""


@hookspec
def wangge_exports():
    """Return a list of `Export`s: Excel downloads listed on the exports page."""


@hookspec
def wangge_cli_commands():
    """Return a list of click commands added under `flask --app wsgi`."""


@hookspec
def wangge_migrations_dir():
    """Return the path of the module's Alembic versions folder (its own branch)."""


@hookspec
def wangge_translations_dir():
    """Return the path of the module's `translations/` folder (Babel catalogs)."""


@hookspec
def wangge_assets():
    """Return a list of `Asset`s (a module's stylesheets and scripts). The layout
    loads every module's assets on every page, so that hx-boost navigation
    from one module to another keeps each page's styles and scripts."""


# --- Data and lifecycle ----------------------------------------------------


@hookspec
def wangge_demo_data(scale, rng, report):
    """Add the module's demo data after the core built the demo district.

    `scale` is the --scale factor, `rng` a seeded `random.Random`, `report(text)`
    prints a line of progress. Deterministic for a given seed.
    """


@hookspec
def wangge_node_holders(node_ids):
    """Return a list of (label, count) of the module's records that hold the given
    grid nodes, so that deleting a node that still has data is refused by name."""


@hookspec
def wangge_node_moved(node_id, old_path, new_path):
    """A grid node and its subtree moved to another parent; the tree's paths,
    communities and totals are already updated. Modules that keep copies of
    paths or communities, or totals per node, bring them up to date (in the
    same transaction). Called for every installed module, whatever the switches."""


# --- Cross-module requests ---------------------------------------------------


@hookspec(firstresult=True)
def wangge_report_problem(node_id, description, reporter_name, reporter_phone, channel, user_id, source_ref):
    """Hand a problem found on the front line (for example on a visit) to the
    module that handles problems. Return the new problem's reference (a string)
    or None. The core only calls the implementations of modules that are on
    for the node's community."""


@hookspec
def wangge_service_records(member_ids, start, end):
    """Return a list of `ServiceRecord`s: the service that the given members
    (user ids) gave between the district dates `start` and `end` (inclusive),
    as the module recorded it (a duty shift worked, an order completed, …).

    Whoever scores members (the five-star module) reads every module's records
    here and never imports the module. The core only calls the implementations
    of modules that are on in the record's community: call it through
    `core.plugins.service_records()`."""


# --- Background work and notifications (core.jobs, core.notify) ---------------


@hookspec
def wangge_tasks():
    """Return a list of `Task`s (name, func, title): background tasks that
    `core.jobs.start(name, params=…)` queues. `func(job, **params)` runs in a
    consumer process inside an app context, reports `job.progress(done, total)`
    and may return a dict (the job's result). Task names are unique
    district-wide: prefix them with the module's name."""


@hookspec
def wangge_periodic_tasks():
    """Return a list of `Periodic`s (name, func, schedule, per_community): work
    run on a crontab schedule in the district's time zone. With
    `per_community=True` the core calls `func(community_id)` only for the
    communities where the module is on; a run is sent once per scheduled
    minute however many consumers run on however many hosts."""


@hookspec
def wangge_notification_kinds():
    """Return a list of `NotificationKind`s (name, title, default): the kinds
    of notification the module sends with `core.notify.notify(kind, …)`. Each
    user chooses on the inbox's preferences page which kinds to receive."""


@hookspec
def wangge_deliver_notification(notification, user, text):
    """A notification was stored for `user` (in-app, always): deliver it on
    another channel too (SMS, WeChat Work, e-mail). `text` is the message in
    the user's language. Called inside the sender's transaction, which it must
    not commit; a channel that talks to a slow network hands the sending to a
    queue of its own rather than wait."""
