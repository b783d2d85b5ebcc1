"""Demo data of the pioneer stations: the seed's 39 "Love Wanzhi · Pioneer
Stations" across the 19 communities (× scale), each claimed by a contact
department; Party-member volunteers on a rota of past and coming shifts
(worked, no-show, excused, open); and shared medicine boxes whose batches,
gifts and loans add up to the seed's 4,300+ residents served and 5,700+
items shared — counted from the records, never typed in.

Runs after the core demo; bulk inserts only (ids computed here).
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import zlib

from sqlalchemy import func, insert, select

from core import clock
from core.extensions import db
from core.grid.services import fix_sequence
from core.models import GridNode, Organisation, RoleGrant, User, utcnow
from core.uploads import save_bytes

from .models import (
    BranchMember,
    Claim,
    Incident,
    LogEntry,
    MedicineBatch,
    Move,
    Rota,
    ServedGrid,
    Shift,
    Signup,
    Station,
)

STATIONS = 39
RESIDENTS = 4420   # distinct residents served (seed: 4,300+)
ITEMS = 5760       # items shared at least (seed: 5,700+)
MEMBERS_PER_COMMUNITY = 12
MEDICINES = [
    ("布洛芬缓释胶囊", "0.3g×24粒"), ("对乙酰氨基酚片", "0.5g×12片"), ("连花清瘟胶囊", "0.35g×36粒"),
    ("板蓝根颗粒", "10g×20袋"), ("感冒灵颗粒", "10g×9袋"), ("藿香正气水", "10ml×10支"), ("创可贴", "100片"),
    ("医用口罩", "10只/包"), ("碘伏消毒液", "100ml"), ("医用酒精", "75% 500ml"), ("体温计", "电子式"),
    ("抗原检测试剂", "1人份"), ("复方甘草片", "100片"), ("蒙脱石散", "3g×10袋"), ("阿莫西林胶囊", "0.25g×24粒"),
    ("硝苯地平缓释片", "10mg×30片"), ("速效救心丸", "40mg×60粒"), ("医用纱布", "8cm×10cm"),
]
KIND_NAMES = {"party_centre": "党群服务中心", "idle_room": "闲置用房", "property_room": "物业用房"}
ROLES = ["值班", "政策宣传", "便民服务", "矛盾调解"]


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def build(scale, rng: random.Random, report):
    communities = db.session.scalars(select(GridNode).where(GridNode.level == "community")
                                     .order_by(GridNode.sort_order, GridNode.id)).all()
    departments = db.session.scalars(select(Organisation.id).where(Organisation.kind == "department")
                                     .order_by(Organisation.id)).all()
    if not communities or not departments:
        report("  stations: no communities or departments, skipped")
        return
    estates: dict[int, list[GridNode]] = {}
    for e in db.session.scalars(select(GridNode).where(GridNode.level == "estate").order_by(GridNode.path)):
        estates.setdefault(e.community_id, []).append(e)
    admins = dict(db.session.execute(select(RoleGrant.node_id, RoleGrant.user_id)
                                     .where(RoleGrant.role == "community_admin")).all())
    now = utcnow()
    today = clock.today()
    names = _Names(rng)

    # --- Party-member volunteers (the demo "member" account is one of the first community's) ---
    pw = db.session.scalar(select(User.password_hash).where(User.username == "member")) or \
        db.session.scalar(select(User.password_hash).limit(1))
    uid = _next_id(User)
    users, grants, members_of = [], [], {}
    for c in communities:
        ids = []
        for e in estates.get(c.id, [c])[:MEMBERS_PER_COMMUNITY] * 2:
            if len(ids) >= MEMBERS_PER_COMMUNITY:
                break
            users.append({"id": uid, "username": f"pm{uid:06d}", "display_name": names.person(), "password_hash": pw,
                          "active": True, "phone": names.phone(), "created_at": now})
            grants.append({"user_id": uid, "role": "member", "node_id": e.id, "created_at": now})
            ids.append(uid)
            uid += 1
        members_of[c.id] = ids
    db.session.execute(insert(User), users)
    fix_sequence("user_account")
    db.session.execute(insert(RoleGrant), grants)
    demo_member = db.session.scalar(select(User.id).where(User.username == "member"))
    if demo_member:
        members_of[communities[0].id].insert(0, demo_member)

    # --- Stations, served grids, claims ---
    sid = _next_id(Station)
    stations, served, claims = [], [], []
    kinds = list(KIND_NAMES)
    used = set()
    photo = save_bytes("stations", _picture(), ".png")  # one stored picture, linked by every demo station
    for i in range(STATIONS * scale):
        c = communities[i % len(communities)]
        es = estates.get(c.id) or [c]
        e = es[(i // len(communities)) % len(es)]
        kind = kinds[i % 3]
        name = f"{e.name}先锋驿站" if e.level == "estate" else f"{c.name}先锋驿站{i}"
        while (c.id, name) in used:
            name += "二站"
        used.add((c.id, name))
        stations.append({"id": sid, "node_id": e.id, "community_id": c.id, "name": name, "kind": kind,
                         "address": e.address or c.address or "", "opening_hours": "每日 8:30-17:30",
                         "mode": "opinion" if i % 13 == 5 else "service", "weight": 1.5 if i % 10 == 0 else 1.0,
                         "cutoff_hours": 2, "photo": photo, "created_at": now, "version": 1})
        served.append({"station_id": sid, "node_id": e.id})
        if len(es) > 1 and i % 2 == 0:  # one-to-many: also the next estate
            served.append({"station_id": sid, "node_id": es[(es.index(e) + 1) % len(es)].id})
        claims.append({"station_id": sid, "organisation_id": departments[i % len(departments)],
                       "start_date": dt.date(2021, 3, 1) + dt.timedelta(days=rng.randrange(0, 300)),
                       "liaison_name": names.person(), "liaison_phone": names.phone()})
        sid += 1
    db.session.execute(insert(Station), stations)
    fix_sequence("stations_station")
    db.session.execute(insert(ServedGrid), served)
    db.session.execute(insert(Claim), claims)

    # --- Rota lines, shifts (4 weeks back, 2 ahead), sign-ups ---
    rid, shid, suid = _next_id(Rota), _next_id(Shift), _next_id(Signup)
    rotas, shifts, signups = [], [], []
    for k, st in enumerate(stations):
        lines = [(5, dt.time(9), dt.time(12), 2), ((k % 5), dt.time(14, 30), dt.time(17, 30), 2)]
        for weekday, a, b, needed in lines:
            rotas.append({"id": rid, "station_id": st["id"], "weekday": weekday, "start_time": a, "end_time": b,
                          "role": ROLES[k % len(ROLES)], "needed": needed, "restricted": False, "active": True})
            day = today - dt.timedelta(days=28)
            while day <= today + dt.timedelta(days=14):
                if day.weekday() == weekday:
                    shifts.append({"id": shid, "station_id": st["id"], "day": day, "starts_at": clock.to_utc(day, a),
                                   "ends_at": clock.to_utc(day, b), "role": ROLES[k % len(ROLES)], "needed": needed,
                                   "taken": 0, "restricted": False, "rota_id": rid, "incident_id": None})
                    shid += 1
                day += dt.timedelta(days=1)
            rid += 1
    # A shift running all day today at the first station, so the demo member can check in by its QR code.
    first = stations[0]
    shifts.append({"id": shid, "station_id": first["id"], "day": today,
                   "starts_at": clock.to_utc(today, dt.time(0, 0)), "ends_at": clock.to_utc(today, dt.time(23, 59)),
                   "role": "全天值守", "needed": 3, "taken": 0, "restricted": False, "rota_id": None, "incident_id": None})
    today_shift = shid
    shid += 1
    by_station = {st["id"]: st for st in stations}
    for sh in shifts:
        pool = members_of.get(by_station[sh["station_id"]]["community_id"]) or []
        if not pool:
            continue
        past = sh["ends_at"] < now
        n = sh["needed"] if past else rng.randrange(0, sh["needed"] + 1)
        chosen = rng.sample(pool[1:] if len(pool) > 1 else pool, min(n, max(1, len(pool) - 1)))
        if sh["id"] == today_shift and demo_member:
            chosen = [demo_member]
        elif past and demo_member and demo_member in pool and sh["station_id"] == first["id"] and demo_member not in chosen:
            chosen = [demo_member, *chosen[1:]]
        for m in chosen:
            outcome = None
            hours = 0.0
            if past:
                outcome = rng.choices(("worked", "no_show", "excused"), (90, 5, 5))[0]
                if outcome == "worked":
                    hours = round((sh["ends_at"] - sh["starts_at"]).total_seconds() / 3600
                                  * by_station[sh["station_id"]]["weight"], 2)
            admin = admins.get(by_station[sh["station_id"]]["community_id"])
            signups.append({"id": suid, "shift_id": sh["id"], "member_id": m, "status": "held",
                            "created_at": sh["starts_at"] - dt.timedelta(days=3),
                            "checked_in_at": sh["starts_at"] + dt.timedelta(minutes=rng.randrange(-10, 10))
                            if outcome == "worked" else None,
                            "checked_out_at": sh["ends_at"] if outcome == "worked" else None,
                            "outcome": outcome, "hours": hours, "marked_by_id": admin if past else None,
                            "marked_at": sh["ends_at"] if past else None})
            suid += 1
        sh["taken"] = len(chosen)
    db.session.execute(insert(Rota), rotas)
    db.session.execute(insert(Shift), shifts)
    db.session.execute(insert(Signup), signups)
    for t in ("stations_rota", "stations_shift", "stations_signup"):
        fix_sequence(t)

    _medicine(stations, scale, rng, names, today, now)
    _incidents(stations, rng, names, now)
    worked = sum(1 for s in signups if s["outcome"] == "worked")
    report(f"  stations: {len(stations)} stations, {len(claims)} claims, {len(users)} Party-member volunteers, "
           f"{len(shifts)} shifts, {len(signups)} sign-ups ({worked} worked)")


def _picture(width: int = 160, height: int = 100) -> bytes:
    """A small PNG drawn here (no image library): a red-roofed station on a pale sky."""
    def pixel(x, y):
        roof = 30 <= y < 50 and abs(x - width // 2) < (y - 20) * 2
        wall = 50 <= y < 90 and 40 <= x < 120
        door = 65 <= y < 90 and 72 <= x < 88
        if door:
            return b"\x6b\x3a\x1e"
        if wall:
            return b"\xf4\xe9\xd8"
        if roof:
            return b"\xc8\x1e\x1e"
        return b"\x9c\xc9\x6b" if y >= 90 else b"\xdc\xec\xf8"

    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def _medicine(stations, scale, rng, names, today, now):
    bid, mid = _next_id(MedicineBatch), _next_id(Move)
    batches, moves = [], []
    batches_of: dict[int, list[dict]] = {}
    for k, st in enumerate(stations):
        for j, (name, spec) in enumerate(rng.sample(MEDICINES, 10)):
            expiry = today + dt.timedelta(days=rng.randrange(60, 720))
            if j == 0 and k % 4 == 0:
                expiry = today + dt.timedelta(days=rng.randrange(3, 28))  # a warning on the page
            b = {"id": bid, "station_id": st["id"], "name": name, "spec": spec, "quantity": rng.randrange(5, 40),
                 "expiry": expiry, "donor": rng.choice(["区卫健委", "爱心药房", "社区卫生服务中心", "辖区企业", "居民捐赠"]),
                 "received_at": now - dt.timedelta(days=rng.randrange(400, 1100)), "removed_at": None,
                 "removed_reason": None, "_used": 0}
            batches.append(b)
            batches_of.setdefault(st["id"], []).append(b)
            bid += 1
    residents = RESIDENTS * scale
    items_goal = ITEMS * scale
    items = 0
    people = [(names.person(), names.phone()) for _ in range(residents)]
    k = 0
    while k < len(people) or items < items_goal:
        name, phone = people[k % len(people)]
        st = stations[(k * 7919) % len(stations)] if k < len(people) else stations[(k % len(people) * 7919) % len(stations)]
        b = rng.choice(batches_of[st["id"]])
        q = 2 if rng.random() < 0.12 else 1
        kind = "lend" if rng.random() < 0.15 else "give"
        at = now - dt.timedelta(days=rng.randrange(1, 1000), minutes=rng.randrange(0, 1440))
        returned = at + dt.timedelta(days=rng.randrange(1, 20)) if kind == "lend" and rng.random() < 0.8 else None
        moves.append({"id": mid, "batch_id": b["id"], "station_id": st["id"], "kind": kind, "quantity": q, "at": at,
                      "resident_name": name, "resident_phone": phone, "resident_key": f"{phone}|{name}",
                      "returned_at": returned, "note": "", "by_id": None})
        if not returned:
            b["_used"] += q
        items += q
        mid += 1
        k += 1
    for b in batches:
        moves.append({"id": mid, "batch_id": b["id"], "station_id": b["station_id"], "kind": "in",
                      "quantity": b["quantity"] + b.pop("_used"), "at": b["received_at"], "resident_name": "",
                      "resident_phone": "", "resident_key": None, "returned_at": None, "note": b["donor"], "by_id": None})
        mid += 1
    db.session.execute(insert(MedicineBatch), batches)
    for i in range(0, len(moves), 5000):
        db.session.execute(insert(Move), moves[i:i + 5000])
    fix_sequence("stations_batch")
    fix_sequence("stations_move")


def _incidents(stations, rng, names, now):
    """The epidemic: stations served as offices of temporary estate Party branches."""
    start = dt.datetime(2022, 11, 20, 1, 0)
    for st in stations[: max(3, len(stations) // 4)]:
        inc = Incident(station_id=st["id"], name="2022年冬季疫情防控", branch_name=f"{st['name']}临时党支部",
                       started_at=start, ended_at=start + dt.timedelta(days=28))
        db.session.add(inc)
        db.session.flush()
        db.session.add(BranchMember(incident_id=inc.id, name=names.person(), role="secretary", joined_at=start,
                                    left_at=inc.ended_at))
        for _ in range(4):
            db.session.add(BranchMember(incident_id=inc.id, name=names.person(), role="member", joined_at=start,
                                        left_at=inc.ended_at))
        for day, text in [(0, "临时党支部成立，设立24小时值守点"), (2, "组织党员志愿者分三班值守，协助核酸检测"),
                          (9, "共享药箱发放退烧药、抗原试剂"), (28, "解除应急状态，恢复日常服务")]:
            db.session.add(LogEntry(incident_id=inc.id, at=start + dt.timedelta(days=day, hours=rng.randrange(0, 10)),
                                    author="社区党委", text=text))


class _Names:
    SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
    GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志海燕红梅玉春晓东文斌俊浩然子涵雨萱"

    def __init__(self, rng):
        self.rng = rng

    def person(self) -> str:
        n = 2 if self.rng.random() < 0.6 else 1
        return self.rng.choice(self.SURNAMES) + "".join(self.rng.choice(self.GIVEN) for _ in range(n))

    def phone(self) -> str:
        return "1" + self.rng.choice(["35", "37", "38", "39", "50", "52", "58", "77", "80", "86", "89"]) + \
            f"{self.rng.randrange(10**8):08d}"
