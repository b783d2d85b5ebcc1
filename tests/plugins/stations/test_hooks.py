"""The stations module's answers to core hooks and its statement counts."""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import event

from core import clock
from core.extensions import db
from core.grid.services import move_node
from plugins.stations.models import Station
from plugins.stations.services import medicine as med
from plugins.stations.services import shifts as svc
from plugins.stations.services import stations as station_svc

from .conftest import future_shift

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def test_node_holders_name_the_stations(app, world):
    pm = app.extensions["wangge"].pm
    answers = [a for a in pm.hook.wangge_node_holders(node_ids=[world.tree.estates[0].id]) if a]
    labels = [str(label) for answer in answers for label, _n in answer]
    assert any("驿站" in label for label in labels)


def test_moving_an_estate_to_another_community_moves_its_stations(app, world):
    estate = world.tree.estates[0]
    move_node(estate, world.tree.communities[1])
    db.session.commit()
    assert db.session.get(Station, world.station.id).community_id == world.tree.communities[1].id


def test_station_photo_upload_and_its_gate(app, client, login, world):
    login("comm1")
    st = world.station
    data = {"name": st.name, "kind": "party_centre", "weight": "1", "cutoff_hours": "2",
            "served": [str(world.tree.estates[0].id)], "photo": (io.BytesIO(PNG), "station.png")}
    from core.forms import edit_token

    data["edit_token"] = edit_token(st, ("name", "kind", "address", "opening_hours", "weight", "cutoff_hours"))
    resp = client.post(f"/stations/{st.id}/edit", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302
    photo = client.get(f"/stations/{st.id}/photo")
    assert photo.status_code == 200 and photo.data == PNG
    login("comm2")
    assert client.get(f"/stations/{st.id}/photo").status_code == 404


def _statements(client, url) -> int:
    n = 0

    def count(*_args):
        nonlocal n
        n += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return n


def test_main_pages_do_not_grow_with_their_rows(app, client, login, world):
    def grow(k):
        for i in range(k):
            st = station_svc.create_station(world.tree.estates[i % 2], name=f"驿站{len(world.members)}-{i}-{k}")
            station_svc.add_claim(st, world.housing, liaison_name="张")
            sh = future_shift(st, days=2 + i % 5)
            svc.sign_up(sh, world.members[i % len(world.members)])
            b = med.add_batch(st, name="布洛芬", quantity=9, expiry=clock.today() + dt.timedelta(days=200),
                              today=clock.today())
            med.take(b, "give", 1, today=clock.today(), resident_name=f"居民{i}", resident_phone=f"139{k:04d}{i:04d}")
        db.session.commit()

    urls = ["/stations/", "/stations/coverage", "/stations/hours", "/stations/medicine", f"/stations/department?org={world.housing.id}",
            "/stations/my", f"/stations/{world.station.id}/medicine"]
    grow(2)
    login("comm1")
    small = {u: _statements(client, u) for u in urls if u != "/stations/my"}
    login("pm0")
    small["/stations/my"] = _statements(client, "/stations/my")
    grow(8)
    login("comm1")
    big = {u: _statements(client, u) for u in urls if u != "/stations/my"}
    login("pm0")
    big["/stations/my"] = _statements(client, "/stations/my")
    assert big == small
