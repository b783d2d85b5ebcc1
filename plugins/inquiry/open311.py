"""Open311 GeoReport v2 under /open311/v2/.

https://wiki.open311.org/GeoReport_v2 — discovery, services, service
definitions, service requests (GET with filters, GET one as a list, POST with
an api_key the district admin issued), tokens; .json and .xml; errors as a
list of code + description with the matching HTTP status.

Its views are public (machines, not people, call them) and exempt from
CSRF; writing needs an api_key. Anonymous readers see only the publicly
visible requests (not rejected, duplicate or filed ones) of communities where
the module is on (core.access.module_condition), newest first, a page at a
time (``page_size``, and ``before`` = the last service_request_id seen; the
``Link`` header names the next page).
"""

from __future__ import annotations

import datetime as dt
import uuid
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, json, request, url_for
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from core import access, clock
from core.extensions import csrf, db, limiter
from core.models import GridNode, utcnow
from core.security import public

from . import services as svc
from .models import OPEN_STATES, Category, Problem

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

FORMATS = ("json", "xml")
MAX_SPAN = dt.timedelta(days=90)
MAX_RESULTS = 1000  # ids in one request
PAGE_SIZE = 100
MAX_PAGE_SIZE = 200
# States a member of the public may see; the others are internal decisions.
PUBLIC_STATES = ("new", "returned", "triaged", "issued", "claimed", "reported", "closed")


def _visible():
    """Requests the public may see: a public state, the module on in their community."""
    return and_(Problem.state.in_(PUBLIC_STATES), access.module_condition("inquiry", Problem.community_id))


class ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _xml_value(parent, key, value):
    el = ET.SubElement(parent, key)
    if isinstance(value, list):
        child = key[:-1] if key.endswith("s") else "item"
        for v in value:
            if isinstance(v, dict):
                sub = ET.SubElement(el, child)
                for k2, v2 in v.items():
                    _xml_value(sub, k2, v2)
            else:
                ET.SubElement(el, child).text = "" if v is None else str(v)
    elif isinstance(value, dict):
        for k2, v2 in value.items():
            _xml_value(el, k2, v2)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    else:
        el.text = "" if value is None else str(value)


def _respond(fmt: str, data, root: str, item: str | None = None, status: int = 200) -> Response:
    if fmt == "xml":
        top = ET.Element(root)
        if item is None:
            for k, v in data.items():
                _xml_value(top, k, v)
        else:
            for row in data:
                el = ET.SubElement(top, item)
                for k, v in row.items():
                    _xml_value(el, k, v)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
        return Response(body, status=status, mimetype="text/xml")
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")


def _errors(fmt: str, status: int, description: str) -> Response:
    return _respond(fmt if fmt in FORMATS else "json", [{"code": status, "description": description}], "errors", "error", status)


def api(view):
    """Format check and error rendering for every endpoint."""
    import functools

    @functools.wraps(view)
    def wrapper(*args, fmt, **kwargs):
        if fmt not in FORMATS:
            return _errors("json", 400, f"Unsupported format '{fmt}': use .json or .xml")
        try:
            return view(*args, fmt=fmt, **kwargs)
        except ApiError as exc:
            db.session.rollback()
            return _errors(fmt, exc.status, exc.description)

    return public(wrapper)


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return clock.local(moment).isoformat(timespec="seconds")


def _parse_w3c(value: str, name: str) -> dt.datetime:
    v = value.strip().replace(" ", "+")
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(v)
    except ValueError:
        raise ApiError(400, f"{name} must be a W3C datetime such as 2025-10-01T00:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.zone())
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _services():
    return [c for c in svc.ensure_categories() if c.active]


def _service(c: Category) -> dict:
    return {
        "service_code": c.code,
        "service_name": c.name,
        "description": f"{c.name_en}; {c.deadline_days} working days",
        "metadata": False,
        "type": "realtime",
        "keywords": c.name_en.lower(),
        "group": "property" if c.property_management else "public",
    }


def _request(p: Problem) -> dict:
    return {
        "service_request_id": p.ref,
        "status": "open" if p.state in OPEN_STATES else "closed",
        "status_notes": str(svc.STATE_TITLES[p.state]),
        "service_name": p.category.name if p.category else "",
        "service_code": p.category.code if p.category else "",
        "description": p.description,
        "agency_responsible": p.unit.name if p.unit else "",
        "service_notice": "",
        "requested_datetime": _iso(p.created_at),
        "updated_datetime": _iso(p.updated_at),
        "expected_datetime": _iso(p.deadline),
        "address": p.address or p.node.name,
        "address_id": p.node.code,
        "zipcode": "241100",
        "lat": p.lat,
        "long": p.lon,
        "media_url": "",
    }


@bp.route("/discovery.<fmt>")
@api
def discovery(fmt):
    base = url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0]
    data = {
        "changeset": "2025-10-01T00:00:00+08:00",
        "contact": "湾沚区广场问政平台",
        "key_service": "api_key: issued by the district administrator",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": "2025-10-01T00:00:00+08:00",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }
    return _respond(fmt, data, "discovery")


@bp.route("/services.<fmt>")
@api
def services(fmt):
    return _respond(fmt, [_service(c) for c in _services()], "services", "service")


@bp.route("/services/<code>.<fmt>")
@api
def service_definition(code, fmt):
    if not any(c.code == code for c in _services()):
        raise ApiError(404, f"Unknown service_code '{code}'")
    return _respond(fmt, {"service_code": code, "attributes": []}, "service_definition")


def _eager(stmt):
    return stmt.options(joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node))


@bp.route("/requests.<fmt>", methods=["GET"])
@limiter.limit(lambda: current_app.config.get("INQUIRY_OPEN311_RATE_LIMIT", "120 per minute"))
@api
def requests_list(fmt):
    a = request.args
    stmt = select(Problem).where(_visible())
    if a.get("service_request_id"):
        refs = [r.strip().upper() for r in a["service_request_id"].split(",") if r.strip()][:MAX_RESULTS]
        stmt = stmt.where(Problem.ref.in_(refs))
    else:
        now = utcnow()
        start = _parse_w3c(a["start_date"], "start_date") if a.get("start_date") else None
        end = _parse_w3c(a["end_date"], "end_date") if a.get("end_date") else None
        if start and end and end < start:
            raise ApiError(400, "end_date is before start_date")
        if start and end and end - start > MAX_SPAN:
            raise ApiError(400, "start_date and end_date may not span more than 90 days")
        if start is None and end is None:
            end, start = now, now - MAX_SPAN
        elif start is None:
            start = end - MAX_SPAN
        elif end is None:
            end = start + MAX_SPAN
        stmt = stmt.where(Problem.created_at >= start, Problem.created_at <= end)
        if a.get("service_code"):
            codes = [c.strip() for c in a["service_code"].split(",") if c.strip()]
            known = {c.code: c.id for c in _services()}
            unknown = [c for c in codes if c not in known]
            if unknown:
                raise ApiError(400, f"Unknown service_code '{unknown[0]}'")
            stmt = stmt.where(Problem.category_id.in_([known[c] for c in codes]))
        if a.get("status"):
            wanted = {s.strip() for s in a["status"].split(",") if s.strip()}
            if not wanted <= {"open", "closed"}:
                raise ApiError(400, "status must be open or closed")
            if wanted == {"open"}:
                stmt = stmt.where(Problem.state.in_(OPEN_STATES))
            elif wanted == {"closed"}:
                stmt = stmt.where(Problem.state.notin_(OPEN_STATES))
    try:
        size = min(MAX_PAGE_SIZE, max(1, int(a.get("page_size") or PAGE_SIZE)))
    except ValueError:
        raise ApiError(400, "page_size must be a number") from None
    if a.get("before"):
        before = _ref_id(a["before"])
        if before is None:
            raise ApiError(400, "before must be a service_request_id")
        stmt = stmt.where(Problem.id < before)
    # Keyset paging on the primary key (ids grow with time): no OFFSET, no count.
    rows = list(db.session.scalars(_eager(stmt).order_by(Problem.id.desc()).limit(size + 1)))
    resp = _respond(fmt, [_request(p) for p in rows[:size]], "service_requests", "request")
    if len(rows) > size:
        args = {k: v for k, v in a.items() if k != "before"}
        nxt = url_for("open311.requests_list", fmt=fmt, _external=True, **args, before=rows[size - 1].ref)
        resp.headers["Link"] = f'<{nxt}>; rel="next"'
    return resp


def _ref_id(ref: str) -> int | None:
    ref = ref.strip().upper()
    if not ref.startswith("WZ") or not ref[2:].isdigit() or len(ref) > 20:
        return None
    return int(ref[2:])


@bp.route("/requests/<ref>.<fmt>", methods=["GET"])
@api
def request_one(ref, fmt):
    p = db.session.scalars(_eager(select(Problem).where(Problem.ref == ref.upper(), _visible()))).first()
    if p is None:
        raise ApiError(404, f"No service request '{ref}'")
    return _respond(fmt, [_request(p)], "service_requests", "request")


@bp.route("/tokens/<token>.<fmt>")
@api
def token(token, fmt):
    p = db.session.scalar(select(Problem).where(Problem.token == token, _visible()))
    if p is None:
        raise ApiError(404, f"No token '{token}'")
    return _respond(fmt, [{"service_request_id": p.ref, "token": token}], "service_requests", "request")


@bp.route("/requests.<fmt>", methods=["POST"])
@api
def requests_create(fmt):
    f = request.form if request.form else (request.get_json(silent=True) or {})
    key = svc.check_api_key(f.get("api_key") or request.args.get("api_key"))
    if key is None:
        raise ApiError(403, "A valid api_key is required to submit service requests")
    code = (f.get("service_code") or "").strip()
    if not code:
        raise ApiError(400, "service_code is required")
    cat = next((c for c in _services() if c.code == code), None)
    if cat is None:
        raise ApiError(400, f"Unknown service_code '{code}'")
    lat, lon = f.get("lat"), f.get("long")
    address, address_id = (f.get("address_string") or "").strip(), (f.get("address_id") or "").strip()
    if not ((lat and lon) or address or address_id):
        raise ApiError(400, "A location is required: lat and long, address_string or address_id")
    try:
        latf = float(lat) if lat else None
        lonf = float(lon) if lon else None
    except ValueError:
        raise ApiError(400, "lat and long must be numbers") from None
    if latf is not None and not (-90 <= latf <= 90 and -180 <= (lonf or 0) <= 180):
        raise ApiError(400, "lat and long are out of range")
    node = None
    if address_id:
        node = db.session.scalar(select(GridNode).where(GridNode.code == address_id))
        if node is None:
            raise ApiError(400, f"Unknown address_id '{address_id}'")
    if node is None:
        node = db.session.scalar(select(GridNode).where(or_(GridNode.level == "district", GridNode.parent_id.is_(None))).order_by(GridNode.id))
    if node is None or not access.module_on_at("inquiry", node):
        raise ApiError(400, "Square Inquiry does not take requests at this location")
    description = (f.get("description") or "").strip()
    if not description:
        raise ApiError(400, "description is required")
    name = " ".join(x for x in [(f.get("last_name") or "").strip(), (f.get("first_name") or "").strip()] if x)
    tok = uuid.uuid4().hex
    try:
        p = svc.create_problem(node=node, description=description, channel="open311", category=cat, address=address,
                               reporter_name=name, reporter_phone=(f.get("phone") or "").strip()[:20],
                               source_ref=f"open311:{key.name}"[:60], lat=latf, lon=lonf, token=tok)
    except svc.InquiryError as exc:
        raise ApiError(400, str(exc)) from None
    db.session.commit()
    return _respond(fmt, [{"service_request_id": p.ref, "token": tok, "service_notice": "",
                           "account_id": None}], "service_requests", "request", status=201)
