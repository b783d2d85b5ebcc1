from tests.factories import make_user


def test_login_and_dashboard(client, tree, login):
    make_user("admin1", "district_admin", tree.district)
    assert client.get("/").status_code == 302
    login("admin1")
    resp = client.get("/")
    assert resp.status_code == 200
    assert b"admin1" in resp.data
