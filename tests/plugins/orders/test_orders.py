"""Orders: placing, the fitting list, taking, withdrawing, assigning, the
completion report and its acceptance, and the service records it offers."""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.plugins import service_records
from plugins.orders.models import Commitment, Order, Take
from plugins.orders.services import commitments as commit_svc
from plugins.orders.services import orders as svc

from .conftest import place_order, start_order

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def _order_form(world, **over):
    day = clock.today() + dt.timedelta(days=6)
    data = {"post_id": world.post1.id, "node_id": world.tree.estates[0].id, "title": "周末政策宣讲",
            "description": "", "day": day.isoformat(), "time": "09:00", "hours": "2",
            "deadline_day": (day - dt.timedelta(days=1)).isoformat(), "deadline_time": "18:00",
            "needed": "3", "skills": "", "need_id": "0"}
    data.update(over)
    return data


def test_the_community_places_an_order(client, world, login):
    login("admin1")
    resp = client.post(f"/orders/new?community={world.c1.id}", data=_order_form(world))
    assert resp.status_code == 302
    o = db.session.scalar(select(Order).where(Order.title == "周末政策宣讲"))
    assert o.community_id == world.c1.id and o.needed == 3 and o.skills == "政策宣传"  # the post's skills
    assert clock.local(o.starts_at).hour == 9  # 09:00 in the district, stored as UTC


def test_bad_order_input_stays_in_the_form(client, world, login):
    login("admin1")
    before = db.session.scalar(select(func.count()).select_from(Order))
    past = (clock.today() - dt.timedelta(days=1)).isoformat()
    resp = client.post(f"/orders/new?community={world.c1.id}", data=_order_form(world, day=past, deadline_day=past))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "订单开始时间须晚于现在" in html and 'value="周末政策宣讲"' in html
    resp = client.post(f"/orders/new?community={world.c1.id}", data=_order_form(world, needed="0"))
    assert "人数须在 1 到" in resp.get_data(as_text=True)
    resp = client.post(f"/orders/new?community={world.c1.id}", data=_order_form(world, needed="abc"))
    assert resp.status_code == 200
    # a grid of the other community is not a place for this community's order
    resp = client.post(f"/orders/new?community={world.c1.id}", data=_order_form(world, node_id=world.c2.id))
    assert resp.status_code == 200  # not a valid choice
    assert db.session.scalar(select(func.count()).select_from(Order)) == before


def test_members_see_fitting_orders_first(client, world, login):
    other = place_order(world, title="整理图书", skills="图书", days=2)
    fitting = place_order(world, title="楼栋政策宣讲", skills="政策宣传", days=8)
    login("mem1")
    html = client.get("/orders/").get_data(as_text=True)
    section = html.split("适合您的订单")[1].split("全部订单")[0]
    assert section.index("楼栋政策宣讲") < section.index("整理图书")   # skills first, though later
    assert "适合您" in section
    assert other.id and fitting.id


def test_take_full_and_withdraw(client, world, login):
    o = place_order(world, needed=1)
    login("mem1")
    resp = client.post(f"/orders/{o.id}/take", follow_redirects=True)
    assert "接单成功" in resp.get_data(as_text=True)
    login("mem2")
    resp = client.post(f"/orders/{o.id}/take", follow_redirects=True)
    assert "该订单已满" in resp.get_data(as_text=True)
    login("mem1")
    resp = client.post(f"/orders/{o.id}/take", follow_redirects=True)
    assert "已满" in resp.get_data(as_text=True)  # no second place for the same member either
    resp = client.post(f"/orders/{o.id}/withdraw", follow_redirects=True)
    assert "您已退出该订单" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, o.id).taken == 0


def test_the_same_member_cannot_take_twice(world):
    o = place_order(world, needed=3)
    svc.take(o.id, world.members[0])
    try:
        svc.take(o.id, world.members[0])
        raise AssertionError("a second take passed")
    except svc.OrdersError as exc:
        assert "已接过" in str(exc) or "already" in str(exc)
    db.session.expire_all()
    assert db.session.get(Order, o.id).taken == 1


def test_withdrawing_closes_before_the_start(client, world, login):
    o = place_order(world, days=1)
    svc.take(o.id, world.members[0])
    with clock.frozen(o.starts_at - dt.timedelta(hours=svc.WITHDRAW_HOURS - 1)):
        login("mem1")
        resp = client.post(f"/orders/{o.id}/withdraw", follow_redirects=True)
        assert "不能自行退出" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, o.id).taken == 1


def test_taking_closes_at_the_deadline(world):
    o = place_order(world)
    with clock.frozen(o.deadline + dt.timedelta(minutes=1)):
        try:
            svc.take(o.id, world.members[0])
            raise AssertionError("taken after the deadline")
        except svc.OrderFull as exc:
            assert "截止" in str(exc) or "closed" in str(exc)


def test_direct_assignment_by_the_community(client, world, login):
    o = place_order(world)
    login("admin1")
    client.post(f"/orders/{o.id}/assign", data={"member_id": world.members[1].id})
    row = db.session.scalar(select(Take).where(Take.order_id == o.id))
    assert row.member_id == world.members[1].id and row.assigned_by_id == world.admin1.id
    # a member of another community cannot be assigned here
    resp = client.post(f"/orders/{o.id}/assign", data={"member_id": world.members[2].id}, follow_redirects=True)
    assert "请选择已在本社区报到的党员" in resp.get_data(as_text=True)


def test_report_accept_service_record_and_commitment_done(client, world, login):
    o = place_order(world)
    member = world.members[0]
    commitment = commit_svc.commit_to(member, world.c1, text="每月宣讲两次", items="政策宣传",
                                      deadline=clock.today() + dt.timedelta(days=30), post=world.post1)
    db.session.commit()
    row = svc.take(o.id, member)
    login("mem1")
    resp = client.post(f"/orders/takes/{row.id}/report", data={"text": "宣讲", "hours": "2"})
    assert "订单尚未开始" in resp.get_data(as_text=True)  # too early
    start_order(o)
    resp = client.post(f"/orders/takes/{row.id}/report", data={"text": "", "hours": "2"})
    assert "请填写服务内容或上传照片" in resp.get_data(as_text=True)
    resp = client.post(f"/orders/takes/{row.id}/report",
                       data={"text": "", "hours": "2.5", "photo": (io.BytesIO(PNG), "done.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    login("admin1")
    assert client.get(f"/orders/takes/{row.id}/photo").data == PNG
    client.post(f"/orders/takes/{row.id}/accept")
    db.session.expire_all()
    assert db.session.get(Take, row.id).state == "accepted"
    assert db.session.get(Commitment, commitment.id).done_at is not None   # the board shows it done
    day = clock.local_date(o.starts_at)
    records = service_records([member.id], day, day)
    assert [(r.source, r.key, r.hours, r.kind) for r in records] == [("orders", f"take:{row.id}", 2.5, "order")]
    login("mem1")
    assert "近一年已验收服务 1 次" in client.get("/orders/me").get_data(as_text=True)


def test_returning_a_report_needs_a_reason(client, world, login):
    o = place_order(world)
    row = svc.take(o.id, world.members[0])
    start_order(o)
    svc.report(db.session.get(Take, row.id), world.members[0], text="做了", hours=1, photo=None)
    db.session.commit()
    login("admin1")
    resp = client.post(f"/orders/takes/{row.id}/return", data={"reason": ""}, follow_redirects=True)
    assert "请填写退回理由" in resp.get_data(as_text=True)
    client.post(f"/orders/takes/{row.id}/return", data={"reason": "请补充照片"})
    db.session.expire_all()
    assert db.session.get(Take, row.id).state == "returned"
    assert service_records([world.members[0].id], clock.today() - dt.timedelta(days=5), clock.today()) == []


def test_another_communitys_staff_get_404_on_every_object_url(client, world, login):
    o = place_order(world)
    row = svc.take(o.id, world.members[0])
    start_order(o)
    login("admin2")
    for url in (f"/orders/{o.id}", f"/orders/takes/{row.id}/photo", f"/orders/posts/{world.post1.id}/edit",
                f"/orders/board/{world.c1.id}", f"/orders/panel/{world.c1.id}"):
        assert client.get(url).status_code == 404, url
    for url in (f"/orders/{o.id}/assign", f"/orders/{o.id}/cancel", f"/orders/{o.id}/close",
                f"/orders/takes/{row.id}/accept", f"/orders/takes/{row.id}/return"):
        assert client.post(url, data={"member_id": world.members[2].id, "reason": "x"}).status_code == 404, url
    login("mem3")  # a member of the other community
    assert client.get(f"/orders/{o.id}").status_code == 404
    assert client.post(f"/orders/{o.id}/take").status_code == 404
    assert client.get(f"/orders/takes/{row.id}/report").status_code == 404
    db.session.expire_all()
    assert db.session.get(Order, o.id).taken == 1 and db.session.get(Order, o.id).state == "open"


def test_roles_members_cannot_manage_and_staff_cannot_take(client, world, login):
    o = place_order(world, node=world.tree.estates[0])
    login("mem1")
    assert client.get("/orders/new").status_code == 403
    assert client.post(f"/orders/{o.id}/cancel").status_code == 403
    login("worker1")
    assert client.get(f"/orders/{o.id}").status_code == 200
    assert client.post(f"/orders/{o.id}/take").status_code == 403
    elsewhere = place_order(world, node=world.tree.estates[1])
    assert client.get(f"/orders/{elsewhere.id}").status_code == 404  # outside the worker's grid


def test_cancel_and_close(client, world, login):
    o = place_order(world)
    login("admin1")
    resp = client.post(f"/orders/{o.id}/close", follow_redirects=True)
    assert "订单开始后才能结单" in resp.get_data(as_text=True)
    client.post(f"/orders/{o.id}/cancel")
    db.session.expire_all()
    assert db.session.get(Order, o.id).state == "cancelled"
    login("mem1")
    resp = client.post(f"/orders/{o.id}/take", follow_redirects=True)
    assert "已满" in resp.get_data(as_text=True) or "截止" in resp.get_data(as_text=True)


def test_two_admins_editing_one_post_the_second_is_told(client, world, login):
    import re

    login("admin1")
    html = client.get(f"/orders/posts/{world.post1.id}/edit").get_data(as_text=True)
    token = re.search(r'name="edit_token"[^>]*value="([^"]+)"', html).group(1)
    data = {"name": "政策宣讲", "category": "party_service", "description": "", "skills": "宣讲", "edit_token": token}
    assert client.post(f"/orders/posts/{world.post1.id}/edit", data=data).status_code == 302
    resp = client.post(f"/orders/posts/{world.post1.id}/edit", data={**data, "name": "另一个名字"})
    assert resp.status_code == 200 and "他人已保存" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(world.post1), world.post1.id).name == "政策宣讲"


def test_a_member_not_registered_here_cannot_take(client, world, login):
    from tests import factories

    o = place_order(world)
    factories.make_user("stranger", "member", world.c1)  # the member role, but no registration here
    login("stranger")
    resp = client.post(f"/orders/{o.id}/take", follow_redirects=True)
    assert "请先到该社区报到" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, o.id).taken == 0
