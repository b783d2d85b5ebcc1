"""Small fake plugins for the core's tests, passed to create_app(extra_plugins=…).

A plugin is any object with hookimpl-marked attributes named after hooks; a
fresh module object per call, so that each app gets fresh blueprints.
"""

from __future__ import annotations

import functools
import types

from flask import Blueprint, render_template_string

from core import security
from core.hookspecs import hookimpl
from core.plugins import Action, Export, Module, NavItem, Panel, Widget

PAGE = '{% extends "base.html" %}{% block content %}<h1>{{ name }} page</h1>{% endblock %}'


# Hook names the core called on fakes during the running test; tests/core/conftest.py
# keeps those of passing tests, and tests/core/test_hooks_meta.py requires every hook.
CALLS: list[str] = []
CALLED_BY_PASSING_TESTS: set[str] = set()


def _recorded(hook_name, fn):
    @functools.wraps(fn)  # pluggy reads the arguments through __wrapped__
    def call(*args, **kwargs):
        CALLS.append(hook_name)
        return fn(*args, **kwargs)

    return call


def plugin(name: str, **hooks):
    """A plugin object named `name` implementing the given hooks (each call recorded)."""
    mod = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(mod, hook_name, hookimpl(_recorded(hook_name, fn)))
    return mod


def module_plugin(name, requires=(), default_enabled=True, title=None, **hooks):
    """A plugin that declares only a Module (plus any hooks given)."""
    module = Module(
        name=name,
        title=title or f"Fake {name}",
        description=f"The {name} test module.",
        requires=tuple(requires),
        default_enabled=default_enabled,
    )
    return plugin(name, wangge_module=lambda: module, **hooks)


def full_plugin(name, requires=(), default_enabled=True, roles=("district_admin", "community_admin", "grid_worker")):
    """A module with a page, a nav item, a node panel, a dashboard widget, an
    export and a permission `<name>.view` granted to `roles`."""
    bp = Blueprint(name, __name__, url_prefix=f"/{name}")

    @bp.route("/")
    @security.requires(f"{name}.view")
    def index():
        return render_template_string(PAGE, name=name)

    @bp.route("/panel/<int:node_id>")
    @security.requires(f"{name}.view")
    def panel(node_id):
        node = security.node_in_scope_or_404(node_id, f"{name}.view")
        return f"{name} panel of {node.name}"

    @bp.route("/widget")
    @security.requires(f"{name}.view")
    def widget():
        return f"{name} widget body"

    @bp.route("/export.xlsx")
    @security.requires(f"{name}.view")
    def export():
        from core.excel import xlsx_response

        return xlsx_response(f"{name}.xlsx", ["a"], [[1]])

    view = f"{name}.view"
    return module_plugin(
        name,
        requires=requires,
        default_enabled=default_enabled,
        wangge_blueprints=lambda: [bp],
        wangge_permissions=lambda: [Action(view, f"See {name}", tuple(roles))],
        wangge_nav_items=lambda: [NavItem(f"{name}.index", f"Nav {name}", view, order=400)],
        wangge_node_panels=lambda: [Panel(f"{name}.panel", f"Panel {name}", f"{name}.panel", view)],
        wangge_dashboard_widgets=lambda: [Widget(f"{name}.widget", f"Widget {name}", f"{name}.widget", view)],
        wangge_exports=lambda: [Export(f"{name}.export", f"Export {name}", view)],
    )
