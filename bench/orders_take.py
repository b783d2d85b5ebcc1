"""Exact capacity over HTTP: N members take one order with K places at the
same instant, through two server processes on two ports sharing one
PostgreSQL database (as two hosts behind a load balancer would).

    .venv/bin/python -m bench.orders_take [--members 40] [--places 7] \
        [--server postgresql://postgres@127.0.0.1:5432/postgres]

Creates a database of its own on the server (dropped at the end), migrates
it, builds one community with N confirmed members and an order with K
places, starts two app processes, signs every member in, then fires the N
takes at once (half to each port) and prints requests, places, winners and
what the database holds. Exactly K must win; the rest are told it is full.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-take-password"

SETUP = r"""
import datetime as dt, sys
from flask_migrate import upgrade
from core import clock, create_app
from core.extensions import db
from core.grid.services import create_node
from core.models import RoleGrant, User
app = create_app({"INSTANCE_PATH": sys.argv[1], "SECRET_KEY": "bench-" * 8, "PLUGINS": ["orders"]})
n, k = int(sys.argv[2]), int(sys.argv[3])
with app.app_context():
    upgrade(revision="heads")
    from plugins.orders.services import orders, posts, registrations
    district = create_node(None, "district", "湾沚区", "340221")
    community = create_node(district, "community", "城东社区", "340221-001")
    admin = User(username="admin", display_name="社区管理员"); admin.set_password(sys.argv[4])
    db.session.add(admin); db.session.flush()
    db.session.add(RoleGrant(user_id=admin.id, role="community_admin", node_id=community.id))
    pw = admin.password_hash
    for i in range(n):
        u = User(username=f"m{i:03d}", display_name=f"党员{i:03d}", password_hash=pw)
        db.session.add(u); db.session.flush()
        reg = registrations.register(u, community, employer_org_id=None, employer_name="某单位", party_branch="",
                                     address="", phone="13800000000", skills="宣讲", resources="",
                                     hours_per_month=4, state="confirmed")
    post = posts.save_post(None, community, name="政策宣传", description="", skills="宣讲",
                           category="party_service", grids=[], by=admin)
    start = clock.utcnow() + dt.timedelta(days=3)
    order = orders.place(post, community, title="周末宣讲", description="", starts_at=start, hours=2,
                         deadline=start - dt.timedelta(days=1), needed=k, skills="", by=admin)
    db.session.commit()
    print(order.id)
"""

SERVE = r"""
import sys
from werkzeug.serving import make_server
from core import create_app
app = create_app({"INSTANCE_PATH": sys.argv[1], "SECRET_KEY": "bench-" * 8, "PLUGINS": ["orders"],
                  "RATELIMIT_ENABLED": False})
make_server("127.0.0.1", int(sys.argv[2]), app, threaded=True).serve_forever()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not m:
        raise RuntimeError("no CSRF token on the page")
    return m.group(1)


class Member:
    def __init__(self, base: str, username: str):
        self.base, self.username = base, username
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as r:
            return r.read().decode()

    def post(self, path: str, data: dict) -> str:
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(self.base + path, data=body, timeout=60) as r:  # follows the redirect
            return r.read().decode()

    def sign_in(self):
        token = _token(self.get("/login"))
        self.post("/login", {"username": self.username, "password": PASSWORD, "csrf_token": token})

    def prepare(self, order_id: int):
        self.order_id = order_id
        self.token = _token(self.get(f"/orders/{order_id}"))

    def take(self) -> str:
        page = self.post(f"/orders/{self.order_id}/take", {"csrf_token": self.token})
        if "接单成功" in page or "You took the order" in page:
            return "won"
        if "已满" in page or "is full" in page:
            return "full"
        return "other"


def _wait_up(base: str, seconds: float = 60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/login", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server {base} did not start")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=40)
    ap.add_argument("--places", type=int, default=7)
    ap.add_argument("--server", default=os.environ.get("WANGGE_TEST_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args(argv)
    server = args.server.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"wangge_bench_orders_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    procs = []
    try:
        with tempfile.TemporaryDirectory() as inst:
            env = {**os.environ, "DATABASE_URL": url, "WANGGE_PLUGINS": '["orders"]',
                   "WANGGE_LOAD_ENTRY_POINTS": "false"}
            out = subprocess.run([sys.executable, "-c", SETUP, inst, str(args.members), str(args.places), PASSWORD],
                                 cwd=ROOT, env=env, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                raise SystemExit(f"set-up failed:\n{out.stderr[-3000:]}")
            order_id = int(out.stdout.strip().splitlines()[-1])
            ports = [_free_port(), _free_port()]
            for port in ports:
                procs.append(subprocess.Popen([sys.executable, "-c", SERVE, inst, str(port)], cwd=ROOT, env=env,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            bases = [f"http://127.0.0.1:{p}" for p in ports]
            for base in bases:
                _wait_up(base)
            members = [Member(bases[i % 2], f"m{i:03d}") for i in range(args.members)]
            for m in members:
                m.sign_in()
                m.prepare(order_id)
            barrier = threading.Barrier(len(members))
            outcomes: list[str] = [""] * len(members)

            def go(i):
                barrier.wait(timeout=60)
                outcomes[i] = members[i].take()

            threads = [threading.Thread(target=go, args=(i,)) for i in range(len(members))]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            secs = time.perf_counter() - t0
            eng = create_engine(url)
            with eng.connect() as conn:
                taken = conn.execute(text("SELECT taken FROM orders_order WHERE id = :i"), {"i": order_id}).scalar()
                rows = conn.execute(text("SELECT count(*) FROM orders_take WHERE order_id = :i"),
                                    {"i": order_id}).scalar()
            eng.dispose()
            winners = outcomes.count("won")
            print(f"requests: {len(members)} (two server processes, ports {ports[0]} and {ports[1]}, one PostgreSQL)")
            print(f"places:   {args.places}")
            print(f"winners:  {winners}; told it is full: {outcomes.count('full')}; other: {outcomes.count('other')}")
            print(f"database: taken={taken}, take rows={rows}; {secs:.2f} s for the burst")
            ok = winners == args.places == taken == rows and outcomes.count("full") == len(members) - args.places
            print("exact capacity: " + ("yes" if ok else "NO"))
            return 0 if ok else 1
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
