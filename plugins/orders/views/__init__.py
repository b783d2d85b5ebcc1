"""The orders blueprint; one file per area. Views are thin: parse, gate, call a service, render."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/orders", template_folder="../templates",
               static_folder="../static")

from .. import exports  # noqa: E402,F401
from . import board, members, orders, parts, posts, projects  # noqa: E402,F401
