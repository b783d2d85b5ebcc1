"""Every hook is documented and tested.

The hooks are read from core/hookspecs.py at run time, so a hook added later
makes this fail until it has:

- a docstring in core/hookspecs.py;
- a section headed ``### wangge_<name>`` in docs/plugins.md;
- a test: its name appears in at least one test module (``tests/**/test_*.py``)
  other than this one — for the core's hooks, in tests/core/test_hooks.py,
  one fake plugin each.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"


def hook_names() -> list[str]:
    marker = f"{hookspecs.PROJECT}_spec"
    return sorted(
        name
        for name, fn in vars(hookspecs).items()
        if inspect.isfunction(fn) and hasattr(fn, marker)
    )


def test_the_spec_is_read():
    names = hook_names()
    assert {"wangge_module", "wangge_blueprints", "wangge_report_problem"} <= set(names)
    assert all(n.startswith("wangge_") for n in names)


def test_every_hook_has_a_docstring():
    assert [n for n in hook_names() if not (getattr(hookspecs, n).__doc__ or "").strip()] == []


def test_every_hook_has_a_section_in_docs_plugins_md():
    text = DOCS.read_text(encoding="utf-8")
    sections = set(re.findall(r"^### (wangge_\w+)\s*$", text, flags=re.M))
    assert sorted(set(hook_names()) - sections) == [], "hooks without a '### <name>' section in docs/plugins.md"
    assert sorted(sections - set(hook_names())) == [], "docs/plugins.md documents hooks that do not exist"


def test_every_hook_has_a_test():
    me = Path(__file__).resolve()
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py") if p.resolve() != me]
    untested = [n for n in hook_names() if not any(re.search(rf"\b{n}\b", s) for s in sources)]
    assert untested == [], "hooks that no test mentions"
