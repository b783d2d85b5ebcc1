"""Start-up: a plugin that cannot load stops the app with a message naming it."""

from __future__ import annotations

import importlib.metadata

import pytest

from core.plugins import ENTRY_POINT_GROUP, PluginError
from tests.core.fakes import module_plugin, plugin


def test_a_misspelt_hook_fails_start_up_naming_the_plugin(app_factory):
    typo = module_plugin("typo", wangge_nav_item=lambda: [])
    with pytest.raises(PluginError, match=r"Plugin 'typo' implements an unknown hook.*wangge_nav_item"):
        app_factory(extra_plugins=[typo])


def test_a_plugin_raising_in_wangge_module_fails_start_up_naming_it(app_factory):
    def broken():
        raise RuntimeError("config file missing")

    with pytest.raises(PluginError, match=r"Plugin 'crashy' failed in wangge_module: config file missing"):
        app_factory(extra_plugins=[plugin("crashy", wangge_module=broken)])


def test_a_plugin_raising_in_another_declaration_hook_fails_start_up_naming_it(app_factory):
    def broken():
        raise ValueError("bad panel")

    with pytest.raises(PluginError, match=r"Plugin 'panelled' failed in wangge_node_panels: bad panel"):
        app_factory(extra_plugins=[module_plugin("panelled", wangge_node_panels=broken)])


def test_a_plugin_without_a_module_fails_start_up_naming_it(app_factory):
    with pytest.raises(PluginError, match=r"Plugin 'anonymous' declares no Module"):
        app_factory(extra_plugins=[plugin("anonymous", wangge_nav_items=lambda: [])])


def test_an_entry_point_that_cannot_load_fails_start_up_naming_it(app_factory, monkeypatch):
    real = importlib.metadata.entry_points

    def entry_points(**kw):
        found = list(real(**kw))
        if kw.get("group") == ENTRY_POINT_GROUP:
            found.append(importlib.metadata.EntryPoint("ghost", "wangge_ghost_not_installed", ENTRY_POINT_GROUP))
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    with pytest.raises(PluginError, match=r"Plugin 'ghost' \(wangge_ghost_not_installed\) failed to load"):
        app_factory(LOAD_ENTRY_POINTS=True)


def test_each_app_has_its_own_plugin_manager(app_factory):
    with_fake = app_factory(extra_plugins=[module_plugin("lonely")])
    without = app_factory()
    assert "lonely" in with_fake.extensions["wangge"].registry.modules
    assert "lonely" not in without.extensions["wangge"].registry.modules
    assert with_fake.extensions["wangge"].pm is not without.extensions["wangge"].pm


def _with_entry_points(monkeypatch, *extra):
    real = importlib.metadata.entry_points

    def entry_points(**kw):
        found = list(real(**kw))
        if kw.get("group") == ENTRY_POINT_GROUP:
            found += [importlib.metadata.EntryPoint(n, v, ENTRY_POINT_GROUP) for n, v in extra]
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def test_two_entry_points_with_one_name_fail_start_up_naming_it(app_factory, monkeypatch):
    _with_entry_points(monkeypatch, ("twin", "tests.core.fakes"), ("twin", "tests.core.conftest"))
    with pytest.raises(PluginError, match=r"Plugin 'twin' \(tests.core.conftest\): the entry-point name is taken"):
        app_factory(LOAD_ENTRY_POINTS=True)


def test_an_entry_point_named_like_a_built_in_fails_start_up(app_factory, monkeypatch):
    _with_entry_points(monkeypatch, ("core", "tests.core.fakes"))
    with pytest.raises(PluginError, match=r"Plugin 'core' .*taken by the core"):
        app_factory(LOAD_ENTRY_POINTS=True)


def test_a_hook_wrapper_on_a_declaration_hook_fails_start_up_naming_the_plugin(app_factory):
    from core.hookspecs import hookimpl

    wrapping = module_plugin("wrapping")

    @hookimpl(wrapper=True)
    def wangge_nav_items():
        items = yield
        return items

    wrapping.wangge_nav_items = wangge_nav_items
    with pytest.raises(PluginError, match=r"Plugin 'wrapping': wangge_nav_items is a declaration hook"):
        app_factory(extra_plugins=[wrapping])


def test_a_built_in_plugin_that_fails_to_import_stops_start_up_naming_it(app_factory, monkeypatch):
    import core.plugins

    monkeypatch.setattr(core.plugins, "builtin_plugin_names", lambda: ["plugins.no_such_module"])
    with pytest.raises(PluginError, match=r"Plugin 'plugins.no_such_module' failed to import: No module named"):
        app_factory(PLUGINS=None)


def test_the_core_has_no_import_cycle_and_no_hidden_function_level_imports():
    """Every import inside core is at the top of its module, except the ones
    listed here with the reason (checked by reading the source)."""
    import ast
    from pathlib import Path

    import core

    allowed = {("core/plugins.py", "plugins")}  # the built-in plugins package, found at start-up
    root = Path(core.__file__).resolve().parent
    inner = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root.parent).as_posix()
        if "/migrations/" in rel or rel.startswith("core/testing/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = set(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and node not in top:
                name = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if (getattr(node, "level", 0) or (name or "").startswith(("core", "plugins"))) and (rel, name) not in allowed:
                    inner.append(f"{rel}:{node.lineno} {name}")
    assert inner == []
