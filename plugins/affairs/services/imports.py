"""Excel import of residents and houses: streamed, checked row by row, upserted by
the ID-card number (residents) or building, unit and room (houses)."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, insert, select
from stdnum.cn import ric

from core import access, clock
from core.extensions import db
from core.models import GridNode

from ..models import (
    EMPLOYMENT,
    HOUSE_USES,
    OCCUPANCIES,
    RESIDENCE,
    SOCIAL_SECURITY,
    House,
    ImportJob,
    Resident,
)
from .common import LABELS, AffairsError, check_phone, label, parse_bool, parse_id_number
from .totals import paths_condition

# --- Excel import of residents and houses ------------------------------------------------------

RESIDENT_COLUMNS = (
    ("name", _l("Name")),
    ("id_number", _l("ID-card number")),
    ("phone", _l("Phone")),
    ("grid_code", _l("Building grid code")),
    ("unit", _l("Unit")),
    ("floor", _l("Floor")),
    ("room", _l("Room")),
    ("residence", _l("Residence")),
    ("party_member", _l("Party member")),
    ("social_security", _l("Social security")),
    ("employment", _l("Employment")),
)

HOUSE_COLUMNS = (
    ("grid_code", _l("Building grid code")),
    ("unit", _l("Unit")),
    ("floor", _l("Floor")),
    ("room", _l("Room")),
    ("use", _l("Use")),
    ("occupancy", _l("Occupancy")),
    ("area_m2", _l("Area (m²)")),
)

ENUMS = {
    "residence": RESIDENCE,
    "social_security": SOCIAL_SECURITY,
    "employment": EMPLOYMENT,
    "use": HOUSE_USES,
    "occupancy": OCCUPANCIES,
}


def columns_for(kind: str):
    return RESIDENT_COLUMNS if kind == "residents" else HOUSE_COLUMNS


def headers(kind: str, locale: str) -> list[str]:
    with force_locale(locale):
        return [str(lbl) for _k, lbl in columns_for(kind)]


def example_row(kind: str) -> list:
    if kind == "residents":
        body = "34022119800101001"
        return ["张三", body + ric.calc_check_digit(body + "0"), "13905531234", "340221-C01-E01-B01", "1", 3, "301",
                str(LABELS["registered"]), str(_("No")), str(LABELS["resident"]), str(LABELS["employed"])]
    return ["340221-C01-E01-B01", "1", 3, "301", str(LABELS["residential"]), str(LABELS["owner"]), 89]


def enum_lookup(field: str) -> dict[str, str]:
    """Accept the code or the label in either language."""
    out = {}
    for code in ENUMS[field]:
        out[code.lower()] = code
        for loc in ("zh_CN", "en"):
            with force_locale(loc):
                out[str(LABELS.get(code, code)).strip().lower()] = code
    return out


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


class _Importer:
    """Streams an .xlsx in chunks; checks every row and upserts residents or houses."""

    CHUNK = 2000

    def __init__(self, job: ImportJob, scope: list[str]):
        self.job = job
        self.kind = job.kind
        self.scope = scope
        self.keys = [k for k, _l_ in columns_for(self.kind)]
        self.enums = {f: enum_lookup(f) for f in ENUMS}
        self.col_label = dict(zip(self.keys, headers(self.kind, job.locale), strict=True))
        # code -> (node id, path) of every building and zone in scope.
        self.nodes: dict[str, int] = {}
        # Buildings and zones in the importer's grids, in communities where the module is on.
        cond = and_(paths_condition(GridNode.path, scope), access.module_condition("affairs", GridNode.community_id))
        for nid, code in db.session.execute(
            select(GridNode.id, GridNode.code).where(GridNode.level.in_(("building", "zone")), cond)
        ):
            self.nodes[code] = nid
        self.houses: dict[tuple, int] = {}
        self.loaded_nodes: set[int] = set()
        self.seen: dict[str, int] = {}
        self.errors = []
        self.created = self.updated = self.unchanged = 0

    def err(self, rownum, key, reason):
        from core.excel import RowError

        self.errors.append(RowError(rownum, self.col_label.get(key, key), str(reason)))

    def check(self, rownum: int, row: dict) -> dict | None:
        """One row's values, or None after recording its errors."""
        n_err = len(self.errors)
        out = {}
        code = _text(row.get("grid_code"))
        node_id = self.nodes.get(code)
        if node_id is None:
            self.err(rownum, "grid_code", _("No building or zone with this grid code in your grids.") if code else _("Missing."))
        out["node_id"] = node_id
        out["unit"] = _text(row.get("unit"))
        out["room"] = _text(row.get("room"))
        if not out["room"]:
            self.err(rownum, "room", _("Missing."))
        floor = _text(row.get("floor"))
        try:
            out["floor"] = int(floor) if floor else None
        except ValueError:
            self.err(rownum, "floor", _("A floor is a whole number."))
        for f in ("residence", "social_security", "employment", "use", "occupancy"):
            if f in self.keys:
                raw = _text(row.get(f)).lower()
                if not raw and f in ("social_security", "employment"):
                    out[f] = "unknown" if f == "social_security" else "other"
                    continue
                val = self.enums[f].get(raw)
                if val is None:
                    choices = ", ".join(str(label(c)) for c in ENUMS[f])
                    self.err(rownum, f, _("Unknown value “%(v)s”; use one of: %(choices)s.", v=raw, choices=choices))
                out[f] = val
        if self.kind == "residents":
            name = _text(row.get("name"))
            if not name:
                self.err(rownum, "name", _("Missing."))
            out["name"] = name
            try:
                info = parse_id_number(row.get("id_number"))
                out["id_number"], out["birth_date"], out["sex"] = info.number, info.birth_date, info.sex
                if info.number in self.seen:
                    self.err(rownum, "id_number", _("The same ID-card number is in row %(row)s too.", row=self.seen[info.number]))
                else:
                    self.seen[info.number] = rownum
            except AffairsError as exc:
                self.err(rownum, "id_number", str(exc))
            try:
                out["phone"] = check_phone(_text(row.get("phone")))
            except AffairsError as exc:
                self.err(rownum, "phone", str(exc))
            try:
                out["party_member"] = parse_bool(row.get("party_member"))
            except ValueError:
                self.err(rownum, "party_member", _("Write yes or no."))
        else:
            area = _text(row.get("area_m2"))
            try:
                out["area_m2"] = int(float(area)) if area else None
            except ValueError:
                self.err(rownum, "area_m2", _("The area is a number."))
        return out if len(self.errors) == n_err else None

    def screen(self, rows: list[dict]) -> list[dict]:
        """Drop (as errors) the rows whose ID number belongs to a resident outside
        the importer's grids: an import never moves or changes someone it cannot see."""
        if self.kind != "residents" or not rows:
            return rows
        paths = dict(
            db.session.execute(
                select(Resident.id_number, GridNode.path)
                .join(GridNode, GridNode.id == Resident.node_id)
                .where(Resident.id_number.in_([r["id_number"] for r in rows]))
            ).all()
        )
        out = []
        for r in rows:
            path = paths.get(r["id_number"])
            if path is not None and not any(path.startswith(p) for p in self.scope):
                self.err(r["_row"], "id_number", _("A resident with this ID-card number is registered outside your grids."))
            else:
                out.append(r)
        return out

    def _load_houses(self, node_ids: set[int]):
        missing = node_ids - self.loaded_nodes
        if not missing:
            return
        for hid, nid, unit, room in db.session.execute(
            select(House.id, House.node_id, House.unit, House.room).where(House.node_id.in_(missing))
        ):
            self.houses[(nid, unit, room)] = hid
        self.loaded_nodes |= missing

    def apply(self, rows: list[dict]):
        if not rows:
            return
        self._load_houses({r["node_id"] for r in rows})
        if self.kind == "houses":
            self._apply_houses(rows)
        else:
            self._apply_residents(rows)

    def _ensure_houses(self, rows):
        new = {}
        for r in rows:
            key = (r["node_id"], r["unit"], r["room"])
            if key not in self.houses and key not in new:
                new[key] = {
                    "node_id": r["node_id"], "unit": r["unit"], "room": r["room"], "floor": r.get("floor"),
                    "use": r.get("use") or "residential", "occupancy": r.get("occupancy") or "owner",
                    "area_m2": r.get("area_m2"),
                }
        if new:
            keys = list(new)
            ids = db.session.scalars(
                insert(House).returning(House.id, sort_by_parameter_order=True), [new[k] for k in keys]
            ).all()
            self.houses.update(zip(keys, ids, strict=True))
        return len(new)

    def _apply_houses(self, rows):
        existing_keys = {(r["node_id"], r["unit"], r["room"]) for r in rows if (r["node_id"], r["unit"], r["room"]) in self.houses}
        created = self._ensure_houses(rows)
        self.created += created
        ids = [self.houses[k] for k in existing_keys]
        current = {
            h[0]: h[1:]
            for h in db.session.execute(
                select(House.id, House.floor, House.use, House.occupancy, House.area_m2).where(House.id.in_(ids))
            )
        }
        updates = []
        for r in rows:
            key = (r["node_id"], r["unit"], r["room"])
            if key not in existing_keys:
                continue
            hid = self.houses[key]
            new = (r["floor"], r["use"], r["occupancy"], r["area_m2"])
            if current.get(hid) != new:
                updates.append({"id": hid, "floor": r["floor"], "use": r["use"], "occupancy": r["occupancy"], "area_m2": r["area_m2"]})
                current[hid] = new
            else:
                self.unchanged += 1
        if updates:
            bulk_update_by_id(House, updates)
            self.updated += len(updates)

    FIELDS = ("name", "phone", "house_id", "node_id", "residence", "party_member", "social_security", "employment")

    def _apply_residents(self, rows):
        self._ensure_houses(rows)
        existing = {
            r[0]: r[1:]
            for r in db.session.execute(
                select(Resident.id_number, Resident.id, *[getattr(Resident, f) for f in self.FIELDS]).where(
                    Resident.id_number.in_([r["id_number"] for r in rows])
                )
            )
        }
        inserts, updates = [], []
        now = clock.utcnow()
        for r in rows:
            r["house_id"] = self.houses[(r["node_id"], r["unit"], r["room"])]
            values = {f: r[f] for f in self.FIELDS}
            have = existing.get(r["id_number"])
            if have is None:
                inserts.append({**values, "id_number": r["id_number"], "birth_date": r["birth_date"], "sex": r["sex"],
                                "created_at": now, "updated_at": now})
            elif tuple(have[1:]) != tuple(values[f] for f in self.FIELDS):
                updates.append({"id": have[0], **values, "updated_at": now})
            else:
                self.unchanged += 1
        if inserts:
            db.session.execute(insert(Resident), inserts)
            self.created += len(inserts)
        if updates:
            bulk_update_by_id(Resident, updates)
            self.updated += len(updates)


def bulk_update_by_id(model, rows: list[dict], bump_version: bool = True) -> None:
    """UPDATE many rows by id in one executemany (the rows' keys: "id" and the
    columns to set). The edit version is bumped, so a form open on one of
    them is refused rather than silently overwriting the import."""
    if not rows:
        return
    table = model.__table__
    keys = [k for k in rows[0] if k != "id"]
    values = {k: bindparam(f"v_{k}") for k in keys}
    if bump_version and "version" in table.c:
        values["version"] = table.c.version + 1
    stmt = table.update().where(table.c.id == bindparam("v_id")).values(**values)
    db.session.execute(stmt, [{f"v_{k}": v for k, v in row.items()} for row in rows])
