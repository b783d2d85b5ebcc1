"""Demo data of grid affairs, added after the core demo built the tree, the
users and the grid posts (read back from the database, whatever they are).

Scale 1: the 9 × 128 task list, about 50 residents per zone with valid ID
numbers of the district's area code 340221, special groups in plausible
proportions, grid squads per estate and 8 weeks of visits. Bulk inserts only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, insert, select
from stdnum.cn import ric

from core import clock
from core.extensions import db
from core.models import GridNode, GridPost, Leave, User

from .models import (
    AffairCategory,
    AffairItem,
    AffairTask,
    GroupTag,
    House,
    Household,
    Resident,
    SquadMember,
    SquadReport,
    Visit,
)
from .services import (
    bulk_update_by_id,
    ensure_group_types,
    iso_week_of,
    recompute_totals,
    refresh_statistics,
)

AREA = "340221"
# Wuhu County (340221) became Wanzhi District in 2020 with the code 340210:
# people born since carry the new code (stdnum's table knows both periods).
AREA_SINCE_2021 = "340210"

CATEGORIES = [
    ("01", "党的建设", 16, ["党员信息", "党组织生活", "在职党员报到", "流动党员", "党费收缴", "党建阵地", "先锋驿站值守", "党员志愿服务"]),
    ("02", "综治维稳", 16, ["矛盾纠纷", "信访苗头", "重点人员", "社区矫正对象", "刑满释放人员", "邪教防范", "群租房", "出租屋治安"]),
    ("03", "公共安全", 15, ["消防通道", "电动车充电", "燃气安全", "高空抛物", "防汛设施", "危房隐患", "地下空间", "老旧电线"]),
    ("04", "城市管理", 14, ["占道经营", "违章搭建", "乱堆乱放", "违规广告", "绿化破坏", "井盖缺失", "路灯损坏"]),
    ("05", "市场监管", 14, ["无证经营", "食品安全", "过期药品", "价格欺诈", "特种设备", "小餐饮", "校园周边商店"]),
    ("06", "民政服务", 15, ["低保对象", "特困人员", "高龄津贴", "残疾人补贴", "孤寡老人", "临时救助", "留守儿童关爱", "殡葬改革"]),
    ("07", "卫生健康", 13, ["疫苗接种", "慢病随访", "家庭医生签约", "孕产妇", "爱国卫生", "病媒生物", "健康教育"]),
    ("08", "人社就业", 13, ["失业人员", "就业援助", "城乡居民医保", "养老保险", "技能培训", "欠薪线索", "退役军人"]),
    ("09", "生态环境", 12, ["垃圾分类", "油烟扰民", "噪声扰民", "河道保洁", "秸秆焚烧", "散乱污企业"]),
]
VERBS = ["排查", "登记更新", "政策宣传", "走访核实", "问题上报"]
TARGETS = ["每月排查一次，发现即报", "信息准确率100%", "每季度宣传不少于一次", "按时核实，台账完整", "当日上报，闭环跟踪"]
ROLES = ["网格员", "社区两委成员", "网格员、楼栋长", "社区民警", "社区党委书记", "网格小分队"]
NOT_ADMITTED = ["代收代缴费用", "招商引资任务", "拆迁动员", "协税护税", "开具各类证明"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志文斌浩宇欣怡子涵梓轩雨桐佳琪婷雪宁晨阳鑫博雯倩"

VISIT_NOTES = {
    "none": ["身体状况良好", "家中一切正常", "了解家庭近况", "宣传垃圾分类政策", "提醒用电用气安全"],
    "opinion": ["希望小区增加健身器材", "建议延长驿站开放时间", "反映停车位紧张", "希望多组织老年活动"],
    "request": ["申请办理高龄津贴", "咨询医保缴费", "需要上门代办证件", "希望帮助联系家政服务"],
    "problem": ["楼道堆放杂物堵塞消防通道", "单元门禁损坏无人维修", "楼顶漏水影响住户", "下水道堵塞污水外溢"],
}


def _birth(rng, today: dt.date, age_min: int, age_max: int) -> dt.date:
    days = rng.randrange(age_min * 365 + 1, age_max * 365 + 300)
    return today - dt.timedelta(days=days)


def build_task_list(rng, report):
    if db.session.scalar(select(func.count()).select_from(AffairItem)):
        return
    n = 0
    for ci, (code, name, _count, _subjects) in enumerate(CATEGORIES):
        db.session.add(AffairCategory(code=code, name=name, sort_order=ci))
    db.session.flush()
    cats = {c.code: c.id for c in db.session.scalars(select(AffairCategory))}
    rows = []
    for code, _name, count, subjects in CATEGORIES:
        combos = [(s, v) for v in VERBS for s in subjects]
        for i in range(count):
            subject, verb = combos[i]
            levels = rng.choice(["community,estate", "estate,building", "building,zone", "community,estate,building,zone", "community"])
            rows.append({
                "category_id": cats[code], "code": f"{code}-{i + 1:03d}", "name": subject + verb,
                "responsible_role": rng.choice(ROLES), "target": rng.choice(TARGETS), "levels": levels,
                "admitted": True, "sort_order": n,
            })
            n += 1
    # A few matters departments try to push down that are not on the admission list.
    for j, i in enumerate(rng.sample(range(len(rows)), len(NOT_ADMITTED))):
        rows[i]["name"] = NOT_ADMITTED[j]
        rows[i]["admitted"] = False
    db.session.execute(insert(AffairItem), rows)
    report(f"affairs: task list of {len(CATEGORIES)} categories, {len(rows)} items")


def _id_numbers():
    """A generator of unique ID numbers: the sequence number counts up per
    (area, birth date, sex), so no set of every number issued is kept."""
    issued: dict[tuple, int] = defaultdict(int)

    def make(rng, birth: dt.date, female: bool) -> str:
        while True:
            area = AREA if birth.year <= 2020 else AREA_SINCE_2021
            n = issued[(birth, female)]
            if n < 500:
                issued[(birth, female)] = n + 1
                seq = n * 2 + (0 if female else 1)
                body = f"{area}{birth:%Y%m%d}{seq:03d}"
                return body + ric.calc_check_digit(body + "0")
            birth -= dt.timedelta(days=1)

    return make


HOUSES_PER_ZONE = 20  # about 50 residents per zone; the core scales the number of zones


def build_demo(scale, rng, report):
    """Streams: per community, its houses, households, residents, special groups
    and visits are generated, bulk-inserted and committed before the next one;
    nothing of a finished community stays in memory (issue 3)."""
    today = clock.today()
    build_task_list(rng, report)
    groups = {g.code: g.id for g in ensure_group_types()}
    zones = db.session.execute(
        select(GridNode.id, GridNode.path, GridNode.community_id).where(GridNode.level == "zone").order_by(GridNode.id)
    ).all()
    if not zones:
        zones = db.session.execute(
            select(GridNode.id, GridNode.path, GridNode.community_id).where(GridNode.level == "building").order_by(GridNode.id)
        ).all()
    if not zones:
        report("affairs: no buildings or zones in the tree; no residents added")
        db.session.commit()
        return
    if db.session.scalar(select(func.count()).select_from(Resident)):
        report("affairs: residents exist already; demo residents not added")
        return
    db.session.commit()

    now = clock.utcnow()
    by_community: dict = defaultdict(list)
    for zid, path, cid in zones:
        by_community[cid].append((zid, path))
    del zones
    cpaths = dict(db.session.execute(select(GridNode.id, GridNode.path).where(GridNode.id.in_([c for c in by_community if c]))).all())
    visits = _VisitPlan(rng, today, now)
    id_number = _id_numbers()
    id_of = _Ids(House, Household, Resident)
    totals = defaultdict(int)
    for cid, czones in by_community.items():
        n_h, n_r, n_hh, n_t, n_v = _community(rng, today, now, czones, groups, id_number, visits, cpaths.get(cid, "/"), id_of)
        totals["houses"] += n_h
        totals["residents"] += n_r
        totals["households"] += n_hh
        totals["tags"] += n_t
        totals["visits"] += n_v
        db.session.commit()
    id_of.fix_sequences()
    db.session.commit()
    report(f"affairs: {totals['houses']} houses")
    report(f"affairs: {totals['residents']} residents in {totals['households']} households, valid ID numbers (area code {AREA})")
    report(f"affairs: {totals['tags']} special-group periods")
    _squads(rng, report, now)
    if visits.posts:
        report(f"affairs: {totals['visits']} visits over 8 weeks by {len({p[1] for p in visits.posts})} grid workers")
    else:
        report("affairs: no grid workers posted; no visits added")
    _checklists(rng, report, today)
    db.session.commit()
    recompute_totals()
    db.session.commit()
    refresh_statistics()


def _chunks(rows, n=5000):
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


class _Ids:
    """Ids handed out by the demo itself, so bulk inserts need no RETURNING
    (which SQLAlchemy answers row by row on SQLite: 10× slower here)."""

    def __init__(self, *models):
        self.next = {m: (db.session.scalar(select(func.max(m.id))) or 0) + 1 for m in models}

    def take(self, model, rows) -> list[int]:
        start = self.next[model]
        self.next[model] = start + len(rows)
        ids = list(range(start, start + len(rows)))
        for i, r in zip(ids, rows, strict=True):
            r["id"] = i
        return ids

    def fix_sequences(self):
        """PostgreSQL's sequences did not see the ids: move them past them."""
        from sqlalchemy import text

        if db.session.get_bind().dialect.name != "postgresql":
            return
        for model in self.next:
            table = model.__tablename__
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            ))


def _insert_ids(model, rows, ids_of: _Ids) -> list[int]:
    ids = ids_of.take(model, rows)
    for part in _chunks(rows):
        db.session.execute(insert(model.__table__), part)
    return ids


def _community(rng, today, now, czones, groups, id_number, visits, cpath, id_of):
    """One community's houses, households, residents, special groups and visits."""
    # Houses: about 20 per zone, 3 people each on average -> ~50 residents.
    house_rows = []
    for zid, _path in czones:
        unit = ""  # the demo's zones are a unit (or a few floors) of a building already
        floor0 = rng.randint(1, 12)
        for k in range(HOUSES_PER_ZONE):
            floor = floor0 + k // 2
            occ = rng.choices(["owner", "rented", "vacant"], [78, 15, 7])[0]
            house_rows.append({
                "node_id": zid, "unit": unit, "floor": floor, "room": f"{floor}{(k % 2) + 1:02d}",
                "use": "residential" if rng.random() > 0.03 else "commercial", "occupancy": occ,
                "area_m2": rng.randint(55, 140),
            })
    house_ids = _insert_ids(House, house_rows, id_of)
    houses = [(hid, r["node_id"], r["occupancy"]) for hid, r in zip(house_ids, house_rows, strict=True)]
    n_houses = len(houses)
    del house_rows, house_ids

    res_rows = []
    profile = []  # (kind, age) for special groups
    for hid, nid, occ in houses:
        if occ == "vacant":
            continue
        kind = rng.choices(["family", "elderly_couple", "elderly_single", "young", "left_behind"], [55, 18, 9, 15, 3])[0]
        people = []
        surname = rng.choice(SURNAMES)
        if kind == "family":
            people = [(35, 55, False), (33, 53, True)] + [(3, 17, rng.random() < .5) for _ in range(rng.randint(0, 2))]
            if rng.random() < .25:
                people.append((62, 85, rng.random() < .5))
        elif kind == "elderly_couple":
            people = [(62, 88, False), (60, 86, True)]
        elif kind == "elderly_single":
            people = [(65, 92, rng.random() < .6)]
        elif kind == "young":
            people = [(22, 34, rng.random() < .5)] + ([(22, 34, rng.random() < .5)] if rng.random() < .6 else [])
        else:
            people = [(60, 80, True), (4, 15, rng.random() < .5)]
        for amin, amax, female in people:
            birth = _birth(rng, today, amin, amax)
            age = (today - birth).days // 365
            employment = (
                "retired" if age >= 60 else "student" if 6 <= age < 22 else "preschool" if age < 6
                else rng.choices(["employed", "self_employed", "unemployed"], [75, 15, 10])[0]
            )
            res_rows.append({
                "house_id": hid, "node_id": nid,
                "name": (surname if len(people) > 1 and amin < 20 else rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
                "id_number": id_number(rng, birth, female), "birth_date": birth, "sex": "F" if female else "M",
                "phone": None if age < 14 else "1" + rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(9)),
                "residence": "registered" if (occ != "rented" and rng.random() > .08) else "non_registered",
                "party_member": age >= 20 and rng.random() < .08,
                "social_security": rng.choices(["employee", "resident", "none"], [50, 45, 5])[0] if age >= 16 else "resident",
                "employment": employment, "created_at": now, "updated_at": now,
            })
            profile.append((kind, age))
    # One household per occupied house, headed by its first adult (or its first person).
    heads: dict[int, tuple[str, bool]] = {}
    for r in res_rows:
        child = r["employment"] in ("student", "preschool")
        current = heads.get(r["house_id"])
        if current is None or (current[1] and not child):
            heads[r["house_id"]] = (r["name"], child)
    hh_houses = list(heads)
    hh_ids = _insert_ids(Household, [{"house_id": h, "head_name": heads[h][0], "created_at": now} for h in hh_houses], id_of)
    household_of = dict(zip(hh_houses, hh_ids, strict=True))
    for r in res_rows:
        r["household_id"] = household_of[r["house_id"]]
    ids = _insert_ids(Resident, res_rows, id_of)

    # Special groups, as periods; a few already ended (the history).
    tag_rows = []
    tagged = set()
    for rid, (kind, age) in zip(ids, profile, strict=True):
        codes = []
        if kind in ("elderly_couple", "elderly_single") and age >= 65 and rng.random() < .45:
            codes.append("empty_nest")
        if kind == "left_behind" and age < 16:
            codes.append("left_behind_child")
        if rng.random() < .018:
            codes.append("disability")
        if rng.random() < .012:
            codes.append("hardship")
        if kind == "family" and age >= 30 and rng.random() < .02:
            codes.append("single_parent")
        for code in codes:
            start = today - dt.timedelta(days=rng.randint(30, 1500))
            ended = rng.random() < .08
            if not ended:
                tagged.add(rid)
            tag_rows.append({
                "resident_id": rid, "group_type_id": groups[code], "start_date": start,
                "end_date": (start + dt.timedelta(days=rng.randint(20, 300))) if ended else None,
                "notes": None, "created_at": now,
            })
    for part in _chunks(tag_rows):
        db.session.execute(insert(GroupTag.__table__), part)

    people = defaultdict(list)
    for rid, r in zip(ids, res_rows, strict=True):
        people[r["node_id"]].append((rid, r["house_id"]))
    n_visits = visits.add(czones, people, tagged, cpath)
    return n_houses, len(res_rows), len(hh_ids), len(tag_rows), n_visits


class _VisitPlan:
    """8 weeks of visits by the grid workers posted in a community, made with the
    community's residents (a post above the communities is left without visits)."""

    def __init__(self, rng, today, now):
        self.rng, self.today, self.now = rng, today, now
        self.posts = db.session.execute(
            select(GridNode.path, GridPost.a_user_id, GridPost.b_user_id).join(GridPost, GridPost.node_id == GridNode.id)
            .where(GridPost.a_user_id.isnot(None))
        ).all()
        self.leaves = defaultdict(list)
        for uid, s, e in db.session.execute(select(Leave.user_id, Leave.start_date, Leave.end_date)):
            self.leaves[uid].append((s, e))

    def add(self, czones, people, tagged, cpath) -> int:
        if not self.posts or not czones:
            return 0
        rng, today = self.rng, self.today
        rows = []
        last: dict[int, dt.date] = {}
        monday = today - dt.timedelta(days=today.weekday())
        for path, a_id, b_id in self.posts:
            if not path.startswith(cpath):
                continue
            nodes = [zid for zid, p in czones if p.startswith(path)]
            pool = [x for zid in nodes for x in people.get(zid, [])]
            pool_nodes = [zid for zid in nodes for _x in people.get(zid, [])]
            if not pool:
                continue
            # Workers go to the special groups first: most of their visits are there.
            special = [k for k, (rid, _h) in enumerate(pool) if rid in tagged]
            diligence = rng.random()
            for w in range(8):
                start = monday - dt.timedelta(weeks=w)
                n = rng.choice([2, 3, 3, 4, 5, 6, 8]) if diligence > .2 else rng.choice([0, 1, 2, 3])
                for _ in range(n):
                    day = start + dt.timedelta(days=rng.randint(0, 6))
                    if day > today:
                        day = today
                    worker, cover = a_id, None
                    if any(s <= day <= e for s, e in self.leaves.get(a_id, ())):
                        if not b_id:
                            continue
                        worker, cover = b_id, a_id
                    k = rng.choice(special) if special and rng.random() < .7 else rng.randrange(len(pool))
                    rid, hid = pool[k]
                    finding = rng.choices(["none", "opinion", "request", "problem"], [70, 14, 11, 5])[0]
                    y, wk = iso_week_of(day)
                    rows.append({
                        "node_id": pool_nodes[k], "house_id": hid, "resident_id": rid, "worker_id": worker,
                        "covering_for_id": cover, "visit_date": day, "iso_year": y, "iso_week": wk,
                        "kind": rng.choices(["home", "phone", "street"], [70, 20, 10])[0],
                        "notes": rng.choice(VISIT_NOTES[finding]), "finding": finding, "created_at": self.now,
                    })
                    if day > last.get(rid, dt.date.min):
                        last[rid] = day
        for part in _chunks(rows):
            db.session.execute(insert(Visit.__table__), part)
        if last:
            bulk_update_by_id(Resident, [{"id": rid, "last_visit_date": d} for rid, d in last.items()],
                              bump_version=False)
        return len(rows)


def _squads(rng, report, now):
    estates = db.session.execute(select(GridNode.id, GridNode.path).where(GridNode.level == "estate")).all()
    if not estates:
        return
    posts = db.session.execute(
        select(GridNode.path, User.id, User.display_name, User.phone)
        .join(GridPost, GridPost.node_id == GridNode.id).join(User, User.id == GridPost.a_user_id)
    ).all()
    # Posts at or below each estate, by the estate's id (its place in the path).
    depth = len(estates[0][1].strip("/").split("/")) - 1
    posts_under = defaultdict(list)
    for ppath, uid, name, phone in posts:
        ids = ppath.strip("/").split("/")
        if len(ids) > depth:
            posts_under[int(ids[depth])].append((ppath, uid, name, phone))
    rows = []
    for eid, _path in estates:
        rows.append({"node_id": eid, "role": "cadre", "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), "phone": None, "active": True, "created_at": now})
        rows.append({"node_id": eid, "role": "police", "name": rng.choice(SURNAMES) + "警官", "phone": None, "active": True, "created_at": now})
        for _ in range(2):
            rows.append({"node_id": eid, "role": "resident_rep", "name": rng.choice(SURNAMES) + rng.choice(GIVEN), "phone": None, "active": True, "created_at": now})
        seen = set()
        for _ppath, uid, name, phone in posts_under.get(eid, ()):
            if uid not in seen and len(seen) < 2:
                seen.add(uid)
                rows.append({"node_id": eid, "role": "grid_worker", "name": name, "phone": phone, "user_id": uid, "active": True, "created_at": now})
    for r in rows:
        r.setdefault("user_id", None)
    db.session.execute(insert(SquadMember), rows)
    members = db.session.execute(select(SquadMember.id, SquadMember.node_id)).all()
    by_node = defaultdict(list)
    for mid, nid in members:
        by_node[nid].append(mid)
    texts = {
        "population": "新迁入一户三口，已登记", "housing": "一套住房由自住改为出租",
        "special_groups": "独居老人住院，需加强探视", "safety": "楼道电动车充电隐患已劝导",
        "employment": "两名居民新就业", "party_members": "一名在职党员到社区报到",
    }
    reps = []
    for nid, mids in by_node.items():
        for _ in range(rng.randint(0, 3)):
            topic = rng.choice(list(texts))
            reps.append({"node_id": nid, "member_id": rng.choice(mids), "topic": topic, "content": texts[topic],
                         "reported_at": now - dt.timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 10))})
    if reps:
        db.session.execute(insert(SquadReport), reps)
    report(f"affairs: {len(rows)} squad members, {len(reps)} information changes")


def _checklists(rng, report, today):
    items = db.session.execute(select(AffairItem.id, AffairItem.levels).where(AffairItem.admitted.is_(True))).all()
    nodes = db.session.execute(select(GridNode.id, GridNode.level).where(GridNode.level.in_(("community", "estate")))).all()
    period = f"{today.year}-{today.month:02d}"
    rows = []
    for nid, level in nodes:
        fitting = [i for i, lv in items if level in lv.split(",")]
        for iid in rng.sample(fitting, min(len(fitting), 8 if level == "community" else 4)):
            rows.append({"item_id": iid, "node_id": nid, "period": period,
                         "status": rng.choices(["pending", "in_progress", "done"], [30, 30, 40])[0]})
    if rows:
        db.session.execute(insert(AffairTask), rows)
    report(f"affairs: {len(rows)} checklist items for {period}")
