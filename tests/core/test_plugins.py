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
        app_factory()


def test_each_app_has_its_own_plugin_manager(app_factory):
    with_fake = app_factory(extra_plugins=[module_plugin("lonely")])
    without = app_factory()
    assert "lonely" in with_fake.extensions["wangge"].registry.modules
    assert "lonely" not in without.extensions["wangge"].registry.modules
    assert with_fake.extensions["wangge"].pm is not without.extensions["wangge"].pm
