"""Per-community module switches, with a district default.

A module is on for a community when its community row says so, else when
the district default row says so, else when the module declares itself on
by default. Turning a module on turns on what it requires; turning off what
another enabled module requires is refused, naming that module. Nothing is
deleted by switching off.
"""

from __future__ import annotations

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy import or_, select
from werkzeug.exceptions import NotFound

from .extensions import db
from .models import ModuleSetting

# The core's own module (never switched off); core.plugins re-exports the name.
CORE_MODULE = "core"


class ModuleOff(NotFound):
    """A page or object of a module in a community where the module is off:
    answered with a 404 page that says so, in the user's language."""

    def __init__(self, module_title, community_name):
        super().__init__()
        self.module_title = module_title
        self.community_name = community_name

    @classmethod
    def for_node(cls, module: str, node) -> ModuleOff:
        from flask_babel import lazy_gettext as _l

        mod = registry().modules.get(module)
        title = mod.title if mod is not None else module
        if node is None or node.level == "district":
            return cls(title, _l("the district"))
        community = node if node.level == "community" else db.session.get(type(node), node.community_id)
        return cls(title, community.name if community is not None else "")


class ModuleSwitchError(ValueError):
    """A switch the rules refuse; str() is the user's message."""


def registry():
    return current_app.extensions["wangge"].registry


def enabled_modules(community_id: int | None) -> frozenset[str]:
    """The names of the modules on for a community (None: the district default)."""
    cache = g.setdefault("wangge_enabled", {})
    if community_id in cache:
        return cache[community_id]
    reg = registry()
    state = {name: m.default_enabled or not m.switchable for name, m in reg.modules.items()}
    rows = db.session.execute(
        select(ModuleSetting.community_id, ModuleSetting.module, ModuleSetting.enabled).where(
            or_(ModuleSetting.community_id.is_(None), ModuleSetting.community_id == community_id)
        )
    ).all()
    # District defaults first, the community's own rows override them.
    for _cid, module, enabled in sorted(rows, key=lambda r: r[0] is not None):
        if module in state and reg.modules[module].switchable:
            state[module] = enabled
    result = frozenset(n for n, on in state.items() if on)
    cache[community_id] = result
    return result


def is_enabled(module: str, community_id: int | None) -> bool:
    return module == CORE_MODULE or module in enabled_modules(community_id)


def _dependants(reg, name: str) -> set[str]:
    return {m.name for m in reg.modules.values() if name in m.requires}


def _requirements(reg, name: str, seen=None) -> set[str]:
    seen = set() if seen is None else seen
    for req in reg.modules[name].requires:
        if req not in seen:
            seen.add(req)
            _requirements(reg, req, seen)
    return seen


def set_enabled(community_id: int | None, name: str, on: bool, user_id: int | None) -> list[str]:
    """Switch a module; return the names of every module whose state changed."""
    reg = registry()
    module = reg.modules.get(name)
    if module is None or not module.switchable:
        raise ModuleSwitchError(_("There is no module %(name)s to switch.", name=name))
    current = set(enabled_modules(community_id))
    if on:
        targets = [name, *sorted(_requirements(reg, name))]
    else:
        blocking = sorted(
            str(reg.modules[d].title) for d in _dependants(reg, name) if d in current
        )
        if blocking:
            raise ModuleSwitchError(
                _(
                    "%(module)s cannot be switched off: %(others)s needs it. Switch those off first.",
                    module=str(module.title),
                    others=", ".join(blocking),
                )
            )
        targets = [name]
    changed = []
    for target in targets:
        row = db.session.scalar(
            select(ModuleSetting).where(
                ModuleSetting.module == target,
                ModuleSetting.community_id.is_(None)
                if community_id is None
                else ModuleSetting.community_id == community_id,
            )
        )
        if (target in current) != on:
            changed.append(target)
        if row is None:
            db.session.add(
                ModuleSetting(
                    community_id=community_id, module=target, enabled=on, updated_by_id=user_id
                )
            )
        else:
            row.enabled = on
            row.updated_by_id = user_id
    g.pop("wangge_enabled", None)
    g.pop("wangge_switch_rows", None)
    return changed
