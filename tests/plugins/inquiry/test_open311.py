"""Open311 GeoReport v2, read by the PyPI client `georeport` over real HTTP,
and the spec's errors for malformed requests."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from georeport import GeoReport

from core import clock
from core.extensions import db
from plugins.inquiry import services as svc
from plugins.inquiry.models import Problem

from .conftest import World, node


@pytest.fixture
def served(live_app):
    from tests import factories

    tree = factories.build_tree()
    housing = factories.make_org("区住建局", "department")
    admin = factories.make_user("district", "district_admin", tree.district)
    world = World(tree=tree, housing=housing, power=None, property_co=None, district=admin, community=admin,
                  community2=None, worker=None, handler=None, handler_b=None, power_handler=None, property_handler=None)
    cats = {c.code: c for c in svc.ensure_categories()}
    open_p = svc.create_problem(node=node(world, "zone", 0), description="井盖缺失", channel="staff", category=cats["roads"],
                                address="1栋门口", reporter_phone="13912345678")
    svc.verify(open_p, admin, category=cats["roads"], unit=housing, priority="urgent", deadline_days=3)
    sheet = svc.create_sheet(admin)
    svc.add_to_sheet(sheet, open_p, admin)
    svc.issue_sheet(sheet, admin)
    closed_p = svc.create_problem(node=node(world), description="垃圾堆放", channel="resident", category=cats["environment"])
    svc.reject(closed_p, admin, "已处理")
    row, key = svc.issue_api_key("12345 热线", admin)
    db.session.commit()
    return {"url": live_app.base_url + "/open311/v2", "open": open_p, "closed": closed_p, "key": key, "world": world}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_every_get_endpoint(served, fmt):
    client = GeoReport(served["url"], output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "property" in codes and "roads" in codes
    definition = client.get_service_definition("roads")
    assert definition["service_code"] == "roads"
    found = client.get_service_requests()
    if isinstance(found, dict):  # xmltodict gives a dict for one element
        found = [found]
    by_id = {r["service_request_id"]: r for r in found}
    p = served["open"]
    # A rejected request is not republished (it may be spam or abuse): only the open one.
    assert set(by_id) == {p.ref}
    r = by_id[p.ref]
    assert r["status"] == "open" and r["agency_responsible"] == "区住建局"
    assert r["expected_datetime"].startswith(f"{clock.local_date(p.deadline):%Y-%m-%d}")
    assert "13912345678" not in str(found)
    one = client.get_service_request(p.ref)
    assert one["service_request_id"] == p.ref and one["description"] == "井盖缺失"
    only_open = client.get_service_requests(status="open", service_code="roads")
    only_open = [only_open] if isinstance(only_open, dict) else only_open
    assert [x["service_request_id"] for x in only_open] == [p.ref]
    by_ids = client.get_service_requests(service_request_id=f"{p.ref},{served['closed'].ref}")
    assert [x["service_request_id"] for x in (by_ids if isinstance(by_ids, list) else [by_ids])] == [p.ref]


def test_one_request_is_an_array(served):
    resp = requests.get(f"{served['url']}/requests/{served['open'].ref}.json", timeout=10)
    assert resp.status_code == 200 and isinstance(resp.json(), list) and len(resp.json()) == 1


def test_discovery(served):
    for fmt in ("json", "xml"):
        resp = requests.get(f"{served['url']}/discovery.{fmt}", timeout=10)
        assert resp.status_code == 200
    assert requests.get(f"{served['url']}/discovery.json", timeout=10).json()["endpoints"][0]["url"].endswith("/open311/v2")


def test_post_needs_an_api_key(served):
    data = {"service_code": "roads", "address_string": "2栋", "description": "路灯坏了"}
    resp = requests.post(f"{served['url']}/requests.json", data=data, timeout=10)
    assert resp.status_code == 403
    assert resp.json()[0]["code"] == 403 and resp.json()[0]["description"]
    resp = requests.post(f"{served['url']}/requests.json", data={**data, "api_key": "wrong"}, timeout=10)
    assert resp.status_code == 403


def test_post_with_a_key_creates_a_request_readable_by_georeport(served):
    code = served["world"].tree.buildings[1].code
    data = {"api_key": served["key"], "service_code": "roads", "address_id": code, "description": "路灯坏了",
            "lat": "31.2", "long": "118.5", "first_name": "三", "last_name": "张", "phone": "13900000000"}
    resp = requests.post(f"{served['url']}/requests.json", data=data, timeout=10)
    assert resp.status_code == 201, resp.text
    body = resp.json()[0]
    ref, token = body["service_request_id"], body["token"]
    got = GeoReport(served["url"]).get_service_request(ref)
    assert got["status"] == "open" and got["address_id"] == code and got["lat"] == 31.2
    tok = requests.get(f"{served['url']}/tokens/{token}.json", timeout=10).json()
    assert tok == [{"service_request_id": ref, "token": token}]
    xml = requests.post(f"{served['url']}/requests.xml", data=data, timeout=10)
    assert xml.status_code == 201 and b"<service_requests><request>" in xml.content


@pytest.mark.parametrize("path,params,status", [
    ("requests.json", {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"}, 400),
    ("requests.json", {"start_date": "yesterday"}, 400),
    ("requests.json", {"end_date": "2025-13-45"}, 400),
    ("requests.json", {"start_date": "2025-06-01T00:00:00Z", "end_date": "2025-05-01T00:00:00Z"}, 400),
    ("requests.json", {"service_code": "no-such"}, 400),
    ("requests.json", {"status": "pending"}, 400),
    ("services/no-such.json", {}, 404),
    ("requests/WZ9999999.json", {}, 404),
    ("tokens/nope.json", {}, 404),
    ("services.csv", {}, 400),
    ("requests.xml", {"start_date": "bad"}, 400),
])
def test_malformed_get_requests_answer_spec_errors(served, path, params, status):
    resp = requests.get(f"{served['url']}/{path}", params=params, timeout=10)
    assert resp.status_code == status
    if path.endswith(".xml"):
        assert b"<errors><error><code>400</code><description>" in resp.content
    else:
        body = resp.json()
        assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]


@pytest.mark.parametrize("missing,status", [
    ({"service_code": ""}, 400),
    ({"service_code": "no-such"}, 400),
    ({"address_string": "", "address_id": ""}, 400),
    ({"address_id": "NOPE"}, 400),
    ({"description": ""}, 400),
    ({"lat": "north", "long": "x"}, 400),
])
def test_malformed_post_requests(served, missing, status):
    data = {"api_key": served["key"], "service_code": "roads", "address_string": "2栋", "description": "x"}
    data.update(missing)
    before = db.session.execute(db.select(db.func.count()).select_from(Problem)).scalar()
    resp = requests.post(f"{served['url']}/requests.json", data={k: v for k, v in data.items()}, timeout=10)
    assert resp.status_code == status and resp.json()[0]["code"] == status
    db.session.expire_all()
    assert db.session.execute(db.select(db.func.count()).select_from(Problem)).scalar() == before


def test_span_defaults_to_the_last_90_days(served):
    old = served["open"]
    db.session.execute(db.update(Problem).where(Problem.id == old.id).values(created_at=dt.datetime(2020, 1, 1)))
    db.session.commit()
    refs = [r["service_request_id"] for r in requests.get(f"{served['url']}/requests.json", timeout=10).json()]
    assert old.ref not in refs
    refs = [r["service_request_id"] for r in requests.get(
        f"{served['url']}/requests.json", params={"start_date": "2019-12-15T00:00:00+08:00", "end_date": "2020-02-01T00:00:00Z"},
        timeout=10).json()]
    assert refs == [old.ref]
