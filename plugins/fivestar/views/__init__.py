"""The five-star evaluation's pages: one blueprint, one file per area."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort
from flask_login import current_user

from core import access
from core.security import can

bp = Blueprint("fivestar", __name__, url_prefix="/fivestar", template_folder="../templates",
               static_folder="../static")


def parse_month(text: str | None) -> dt.date | None:
    try:
        year, month = (text or "").strip().split("-")[:2]
        return dt.date(int(year), int(month), 1)
    except (ValueError, TypeError):
        return None


def member_gate(member_id: int, action: str = "fivestar.view"):
    """A member's page: the member themselves, or staff whose scope holds the
    member's home node (404 otherwise, or when the module is off there).
    Returns (user, home node)."""
    from ..models import Member
    from ..services.records import member_home, sync_members

    if not 0 < member_id < 2**63:
        abort(404)
    sync_members([member_id])  # a member granted a moment ago has a page at once
    if current_user.is_authenticated and current_user.id == member_id and can("fivestar.own"):
        home = member_home(member_id)
        if home is None:
            abort(404)
        access.require_node(home, "fivestar.own", "fivestar")
        return current_user._get_current_object(), home
    member = access.get_or_404(Member, member_id, action)
    return member.user, member_home(member_id)


@bp.app_template_filter("pts")
def pts(value):
    from ..services.rules import fmt

    return fmt(value)


from .. import exports  # noqa: E402,F401


@bp.app_template_filter("fs_source")
def fs_source(source: str, kind: str = "") -> str:
    """A record's source and kind in words: the module's title, and for the
    manual records the kind's label (other modules' kinds are their own words)."""
    from flask import current_app

    from ..forms import KIND_LABELS

    mod = current_app.extensions["wangge"].registry.modules.get(source)
    title = str(mod.title) if mod is not None else (source if source != "*" else "*")
    if source == "fivestar":
        from flask_babel import gettext as _

        title = _("Entered by hand")
    label = str(KIND_LABELS[kind]) if source == "fivestar" and kind in KIND_LABELS else kind
    return f"{title} · {label}" if label and label != "*" else title


from . import batches, filing, main, public, ratings, records, rules, scores  # noqa: E402,F401
