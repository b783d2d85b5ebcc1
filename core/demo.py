"""The demo district: Wanzhi as the source article describes it.

Scale 1 is exactly the seed: 1 district, 19 communities, 191 estates, 897
buildings, 3,134 zones, 13 departments, 24 property companies and 82 partner
units in the communities' co-building committees. `--scale N` multiplies the
communities down to the zones by N. Deterministic for a seed.

Fast on purpose (scale 10 is 35,000 grids): ids, paths and totals are
computed in Python and rows go in with bulk inserts, never a flush per row;
every demo account shares one password hash.
"""

from __future__ import annotations

import datetime as dt
import random

from flask import current_app
from sqlalchemy import delete, func, insert, select

from . import clock
from .extensions import db
from .grid.services import DISTRICT_CODE, bulk_insert_nodes, child_code, fix_sequence, next_ids
from .models import CommitteeMember, GridPost, Leave, Organisation, RoleGrant, User, utcnow

DEMO_PASSWORD = "wangge-demo"

SEED = {"community": 19, "estate": 191, "building": 897, "zone": 3134}

DEPARTMENTS = [
    ("湾沚区住房和城乡建设局", "住建局"),
    ("国网芜湖市湾沚区供电公司", "供电公司"),
    ("湾沚区城市管理局", "城管局"),
    ("芜湖市湾沚区生态环境分局", "生态环境分局"),
    ("芜湖市公安局湾沚分局", "公安分局"),
    ("湾沚区市场监督管理局", "市场监管局"),
    ("湾沚区民政局", "民政局"),
    ("湾沚区卫生健康委员会", "卫健委"),
    ("湾沚区人力资源和社会保障局", "人社局"),
    ("湾沚区交通运输局", "交通运输局"),
    ("湾沚区水务局", "水务局"),
    ("芜湖市自然资源和规划局湾沚分局", "自然资源分局"),
    ("湾沚区应急管理局", "应急管理局"),
]

COMMUNITY_ROOTS = [
    "城东", "城南", "城西", "城北", "东门", "南门", "西门", "北门", "花桥", "新丰",
    "陶辛", "红杨", "六郎", "易太", "官巷", "永丰", "三元", "和平", "长虹",
]
ROUND_PREFIX = ["", "新", "东", "西", "南", "北", "中", "上", "下", "前", "后", "大", "小"]
ESTATE_A = [
    "锦绣", "阳光", "翡翠", "金色", "滨江", "御景", "幸福", "康乐", "书香", "紫荆", "桂花", "丽景",
    "海棠", "梧桐", "玉兰", "香樟", "青弋", "湾沚", "江南", "春晖", "馨园", "恒大", "碧水", "绿地",
]
ESTATE_B = ["花园", "家园", "小区", "新村", "苑", "名都", "华庭", "公馆", "雅居", "嘉园", "佳苑", "城"]
ROADS = ["湾沚大道", "芜湖路", "新丰路", "青弋江路", "和平路", "长虹路", "建设路", "迎宾大道", "文化路", "花桥路"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕红梅玉兰春梅晓东文斌俊杰浩然子涵雨萱"
PARTNER_KINDS = [
    "湾沚区财政局", "湾沚区税务局", "湾沚区教育局", "湾沚区文化旅游体育局", "湾沚区农业农村局", "湾沚区司法局",
    "湾沚区审计局", "湾沚区统计局", "湾沚区医疗保障局", "湾沚区退役军人事务局", "湾沚区总工会", "共青团湾沚区委",
    "湾沚区妇联", "湾沚区科协", "湾沚区融媒体中心", "湾沚区人民医院", "湾沚区中医院", "湾沚区第一中学",
    "湾沚区实验小学", "湾沚区职业教育中心", "中国银行湾沚支行", "中国工商银行湾沚支行", "中国农业银行湾沚支行",
    "中国建设银行湾沚支行", "湾沚农村商业银行", "中国邮政湾沚分公司", "中国移动湾沚分公司", "中国电信湾沚分公司",
    "中国联通湾沚分公司", "湾沚区自来水公司", "芜湖港华燃气湾沚分公司", "湾沚区供销合作社",
]
COMPANY_WORDS = ["安居", "万家", "和顺", "恒信", "永安", "金盾", "嘉禾", "瑞丰", "华宇", "鑫源", "同创", "新城", "惠民", "长安", "德润", "宏远", "天成", "银杏", "正邦", "明珠", "康泰", "兴业", "润泽", "盛世"]
ENTERPRISE_WORDS = ["奇瑞", "长信", "中联", "航达", "鸿源", "瑞鹄", "楚江", "三联", "伯特利", "通达", "恒丰", "科达", "晟泰", "睿德", "弘毅", "远大", "立信", "华峰", "联合", "宏图", "江淮", "天马", "金桥", "中科", "海创", "鼎盛", "华信", "东方", "安徽", "长江"]
ENTERPRISE_KINDS = ["科技有限公司", "机械制造有限公司", "电子有限公司", "新材料有限公司", "汽车零部件有限公司", "建设集团有限公司", "食品有限公司", "物流有限公司"]


def reset_data():
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.commit()


def apportion(total: int, bins: int, rng: random.Random, minimum: int = 1) -> list[int]:
    """Split `total` into `bins` plausible, unequal parts that add up exactly."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(bins)]
    spare = total - minimum * bins
    raw = [w / sum(weights) * spare for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(bins), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: spare - sum(parts)]:
        parts[i] += 1
    return [p + minimum for p in parts]


class Names:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def person(self) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.6 else "")
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        return "1" + self.rng.choice(["35", "37", "38", "39", "50", "52", "58", "77", "80", "86", "89"]) + f"{self.rng.randrange(10**8):08d}"

    def community(self, i: int) -> str:
        root = COMMUNITY_ROOTS[i % len(COMMUNITY_ROOTS)]
        rnd = i // len(COMMUNITY_ROOTS)
        if rnd < len(ROUND_PREFIX):
            return f"{ROUND_PREFIX[rnd]}{root}社区"
        return f"{root}第{rnd + 1}社区"


def _organisations(rng: random.Random, names: Names) -> dict[str, list[int]]:
    rows = []
    for name, short in DEPARTMENTS:
        rows.append({"kind": "department", "name": name, "short_name": short})
    for word in COMPANY_WORDS:
        rows.append({"kind": "property_company", "name": f"芜湖{word}物业管理有限公司", "short_name": f"{word}物业"})
    partners = list(PARTNER_KINDS)
    combos = [f"芜湖{w}{k}" for w in ENTERPRISE_WORDS for k in ENTERPRISE_KINDS]
    rng.shuffle(combos)
    partners += combos[: 82 - len(partners)]
    for name in partners:
        short = name.removeprefix("湾沚区").removeprefix("芜湖")
        for tail in ENTERPRISE_KINDS:
            short = short.removesuffix(tail)
        rows.append({"kind": "partner_unit", "name": name, "short_name": short[:12]})
    now = utcnow()
    for r in rows:
        r.update(
            contact_name=names.person(), phone=names.phone(), address=f"湾沚区{rng.choice(ROADS)}{rng.randrange(1, 300)}号",
            active=True, created_at=now,
        )
    db.session.execute(insert(Organisation), rows)
    out: dict[str, list[int]] = {"department": [], "property_company": [], "partner_unit": []}
    for oid, kind in db.session.execute(select(Organisation.id, Organisation.kind).order_by(Organisation.id)):
        out[kind].append(oid)
    return out


def build_demo(scale: int = 1, seed: int = 1, report=print, counts: dict | None = None):
    """Build the demo district, then let every module add its demo data.

    `counts` (level -> number, e.g. {"community": 2, "estate": 6, "building": 12,
    "zone": 24}) builds a smaller district instead of the seed's (the contract tests).
    """
    rng = random.Random(seed)
    names = Names(rng)
    today = clock.today()
    report(f"Building the demo district at scale {scale} (seed {seed}) …")
    orgs = _organisations(rng, names)

    # --- the tree ---
    counts = dict(counts) if counts else {level: n * scale for level, n in SEED.items()}
    n_comm = counts["community"]
    per_comm = apportion(counts["estate"], n_comm, rng, minimum=3)
    per_estate = apportion(counts["building"], counts["estate"], rng, minimum=1)
    per_building = apportion(counts["zone"], counts["building"], rng, minimum=1)
    total_nodes = 1 + sum(counts.values())
    ids = iter(next_ids(total_nodes))
    now = utcnow()
    district_id = next(ids)
    rows = [
        {"id": district_id, "parent_id": None, "level": "district", "name": "湾沚区", "code": DISTRICT_CODE,
         "party_org": "中共芜湖市湾沚区委员会", "party_leader": names.person(), "address": "芜湖市湾沚区", "created_at": now}
    ]
    communities: list[dict] = []
    estates_of: dict[int, list[dict]] = {}
    companies = orgs["property_company"]
    e_iter = iter(per_estate)
    b_iter = iter(per_building)
    for ci in range(n_comm):
        cname = names.community(ci)
        c = {"id": next(ids), "parent_id": district_id, "level": "community", "name": cname,
             "code": child_code(DISTRICT_CODE, "community", ci + 1), "sort_order": ci + 1,
             "party_org": f"{cname}党委", "party_leader": names.person(), "party_leader_phone": names.phone(),
             "address": f"湾沚区{rng.choice(ROADS)}{rng.randrange(1, 500)}号", "created_at": now}
        rows.append(c)
        communities.append(c)
        estates_of[c["id"]] = []
        used = set()
        for ei in range(per_comm[ci]):
            ename = rng.choice(ESTATE_A) + rng.choice(ESTATE_B)
            while ename in used:
                ename = rng.choice(ESTATE_A) + rng.choice(ESTATE_B) + ("二期" if rng.random() < 0.5 else "")
            used.add(ename)
            e = {"id": next(ids), "parent_id": c["id"], "level": "estate", "name": ename,
                 "code": child_code(c["code"], "estate", ei + 1), "sort_order": ei + 1,
                 "party_org": f"{ename}党支部", "party_leader": names.person(), "party_leader_phone": names.phone(),
                 "address": f"湾沚区{rng.choice(ROADS)}{rng.randrange(1, 800)}号",
                 "property_company_id": rng.choice(companies) if rng.random() < 0.88 else None, "created_at": now}
            rows.append(e)
            estates_of[c["id"]].append(e)
            for bi in range(next(e_iter)):
                b = {"id": next(ids), "parent_id": e["id"], "level": "building", "name": f"{bi + 1}栋",
                     "code": child_code(e["code"], "building", bi + 1), "sort_order": bi + 1,
                     "party_org": f"{ename}{bi + 1}栋党小组", "party_leader": names.person(), "created_at": now}
                rows.append(b)
                for zi in range(next(b_iter)):
                    rows.append(
                        {"id": next(ids), "parent_id": b["id"], "level": "zone", "name": f"{zi + 1}单元",
                         "code": child_code(b["code"], "zone", zi + 1), "sort_order": zi + 1,
                         "party_leader": names.person(), "created_at": now}
                    )
    bulk_insert_nodes(rows)
    report(f"  grid tree: 1 district, {n_comm} communities, {counts['estate']} estates, "
           f"{counts['building']} buildings, {counts['zone']} zones")
    del rows

    # --- committees: every partner unit sits on `scale` committees ---
    partners = list(orgs["partner_unit"])
    rng.shuffle(partners)
    seats = []
    slots = [c["id"] for c in communities]
    for k, org_id in enumerate(partners * scale):
        seats.append({"community_id": slots[k % len(slots)], "organisation_id": org_id,
                      "role_note": "主任委员单位" if k < len(slots) else "成员单位"})
    db.session.execute(insert(CommitteeMember), seats)

    # --- people ---
    pw_hash = User(username="x", display_name="x")
    pw_hash.set_password(DEMO_PASSWORD)
    pw_hash = pw_hash.password_hash
    user_start = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    users: list[dict] = []
    grants: list[dict] = []

    def add_user(username, display_name, role=None, node_id=None, organisation_id=None, phone=None):
        uid = user_start + len(users)
        users.append({"id": uid, "username": username, "display_name": display_name, "password_hash": pw_hash,
                      "active": True, "phone": phone or names.phone(), "organisation_id": organisation_id, "created_at": now})
        if role:
            grants.append({"user_id": uid, "role": role, "node_id": node_id, "created_at": now})
        return uid

    first = communities[0]
    add_user("district", "区委组织部管理员", "district_admin", district_id)
    add_user("community", f"{first['name']}管理员", "community_admin", first["id"])
    add_user("member", names.person(), "member", first["id"])
    add_user("handler", f"{DEPARTMENTS[0][1]}经办人", "handler", district_id, organisation_id=orgs["department"][0])
    add_user("property", "物业公司经办人", "handler", district_id, organisation_id=companies[0])
    add_user("resident", names.person(), "resident", estates_of[first["id"]][0]["id"])
    # One community admin per other community too, so every community has one.
    for i, c in enumerate(communities[1:], start=2):
        add_user(f"admin{i:03d}", f"{c['name']}管理员", "community_admin", c["id"])

    posts: list[dict] = []
    leaves: list[dict] = []
    workers_of: dict[int, list[int]] = {}
    n = 0
    for c in communities:
        es = estates_of[c["id"]]
        wids = []
        for e in es:
            n += 1
            username = "worker" if n == 1 else ("worker2" if n == 2 else f"gw{n:05d}")
            wids.append(add_user(username, names.person(), "grid_worker", e["id"]))
        workers_of[c["id"]] = wids
        for i, e in enumerate(es):
            # A: the estate's own worker; B: the worker of the next estate of the same community.
            posts.append({"node_id": e["id"], "a_user_id": wids[i], "b_user_id": wids[(i + 1) % len(wids)], "updated_at": now})
    district_admin_id = user_start
    # A few leaves: one A away in the first community (B covers), both A and B
    # away in the second (a warning), and a sprinkle of past and coming leave.
    w1 = workers_of[first["id"]]
    leaves.append({"user_id": w1[2], "start_date": today - dt.timedelta(days=2), "end_date": today + dt.timedelta(days=5), "reason": "年休假"})
    if len(communities) > 1:
        w2 = workers_of[communities[1]["id"]]
        leaves.append({"user_id": w2[0], "start_date": today - dt.timedelta(days=1), "end_date": today + dt.timedelta(days=2), "reason": "病假"})
        leaves.append({"user_id": w2[1], "start_date": today, "end_date": today + dt.timedelta(days=1), "reason": "参加培训"})
    skip = {w1[0], w1[1], w1[2]} | (set(workers_of[communities[1]["id"]][:2]) if len(communities) > 1 else set())
    all_workers = [w for c in communities for w in workers_of[c["id"]] if w not in skip]
    for uid in rng.sample(all_workers, k=min(len(all_workers), max(3, len(all_workers) // 25))):
        start = today + dt.timedelta(days=rng.randrange(-60, 40))
        leaves.append({"user_id": uid, "start_date": start, "end_date": start + dt.timedelta(days=rng.randrange(0, 7)),
                       "reason": rng.choice(["年休假", "病假", "事假", "参加培训", "婚假"])})
    for lv in leaves:
        lv.update(created_by_id=district_admin_id, created_at=now)
    db.session.execute(insert(User), users)
    fix_sequence("user_account")
    db.session.execute(insert(RoleGrant), grants)
    db.session.execute(insert(GridPost), posts)
    db.session.execute(insert(Leave), leaves)
    report(f"  organisations: {len(orgs['department'])} departments, {len(companies)} property companies, "
           f"{len(orgs['partner_unit'])} partner units ({len(seats)} committee seats)")
    report(f"  people: {len(users)} accounts, {len(posts)} A/B posts, {len(leaves)} leaves")
    db.session.commit()

    pm = current_app.extensions["wangge"].pm
    pm.hook.wangge_demo_data(scale=scale, rng=rng, report=report)
    db.session.commit()
    report("Demo district ready.")


DEMO_LOGINS = [
    ("district", "district admin (whole district)"),
    ("community", "community admin (first community)"),
    ("worker", "grid worker (A post of the first estate)"),
    ("worker2", "grid worker (B post of the first estate)"),
    ("member", "in-service Party member"),
    ("handler", "handler of a department (housing and construction)"),
    ("property", "handler of a property company"),
    ("resident", "resident"),
]


def print_demo_logins(echo=print):
    echo(f"Demo logins, all with the password {DEMO_PASSWORD}:")
    for username, what in DEMO_LOGINS:
        echo(f"  {username:<10} {what}")
