"""Pages of Square Inquiry, one file per area. Thin: parse, check access,
call a service, render. The Open311 API is in ../open311.py."""

from __future__ import annotations

from flask import Blueprint, url_for

bp = Blueprint("inquiry", __name__, url_prefix="/inquiry", template_folder="../templates",
               static_folder="../static", static_url_path="/static")

@bp.context_processor
def _fast_gettext():
    """Look the catalog up once per request instead of once per string: the
    module's tables label every cell for phones, which is hundreds of strings."""
    from flask_babel import get_translations
    from jinja2.ext import _make_new_gettext

    return {
        "gettext": _make_new_gettext(get_translations().gettext),
        # Row links without a url_for per row.
        "problem_href": url_for("inquiry.problem", problem_id=0)[:-1],
    }



from . import analysis, intake, panels, problem, problems, public, settings, sheets, triage, unit  # noqa: E402, F401
