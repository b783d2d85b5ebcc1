"""Pages of the grid tree, organisations and staffing, one file per area.
Thin: parse, check, call a service (services.py, importer.py), render."""

from . import edit, orgs, staffing, transfer, tree  # noqa: F401 - each registers its routes on bp
from .common import bp

__all__ = ["bp"]
