"""The plugin manager and the registry of what the plugins declared.

The manager is built inside create_app (never a module global), so every
app — and every test — has its own. Built-in modules are the packages under
plugins/; third-party ones come from the entry-point group `wangge.plugins`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy
from flask import current_app

from . import hookspecs
from .modules import CORE_MODULE, is_enabled

ENTRY_POINT_GROUP = "wangge.plugins"

# Hooks the core calls one implementation at a time (call_each), to know which
# plugin declared what: a hook wrapper there would never wrap anything.
DECLARATION_HOOKS = (
    "wangge_module", "wangge_blueprints", "wangge_permissions", "wangge_nav_items",
    "wangge_node_panels", "wangge_dashboard_widgets", "wangge_exports", "wangge_cli_commands",
    "wangge_migrations_dir", "wangge_translations_dir", "wangge_assets", "wangge_service_records",
    "wangge_tasks", "wangge_periodic_tasks", "wangge_notification_kinds",
)


class PluginError(RuntimeError):
    """A plugin failed to load; the message names it."""


@dataclass(frozen=True)
class Module:
    name: str
    title: Any  # a lazy_gettext string
    description: Any = ""
    requires: tuple[str, ...] = ()
    default_enabled: bool = True
    # The core module cannot be switched off.
    switchable: bool = True


@dataclass(frozen=True)
class Action:
    """A permission: which roles may do it by default."""

    name: str
    description: Any
    default_roles: tuple[str, ...]


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    title: Any
    # Shown only to users holding this permission (None: every signed-in user).
    permission: str | None = None
    order: int = 100
    icon: str = ""
    module: str = ""


@dataclass(frozen=True)
class Panel:
    """A part of the grid-node page, loaded by hx-get from `endpoint(node_id=…)`."""

    key: str
    title: Any
    endpoint: str
    permission: str | None = None
    levels: tuple[str, ...] = ("district", "community", "estate", "building", "zone")
    order: int = 100
    module: str = ""


@dataclass(frozen=True)
class Widget:
    """A dashboard part, loaded by hx-get from `endpoint`."""

    key: str
    title: Any
    endpoint: str
    permission: str | None = None
    order: int = 100
    module: str = ""


@dataclass(frozen=True)
class Export:
    endpoint: str
    title: Any
    permission: str | None = None
    description: Any = ""
    module: str = ""


@dataclass(frozen=True)
class Asset:
    """A stylesheet or script of a module: `url_for(endpoint, filename=filename)`."""

    endpoint: str
    filename: str
    kind: str = "css"  # "css" or "js" (loaded with defer)
    module: str = ""


@dataclass(frozen=True)
class ServiceRecord:
    """One piece of a member's service, as a module recorded it.

    `source` is the module name, `key` unique within the source (for example
    "shift:123"), so a reader can link, de-duplicate and explain scores;
    `kind` is the module's own word (shift, order, ...); `evidence` a short
    text (who confirmed it) and `link` the page that shows the record.
    """

    source: str
    key: str
    member_id: int
    date: Any  # datetime.date, the district day of the service
    hours: float
    kind: str
    title: str
    community_id: int | None = None
    evidence: str = ""
    link: str = ""
    confirmed: bool = True


@dataclass(frozen=True)
class Task:
    """A background task (core.jobs): `func(job, **params)` runs in a consumer
    process; `jobs.start(name, params=…)` queues it. It may return a dict (the
    job's result, JSON) and calls `job.progress(done, total)` as it goes."""

    name: str
    func: Callable[..., Any]
    title: Any = ""
    module: str = ""


@dataclass(frozen=True)
class Periodic:
    """A task run on a schedule (crontab fields in the district's time zone,
    e.g. {"hour": "8", "minute": "0"}; missing fields mean "every").

    With `per_community` the core calls `func(community_id)` once for each
    community where the module is on; else `func()` once. A run is sent once
    per scheduled minute however many consumers run."""

    name: str
    func: Callable[..., Any]
    schedule: dict = field(default_factory=dict)
    per_community: bool = True
    module: str = ""


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notification (core.notify); users choose which kinds they receive."""

    name: str
    title: Any
    default: bool = True
    description: Any = ""
    # How the inbox marks it: "info", "warning" (yellow) or "danger" (red).
    level: str = "info"
    module: str = ""


@dataclass
class Registry:
    """Everything the plugins declared, each item tagged with its module."""

    modules: dict[str, Module] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    action_module: dict[str, str] = field(default_factory=dict)
    nav_items: list[NavItem] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    widgets: list[Widget] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    blueprint_module: dict[str, str] = field(default_factory=dict)
    migration_dirs: list[str] = field(default_factory=list)
    translation_dirs: list[str] = field(default_factory=list)
    cli_commands: list[Any] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    tasks: dict[str, Task] = field(default_factory=dict)
    periodic: list[Periodic] = field(default_factory=list)
    notification_kinds: dict[str, NotificationKind] = field(default_factory=dict)


def builtin_plugin_names() -> list[str]:
    # Imported here: the plugins package is found only when the app starts (it may be absent).
    import plugins

    return sorted(
        f"plugins.{m.name}" for m in pkgutil.iter_modules(plugins.__path__) if m.ispkg
    )


def build_plugin_manager(
    core_plugin,
    extra_plugins: list[Any] | None = None,
    load_entry_points: bool = True,
    only: list[str] | None = None,
):
    """Build a plugin manager: the core (`core_plugin`, core.builtin), the
    built-in plugins (all, or those named in `only`), the entry-point plugins,
    then `extra_plugins`.

    Start-up stops with a PluginError naming the plugin when a plugin fails to
    import, two entry points share a name (or one takes a built-in's name), a
    plugin implements an unknown hook, or wraps a declaration hook.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(core_plugin, name=CORE_MODULE)
    for dotted in builtin_plugin_names():
        if only is not None and dotted.removeprefix("plugins.") not in only:
            continue
        try:
            mod = importlib.import_module(dotted)
        except Exception as exc:  # noqa: BLE001 - any failure must name the plugin
            raise PluginError(f"Plugin {dotted!r} failed to import: {exc}") from exc
        _register(pm, mod, dotted)
    if load_entry_points:
        from importlib.metadata import entry_points

        seen: dict[str, str] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if seen.get(ep.name) == ep.value:
                continue  # the same distribution found twice on the path
            if ep.name in seen or pm.has_plugin(ep.name) or pm.has_plugin(f"plugins.{ep.name}"):
                other = seen.get(ep.name) or ("a built-in plugin" if ep.name != CORE_MODULE else "the core")
                raise PluginError(
                    f"Plugin {ep.name!r} ({ep.value}): the entry-point name is taken by {other}; "
                    "every plugin needs a name of its own"
                )
            seen[ep.name] = ep.value
            try:
                mod = ep.load()
            except Exception as exc:  # noqa: BLE001
                raise PluginError(f"Plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
            _register(pm, mod, ep.name)
    for plugin in extra_plugins or []:
        _register(pm, plugin, getattr(plugin, "__name__", None))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) if exc.plugin is not None else "?"
        raise PluginError(f"Plugin {name!r} implements an unknown hook: {exc}") from exc
    for hook_name in DECLARATION_HOOKS:
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            if impl.hookwrapper or getattr(impl, "wrapper", False):
                raise PluginError(
                    f"Plugin {impl.plugin_name!r}: {hook_name} is a declaration hook and cannot be "
                    "a hook wrapper (return the declarations instead)"
                )
    return pm


def _register(pm, plugin, name):
    try:
        pm.register(plugin, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise PluginError(f"Plugin {name!r} could not be registered: {exc}") from exc


def call_each(pm, hook_name: str, **kwargs) -> list[tuple[str, Any]]:
    """Call every implementation of a hook and return (plugin name, result) pairs.

    Declaration hooks go through here so that the core knows which plugin
    returned what.
    """
    hook = getattr(pm.hook, hook_name)
    out = []
    for impl in reversed(hook.get_hookimpls()):
        argnames = impl.argnames
        try:
            result = impl.function(*[kwargs[a] for a in argnames])
        except Exception as exc:  # noqa: BLE001
            raise PluginError(f"Plugin {impl.plugin_name!r} failed in {hook_name}: {exc}") from exc
        if result is not None:
            out.append((impl.plugin_name, result))
    return out


def build_registry(pm) -> Registry:
    reg = Registry()
    plugin_module: dict[str, str] = {}
    for plugin_name, module in call_each(pm, "wangge_module"):
        if module.name in reg.modules:
            raise PluginError(f"Plugin {plugin_name!r} declares module {module.name!r} twice")
        reg.modules[module.name] = module
        plugin_module[plugin_name] = module.name
    for plugin_name in [pm.get_name(p) for p in pm.get_plugins()]:
        if plugin_name not in plugin_module:
            raise PluginError(f"Plugin {plugin_name!r} declares no Module (wangge_module)")
    for mod in reg.modules.values():
        for req in mod.requires:
            if req not in reg.modules:
                raise PluginError(f"Module {mod.name!r} requires {req!r}, which is not installed")

    def tag(items, plugin_name):
        return [replace(i, module=plugin_module[plugin_name]) for i in items]

    for plugin_name, actions in call_each(pm, "wangge_permissions"):
        for action in actions:
            reg.actions[action.name] = action
            reg.action_module[action.name] = plugin_module[plugin_name]
    for plugin_name, items in call_each(pm, "wangge_nav_items"):
        reg.nav_items.extend(tag(items, plugin_name))
    for plugin_name, items in call_each(pm, "wangge_node_panels"):
        reg.panels.extend(tag(items, plugin_name))
    for plugin_name, items in call_each(pm, "wangge_dashboard_widgets"):
        reg.widgets.extend(tag(items, plugin_name))
    for plugin_name, items in call_each(pm, "wangge_exports"):
        reg.exports.extend(tag(items, plugin_name))
    for _plugin_name, path in call_each(pm, "wangge_migrations_dir"):
        reg.migration_dirs.append(str(path))
    for _plugin_name, path in call_each(pm, "wangge_translations_dir"):
        reg.translation_dirs.append(str(path))
    for plugin_name, items in call_each(pm, "wangge_assets"):
        reg.assets.extend(tag(items, plugin_name))
    for _plugin_name, cmds in call_each(pm, "wangge_cli_commands"):
        reg.cli_commands.extend(cmds)
    _collect_jobs_and_kinds(pm, reg, tag)
    reg.nav_items.sort(key=lambda i: i.order)
    reg.panels.sort(key=lambda i: i.order)
    reg.widgets.sort(key=lambda i: i.order)
    reg._plugin_module = plugin_module  # type: ignore[attr-defined]
    return reg


def _collect_jobs_and_kinds(pm, reg: Registry, tag) -> None:
    """Tasks, periodic tasks and notification kinds: one name each, district-wide."""
    for plugin_name, items in call_each(pm, "wangge_tasks"):
        for task in tag(items, plugin_name):
            if task.name in reg.tasks:
                raise PluginError(f"Plugin {plugin_name!r} declares task {task.name!r}, declared already")
            reg.tasks[task.name] = task
    seen = set()
    for plugin_name, items in call_each(pm, "wangge_periodic_tasks"):
        for task in tag(items, plugin_name):
            if task.name in seen:
                raise PluginError(f"Plugin {plugin_name!r} declares periodic task {task.name!r} twice")
            seen.add(task.name)
            reg.periodic.append(task)
    for plugin_name, items in call_each(pm, "wangge_notification_kinds"):
        for kind in tag(items, plugin_name):
            if kind.name in reg.notification_kinds:
                raise PluginError(f"Plugin {plugin_name!r} declares notification kind {kind.name!r}, declared already")
            reg.notification_kinds[kind.name] = kind


def register_blueprints(app, pm, reg: Registry) -> None:
    """Register every plugin's blueprints, remembering the module of each.

    Gating by module switch happens in one app-level before_request hook
    (core/__init__.py) that looks the blueprint up here, so blueprints are
    never mutated and can be registered in many apps (tests).
    """
    plugin_module = reg._plugin_module  # type: ignore[attr-defined]
    for plugin_name, blueprints in call_each(pm, "wangge_blueprints"):
        module = plugin_module[plugin_name]
        for bp in blueprints:
            app.register_blueprint(bp)
            reg.blueprint_module[bp.name] = module


def call_for_community(app, hook_name: str, community_id: int | None, **kwargs):
    """Call a hook on the plugins whose module is on for `community_id` only.

    Cross-module requests go through here (for example a visit finding handed
    to the module that handles problems), so a module switched off for a
    community never receives its work.
    """
    state = app.extensions["wangge"]
    plugin_module = state.registry._plugin_module
    off = [
        p
        for p in state.pm.get_plugins()
        if not is_enabled(plugin_module.get(state.pm.get_name(p), CORE_MODULE), community_id)
    ]
    caller = state.pm.subset_hook_caller(hook_name, remove_plugins=off)
    return caller(**kwargs)


def service_records(member_ids, start, end) -> list[ServiceRecord]:
    """Every module's service records of these members between two district
    dates (inclusive), leaving out records of communities where the module
    that wrote them is off."""
    state = current_app.extensions["wangge"]
    out: list[ServiceRecord] = []
    for _plugin, records in call_each(state.pm, "wangge_service_records",
                                      member_ids=list(member_ids), start=start, end=end):
        out.extend(r for r in records if is_enabled(r.source, r.community_id))
    out.sort(key=lambda r: (r.date, r.source, r.key))
    return out
