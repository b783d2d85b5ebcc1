"""Stations: creating and editing them, the grids they serve, the contact
departments' claims, and the Excel import of stations."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select, update

from core import clock
from core.audit import record
from core.excel import RowError
from core.extensions import db
from core.models import GridNode, Organisation, subtree

from ..models import KINDS, Claim, ServedGrid, Station
from . import StationsError


def community_id_of(node: GridNode) -> int | None:
    if node.level == "district":
        return None
    return node.id if node.level == "community" else node.community_id


def _check_fields(name: str, weight: float | None, cutoff: int | None, kind: str) -> None:
    if not (name or "").strip():
        raise StationsError(_("Give the station a name."), "name")
    if kind not in KINDS:
        raise StationsError(_("Choose a kind of room."), "kind")
    if weight is not None and not (0.1 <= weight <= 5):
        raise StationsError(_("The weight must lie between 0.1 and 5."), "weight")
    if cutoff is not None and not (0 <= cutoff <= 168):
        raise StationsError(_("The cut-off must lie between 0 and 168 hours."), "cutoff_hours")


def _check_name_free(community_id, name, station_id=None) -> None:
    stmt = select(Station.id).where(Station.community_id == community_id, Station.name == name)
    other = db.session.scalar(stmt)
    if other is not None and other != station_id:
        raise StationsError(_("This community already has a station of that name."), "name")


def create_station(node: GridNode, *, name: str, kind: str = "party_centre", address: str = "",
                   opening_hours: str = "", weight: float = 1.0, cutoff_hours: int = 2,
                   served: list[GridNode] | None = None) -> Station:
    """A station placed on `node` (a community or a node below it)."""
    if node.level == "district":
        raise StationsError(_("Place the station in a community or one of its grids."), "node_id")
    name = name.strip()
    _check_fields(name, weight, cutoff_hours, kind)
    cid = community_id_of(node)
    _check_name_free(cid, name)
    station = Station(node_id=node.id, community_id=cid, name=name, kind=kind, address=address.strip(),
                      opening_hours=opening_hours.strip(), weight=weight, cutoff_hours=cutoff_hours)
    db.session.add(station)
    db.session.flush()
    set_served(station, served if served else [node])
    record("stations.create", station, summary=name, community_id=cid)
    return station


def update_station(station: Station, **fields) -> Station:
    name = fields.get("name", station.name).strip()
    _check_fields(name, fields.get("weight"), fields.get("cutoff_hours"), fields.get("kind", station.kind))
    _check_name_free(station.community_id, name, station.id)
    for key, value in fields.items():
        setattr(station, key, value.strip() if isinstance(value, str) else value)
    record("stations.edit", station, summary=name, community_id=station.community_id)
    return station


def set_served(station: Station, nodes: list[GridNode]) -> None:
    """The grids the station serves: any nodes of its own community (one or many,
    across estates)."""
    for n in nodes:
        if community_id_of(n) != station.community_id or n.level == "district":
            raise StationsError(_("A station serves grids of its own community only."), "served")
    wanted = {n.id for n in nodes}
    current = {s.node_id: s for s in station.served}
    for node_id, row in current.items():
        if node_id not in wanted:
            station.served.remove(row)
    for node_id in wanted - set(current):
        station.served.append(ServedGrid(node_id=node_id))


def add_claim(station: Station, organisation: Organisation, *, start: dt.date | None = None,
              liaison_name: str = "", liaison_phone: str = "") -> Claim:
    """A contact department claims the station; the current claim, if any, ends today."""
    if organisation is None or organisation.kind != "department":
        raise StationsError(_("Only a district department can claim a station."), "organisation_id")
    today = clock.today()
    start = start or today
    for c in station.claims:
        if c.end_date is None:
            if c.organisation_id == organisation.id:
                raise StationsError(_("This department already claims the station."), "organisation_id")
            c.end_date = max(start, c.start_date)
    claim = Claim(organisation_id=organisation.id, start_date=start, liaison_name=liaison_name.strip(),
                  liaison_phone=liaison_phone.strip())
    station.claims.append(claim)
    record("stations.claim", station, summary=f"{organisation.name} {liaison_name}", community_id=station.community_id)
    return claim


def end_claim(claim: Claim, end: dt.date | None = None) -> None:
    if claim.end_date is not None:
        raise StationsError(_("This claim has already ended."))
    claim.end_date = max(end or clock.today(), claim.start_date)
    record("stations.unclaim", claim.station, summary=claim.organisation.name,
           community_id=claim.station.community_id)


def set_photo(station: Station, stored: str) -> None:
    station.photo = stored
    record("stations.photo", station, community_id=station.community_id)


def follow_node_move(old_path: str, new_path: str) -> None:
    """A subtree moved (paths already updated): the stations placed in it take
    the community of their node again."""
    moved = select(GridNode.id).where(subtree(GridNode.path, new_path))
    nodes = db.session.execute(select(GridNode.id, GridNode.level, GridNode.community_id)
                               .where(GridNode.id.in_(moved), GridNode.id.in_(select(Station.node_id)))).all()
    for node_id, level, community_id in nodes:
        cid = node_id if level == "community" else community_id
        db.session.execute(update(Station).where(Station.node_id == node_id).values(community_id=cid)
                           .execution_options(synchronize_session=False))


# --- Excel import / export ----------------------------------------------------------------

def import_columns() -> list[str]:
    return [_("Grid code"), _("Name"), _("Kind"), _("Address"), _("Opening hours"), _("Weight"),
            _("Cut-off hours"), _("Claiming department"), _("Liaison"), _("Liaison phone")]


def kind_labels() -> dict[str, str]:
    return {"party_centre": _("Party service centre"), "idle_room": _("Idle community room"),
            "property_room": _("Property room"), "other": _("Other room")}


def import_rows(rows, allowed) -> tuple[int, int, list[RowError]]:
    """Create or update stations from the import's rows (keyed by community and
    name, so a re-import updates). `allowed(node)` says whether the user may
    write there. All or nothing: any row error and nothing is saved."""
    cols = import_columns()
    g_code, g_name, g_kind, g_addr, g_hours, g_weight, g_cut, g_dept, g_liaison, g_phone = cols
    by_label = {v: k for k, v in kind_labels().items()} | {k: k for k in KINDS}
    errors: list[RowError] = []
    plan = []
    for rownum, row in rows:
        code = str(row.get(g_code) or "").strip()
        node = db.session.scalar(select(GridNode).where(GridNode.code == code)) if code else None
        if node is None or node.level == "district" or not allowed(node):
            errors.append(RowError(rownum, g_code, _("No grid with this code in your area.")))
            continue
        name = str(row.get(g_name) or "").strip()
        if not name:
            errors.append(RowError(rownum, g_name, _("Give the station a name.")))
            continue
        kind = by_label.get(str(row.get(g_kind) or "").strip() or "party_centre")
        if kind is None:
            errors.append(RowError(rownum, g_kind, _("Unknown kind of room.")))
            continue
        try:
            weight = float(row.get(g_weight) or 1)
            cutoff = int(row.get(g_cut) or 2)
            _check_fields(name, weight, cutoff, kind)
        except (TypeError, ValueError):
            errors.append(RowError(rownum, g_weight, _("Weight and cut-off must be numbers.")))
            continue
        except StationsError as exc:
            errors.append(RowError(rownum, g_weight, str(exc)))
            continue
        dept = None
        dname = str(row.get(g_dept) or "").strip()
        if dname:
            dept = db.session.scalar(select(Organisation).where(
                Organisation.kind == "department",
                (Organisation.name == dname) | (Organisation.short_name == dname)))
            if dept is None:
                errors.append(RowError(rownum, g_dept, _("No department of this name.")))
                continue
        plan.append((node, name, kind, row, weight, cutoff, dept))
    if errors:
        return 0, 0, errors
    created = updated = 0
    for node, name, kind, row, weight, cutoff, dept in plan:
        cid = community_id_of(node)
        station = db.session.scalar(select(Station).where(Station.community_id == cid, Station.name == name))
        fields = {"kind": kind, "address": str(row.get(g_addr) or ""), "opening_hours": str(row.get(g_hours) or ""),
                  "weight": weight, "cutoff_hours": cutoff}
        if station is None:
            station = create_station(node, name=name, **fields)
            created += 1
        else:
            station.node_id = node.id
            update_station(station, **fields)
            updated += 1
        current = station.current_claim
        if dept is not None and (current is None or current.organisation_id != dept.id):
            add_claim(station, dept, liaison_name=str(row.get(g_liaison) or ""),
                      liaison_phone=str(row.get(g_phone) or ""))
    return created, updated, []
