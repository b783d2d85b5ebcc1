"""Resource list, needs list, matching and projects."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from core.extensions import db
from core.models import CommitteeMember
from plugins.orders.models import Need, Project, Resource


def _lists(client, world):
    db.session.add(CommitteeMember(community_id=world.c1.id, organisation_id=world.unit.id))
    db.session.commit()
    client.post(f"/orders/resources/new?community={world.c1.id}",
                data={"node_id": world.c1.id, "org_id": world.unit.id, "category": "specific_groups",
                      "kind": "money", "title": "关爱基金", "amount": "8000", "unit": "元"})
    client.post(f"/orders/needs/new?community={world.c1.id}",
                data={"node_id": world.tree.estates[0].id, "category": "specific_groups", "source": "visit",
                      "title": "空巢老人探访", "description": ""})
    client.post(f"/orders/needs/new?community={world.c1.id}",
                data={"node_id": world.tree.estates[1].id, "category": "governance", "source": "resident",
                      "title": "楼道清理", "description": ""})


def test_match_and_confirm_into_a_traceable_project(client, world, login):
    login("admin1")
    _lists(client, world)
    r = db.session.scalar(select(Resource).where(Resource.title == "关爱基金"))
    n = db.session.scalar(select(Need).where(Need.title == "空巢老人探访"))
    page = client.get("/orders/match").get_data(as_text=True)
    assert "空巢老人探访" in page and "关爱基金" in page
    assert "楼道清理" not in page  # no resource of its category
    form = client.get(f"/orders/projects/new?need_ids={n.id}&resource_ids={r.id}").get_data(as_text=True)
    assert 'value="8000' in form  # the budget proposed from the money resource
    resp = client.post(f"/orders/projects/new?need_ids={n.id}&resource_ids={r.id}",
                       data={"name": "银龄关爱", "budget": "8000", "need_ids": n.id, "resource_ids": r.id,
                             "member_ids": world.members[0].id})
    assert resp.status_code == 302
    p = db.session.scalar(select(Project))
    assert [x.id for x in p.resources] == [r.id] and [x.id for x in p.needs] == [n.id]
    assert [o.name for o in p.partners] == ["湾沚区财政局"] and p.members == [world.members[0]]
    page = client.get(f"/orders/projects/{p.id}").get_data(as_text=True)
    assert "关爱基金" in page and "空巢老人探访" in page
    assert "空巢老人探访" not in client.get("/orders/match").get_data(as_text=True)  # matched now
    client.post(f"/orders/projects/{p.id}", data={"m-title": "首次探访", "m-due_date": "2027-01-10"})
    resp = client.post(f"/orders/projects/{p.id}", data={"r-state": "done", "r-result": ""})
    assert "项目完成时请填写项目成效" in resp.get_data(as_text=True)
    client.post(f"/orders/projects/{p.id}", data={"r-state": "done", "r-result": "探访120户"})
    db.session.expire_all()
    assert p.state == "done" and p.milestones[0].title == "首次探访"
    xlsx = load_workbook(io.BytesIO(client.get("/orders/export/projects.xlsx").data)).active
    row = list(xlsx.iter_rows(min_row=2, values_only=True))[0]
    assert row[0] == "银龄关爱" and "关爱基金" in row[6] and "空巢老人探访" in row[7]


def test_bad_resource_input_and_foreign_units(client, world, login):
    login("admin1")
    resp = client.post(f"/orders/resources/new?community={world.c1.id}",
                       data={"node_id": world.c1.id, "org_id": world.other_unit.id, "category": "governance",
                             "kind": "money", "title": "资金", "amount": "-5", "unit": "元"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'value="资金"' in html
    assert db.session.scalar(select(Resource)) is None


def test_another_community_cannot_confirm_or_see(client, world, login):
    login("admin1")
    _lists(client, world)
    r = db.session.scalar(select(Resource))
    n = db.session.scalar(select(Need).where(Need.category == "specific_groups"))
    client.post(f"/orders/projects/new?need_ids={n.id}&resource_ids={r.id}",
                data={"name": "银龄关爱", "budget": "1", "need_ids": n.id, "resource_ids": r.id})
    p = db.session.scalar(select(Project))
    from plugins.orders.services.projects import add_milestone

    m = add_milestone(p, "启动", p.created_at.date())
    db.session.commit()
    login("admin2")
    assert client.get(f"/orders/projects/{p.id}").status_code == 404
    assert client.get(f"/orders/projects/new?need_ids={n.id}&resource_ids={r.id}").status_code == 404
    assert client.post(f"/orders/milestones/{m.id}/done").status_code == 404
    db.session.expire_all()
    assert m.done_at is None
    assert "银龄关爱" not in client.get("/orders/projects").get_data(as_text=True)
    assert "关爱基金" not in client.get("/orders/resources").get_data(as_text=True)
