"""The analysis page (研判): maintained totals, charts, hotspots."""


from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import clock
from core.extensions import db
from core.models import GridNode, Organisation
from core.security import requires
from core.web import render

from .. import queries
from .. import services as svc
from . import bp
from .common import _categories, _locale

# --- Analysis --------------------------------------------------------------------------------------------


def _month_range():
    today = clock.today()
    default_start = f"{today.year - 1}-{today.month:02d}"
    start = request.args.get("from", "")
    end = request.args.get("to", "")
    ok = lambda m: len(m) == 7 and m[4] == "-" and m[:4].isdigit() and m[5:].isdigit()  # noqa: E731
    return (start if ok(start) else default_start), (end if ok(end) else f"{today:%Y-%m}")


@bp.route("/analysis")
@requires("inquiry.analysis")
def analysis():
    start, end = _month_range()
    cids = queries.community_ids("inquiry.analysis")
    data = queries.analysis(cids, start, end)
    loc = _locale()
    cats = {c.id: svc.category_title(c, loc) for c in _categories()}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.kind.in_(("department", "property_company"))))}
    comms = dict(db.session.execute(select(GridNode.id, GridNode.name).where(GridNode.level == "community")).all())
    hot = queries.hotspots(community_ids=cids)
    buildings = {}
    if hot:
        bids = {h[0] for h in hot}
        for b in db.session.scalars(select(GridNode).where(GridNode.id.in_(bids)).options(selectinload(GridNode.parent))):
            buildings[b.id] = f"{b.parent.name if b.parent else ''} {b.name}"
    t = data["totals"]
    summary = {
        "received": t["received"], "assigned": t["assigned"], "closed": t["closed"],
        "on_time": queries.rate(t["closed_on_time"], t["closed"]),
        "satisfaction": queries.rate(t["satisfied"], t["visits"]),
        "avg_days": round(t["working_days"] / t["closed"], 1) if t["closed"] else None,
        "returns": t["returns"], "reopens": t["reopens"], "supervisions": t["supervisions"],
    }
    months = sorted(data["by_month"])
    cat_rows = sorted(((cats.get(k, _("Not categorised")), v) for k, v in data["by_category"].items()), key=lambda r: -r[1]["received"])
    unit_rows = sorted(((orgs[k], v) for k, v in data["by_unit"].items() if k in orgs), key=lambda r: (-r[1]["assigned"], r[0].name))
    comm_rows = sorted(((comms.get(k, _("District level")), v) for k, v in data["by_community"].items()), key=lambda r: -r[1]["received"])
    charts = _charts(months, data["by_month"], cat_rows, unit_rows, comm_rows)
    return render("inquiry/analysis.html", start=start, end=end, summary=summary, months=months, by_month=data["by_month"],
                  cat_rows=cat_rows, unit_rows=unit_rows, comm_rows=comm_rows, charts=charts, rate=queries.rate,
                  hot=[(buildings.get(b, b), cats.get(c, ""), n) for b, c, n in hot])


def _charts(months, by_month, cat_rows, unit_rows, comm_rows):
    received, closed = _("received"), _("closed out")
    grid = {"left": 40, "right": 16, "top": 36, "bottom": 60, "containLabel": True}
    top_units = unit_rows[:15]
    return {
        "month": {
            "tooltip": {"trigger": "axis"}, "legend": {"data": [received, closed]}, "grid": grid,
            "xAxis": {"type": "category", "data": months}, "yAxis": {"type": "value"},
            "series": [{"name": received, "type": "bar", "data": [by_month[m]["received"] for m in months]},
                       {"name": closed, "type": "line", "data": [by_month[m]["closed"] for m in months]}],
            "color": ["#b3261e", "#1e6b35"],
        },
        "category": {
            "tooltip": {"trigger": "item"},
            "series": [{"type": "pie", "radius": ["35%", "65%"], "data": [{"name": n, "value": v["received"]} for n, v in cat_rows]}],
        },
        "unit": {
            "tooltip": {"trigger": "axis"}, "legend": {"data": [_("issued to units"), closed]},
            "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
            "xAxis": {"type": "value"}, "yAxis": {"type": "category", "data": [o.short_name or o.name for o, _v in top_units][::-1]},
            "series": [{"name": _("issued to units"), "type": "bar", "data": [v["assigned"] for _o, v in top_units][::-1]},
                       {"name": closed, "type": "bar", "data": [v["closed"] for _o, v in top_units][::-1]}],
            "color": ["#b3261e", "#1e6b35"],
        },
        "community": {
            "tooltip": {"trigger": "axis"}, "grid": grid,
            "xAxis": {"type": "category", "data": [n for n, _v in comm_rows], "axisLabel": {"rotate": 40}},
            "yAxis": {"type": "value"},
            "series": [{"name": received, "type": "bar", "data": [v["received"] for _n, v in comm_rows]}],
            "color": ["#b3261e"],
        },
    }
