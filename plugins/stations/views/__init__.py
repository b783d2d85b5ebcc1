"""Pages of the stations module: one blueprint, one file per area. Views are
thin: parse, check access (core.access), call a service, render."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import gettext as _

from core import access
from core.security import can

from ..models import Station

bp = Blueprint("stations", __name__, url_prefix="/stations", template_folder="../templates",
               static_folder="../static", static_url_path="/static")


def station_for(station_id, action: str | None = None, options=()) -> Station:
    """The station if the user may see it; for `action` (organise, manage)
    also if the user holds that action on the station's own grid — a member's
    or a department's reach shows a station, it never runs it."""
    station = access.get_or_404(Station, station_id, action, options=options)
    if action and not can(action, station.node):
        abort(404)
    return station


def gated(obj, station: Station, action: str) -> None:
    if not can(action, station.node):
        abort(404)


@bp.app_template_filter("stations_kind")
def _kind_label(kind):
    from ..services.stations import kind_labels

    return kind_labels().get(kind, kind)


@bp.app_template_filter("stations_mode")
def _mode_label(mode):
    return {"service": _("Grid service point"), "opinion": _("Public-opinion post"),
            "emergency": _("Emergency command post")}.get(mode, mode)


from . import medicine, member, modes, reports, rota, stations  # noqa: E402,F401
