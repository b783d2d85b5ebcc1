"""The visit-quota reminder (periodic task "affairs.visit_quota", per community).

Run every hour on the hour by the core (only for communities where the module
is on); it acts on the community's configured weekday from its hour on
(services.reminder_schedule: Thursday 09:00 unless set) and tells each grid
worker of the community who is short of the weekly quota so far. The key
(ISO year, week, worker) makes it once a week per worker, however many
consumers or hourly runs there are; a run missed at the hour (no consumer
then) is caught up by the next hourly run of the same day.
"""

from __future__ import annotations

from core import clock
from core.extensions import db
from core.i18n import N_
from core.models import GridNode
from core.notify import notify

from .quota import compliance
from .visits import reminder_schedule, weekly_quota

SHORT_OF_QUOTA = N_("Week %(week)s: you have made %(visits)s of your %(quota)s visits in %(community)s. "
                    "The week ends on Sunday.")


def visit_quota_reminders(community_id: int) -> int:
    """Notify the community's grid workers short of their weekly quota, on its
    reminder day from its hour on. Returns how many were notified (anew)."""
    now = clock.now()
    weekday, hour = reminder_schedule(community_id)
    if now.isoweekday() != weekday or now.hour < hour:
        return 0
    community = db.session.get(GridNode, community_id)
    if community is None:
        return 0
    year, week = clock.iso_week(now.date())
    quota = weekly_quota(community_id)
    if quota <= 0:
        return 0
    sent = 0
    for row in compliance(community, year, week, quota):
        if row.met:
            continue
        params = {"week": f"{year}-W{week:02d}", "visits": row.visits, "quota": quota, "community": community.name}
        sent += notify("affairs.visit_quota", SHORT_OF_QUOTA, params, users=[row.user.id], node=community,
                       link=("affairs.visit_new", {}), key=f"quota:{year}-{week}:{row.user.id}")
    return sent
