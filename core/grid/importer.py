"""Import a grid tree from Excel and export any subtree in the same layout.

The file's columns are fixed and bilingual, so a file made in either UI
language imports in the other. The import is all or nothing: every row is
checked first and any error refuses the whole file with a list naming row,
column and reason. A code that exists already updates that grid (re-importing
an export changes nothing and duplicates nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import aliased

from ..excel import RowError, read_rows
from ..extensions import db
from ..models import LEVELS, GridNode, Organisation, subtree
from .services import bulk_insert_nodes, child_level, level_title, next_ids

COL_LEVEL = "层级 (level)"
COL_CODE = "网格编码 (code)"
COL_NAME = "名称 (name)"
COL_PARENT = "上级编码 (parent code)"
COL_SORT = "排序 (sort order)"
COL_ADDRESS = "地址 (address)"
COL_PARTY_ORG = "党组织 (Party organisation)"
COL_LEADER = "负责人 (leader)"
COL_PHONE = "负责人电话 (leader phone)"
COL_PROPERTY = "物业公司 (property company)"
HEADERS = (
    COL_LEVEL, COL_CODE, COL_NAME, COL_PARENT, COL_SORT, COL_ADDRESS,
    COL_PARTY_ORG, COL_LEADER, COL_PHONE, COL_PROPERTY,
)

LEVEL_ZH = {"district": "区", "community": "社区", "estate": "小区", "building": "楼栋", "zone": "党员责任区"}
LEVEL_WORDS = {**{v: k for k, v in LEVEL_ZH.items()}, **{k: k for k in LEVELS}, "小区网格": "estate", "楼栋网格": "building", "社区网格": "community", "责任区": "zone"}
CODE_RE = re.compile(r"^[0-9A-Za-z-]{1,40}$")
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def template_notes() -> list[str]:
    return [
        _("One row per grid. Levels: 社区 (community), 小区 (estate), 楼栋 (building), 党员责任区 (zone)."),
        _("The parent code names a grid already in the tree or another row of this file."),
        _("A code that exists already updates that grid; a new code adds one."),
        _("The whole file is refused when any row has an error; nothing is saved then."),
    ]


def template_example() -> list:
    return ["社区", "340221020", "示例社区", "340221", 20, "湾沚镇示例路1号", "示例社区党委", "张三", "13800000000", ""]


def import_tree(file_storage, may_edit: Callable[[str], bool], progress: Callable | None = None) -> ImportResult:
    """Check every row, then write all of them or none.

    `may_edit(path)` says whether the user may change the subtree at `path`;
    `progress(done)` (a job's) is told every 500 rows read.
    Raises core.excel.ImportFileError for a file that cannot be read at all.
    """
    result = ImportResult()
    errors = result.errors
    parsed: list[dict] = []
    seen: dict[str, int] = {}
    for rowno, raw in read_rows(file_storage, HEADERS):
        if progress is not None and rowno % 500 == 0:
            progress(rowno - 1)
        level_word = _text(raw.get(COL_LEVEL))
        code = _text(raw.get(COL_CODE))
        name = _text(raw.get(COL_NAME))
        parent_code = _text(raw.get(COL_PARENT))
        level = LEVEL_WORDS.get(level_word) or LEVEL_WORDS.get(level_word.lower())
        row = {"row": rowno, "level": level, "code": code, "name": name, "parent_code": parent_code}
        if not level_word:
            errors.append(RowError(rowno, COL_LEVEL, _("The level is empty.")))
        elif level is None:
            errors.append(RowError(rowno, COL_LEVEL, _("Unknown level %(level)s.", level=level_word)))
        if not code:
            errors.append(RowError(rowno, COL_CODE, _("The code is empty.")))
        elif not CODE_RE.match(code):
            errors.append(RowError(rowno, COL_CODE, _("Use digits, letters and dashes only.")))
        elif code in seen:
            errors.append(RowError(rowno, COL_CODE, _("The code %(code)s appears twice in the file (rows %(a)s and %(b)s).", code=code, a=seen[code], b=rowno)))
        else:
            seen[code] = rowno
        if not name:
            errors.append(RowError(rowno, COL_NAME, _("The name is empty.")))
        elif len(name) > 120:
            errors.append(RowError(rowno, COL_NAME, _("The name is longer than %(n)s characters.", n=120)))
        sort_raw = _text(raw.get(COL_SORT))
        row["sort_order"] = 0
        if sort_raw:
            try:
                row["sort_order"] = int(float(sort_raw))
            except ValueError:
                errors.append(RowError(rowno, COL_SORT, _("The sort order must be a whole number.")))
        phone = _text(raw.get(COL_PHONE))
        if phone and not PHONE_RE.match(phone):
            errors.append(RowError(rowno, COL_PHONE, _("Enter an 11-digit mobile number or a landline such as 0553-1234567.")))
        row["address"] = _text(raw.get(COL_ADDRESS))[:255] or None
        row["party_org"] = _text(raw.get(COL_PARTY_ORG))[:120] or None
        row["party_leader"] = _text(raw.get(COL_LEADER))[:60] or None
        row["party_leader_phone"] = phone or None
        row["property_name"] = _text(raw.get(COL_PROPERTY))
        parsed.append(row)
    if not parsed and not errors:
        errors.append(RowError(2, COL_CODE, _("The file holds no rows.")))
        return result

    # What the tree holds already: the rows' own codes and their parents'.
    wanted = sorted({r["code"] for r in parsed if r["code"]} | {r["parent_code"] for r in parsed if r["parent_code"]})
    existing: dict[str, GridNode] = {}
    for i in range(0, len(wanted), 500):
        for n in db.session.scalars(select(GridNode).where(GridNode.code.in_(wanted[i:i + 500]))):
            existing[n.code] = n
    companies = {}
    names = sorted({r["property_name"] for r in parsed if r["property_name"]})
    if names:
        companies = dict(
            db.session.execute(
                select(Organisation.name, Organisation.id).where(
                    Organisation.kind == "property_company", Organisation.name.in_(names)
                )
            ).all()
        )
    by_code = {r["code"]: r for r in parsed if r["code"]}
    has_district = db.session.scalar(select(GridNode.id).where(GridNode.parent_id.is_(None)).limit(1)) is not None

    def level_of(code: str) -> str | None:
        if code in by_code:
            return by_code[code]["level"]
        node = existing.get(code)
        return node.level if node else None

    def anchor_path(code: str, depth: int = 0) -> str | None:
        """The path of the nearest grid already in the tree above `code`."""
        if code in existing:
            return existing[code].path
        r = by_code.get(code)
        if r is None or depth > 10 or not r["parent_code"]:
            return None
        return anchor_path(r["parent_code"], depth + 1)

    for r in parsed:
        if r["level"] is None or not r["code"] or not r["name"]:
            continue
        rowno = r["row"]
        node = existing.get(r["code"])
        if r["property_name"]:
            if r["level"] != "estate":
                errors.append(RowError(rowno, COL_PROPERTY, _("Only an estate has a property company.")))
            elif r["property_name"] not in companies:
                errors.append(RowError(rowno, COL_PROPERTY, _("There is no property company named %(name)s.", name=r["property_name"])))
        if r["level"] == "district":
            if r["parent_code"]:
                errors.append(RowError(rowno, COL_PARENT, _("The district has no parent; leave the parent code empty.")))
            elif node is None and has_district:
                errors.append(RowError(rowno, COL_LEVEL, _("The tree has a district already; a file can add communities and below.")))
            elif not may_edit(node.path if node else "/"):
                errors.append(RowError(rowno, COL_CODE, _("This grid is outside your area.")))
            continue
        if not r["parent_code"]:
            errors.append(RowError(rowno, COL_PARENT, _("The parent code is empty.")))
            continue
        plevel = level_of(r["parent_code"])
        if plevel is None:
            errors.append(RowError(rowno, COL_PARENT, _("The parent %(code)s is neither in the tree nor in this file.", code=r["parent_code"])))
            continue
        if child_level(plevel) != r["level"]:
            errors.append(
                RowError(rowno, COL_LEVEL, _("A %(level)s cannot sit under a %(parent)s.", level=level_title(r["level"]), parent=level_title(plevel)))
            )
            continue
        if node is not None:
            if node.level != r["level"]:
                errors.append(RowError(rowno, COL_LEVEL, _("The grid %(code)s is a %(level)s in the tree.", code=node.code, level=level_title(node.level))))
                continue
            parent = existing.get(r["parent_code"])
            if parent is None or parent.id != node.parent_id:
                errors.append(RowError(rowno, COL_PARENT, _("The grid %(code)s sits under another parent in the tree; move it there first.", code=node.code)))
                continue
        path = anchor_path(r["parent_code"])
        if path is None:
            errors.append(RowError(rowno, COL_PARENT, _("The parent %(code)s is neither in the tree nor in this file.", code=r["parent_code"])))
        elif not may_edit(path):
            errors.append(RowError(rowno, COL_PARENT, _("This grid is outside your area.")))
    if errors:
        errors.sort(key=lambda e: (e.row, HEADERS.index(e.column) if e.column in HEADERS else 99))
        return result

    if progress is not None:
        progress(len(parsed), len(parsed) + 1)
    # Write: updates in one executemany, new grids with pre-assigned ids.
    new_rows = [r for r in parsed if r["code"] not in existing]
    new_rows.sort(key=lambda r: LEVELS.index(r["level"]))
    ids = next_ids(len(new_rows))
    code_id = {c: n.id for c, n in existing.items()}
    for r, nid in zip(new_rows, ids, strict=True):
        code_id[r["code"]] = nid
    fields = ("name", "sort_order", "address", "party_org", "party_leader", "party_leader_phone")
    changes = []
    for r in parsed:
        node = existing.get(r["code"])
        if node is None:
            continue
        values = {f: r[f] for f in fields}
        values["property_company_id"] = companies.get(r["property_name"]) if r["property_name"] else None
        if all(getattr(node, k) == v for k, v in values.items()):
            result.unchanged += 1
            continue
        changes.append({"b_id": node.id, **values})
    if changes:
        db.session.execute(
            update(GridNode.__table__).where(GridNode.__table__.c.id == bindparam("b_id")).values(
                {f: bindparam(f) for f in (*fields, "property_company_id")}
            ),
            changes,
        )
        result.updated = len(changes)
    inserts = []
    for r in new_rows:
        inserts.append(
            {
                "id": code_id[r["code"]],
                "parent_id": code_id.get(r["parent_code"]) if r["parent_code"] else None,
                "level": r["level"],
                "name": r["name"],
                "code": r["code"],
                "sort_order": r["sort_order"],
                "address": r["address"],
                "party_org": r["party_org"],
                "party_leader": r["party_leader"],
                "party_leader_phone": r["party_leader_phone"],
                "property_company_id": companies.get(r["property_name"]) if r["property_name"] else None,
            }
        )
    bulk_insert_nodes(inserts)
    result.created = len(inserts)
    db.session.expire_all()
    return result


def export_rows(root: GridNode) -> Iterator[list]:
    """The subtree of `root` in the import layout, parents before children."""
    parent = aliased(GridNode)
    stmt = (
        select(
            GridNode.level, GridNode.code, GridNode.name, parent.code, GridNode.sort_order, GridNode.address,
            GridNode.party_org, GridNode.party_leader, GridNode.party_leader_phone, Organisation.name,
        )
        .outerjoin(parent, parent.id == GridNode.parent_id)
        .outerjoin(Organisation, Organisation.id == GridNode.property_company_id)
        .where(subtree(GridNode.path, root.path))
        .order_by(GridNode.depth, GridNode.path)
    )
    for row in db.session.execute(stmt.execution_options(yield_per=2000)):
        level, *rest = row
        yield [LEVEL_ZH.get(level, level), *rest]
