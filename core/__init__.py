"""Wangge core. The app factory is core.app.create_app (re-exported here).

Nothing inside core imports from this package's namespace (each module
imports the sibling it needs), so this file can import the factory at the
top without a cycle.
"""

from .app import WanggeState, create_app
from .modules import ModuleOff  # deprecated re-export for old plugins: import it from core.modules

__all__ = ["ModuleOff", "WanggeState", "create_app"]
