"""Demo data: 18 months of members' service (manual records with evidence
notes), three half-year rating rounds, every month scored and published,
every quarter filed, and two completed five-star batches that award exactly
36 members — each nominated through the same eligibility check the app uses,
so the awards are reproducible from the records.

Deterministic for a seed; the history lies in fixed past months (July 2024 to
December 2025) so that it does not move with the day the demo is built.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import zlib

from sqlalchemy import insert, select

from core import clock, uploads
from core.demo import Names
from core.extensions import db
from core.models import GridNode, RoleGrant, User, utcnow

from .models import MODULE, ManualRecord, QuarterFiling, RatingResponse, RatingRound
from .services import batches as batches_svc
from .services import month_end, quarter_months, scoring
from .services import records as records_svc
from .services import rules as rules_svc

MEMBERS_PER_COMMUNITY = 3
BATCH_SIZES = (18, 18)  # 36 five-star members in the seed
MONTHS = [dt.date(2024, 7, 1)] + [dt.date(2024 + (m // 12), m % 12 + 1, 1) for m in range(7, 24)]
ROUNDS = (("2024H2", dt.date(2024, 12, 1), dt.date(2024, 12, 20)),
          ("2025H1", dt.date(2025, 6, 1), dt.date(2025, 6, 20)),
          ("2025H2", dt.date(2025, 12, 1), dt.date(2025, 12, 20)))
ITEMS = ["服务态度", "服务效果", "响应及时"]
BATCHES = ((1, "第一批“五星级”在职党员评定", dt.date(2025, 7, 1)),
           (2, "第二批“五星级”在职党员评定", dt.date(2026, 1, 5)))
MIN_QUARTER, MIN_RATING = 25.0, 4.5
TITLES = [("service", "清理楼道杂物"), ("publicity", "垃圾分类宣传"), ("mediation", "调解邻里纠纷"),
          ("problem", "协调解决楼道灯不亮"), ("service", "帮扶空巢老人"), ("duty", "先锋驿站值守"),
          ("publicity", "反诈宣传进小区"), ("problem", "疏通小区排水沟")]
CONFIRMERS = ["楼栋长", "网格员", "小区党支部书记", "物业项目经理", "社区居委会"]


def _png(rgb: tuple[int, int, int]) -> bytes:
    """A small one-colour PNG: the demo's stand-in for a photographed confirmation sheet."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    w = h = 8
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _members(rng: random.Random, names: Names, communities) -> dict[int, list[int]]:
    """Three members per community: those registered already, then new ones."""
    from core.demo import DEMO_PASSWORD

    pw = User(username="x", display_name="x")
    pw.set_password(DEMO_PASSWORD)
    out: dict[int, list[int]] = {}
    n = 0
    for c in communities:
        ids = [u.id for u in records_svc.members_of(c.id)][:MEMBERS_PER_COMMUNITY]
        zones = list(db.session.scalars(select(GridNode.id).where(
            GridNode.community_id == c.id, GridNode.level == "zone").order_by(GridNode.id).limit(40)))
        while len(ids) < MEMBERS_PER_COMMUNITY:
            n += 1
            user = User(username=f"fsmember{c.sort_order:02d}{len(ids) + 1}", display_name=names.person(),
                        phone=names.phone(), password_hash=pw.password_hash, active=True)
            db.session.add(user)
            db.session.flush()
            db.session.add(RoleGrant(user_id=user.id, role="member", node_id=rng.choice(zones) if zones else c.id))
            ids.append(user.id)
        out[c.id] = ids
    db.session.flush()
    records_svc.sync_members()
    return out


def build(scale, rng: random.Random, report) -> None:
    rng = random.Random(rng.random())  # our own stream: other modules' draws do not shift ours
    names = Names(rng)
    district = rules_svc.district_node()
    rules_svc.ensure_default()
    communities = list(db.session.scalars(select(GridNode).where(GridNode.level == "community")
                                          .order_by(GridNode.sort_order, GridNode.id)))
    members = _members(rng, names, communities)
    everyone = [(c.id, m) for c in communities for m in members[c.id]]
    # Who is awarded in which batch: spread over the communities, decided by the seed.
    order = everyone[:]
    rng.shuffle(order)
    # The demo login "member" is among the first batch, so signing in as them shows a star.
    login = db.session.scalar(select(User.id).where(User.username == "member"))
    order.sort(key=lambda cm: cm[1] != login)
    # 18 + 18 in the seed district; a smaller tree (tests) splits what it has.
    n1, n2 = BATCH_SIZES if len(order) >= sum(BATCH_SIZES) else (len(order) // 2, len(order) - len(order) // 2)
    first = {m for _c, m in order[:n1]}
    second = {m for _c, m in order[n1:n1 + n2]}
    home = dict(db.session.execute(select(RoleGrant.user_id, RoleGrant.node_id).where(
        RoleGrant.role == "member", RoleGrant.user_id.in_([m for _c, m in everyone]))).all())

    # Evidence: one stored confirmation sheet a community (through core.uploads), so
    # every demo record's evidence link answers.
    sheets = {c.id: {"evidence_file": uploads.save_bytes(MODULE, _png((200, 60 + 10 * (i % 15), 60)), ".png"),
                     "evidence_name": "确认单.png", "evidence_type": "image/png"}
              for i, c in enumerate(communities)}
    # Records: 3 a month meet the criteria (3 × 3 points × 3 months = 27 a quarter), 2 do not.
    rows = []
    for cid, m in everyone:
        for month in MONTHS:
            good = m in first or (m in second and month >= dt.date(2025, 1, 1))
            for _k in range(3 if good else 2):
                kind, title = rng.choice(TITLES)
                rows.append({"node_id": home.get(m, cid), "community_id": cid, "member_id": m,
                             "day": month + dt.timedelta(days=rng.randrange(2, 26)), "hours": rng.choice((1, 1.5, 2, 3)),
                             "kind": kind, "title": title, "note": f"{rng.choice(CONFIRMERS)}确认",
                             "created_at": utcnow(), **sheets[cid]})
    # A few recent records, not yet scored, for trying "compute now".
    today = clock.today()
    for cid, m in everyone[: 6 * MEMBERS_PER_COMMUNITY]:
        kind, title = rng.choice(TITLES)
        rows.append({"node_id": home.get(m, cid), "community_id": cid, "member_id": m,
                     "day": today - dt.timedelta(days=rng.randrange(1, 40)), "hours": 2, "kind": kind,
                     "title": title, "note": f"{rng.choice(CONFIRMERS)}确认", "created_at": utcnow(),
                     **sheets[cid]})
    db.session.execute(insert(ManualRecord), rows)

    # Rating rounds: five ratings a member a round; the batch's members rate at least 4.6.
    responses = []
    for c in communities:
        for half, opens, closes in ROUNDS:
            rnd = RatingRound(community_id=c.id, half=half, items=ITEMS, opens_on=opens, closes_on=closes, closed=True)
            db.session.add(rnd)
            db.session.flush()
            for m in members[c.id]:
                good = m in first or (m in second and half != "2024H2")
                for i in range(5):
                    stars = [5 if good and (rng.random() < 0.8 or j == 0) else rng.choice((3, 4)) for j in ITEMS]
                    if good:
                        stars = [max(s, 4) for s in stars]
                    opinion = rng.choice(["", "", "服务很热心", "有求必应，谢谢", "希望多来小区看看"])
                    responses.append({"round_id": rnd.id, "member_id": m, "resident_key": f"sheet:居民代表{i + 1}",
                                      "channel": "sheet", "stars": stars, "average": round(sum(stars) / 3, 2),
                                      "opinion": opinion, "moderation": "approved",
                                      "created_at": utcnow()})
    db.session.execute(insert(RatingResponse), responses)
    db.session.flush()

    # Every month scored (by the same service as "compute now") and published; every quarter filed.
    with clock.frozen(clock.to_utc(dt.date(2026, 1, 2), dt.time(9)).replace(tzinfo=dt.UTC)):
        for c in communities:
            for month in MONTHS:
                sm = scoring.compute_month(c, month)
                sm.state, sm.published_at = "published", clock.to_utc(month_end(month) + dt.timedelta(days=3),
                                                                        dt.time(10))
        filings = []
        for c in communities:
            for year, q in ((2024, 3), (2024, 4), (2025, 1), (2025, 2), (2025, 3), (2025, 4)):
                last = quarter_months(year, q)[-1]
                filings.append({"community_id": c.id, "year": year, "quarter": q, "state": "filed",
                                "submitted_at": clock.to_utc(month_end(last) + dt.timedelta(days=5), dt.time(9)),
                                "filed_at": clock.to_utc(month_end(last) + dt.timedelta(days=12), dt.time(9)),
                                "note": "", "version": 1})
        db.session.execute(insert(QuarterFiling), filings)
    db.session.flush()

    # The two batches, through the app's own rules: eligibility, review, notice, objection, award.
    awarded = 0
    for (number, title, opened), chosen in zip(BATCHES, (first, second), strict=True):
        b = batches_svc.open_batch(number=number, title=title, opened_on=opened, min_quarter_score=MIN_QUARTER,
                                   min_rating=MIN_RATING)
        b.node_id = district.id
        for cid, m in everyone:
            if m in chosen:
                n = batches_svc.nominate(b, cid, m, None)
                db.session.flush()
                batches_svc.decide(n, True, "符合条件")
        batches_svc.start_notice(b, today=opened + dt.timedelta(days=14))
        db.session.flush()
        some = db.session.scalar(select(batches_svc.Nomination).where(batches_svc.Nomination.batch_id == b.id)
                                 .order_by(batches_svc.Nomination.id).limit(1))
        with clock.frozen(clock.to_utc(b.notice_start + dt.timedelta(days=2), dt.time(10)).replace(tzinfo=dt.UTC)):
            o = batches_svc.object_to(some, "该党员平时工作较忙，参加活动次数存疑。")
            db.session.flush()
            batches_svc.answer(o, "经核实，该党员服务记录均有佐证，异议不成立。", False, None)
        awarded += batches_svc.award(b, today=b.notice_end + dt.timedelta(days=1))
    db.session.flush()
    report(f"fivestar: {len(everyone)} members, {len(rows)} service records, {len(MONTHS)} months published, "
           f"2 batches, {awarded} five-star members")
