"""Demo data: members registered in every community, posts adopted from the
district's templates, orders in every state, commitments on the board, and
exactly 25 public-benefit projects (at scale 1) each matched from a resource
and a need. Deterministic for the seed; rows go in with one flush per table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import clock
from core.extensions import db
from core.models import CommitteeMember, GridNode, Organisation, RoleGrant, User, utcnow

from .models import Commitment, Need, Order, Project, Registration, Resource, ServicePost, Take

TEMPLATES = [
    ("政策宣传", "party_service", "政策宣传, 宣讲", "走进楼栋宣讲惠民政策、党的方针政策"),
    ("垃圾分类", "governance", "垃圾分类, 环保", "垃圾分类督导与入户宣传"),
    ("矛盾调解", "governance", "法律, 调解", "邻里纠纷调解、法律咨询"),
    ("课业辅导", "specific_groups", "辅导, 教育", "为留守儿童、困难家庭子女课业辅导"),
    ("关爱老人", "specific_groups", "医疗, 陪护", "走访空巢老人、健康义诊"),
    ("文明创建", "party_service", "志愿服务", "文明城市创建志愿服务"),
    ("社工站服务", "social_work", "社工, 心理", "社工站活动组织与心理疏导"),
    ("平安巡逻", "governance", "巡逻, 安全", "夜间平安巡逻与消防隐患排查"),
]
SKILL_SETS = ["政策宣传, 宣讲", "法律, 调解", "辅导, 教育", "医疗, 陪护", "垃圾分类, 环保", "社工, 心理",
              "巡逻, 安全", "志愿服务"]
RESOURCES = {
    "governance": ("money", "社区治理微项目资金", 20000, "元"),
    "social_work": ("venue", "社工站活动室", 120, "平方米"),
    "specific_groups": ("skill", "志愿医生义诊", 12, "次"),
    "party_service": ("material", "宣传展板与资料", 300, "份"),
}
NEEDS = {
    "governance": ("老旧小区楼道杂物清理", "visit"),
    "social_work": ("青少年暑期托管", "resident"),
    "specific_groups": ("空巢老人定期探访", "visit"),
    "party_service": ("政策宣讲进小区", "problem"),
}
PROJECT_NAMES = {
    "governance": "楼道微治理", "social_work": "社工站暑托班", "specific_groups": "银龄关爱行动",
    "party_service": "红色宣讲团",
}
CATEGORY_ORDER = ("governance", "social_work", "specific_groups", "party_service")
SEED_PROJECTS = 25


def build(scale, rng, report):
    today = clock.today()
    now = utcnow()
    district = db.session.scalar(select(GridNode).where(GridNode.level == "district"))
    communities = list(db.session.scalars(
        select(GridNode).where(GridNode.level == "community").order_by(GridNode.sort_order, GridNode.id)))
    if not communities:
        return
    pw = db.session.scalar(select(User.password_hash).where(User.username == "member")) or \
        db.session.scalar(select(User.password_hash).limit(1))
    admins = {cid: uid for uid, cid in db.session.execute(
        select(RoleGrant.user_id, RoleGrant.node_id).where(RoleGrant.role == "community_admin"))}
    department = db.session.scalar(select(Organisation.id).where(Organisation.kind == "department")
                                   .order_by(Organisation.id).limit(1))
    committees: dict[int, list[int]] = {}
    for cid, oid in db.session.execute(select(CommitteeMember.community_id, CommitteeMember.organisation_id)
                                       .order_by(CommitteeMember.id)):
        committees.setdefault(cid, []).append(oid)

    templates = [ServicePost(node_id=district.id, is_template=True, name=n, category=c, skills=s, description=d)
                 for n, c, s, d in TEMPLATES]
    db.session.add_all(templates)
    db.session.flush()

    demo_member = db.session.scalar(select(User).where(User.username == "member"))
    n_regs = n_orders = n_takes = n_commit = 0
    project_plan = _project_plan(len(communities), scale)
    projects = 0
    for ci, c in enumerate(communities):
        admin_id = admins.get(c.id)
        estates = list(db.session.scalars(select(GridNode).where(GridNode.parent_id == c.id)
                                          .order_by(GridNode.sort_order)))
        homes = [db.session.scalar(select(GridNode).where(GridNode.path.startswith(e.path),
                                                          GridNode.level == "zone").order_by(GridNode.path).limit(1))
                 for e in estates[:4]]
        # Posts: five templates adopted, in a rotating choice.
        posts = []
        for k in range(5):
            t = templates[(ci + k) % len(templates)]
            posts.append(ServicePost(node_id=c.id, template_id=t.id, name=t.name, category=t.category,
                                     skills=t.skills, description=t.description, grids=estates[:2]))
        db.session.add_all(posts)
        # Members: eight confirmed, one waiting, one returned.
        members = []
        units = committees.get(c.id, []) or [department]
        for k in range(10):
            u = User(username=f"m{ci + 1:03d}{k + 1:02d}", display_name=_name(rng), password_hash=pw,
                     phone=_phone(rng), active=True, created_at=now)
            members.append(u)
        if ci == 0 and demo_member is not None:
            members[0] = demo_member
        db.session.add_all(members)
        db.session.flush()
        regs = []
        for k, u in enumerate(members):
            state = "confirmed" if k < 8 else ("submitted" if k == 8 else "returned")
            home = homes[k % len(homes)] if homes and homes[k % len(homes)] is not None else None
            estate = estates[k % len(estates)] if estates else None
            org = department if k == 0 and ci < 3 else units[k % len(units)]
            regs.append(Registration(
                user_id=u.id, community_id=c.id, home_node_id=home.id if home else None, employer_org_id=org,
                party_branch="机关第一党支部" if k % 2 else "机关第二党支部",
                address=f"{estate.name}1栋1单元" if estate else "", phone=u.phone or _phone(rng),
                skills=SKILL_SETS[(ci + k) % len(SKILL_SETS)], resources="", hours_per_month=4 + k % 5,
                state=state, reason="请补充所在党支部" if state == "returned" else "",
                created_at=now - dt.timedelta(days=30 - k), decided_at=now if state != "submitted" else None,
                decided_by_id=admin_id if state != "submitted" else None))
            if state == "confirmed" and u is not demo_member:
                db.session.add(RoleGrant(user_id=u.id, role="member", node_id=c.id))
        db.session.add_all(regs)
        n_regs += len(regs)
        db.session.flush()
        confirmed = members[:8]
        node_for = (estates or [c])
        # Orders in every state.
        specs = [  # (days from today, needed, taken, state, take state)
            (5, 4, 1, "open", "taken"),          # open for taking
            (9, 6, 0, "open", None),             # open, nobody yet
            (3, 2, 2, "open", "taken"),          # full
            (7, 3, 0, "cancelled", None),        # cancelled
            (-2, 3, 3, "open", "reported"),      # under way: reports to check
            (-10, 3, 3, "closed", "accepted"),   # closed: accepted, a service record
        ]
        for k, (days, needed, taken, state, take_state) in enumerate(specs):
            post = posts[k % len(posts)]
            day = today + dt.timedelta(days=days)
            starts = clock.to_utc(day, dt.time(9, 0))
            o = Order(post_id=post.id, node_id=node_for[k % len(node_for)].id, community_id=c.id,
                      title=f"{post.name}:{_order_title(post.name)}", description=post.description,
                      skills=post.skills, starts_at=starts, hours=2.0,
                      deadline=starts - dt.timedelta(days=1), needed=needed, taken=taken, state=state,
                      created_by_id=admin_id, created_at=starts - dt.timedelta(days=14))
            db.session.add(o)
            db.session.flush()
            n_orders += 1
            for j in range(taken):
                m = confirmed[(k + j) % len(confirmed)]
                t = Take(order_id=o.id, member_id=m.id, state=take_state, taken_at=o.created_at)
                if take_state in ("reported", "accepted"):
                    t.report_text, t.report_hours, t.reported_at = "已按要求完成服务", 2.0, starts + dt.timedelta(hours=3)
                if take_state == "accepted":
                    t.decided_at, t.decided_by_id = starts + dt.timedelta(days=1), admin_id
                db.session.add(t)
                n_takes += 1
        # Commitments: each confirmed member states one; some done, some overdue.
        for k, m in enumerate(confirmed):
            post = posts[k % len(posts)]
            deadline = today + dt.timedelta(days=(-5 if k % 4 == 3 else 30 + k))
            db.session.add(Commitment(
                community_id=c.id, member_id=m.id, post_id=post.id, text=f"每月参加{post.name}服务不少于2次",
                items=post.name, deadline=deadline, done_at=now - dt.timedelta(days=1) if k % 4 == 0 else None,
                created_at=now - dt.timedelta(days=20)))
            n_commit += 1
        # Resources and needs, one of each category; then this community's projects.
        units = committees.get(c.id, [])
        res, needs = {}, {}
        for k, cat in enumerate(CATEGORY_ORDER):
            kind, title, amount, unit = RESOURCES[cat]
            res[cat] = Resource(node_id=c.id, community_id=c.id, org_id=units[k % len(units)] if units and k % 2 == 0
                                else None, category=cat, kind=kind, title=title, amount=amount, unit=unit)
            ntitle, source = NEEDS[cat]
            needs[cat] = Need(node_id=(estates[k % len(estates)] if estates else c).id, community_id=c.id,
                              category=cat, title=ntitle, source=source,
                              source_ref=f"demo:{ci + 1}-{k + 1}")
        db.session.add_all([*res.values(), *needs.values()])
        db.session.flush()
        for k in range(project_plan[ci]):
            cat = CATEGORY_ORDER[(ci + k) % len(CATEGORY_ORDER)]
            r, n = res[cat], needs[cat]
            p = Project(community_id=c.id, name=f"{c.name}{PROJECT_NAMES[cat]}", category=cat,
                        budget=r.amount if r.kind == "money" else 5000, state=("planned", "running", "done")[k % 3],
                        result="服务居民200余人次" if k % 3 == 2 else "", created_by_id=admin_id)
            p.resources, p.needs = [r], [n]
            p.partners = [db.session.get(Organisation, r.org_id)] if r.org_id else []
            p.members = confirmed[:2]
            db.session.add(p)
            projects += 1
        db.session.flush()
    report(f"orders: {n_regs} registrations, {len(communities) * 5} posts from {len(templates)} templates, "
           f"{n_orders} orders ({n_takes} takes), {n_commit} commitments, {projects} projects")


def _project_plan(n_communities: int, scale: int) -> list[int]:
    """How many projects each community gets: 25 × scale in all, spread evenly."""
    total = SEED_PROJECTS * scale
    base, extra = divmod(total, n_communities)
    return [base + (1 if i < extra else 0) for i in range(n_communities)]


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚华建国志海燕红梅玉兰春晓东文斌俊浩"


def _name(rng) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


def _phone(rng) -> str:
    return "1" + rng.choice(["35", "37", "38", "39", "58", "86"]) + f"{rng.randrange(10**8):08d}"


def _order_title(post_name: str) -> str:
    return {"政策宣传": "楼栋政策宣讲", "垃圾分类": "周末分类督导", "矛盾调解": "调解室值守", "课业辅导": "周末作业辅导",
            "关爱老人": "空巢老人探访", "文明创建": "文明交通劝导", "社工站服务": "亲子活动组织",
            "平安巡逻": "夜间平安巡逻"}.get(post_name, "志愿服务")
