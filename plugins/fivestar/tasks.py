"""Background and periodic tasks: a community's month is scored as a job
after it ends (every community on the 1st at 02:30, or "compute now"), and
the community's admins are told it waits for review."""

from __future__ import annotations

import datetime as dt

from core import clock
from core.extensions import db
from core.i18n import N_
from core.models import GridNode
from core.notify import notify

from .services import month_start, scoring

COMPUTE = "fivestar.compute_month"
COMPUTED = N_("The scores of %(community)s for %(month)s are computed: review and publish them.")
PUBLISHED = N_("Your service score for %(month)s is published: %(points)s points. See how it was scored.")
SUBMITTED = N_("%(community)s submitted its ledger of %(quarter)s for filing.")
OBJECTION = N_("An objection was raised against the nomination of %(member)s in %(batch)s.")


def compute_month_task(job, community_id: int, month: str):
    """A job: score one community's month (params are JSON: an id and YYYY-MM)."""
    node = db.session.get(GridNode, community_id)
    day = dt.date.fromisoformat(month + "-01")
    job.progress(0, 1)
    sm = scoring.compute_month(node, day)
    db.session.flush()
    tell_computed(sm)
    job.progress(1, 1)
    return {"month_id": sm.id}


def monthly(community_id: int) -> int:
    """Periodic, per community: score last month if it is not scored yet."""
    last = month_start(month_start(clock.today()) - dt.timedelta(days=1))
    if scoring.month_of(community_id, last) is not None:
        return 0
    sm = scoring.compute_month(db.session.get(GridNode, community_id), last)
    db.session.flush()
    tell_computed(sm)
    return 1


def tell_computed(sm) -> int:
    return notify("fivestar.month_computed", COMPUTED,
                  {"community": sm.community.name, "month": sm.month.strftime("%Y-%m")},
                  role="community_admin", node=sm.community, link=("fivestar.month", {"month_id": sm.id}),
                  about=sm, key=f"fivestar:computed:{sm.id}:{sm.computed_at.isoformat()}")


def tell_published(sm, scores) -> int:
    sent = 0
    for sc in scores:
        sent += notify("fivestar.month_published", PUBLISHED,
                       {"month": sm.month.strftime("%Y-%m"), "points": f"{sc.total:g}"},
                       users=[sc.member_id], node=sm.community, link=("fivestar.me", {}), about=sm,
                       key=f"fivestar:published:{sm.id}:{sc.member_id}")
    return sent


def tell_submitted(f) -> int:
    from .services.rules import district_node

    return notify("fivestar.quarter_submitted", SUBMITTED, {"community": f.community.name, "quarter": f.label},
                  role="district_admin", node=district_node(), link=("fivestar.filing", {"filing_id": f.id}),
                  about=f, key=f"fivestar:submitted:{f.id}:{f.submitted_at.isoformat()}")


def tell_objection(o) -> int:
    from .services.rules import district_node

    n = o.nomination
    return notify("fivestar.objection", OBJECTION, {"member": n.member.display_name, "batch": n.batch.title},
                  role="district_admin", node=district_node(), link=("fivestar.batch", {"batch_id": n.batch_id}),
                  about=n, key=f"fivestar:objection:{o.id}")
