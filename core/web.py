"""Helpers every view uses: render a page or its fragment, paginate in SQL,
the community in scope, and the error pages."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import abort, current_app, g, render_template, request, session
from flask_babel import format_datetime
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import func, select

from .extensions import db
from .models import GridNode
from .security import grants


def is_fragment_request() -> bool:
    """An HTMX request that wants a fragment (boosted navigation wants the page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = "content", **context):
    """Render the whole page, or only `block` of it for an HTMX request.

    One template serves both, so every fragment URL also works as a full
    page (reload, bookmarks, no-JS browsers).
    """
    if block and is_fragment_request():
        return render_block(template, block, **context)
    return render_template(template, **context)


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int
    # True when the total was counted only up to `cap` rows ("more than N").
    capped: bool = False
    cap: int = 0

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(
    stmt,
    per_page: int | None = None,
    scalars: bool = True,
    count: bool = True,
    *,
    options=(),
    total: int | None = None,
    ahead: int | None = None,
    count_column=None,
) -> Page:
    """Paginate a select in SQL; the page number comes from ?page=.

    The total is, in order: `total` when the caller knows it (a maintained
    count); with `ahead`, a count of at most `ahead` rows past this page's first
    row, so a list over a whole district never counts all of it (the pager then
    says "more than N", and "next" works on every page); else an exact count
    (or none with count=False). `options` (loader options) apply to the rows
    only; `count_column` (an indexed column, e.g. the id) keeps the capped
    count narrow.
    """
    if per_page is None:
        per_page = current_app.config["PER_PAGE"]
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    offset = (page - 1) * per_page
    capped, cap, n = False, 0, 0
    if total is not None:
        n = total
    elif ahead is not None:
        inner = stmt if count_column is None else stmt.with_only_columns(count_column)
        window = offset + ahead
        n = db.session.scalar(
            select(func.count()).select_from(inner.order_by(None).limit(window + 1).subquery())
        ) or 0
        if n > window:
            capped, cap = True, window
    elif count:
        n = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    q = stmt.options(*options).limit(per_page).offset(offset)
    items = list(db.session.scalars(q)) if scalars else list(db.session.execute(q))
    return Page(items=items, page=page, per_page=per_page, total=n, capped=capped, cap=cap)


def community_of(node: GridNode | None) -> int | None:
    if node is None:
        return None
    if node.level == "community":
        return node.id
    return node.community_id


def current_community_id() -> int | None:
    """The community in scope for this request.

    From, in order: the object in the URL (any anchored model's URL argument,
    set by the app's before_request from core.access's anchors: a problem's
    community for /inquiry/p/<problem_id>), the node in the URL (`node_id`), a
    `community` query argument, the community chosen in the header (session),
    the user's only community. None means district-wide.
    """
    if "wangge_community" in g:
        return g.wangge_community
    cid = None
    node_id = (request.view_args or {}).get("node_id")
    if node_id is not None:
        node = db.session.get(GridNode, node_id)
        cid = community_of(node)
        if node is not None and node.level == "district":
            cid = None
    elif request.args.get("community", "").isdigit():
        cid = int(request.args["community"])
    elif session.get("community_id"):
        cid = session["community_id"]
    elif current_user.is_authenticated:
        cid = home_community_id()
    g.wangge_community = cid
    return cid


def home_community_id() -> int | None:
    ids = set()
    for _role, path in grants():
        parts = path.strip("/").split("/")
        if len(parts) < 2:
            return None
        ids.add(int(parts[1]))
    return ids.pop() if len(ids) == 1 else None


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def client_ip() -> str | None:
    # Behind declared proxies ProxyFix has put the client's address here;
    # a raw X-Forwarded-For header is whatever the client chose to send.
    return request.remote_addr or None


def localtime(value, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A naive UTC datetime from the database, shown in the district's time zone
    (the template filter ``localtime``)."""
    return format_datetime(value, fmt) if value else ""
