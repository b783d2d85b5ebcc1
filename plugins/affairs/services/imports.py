"""Excel import of residents and houses: streamed, checked row by row, upserted by
the ID-card number (residents) or building, unit and room (houses)."""

from __future__ import annotations

import json
import os

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from stdnum.cn import ric

from core import clock
from core.extensions import db
from core.models import GridNode, User

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
from .totals import paths_condition, recompute_totals

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
        cond = paths_condition(GridNode.path, scope)
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
            db.session.execute(update(House), updates)
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
            db.session.execute(update(Resident), updates)
            self.updated += len(updates)


def _open_rows(path: str, kind: str, locale: str):
    """(estimated row count, iterator of (row number, {key: value})). ImportFileError on a bad file."""
    import zipfile

    from openpyxl import load_workbook

    from core.excel import ImportFileError

    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise ImportFileError(_("The file is empty."))
    if not zipfile.is_zipfile(path):
        raise ImportFileError(_("This is not an Excel .xlsx file."))
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook
        raise ImportFileError(_("This is not an Excel .xlsx file.")) from exc
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None:
        wb.close()
        raise ImportFileError(_("The file is empty."))
    names = [str(h).strip() if h is not None else "" for h in header]
    while names and names[-1] == "":
        names.pop()
    keys = [k for k, _x in columns_for(kind)]
    index = None
    for loc in (locale, "zh_CN", "en"):
        hdr = headers(kind, loc)
        if sorted(names) == sorted(hdr):
            index = [keys[hdr.index(n)] for n in names]
            break
    if index is None:
        wb.close()
        raise ImportFileError(
            _("The columns are wrong. Expected columns: %(cols)s.", cols=", ".join(headers(kind, locale)))
        )
    total = max(0, (ws.max_row or 1) - 1)

    def gen():
        try:
            for rownum, values in enumerate(it, start=2):
                if values is None or all(v is None or str(v).strip() == "" for v in values):
                    continue
                yield rownum, dict(zip(index, values, strict=False))
        finally:
            wb.close()

    return total, gen()


STAT_TABLES = ("affairs_house", "affairs_household", "affairs_resident", "affairs_group_tag", "affairs_visit")


def refresh_statistics() -> None:
    """ANALYZE the module's big tables after bulk loads, so that the query
    planner starts "who is due in this grid" from the grid, not from every tag
    (SQLite keeps no statistics until asked; PostgreSQL's autovacuum is lazy)."""
    from sqlalchemy import text

    for table in STAT_TABLES:
        db.session.execute(text(f"ANALYZE {table}"))
    db.session.execute(text("ANALYZE grid_node"))
    db.session.commit()


def _touch(job: ImportJob, processed: int):
    job.processed_rows = processed
    job.heartbeat_at = clock.utcnow()


def run_import(job_id: int) -> ImportJob:
    """Run an import job to its end, committing progress as it goes.

    good_rows: applies each chunk's good rows as it reads them.
    all_or_nothing: checks every row first; applies only when none failed."""
    from core.audit import record
    from core.excel import ImportFileError, error_report_bytes

    job = db.session.get(ImportJob, job_id)
    job.status, job.phase = "running", "checking"
    _touch(job, 0)
    db.session.commit()
    with force_locale(job.locale):
        try:
            scope = json.loads(job.scope or "[]")
            total, rows = _open_rows(job.stored_path, job.kind, job.locale)
            job.total_rows = total
            db.session.commit()
            imp = _Importer(job, scope)
            apply_now = job.mode == "good_rows"
            if apply_now:
                job.phase = "applying"
            processed, chunk = 0, []
            for rownum, row in rows:
                values = imp.check(rownum, row)
                processed += 1
                if values is not None:
                    values["_row"] = rownum
                    chunk.append(values)
                if processed % _Importer.CHUNK == 0:
                    chunk = imp.screen(chunk)
                    if apply_now:
                        imp.apply(chunk)
                    chunk = []
                    _touch(job, processed)
                    db.session.commit()
            chunk = imp.screen(chunk)
            if apply_now:
                imp.apply(chunk)
            if not apply_now and not imp.errors and processed:
                # Every row is good: apply them all, reading the file again.
                job.phase = "applying"
                _touch(job, 0)
                db.session.commit()
                imp.seen.clear()
                _t, rows = _open_rows(job.stored_path, job.kind, job.locale)
                done, chunk = 0, []
                for rownum, row in rows:
                    values = imp.check(rownum, row)
                    values["_row"] = rownum
                    chunk.append(values)
                    done += 1
                    if len(chunk) >= _Importer.CHUNK:
                        imp.apply(chunk)
                        chunk = []
                        _touch(job, done)
                        db.session.commit()
                imp.apply(chunk)
            job.total_rows = processed
            _touch(job, processed)
            job.created_count, job.updated_count, job.unchanged_count = imp.created, imp.updated, imp.unchanged
            job.error_count = len(imp.errors)
            if imp.errors:
                job.error_report = error_report_bytes(sorted(imp.errors, key=lambda e: e.row))
            if not processed:
                job.status, job.message = "failed", _("The file has no data rows.")
            else:
                job.status = "done"
            user = db.session.get(User, job.user_id)
            record(
                "affairs.import",
                object_type="affairs_import_job",
                object_id=job.id,
                summary=f"{job.kind} {job.mode} {job.filename}: +{imp.created} ~{imp.updated} ={imp.unchanged} !{len(imp.errors)}",
                user=user,
            )
        except ImportFileError as exc:
            db.session.rollback()
            job = db.session.get(ImportJob, job_id)
            job.status, job.message = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - the job must end, whatever failed
            db.session.rollback()
            job = db.session.get(ImportJob, job_id)
            job.status = "failed"
            job.message = _("The import stopped on an unexpected error: %(err)s", err=str(exc)[:300])
        job.finished_at = clock.utcnow()
        db.session.commit()
    if job.created_count or job.updated_count or job.processed_rows:
        # The rows went in by bulk statements: recompute the totals of the grids imported into.
        try:
            recompute_totals(json.loads(job.scope or "[]"))
            db.session.commit()
        except Exception:  # noqa: BLE001 - reported below by a wrong total only; never fails the job
            db.session.rollback()
    if job.status == "done" and (job.created_count or job.updated_count):
        try:
            refresh_statistics()
        except Exception:  # noqa: BLE001 - statistics are an optimisation only
            db.session.rollback()
    # The upload holds personal data: keep it no longer than the job needs it.
    try:
        os.remove(job.stored_path)
    except OSError:
        pass
    return job


def start_import_thread(app, job_id: int):
    """Run the job in a thread of this process; its state lives in the database."""
    import threading

    def target():
        with app.app_context():
            try:
                run_import(job_id)
            finally:
                db.session.remove()

    t = threading.Thread(target=target, name=f"affairs-import-{job_id}", daemon=True)
    t.start()
    return t


