"""Concurrent sign-ups over HTTP at two server processes sharing one
PostgreSQL database: no duty shift ever holds more members than its slots.

    .venv/bin/python -m bench.stations_signup [--members 40] [--slots 1 3 10]

Creates a database of its own on the server named by WANGGE_BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/postgres), builds a community,
a station, N Party members and one shift per slot count; starts two gunicorn
processes on two ports against it; signs every member in (CSRF and all);
then, for each shift, fires all N sign-ups at once — half at each server —
and prints concurrent requests, slots and winners (from the database).
Drops the database at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_url() -> str:
    url = os.environ.get("WANGGE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def build(url: str, instance: Path, members: int, slots: list[int]) -> list[int]:
    """Schema and data: one community, one station, `members` members, one shift per slot count."""
    from core import clock, create_app
    from core.extensions import db
    from core.grid.services import create_node
    from core.models import RoleGrant, User
    from plugins.stations.services import shifts as svc
    from plugins.stations.services import stations as station_svc

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789"})
    with app.app_context():
        db.create_all()
        district = create_node(None, "district", "湾沚区", "340221")
        community = create_node(district, "community", "城东社区", "340221-C01")
        estate = create_node(community, "estate", "锦绣花园", "340221-C01-E01")
        station = station_svc.create_station(estate, name="锦绣花园先锋驿站")
        probe = User(username="x", display_name="x")
        probe.set_password(PASSWORD)
        for i in range(members):
            u = User(username=f"bench{i:03d}", display_name=f"党员{i}", password_hash=probe.password_hash)
            db.session.add(u)
            db.session.flush()
            db.session.add(RoleGrant(user_id=u.id, role="member", node_id=estate.id))
        day = clock.today() + dt.timedelta(days=3)
        ids = []
        for k, n in enumerate(slots):
            sh = svc.add_shift(station, day, dt.time(8 + k), dt.time(9 + k), needed=n)
            db.session.flush()
            ids.append(sh.id)
        db.session.commit()
        db.engine.dispose()
    return ids


def start_server(port: int, env: dict, log: Path) -> subprocess.Popen:
    """gunicorn with the repository's gunicorn.conf.py (gthread), 2 workers × 8 threads."""
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", "2", "--threads", "8",
           "--graceful-timeout", "5", "-b", f"127.0.0.1:{port}", "wsgi:app"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    for _ in range(200):
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code == 200:
                return proc
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the server on port {port} did not start: {log.read_text()[-2000:]}")


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(base: str, username: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    token = TOKEN.search(s.get(f"{base}/login").text).group(1)
    r = s.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
               allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"{username} could not sign in ({r.status_code})")
    token = TOKEN.search(s.get(f"{base}/stations/my").text).group(1)
    return s, token


def rush(clients, shift_id) -> list[int]:
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def fire(base, session, token):
        barrier.wait(timeout=60)
        r = session.post(f"{base}/stations/shifts/{shift_id}/signup", data={"csrf_token": token}, allow_redirects=False)
        codes.append(r.status_code)

    threads = [threading.Thread(target=fire, args=c) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return codes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=40)
    ap.add_argument("--slots", type=int, nargs="+", default=[1, 3, 10])
    args = ap.parse_args()
    server = _server_url()
    name = f"wangge_bench_stations_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    procs: list[subprocess.Popen] = []
    failed = False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            instance = Path(tmp)
            shift_ids = build(url, instance, args.members, args.slots)
            env = dict(os.environ, DATABASE_URL=url, WANGGE_INSTANCE_PATH=str(instance),
                       WANGGE_SECRET_KEY="bench-secret-key-bench-secret-key-0123456789",
                       WANGGE_RATELIMIT_ENABLED="false", WANGGE_PLUGINS='["stations"]')
            bases = []
            for _ in range(2):
                port = _free_port()
                procs.append(start_server(port, env, instance / f"gunicorn-{port}.log"))
                bases.append(f"http://127.0.0.1:{port}")
            clients = []
            for i in range(args.members):
                base = bases[i % 2]
                clients.append((base, *signed_in(base, f"bench{i:03d}")))
            engine = create_engine(url)
            print(f"two gunicorn servers ({', '.join(bases)}), one PostgreSQL database ({name})")
            print(f"{'concurrent requests':>20} {'slots':>6} {'winners':>8} {'taken':>6} {'HTTP codes':>12}")
            for shift_id, slots in zip(shift_ids, args.slots, strict=True):
                codes = rush(clients, shift_id)
                with engine.connect() as conn:
                    winners = conn.execute(text("SELECT count(*) FROM stations_signup WHERE shift_id = :s AND status = 'held'"),
                                           {"s": shift_id}).scalar()
                    taken = conn.execute(text("SELECT taken FROM stations_shift WHERE id = :s"), {"s": shift_id}).scalar()
                ok = winners == slots == taken
                failed |= not ok
                summary = ",".join(f"{c}×{codes.count(c)}" for c in sorted(set(codes)))
                print(f"{len(codes):>20} {slots:>6} {winners:>8} {taken:>6} {summary:>12}  {'ok' if ok else 'OVER-FILLED'}")
            engine.dispose()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
