"""The district's clock: at 23:30 UTC on Sunday 1 March 2026 it is already
07:30 on Monday 2 March in Beijing — a new ISO week. A visit recorded then
counts toward the new week's quota, the forms offer Monday's date, and a
special-group period starting on Monday is current."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from core import clock
from core.extensions import db
from plugins.affairs import services as S
from plugins.affairs.models import Visit

FROZEN = "2026-03-01 23:30"  # UTC: Sunday; Beijing: Monday 07:30
MONDAY = dt.date(2026, 3, 2)


def _date_default(html: str, name: str) -> str:
    m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    return m.group(1) if m else ""


def test_a_visit_at_0730_beijing_on_monday_counts_in_the_new_week(world, login):
    with clock.frozen(FROZEN):
        assert clock.today() == MONDAY
        c = login("worker_a")
        form = c.get("/affairs/visits/new").get_data(as_text=True)
        day = _date_default(form, "visit_date")
        assert day == "2026-03-02"  # the form's default is Beijing's date, not the server's
        resp = c.post("/affairs/visits/new", data={"target": f"r:{world.res_a.id}", "kind": "home", "finding": "none",
                                                  "notes": "", "visit_date": day})
        assert resp.status_code == 302
        v = db.session.scalar(select(Visit))
        assert (v.visit_date, v.iso_year, v.iso_week) == (MONDAY, 2026, 10)
        widget = c.get("/affairs/widgets/my-week").get_data(as_text=True)
        assert 'data-testid="widget-my-week">1 / 3<' in widget
        comp = login("cadmin").get("/affairs/compliance").get_data(as_text=True)
        assert 'data-testid="visits-worker_a">1<' in comp
        # Last week (ISO week 9) had none.
        last = login("cadmin").get("/affairs/compliance?week=2026-W09").get_data(as_text=True)
        assert 'data-testid="visits-worker_a">0<' in last


def test_a_visit_for_tomorrow_in_beijing_is_refused_and_today_is_not(world):
    with clock.frozen(FROZEN):
        S.record_visit(worker=world.worker_a, node=world.tree.zones[0], day=MONDAY, kind="home", finding="none",
                       notes=None, resident=world.res_a)
        try:
            S.record_visit(worker=world.worker_a, node=world.tree.zones[0], day=MONDAY + dt.timedelta(days=1),
                           kind="home", finding="none", notes=None, resident=world.res_a)
        except S.AffairsError as exc:
            assert exc.field == "visit_date"
        else:
            raise AssertionError("a visit on a future day was accepted")


def test_form_defaults_and_the_current_special_group_use_the_district_date(world, login):
    with clock.frozen(FROZEN):
        c = login("cadmin")
        page = c.get(f"/affairs/residents/{world.res_a.id}").get_data(as_text=True)
        assert _date_default(page, "t-start_date") == "2026-03-02"
        assert _date_default(page, "e-end_date") in ("", "2026-03-02")  # shown only with an open period
        resp = c.post(f"/affairs/residents/{world.res_a.id}/groups",
                      data={"t-group_type_id": S.ensure_group_types()[0].id, "t-start_date": "2026-03-02"})
        assert resp.status_code == 302
        db.session.commit()
        listed = c.get(f"/affairs/residents?group={S.ensure_group_types()[0].id}").get_data(as_text=True)
        assert world.res_a.name in listed  # current from Monday, Beijing's today
