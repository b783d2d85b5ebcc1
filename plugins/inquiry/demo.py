"""Demo data of Square Inquiry: the seed's figures — 54 issued assignment
sheets, problems routed to the 13 departments and 24 property companies, 276
solved property-management problems — plus open, overdue, returned and
reopened ones in plausible numbers.

Runs after the core demo; reads the organisations, nodes and users that
exist and copes with a bare district. Bulk inserts only.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, insert, select, text

from core import clock
from core.extensions import db
from core.models import GridNode, Organisation, RoleGrant, User, utcnow

from . import services as svc
from .models import AssignmentSheet, Event, Extension, Problem, ReturnVisit

SHEETS = 54
PROPERTY_SOLVED = 276

# How many problems of each kind at scale 1 (the property figure is the seed's).
MIX = {
    "closed_dept": 232,
    "issued": 14,
    "claimed": 26,
    "overdue": 11,
    "reported": 12,
    "returned": 6,
    "new": 18,
    "triaged": 7,
    "rejected": 15,
    "duplicate": 8,
    "filed": 45,
}

TEXTS = {
    "property": ["电梯经常停运，老人上下楼困难", "单元门禁损坏，外来人员随意进出", "楼道堆放杂物无人清理", "地下车库顶棚漏水",
                 "小区绿化带长期无人修剪", "消防通道被私家车占用", "物业未及时清运生活垃圾", "监控探头损坏多日未修",
                 "楼顶防水层破损，顶楼住户家中渗水", "小区路灯不亮，夜间出行不便", "物业收费不透明，居民有意见", "化粪池堵塞外溢"],
    "environment": ["河道漂浮垃圾较多", "餐饮油烟扰民", "垃圾分类投放点异味大", "建筑垃圾乱倒"],
    "city": ["占道经营影响通行", "违规张贴小广告", "共享单车乱停放堵塞人行道", "户外广告牌松动有安全隐患"],
    "roads": ["人行道地砖松动", "路面坑洼积水", "窨井盖缺失", "公交站台顶棚破损"],
    "power": ["路灯不亮", "变压器噪声大", "电线私拉乱接给电动车充电", "老旧线路经常跳闸"],
    "water": ["雨后道路积水严重", "自来水水压不足", "雨水管网堵塞", "供水管道破裂漏水"],
    "safety": ["夜间有人聚集喧哗", "电动车楼道充电存在火灾隐患", "小区周边车辆乱停影响消防", "疑似诈骗传单"],
    "housing": ["老旧小区外墙脱落", "加装电梯审批进度咨询", "房屋质量问题维修难", "老旧小区改造施工扰民"],
    "neighbour": ["楼上漏水与邻居协商不成", "邻居饲养犬只扰民", "公共区域种菜引发矛盾"],
    "other": ["希望增设健身器材", "社区服务中心开放时间咨询", "建议增加便民服务点", "小区周边缺少停车位"],
}
OPINIONS = ["建议社区多组织老年人活动", "希望增加小区绿化", "建议开设四点半课堂", "感谢网格员热心服务", "建议公示物业收支"]
CATEGORY_DEPT = {  # category code → words of the usual department's name
    "environment": "城市管理", "city": "城市管理", "roads": "交通运输", "power": "供电", "water": "水务",
    "safety": "公安", "housing": "住房和城乡建设", "neighbour": "民政",
}
LANDMARKS = ["东门口", "西门口", "地下车库入口", "楼道", "单元门口", "绿化带旁", "垃圾分类亭旁", "小区主干道", "健身广场", "电动车棚"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚华"


def _fix_sequence(table: str) -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"))


def _units():
    depts = list(db.session.scalars(select(Organisation).where(Organisation.kind == "department").order_by(Organisation.id)))
    props = list(db.session.scalars(select(Organisation).where(Organisation.kind == "property_company").order_by(Organisation.id)))
    if not depts:
        for name in ("湾沚区住房和城乡建设局", "国网芜湖市湾沚区供电公司", "湾沚区城市管理局", "湾沚区交通运输局", "湾沚区水务局"):
            db.session.add(Organisation(kind="department", name=name, short_name=name[-4:]))
    if not props:
        for word in ("安居", "万家", "和顺"):
            db.session.add(Organisation(kind="property_company", name=f"芜湖{word}物业管理有限公司", short_name=f"{word}物业"))
    if not depts or not props:
        db.session.flush()
        return _units()
    return depts, props


def _places():
    """(node, community_id, building_id, estate property company) to put problems at."""
    rows = db.session.execute(
        select(GridNode.id, GridNode.path, GridNode.level, GridNode.community_id, GridNode.parent_id)
        .where(GridNode.level.in_(("building", "zone")))
    ).all()
    if not rows:
        rows = db.session.execute(select(GridNode.id, GridNode.path, GridNode.level, GridNode.community_id, GridNode.parent_id)).all()
    estates = dict(db.session.execute(select(GridNode.id, GridNode.property_company_id).where(GridNode.level == "estate")).all())
    out = []
    for nid, path, level, community_id, parent_id in rows:
        ids = [int(x) for x in path.strip("/").split("/") if x]
        estate_pc = estates.get(ids[2]) if len(ids) > 2 else None
        building = nid if level == "building" else (parent_id if level == "zone" else None)
        out.append((nid, path, community_id if level != "community" else nid, building, estate_pc))
    return out


def build(scale: int, rng: random.Random, report, volume: float | None = None, now: dt.datetime | None = None,
          events: bool = True) -> dict:
    now = now or utcnow()
    volume = volume if volume is not None else max(1, scale)
    cats = {c.code: c for c in svc.ensure_categories()}
    depts, props = _units()
    for code, words in CATEGORY_DEPT.items():
        match = next((d for d in depts if words in d.name), None)
        if match is not None and cats[code].default_unit_id is None:
            cats[code].default_unit_id = match.id
    db.session.flush()
    places = _places()
    if not places:
        report("  square inquiry: no grid nodes, no demo problems")
        return {}
    pm_places = [p for p in places if p[4]] or places
    spare_depts = [d.id for d in depts if d.id not in {c.default_unit_id for c in cats.values()}] or [d.id for d in depts]
    admin_ids = [u for u, in db.session.execute(select(RoleGrant.user_id).where(RoleGrant.role.in_(("community_admin", "district_admin"))))] or [None]
    worker_ids = [u for u, in db.session.execute(select(RoleGrant.user_id).where(RoleGrant.role == "grid_worker").limit(500))] or admin_ids
    names = dict(db.session.execute(select(User.id, User.display_name)).all())
    handler_of = {}
    for uid, org in db.session.execute(select(User.id, User.organisation_id).where(User.organisation_id.isnot(None))):
        handler_of.setdefault(org, uid)
    extra = svc.extra_days()

    # --- sheets: one a week, the last one last week --------------------------------
    first_sheet = (db.session.scalar(select(func.max(AssignmentSheet.number))) or 0) + 1
    sheet_start = (db.session.scalar(select(func.max(AssignmentSheet.id))) or 0) + 1
    sheets = []
    district_id = db.session.scalar(select(GridNode.id).where(GridNode.level == "district").order_by(GridNode.id).limit(1))
    for k in range(SHEETS):
        issued = svc.end_of_local_day(clock.local_date(now) - dt.timedelta(days=7 * (SHEETS - k) - 2)) - dt.timedelta(hours=14)
        sheets.append({"id": sheet_start + k, "number": first_sheet + k, "state": "issued", "note": "", "created_at": issued - dt.timedelta(days=1),
                       "created_by_id": admin_ids[0], "issued_at": issued, "issued_by_id": admin_ids[0], "n_problems": 0,
                       "node_id": district_id})
    db.session.execute(insert(AssignmentSheet), sheets)
    _fix_sequence("inquiry_sheet")
    sheet_by_id = {s["id"]: s for s in sheets}

    n = {k: max(1, round(v * volume)) for k, v in MIX.items()}
    n["closed_pm"] = PROPERTY_SOLVED * max(1, round(volume)) if volume >= 1 else PROPERTY_SOLVED
    start_id = (db.session.scalar(select(func.max(Problem.id))) or 0) + 1
    problems: list[dict] = []
    evs: list[dict] = []
    visits: list[dict] = []
    exts: list[dict] = []
    report_event: dict[int, dict] = {}

    def person():
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))

    def ev(pid, at, action, frm, to, uid=None, unit=None, note=""):
        if events or action in ("report", "issue", "return", "reopen", "supervise", "close"):
            evs.append({"problem_id": pid, "at": at, "user_id": uid, "actor": names.get(uid, "") if uid else "", "action": action,
                        "from_state": frm, "to_state": to, "unit_id": unit, "note": note})

    def base(kind: str, place=None, code=None, created=None):
        pid = start_id + len(problems)
        place = place or rng.choice(places)
        code = code or rng.choice([c for c in cats if c != "property"])
        channel = rng.choices(["grid_worker", "visit", "staff", "resident", "open311"], [40, 20, 15, 20, 5])[0]
        reporter = person()
        row = {
            "id": pid, "ref": f"WZ{pid:07d}", "state": "new", "channel": channel, "priority": "urgent" if rng.random() < 0.1 else "normal",
            "description": rng.choice(OPINIONS) if kind == "filed" else rng.choice(TEXTS[code]),
            "address": rng.choice(LANDMARKS) if rng.random() < 0.5 else "",
            "node_id": place[0], "node_path": place[1], "community_id": place[2], "building_id": place[3],
            "category_id": cats[code].id, "unit_id": None, "sheet_id": None, "duplicate_of_id": None, "reason": "",
            "reporter_name": reporter, "reporter_phone": f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}" if rng.random() < 0.8 else "",
            "reporter_user_id": rng.choice(worker_ids) if channel in ("grid_worker", "visit") else None,
            "source_ref": "", "token": None, "lat": None, "lon": None, "deadline_days": cats[code].deadline_days, "due_date": None,
            "created_at": created or now - dt.timedelta(days=rng.uniform(0.1, 6)), "verified_at": None, "issued_at": None,
            "deadline": None, "claimed_at": None, "claimed_by_id": None, "reported_at": None, "result_text": "",
            "closed_at": None, "outcome": None, "on_time": None, "working_days_to_close": None, "followup_due": None,
            "followup_done_at": None, "followup_note": "", "supervised": False, "supervised_at": None, "returns_count": 0,
            "reopen_count": 0, "extension_count": 0, "unreachable_count": 0, "version": 1,
        }
        row["updated_at"] = row["created_at"]
        problems.append(row)
        ev(pid, row["created_at"], "report", None, "new", row["reporter_user_id"], note=str(svc.CHANNEL_TITLES[channel]))
        report_event[pid] = evs[-1]
        return row

    def unit_for(code, place):
        if code == "property" and place[4]:
            return place[4]
        return cats[code].default_unit_id or rng.choice(spare_depts)

    def issue(row, sheet, code, place):
        unit = unit_for(code, place)
        issued = sheet["issued_at"]
        row["created_at"] = issued - dt.timedelta(days=rng.uniform(1, 6))
        row["verified_at"] = issued - dt.timedelta(hours=rng.uniform(2, 20))
        row.update(unit_id=unit, sheet_id=sheet["id"], issued_at=issued, deadline=svc.deadline_for(issued, row["deadline_days"], extra),
                   state="issued", updated_at=issued)
        admin = rng.choice(admin_ids)
        report_event[row["id"]]["at"] = row["created_at"]
        ev(row["id"], row["verified_at"], "verify", "new", "triaged", admin, unit)
        ev(row["id"], row["verified_at"] + dt.timedelta(minutes=5), "add_to_sheet", "triaged", "triaged", admin, unit)
        ev(row["id"], issued, "issue", "triaged", "issued", admin, unit, f"第 {sheet['number']} 期")
        sheet["n_problems"] += 1
        return unit

    def claim(row, unit, hours=None):
        at = row["issued_at"] + dt.timedelta(hours=hours if hours is not None else rng.uniform(1, 40))
        uid = handler_of.get(unit)
        row.update(state="claimed", claimed_at=at, claimed_by_id=uid, updated_at=at)
        ev(row["id"], at, "claim", "issued", "claimed", uid, unit)

    def report_result(row, unit, at):
        row.update(state="reported", reported_at=at, result_text="已安排人员现场处理，问题已解决。", updated_at=at)
        ev(row["id"], at, "report_result", "claimed", "reported", handler_of.get(unit), unit)

    def close(row, unit, code, sheet_index):
        on_time = rng.random() < 0.88
        span = (row["deadline"] - row["issued_at"]).total_seconds()
        rep = row["issued_at"] + dt.timedelta(seconds=span * rng.uniform(0.2, 0.95)) if on_time else row["deadline"] + dt.timedelta(days=rng.uniform(0.5, 6))
        if rng.random() < 0.05:  # dissatisfied once, then solved
            report_result(row, unit, rep)
            vat = rep + dt.timedelta(days=1)
            uid = rng.choice(worker_ids)
            ev(row["id"], vat, "reopen", "reported", "claimed", uid, unit, "不满意：问题反复出现")
            visits.append({"problem_id": row["id"], "outcome": "dissatisfied", "note": "问题反复出现", "at": vat, "by_id": uid})
            row["reopen_count"] = 1
            row["deadline"] = svc.deadline_for(vat, row["deadline_days"], extra)
            row["state"] = "claimed"
            rep = vat + dt.timedelta(days=rng.uniform(1, 4))
            on_time = rep <= row["deadline"]
        report_result(row, unit, rep)
        closed = rep + dt.timedelta(days=rng.uniform(0.5, 3))
        if closed > now:
            closed = now - dt.timedelta(hours=1)
        outcome = rng.choices(["satisfied", "basically_satisfied"], [82, 18])[0]
        uid = rng.choice(worker_ids)
        row.update(state="closed", closed_at=closed, outcome=outcome, on_time=on_time, updated_at=closed,
                   working_days_to_close=svc.working_days_between(clock.local_date(row["issued_at"]), clock.local_date(closed), extra),
                   followup_due=clock.local_date(closed) + dt.timedelta(days=30))
        ev(row["id"], closed, "close", "reported", "closed", uid, unit, str(svc.OUTCOME_TITLES[outcome]))
        visits.append({"problem_id": row["id"], "outcome": outcome, "note": "", "at": closed, "by_id": uid})
        if row["followup_due"] < clock.local_date(now) and rng.random() < 0.85:
            fu = svc.end_of_local_day(row["followup_due"]) - dt.timedelta(hours=rng.uniform(6, 12))
            row.update(followup_done_at=fu, followup_note="复查：问题未反弹")
            ev(row["id"], fu, "followup", "closed", "closed", uid, unit, "复查：问题未反弹")

    # --- closed problems over the first 50 sheets ---------------------------------------
    kinds = [("property", None)] * n["closed_pm"] + [(None, None)] * n["closed_dept"]
    rng.shuffle(kinds)
    dept_cycle = [d.id for d in depts]
    for i, (code, _x) in enumerate(kinds):
        sheet_index = min(49, int(i * 50 / len(kinds)))
        sheet = sheets[sheet_index]
        if code == "property":
            place = rng.choice(pm_places)
        else:
            place = rng.choice(places)
            code = rng.choice([c for c in cats if c != "property"])
        row = base("closed", place, code)
        unit = issue(row, sheet, code, place)
        if code != "property" and i < len(dept_cycle) * 3:
            # Every department gets some work, whatever the category map says.
            unit = row["unit_id"] = dept_cycle[i % len(dept_cycle)]
            for e in evs[-3:]:
                e["unit_id"] = unit
        claim(row, unit)
        close(row, unit, code, sheet_index)

    def open_on(sheet_indexes, count, state, pm_share=0.4):
        out = []
        for _i in range(count):
            sheet = sheets[rng.choice(sheet_indexes)]
            code = "property" if rng.random() < pm_share else rng.choice([c for c in cats if c not in ("property",)])
            place = rng.choice(pm_places if code == "property" else places)
            row = base(state, place, code)
            unit = issue(row, sheet, code, place)
            out.append((row, unit))
        return out

    recent = [SHEETS - 1, SHEETS - 2]
    open_on(recent, n["issued"], "issued")
    for row, unit in open_on([SHEETS - 1, SHEETS - 2, SHEETS - 3], n["claimed"], "claimed"):
        claim(row, unit)
        if rng.random() < 0.15:
            exts.append({"problem_id": row["id"], "days": rng.choice((3, 5)), "reason": "需协调相关单位共同处理", "state": "pending",
                         "requested_by_id": handler_of.get(unit), "requested_at": row["claimed_at"] + dt.timedelta(hours=3),
                         "decided_by_id": None, "decided_at": None, "decision_note": ""})
            ev(row["id"], row["claimed_at"] + dt.timedelta(hours=3), "request_extension", "claimed", "claimed", handler_of.get(unit), unit)
    for k, (row, unit) in enumerate(open_on([SHEETS - 5, SHEETS - 6, SHEETS - 7], n["overdue"], "overdue")):
        if k % 3:
            claim(row, unit)
        if k < max(2, n["overdue"] // 2):
            at = row["deadline"] + dt.timedelta(days=1)
            row.update(supervised=True, supervised_at=at)
            ev(row["id"], at, "supervise", row["state"], row["state"], admin_ids[0], unit, "超期未办结，区里督办")
    for k, (row, unit) in enumerate(open_on([SHEETS - 1, SHEETS - 2], n["reported"], "reported")):
        claim(row, unit, hours=2)
        report_result(row, unit, min(now - dt.timedelta(hours=2), row["claimed_at"] + dt.timedelta(days=rng.uniform(0.5, 3))))
        if k < max(1, n["reported"] // 4):  # dissatisfied before, now reported again
            row["reopen_count"] = 1
            ev(row["id"], row["reported_at"] - dt.timedelta(hours=1), "reopen", "reported", "claimed", rng.choice(worker_ids), unit, "不满意")
    for row, unit in open_on([SHEETS - 2, SHEETS - 3], n["returned"], "returned"):
        at = row["issued_at"] + dt.timedelta(hours=rng.uniform(2, 30))
        sheet_by_id[row["sheet_id"]]["n_problems"] -= 1
        row.update(state="returned", unit_id=None, sheet_id=None, issued_at=None, deadline=None, returns_count=1,
                   reason="不属于本单位职责范围", updated_at=at)
        ev(row["id"], at, "return", "issued", "returned", handler_of.get(unit), unit, "不属于本单位职责范围")
    # Hotspots: the same building and category again and again lately.
    buildings = [p for p in places if p[3]]
    for place in rng.sample(buildings, k=min(3, len(buildings))):
        code = rng.choice(["water", "property", "environment"])
        for _i in range(rng.choice((3, 4))):
            base("new", place, code, created=now - dt.timedelta(days=rng.uniform(0.2, 80)))
    for _i in range(n["new"]):
        base("new")
    for _i in range(n["triaged"]):
        code = rng.choice(list(cats))
        place = rng.choice(pm_places if code == "property" else places)
        row = base("triaged", place, code)
        unit = unit_for(code, place)
        row.update(state="triaged", unit_id=unit, verified_at=row["created_at"] + dt.timedelta(hours=3))
        ev(row["id"], row["verified_at"], "verify", "new", "triaged", admin_ids[0], unit)
    for _i in range(n["rejected"]):
        row = base("rejected", created=now - dt.timedelta(days=rng.uniform(1, 360)))
        row.update(state="rejected", reason="不属于受理范围")
        ev(row["id"], row["created_at"] + dt.timedelta(hours=5), "reject", "new", "rejected", admin_ids[0], note="不属于受理范围")
    closed_rows = [p for p in problems if p["state"] == "closed"]
    for _i in range(n["duplicate"]):
        orig = rng.choice(closed_rows)
        place = next(p for p in places if p[0] == orig["node_id"])
        row = base("duplicate", place, next(c for c, v in cats.items() if v.id == orig["category_id"]),
                   created=orig["created_at"] + dt.timedelta(hours=rng.uniform(2, 48)))
        row.update(state="duplicate", duplicate_of_id=orig["id"], reason=f"与 {orig['ref']} 重复", description=orig["description"])
        ev(row["id"], row["created_at"] + dt.timedelta(hours=2), "duplicate", "new", "duplicate", admin_ids[0], note=orig["ref"])
    for _i in range(n["filed"]):
        row = base("filed", code="other", created=now - dt.timedelta(days=rng.uniform(1, 360)))
        row.update(state="filed", category_id=cats["other"].id)
        ev(row["id"], row["created_at"] + dt.timedelta(hours=4), "file_opinion", "new", "filed", admin_ids[0])

    for i in range(0, len(problems), 5000):
        db.session.execute(insert(Problem), problems[i : i + 5000])
    _fix_sequence("inquiry_problem")
    for s in sheets:
        db.session.execute(AssignmentSheet.__table__.update().where(AssignmentSheet.id == s["id"]).values(n_problems=s["n_problems"]))
    for i in range(0, len(evs), 10000):
        db.session.execute(insert(Event), evs[i : i + 10000])
    if visits:
        db.session.execute(insert(ReturnVisit), visits)
    if exts:
        db.session.execute(insert(Extension), exts)
    svc.rebuild_stats()
    # The first community prepares a sheet of its own (a draft: not among the 54 issued).
    first = db.session.scalar(select(GridNode).where(GridNode.level == "community").order_by(GridNode.sort_order, GridNode.id))
    if first is not None:
        svc.create_sheet(None, first, note="本社区问题交办单（准备中）")
    db.session.flush()
    by_state: dict[str, int] = {}
    for p in problems:
        by_state[p["state"]] = by_state.get(p["state"], 0) + 1
    report(f"  square inquiry: {len(problems)} requests, {SHEETS} assignment sheets, "
           f"{n['closed_pm']} property-management problems solved; " + ", ".join(f"{k} {v}" for k, v in sorted(by_state.items())))
    return by_state
