"""Accepted completions as the core's service records (read by the five-star module)."""

from __future__ import annotations

from flask import url_for

from core import clock
from core.plugins import ServiceRecord

from ..queries import accepted_takes


def service_records(member_ids, start, end) -> list[ServiceRecord]:
    out = []
    for t in accepted_takes(member_ids, start, end):
        order = t.order
        try:
            link = url_for("orders.order", order_id=order.id)
        except RuntimeError:  # no request or server name: a record without a link
            link = ""
        out.append(ServiceRecord(
            source="orders", key=f"take:{t.id}", member_id=t.member_id, date=clock.local_date(order.starts_at),
            hours=float(t.report_hours or order.hours), kind="order", title=order.title,
            community_id=order.community_id, evidence=t.report_text[:200], link=link, confirmed=True,
        ))
    return out
