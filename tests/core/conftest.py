"""Helpers shared by the core's tests."""

from __future__ import annotations

import os

import pytest

from core.extensions import db
from core.models import RoleGrant
from core.testing import choose_community, nav_modules, row_counts, sign_in, switch_module  # noqa: F401
from core.testing.factories import make_user


@pytest.fixture
def two_community_admin(tree):
    """A community admin of both communities of the test tree."""
    user = make_user("ca-both", "community_admin", tree.communities[0])
    db.session.add(RoleGrant(user_id=user.id, role="community_admin", node_id=tree.communities[1].id))
    db.session.commit()
    return user


@pytest.fixture
def fake_app(app_factory):
    """make(*plugins, **config): an app with these extra plugins and no built-in
    module (unless config names some in PLUGINS), its context pushed.

    Build data (tests.factories.build_tree()) after calling it, inside its context.
    """
    ctxs = []

    def make(*plugins, **config):
        # The fakes alone (plus entry-point plugins such as the example): the
        # built-in modules' own answers to the same hooks would blur the tests.
        config.setdefault("PLUGINS", [])
        app = app_factory(extra_plugins=list(plugins), **config)
        ctx = app.app_context()
        ctx.push()
        ctxs.append(ctx)
        return app

    yield make
    for ctx in reversed(ctxs):
        ctx.pop()


# --- Which hooks the core called on fake plugins, in tests that passed -----------------


def pytest_runtest_setup(item):
    from tests.core import fakes

    fakes.CALLS.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.passed:
        from tests.core import fakes

        fakes.CALLED_BY_PASSING_TESTS.update(fakes.CALLS)
        out = os.environ.get("WANGGE_HOOK_CALLS_FILE")
        if out and fakes.CALLS:
            with open(out, "a", encoding="utf-8") as f:
                f.write("\n".join(sorted(set(fakes.CALLS))) + "\n")


def pytest_collection_modifyitems(config, items):
    # The meta-test reads what the hook tests recorded: run it after them.
    last = [i for i in items if i.nodeid.endswith("test_hooks_meta.py::test_every_hook_is_called_by_a_passing_test")]
    items[:] = [i for i in items if i not in last] + last
