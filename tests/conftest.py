"""The fixtures come from the testing kit (core/testing/plugin.py), loaded as the
installed package's pytest plugin; the names below stay for tests that import them."""

from __future__ import annotations

from core.testing import BACKEND, empty_all_tables, make_app, served  # noqa: F401
from core.testing.plugin import new_database, server_url  # noqa: F401
