"""Every hook is documented and tested.

The hooks are read from core/hookspecs.py at run time, so a hook added later
makes this fail until it has:

- a docstring in core/hookspecs.py;
- a section headed ``### wangge_<name>`` in docs/plugins.md;
- a test that CALLS it: a fake plugin (tests/core/fakes.py ``plugin()`` or
  ``module_plugin()``) implements the hook, the core calls that
  implementation, and the test passes (its assertions on the outcome hold).
  A hook merely mentioned somewhere does not count.

The fakes record every call; tests/core/conftest.py keeps the hooks called
in passing tests. When the hook tests did not run in this session (this test
alone, or another xdist worker), they are run here in a subprocess.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

from core import hookspecs
from tests.core import fakes

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


def _fake_using_test_files() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(
        str(p.relative_to(ROOT)) for p in here.glob("test_*.py")
        if p.name != Path(__file__).name and "fakes import" in p.read_text(encoding="utf-8")
    )


def test_every_hook_is_called_by_a_passing_test(tmp_path):
    called = set(fakes.CALLED_BY_PASSING_TESTS)
    missing = set(hook_names()) - called
    if missing:
        out = tmp_path / "hook-calls.txt"
        env = dict(os.environ, WANGGE_HOOK_CALLS_FILE=str(out))
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
             *_fake_using_test_files()],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
        )
        if out.exists():
            called |= set(out.read_text(encoding="utf-8").split())
    untested = sorted(set(hook_names()) - called)
    assert untested == [], (
        "hooks that no passing test calls on a fake plugin (tests/core/fakes.py plugin()/module_plugin()"
        " implementing the hook, and an assertion on what the core did with the answer)"
    )
