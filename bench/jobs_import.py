"""Benchmark: the 100,000-resident import through the job queue, as a user does it.

    .venv/bin/python -m bench.jobs_import [--rows 100000] [--mode good_rows] [--postgres URL] [--keep DIR]

Builds a small tree (2 communities … 400 zones) in a fresh SQLite database
(or a new database on the PostgreSQL server given with --postgres, e.g.
postgresql://postgres@127.0.0.1:5432/postgres), writes the workbook with
bench.affairs_import's generator (in a child process), then starts two real
processes on that instance — a web server (`flask --app wsgi run`) and a job
consumer (`flask --app wsgi worker`, huey's SQLite queue under the instance
folder) — signs in over HTTP, uploads the file to /affairs/import, and polls
the job page (as the page's HTMX does) until the job is done. Prints the time
from the upload to "done", the job's result, and the peak RSS (VmHWM) of the
web and the consumer processes.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-bench-secret-key-0123456789"
PASSWORD = "bench-Password-1"


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM; psutil is not in the venv)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(database_url: str, work: Path) -> list[str]:
    """Schema, tree and the importing user (in a child process: its memory does not count)."""
    from core import create_app
    from core.extensions import db
    from tests import factories
    from tests.factories import make_user

    app = create_app({"INSTANCE_PATH": str(work), "SQLALCHEMY_DATABASE_URI": database_url, "PLUGINS": ["affairs"],
                      "LOAD_ENTRY_POINTS": False, "SECRET_KEY": SECRET})
    with app.app_context():
        db.create_all()
        from bench.affairs_import import SEED_ZONES

        tree = factories.build_tree(*SEED_ZONES)
        make_user("bench-admin", "district_admin", tree.district, password=PASSWORD)
        db.session.commit()
        return [z.code for z in tree.zones]


class Http:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str, headers=None) -> str:
        req = urllib.request.Request(self.base + path, headers=headers or {})
        with self.opener.open(req, timeout=60) as resp:
            return resp.read().decode()

    def csrf(self, path: str) -> str:
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(path))
        return m.group(1) if m else ""

    def post(self, path: str, data: bytes, content_type: str) -> str:
        req = urllib.request.Request(self.base + path, data=data, headers={"Content-Type": content_type})
        with self.opener.open(req, timeout=600) as resp:
            return resp.geturl()

    def sign_in(self, username: str, password: str) -> None:
        token = self.csrf("/login")
        body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password}).encode()
        where = self.post("/login", body, "application/x-www-form-urlencoded")
        if "/login" in where:
            raise RuntimeError("could not sign in")

    def upload(self, path: str, fields: dict, file_field: str, filename: str, data: bytes) -> str:
        boundary = uuid.uuid4().hex
        parts = []
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                     f"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n".encode())
        parts.append(data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.post(path, b"".join(parts), f"multipart/form-data; boundary={boundary}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mode", default="good_rows", choices=("good_rows", "all_or_nothing"))
    parser.add_argument("--postgres", default=None, metavar="SERVER_URL", help="run on a new database on this server")
    parser.add_argument("--keep", default=None, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--setup", nargs=2, metavar=("DATABASE_URL", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(setup(args.setup[0], Path(args.setup[1]))))
        return

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-jobs-"))
    work.mkdir(parents=True, exist_ok=True)
    drop = None
    if args.postgres:
        from sqlalchemy import create_engine, text

        name = f"wangge_bench_jobs_{os.getpid()}"
        server = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        database_url = server.rsplit("/", 1)[0] + "/" + name

        def drop():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        db_path = work / "bench.sqlite"
        for p in work.glob("*.sqlite*"):
            p.unlink()
        database_url = f"sqlite:///{db_path}"
    backend = "PostgreSQL" if args.postgres else "SQLite"
    procs = []
    try:
        out = subprocess.run([sys.executable, "-m", "bench.jobs_import", "--setup", database_url, str(work)],
                             check=True, capture_output=True, text=True, cwd=ROOT).stdout
        codes = json.loads(out.strip().splitlines()[-1])
        codes_file = work / "codes.json"
        codes_file.write_text(json.dumps(codes))
        xlsx = work / f"residents-{args.rows}.xlsx"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.affairs_import", "--rows", str(args.rows),
                        "--write-file", str(xlsx), str(codes_file)], check=True, cwd=ROOT)
        print(f"wrote {xlsx.name} ({xlsx.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")

        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")},
            "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "WANGGE_INSTANCE_PATH": str(work),
            "WANGGE_SECRET_KEY": SECRET, "WANGGE_PLUGINS": '["affairs"]', "WANGGE_LOAD_ENTRY_POINTS": "false",
            "WANGGE_JOBS_BACKEND": "sqlite", "WANGGE_JOBS_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:6]}",
            "WANGGE_RATELIMIT_ENABLED": "false",
        }
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        web = subprocess.Popen([*flask, "run", "--port", str(port), "--no-reload"], cwd=ROOT, env=env,
                               stdout=(work / "web.log").open("w"), stderr=subprocess.STDOUT)
        consumer = subprocess.Popen([*flask, "worker", "--no-periodic"], cwd=ROOT, env=env,
                                    stdout=(work / "consumer.log").open("w"), stderr=subprocess.STDOUT)
        procs = [web, consumer]
        client = Http(f"http://127.0.0.1:{port}")
        for _ in range(100):
            try:
                client.get("/ping")
                break
            except OSError:
                time.sleep(0.2)
        client.sign_in("bench-admin", PASSWORD)
        token = client.csrf("/affairs/import")
        t0 = time.perf_counter()
        where = client.upload("/affairs/import", {"csrf_token": token, "kind": "residents", "mode": args.mode},
                              "file", xlsx.name, xlsx.read_bytes())
        upload_secs = time.perf_counter() - t0
        job_path = urllib.parse.urlparse(where).path
        if not re.fullmatch(r"/jobs/\d+", job_path):
            raise RuntimeError(f"the upload did not lead to a job page: {where}")
        state, polls = "", 0
        while state not in ("done", "failed"):
            time.sleep(1.0)
            frag = client.get(job_path, headers={"HX-Request": "true"})
            polls += 1
            state = re.search(r'data-state="(\w+)"', frag).group(1)
        secs = time.perf_counter() - t0
        web_mb, consumer_mb = peak_rss_mb(web.pid), peak_rss_mb(consumer.pid)
        summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", frag)).strip()[:300]
        print(f"job {job_path}: {state} after {secs:.1f} s (upload request {upload_secs:.1f} s, {polls} polls)")
        print(f"job page: {summary}")
        print()
        print(f"| {args.rows:,} residents, {args.mode}, {backend} | seconds | web peak RSS | consumer peak RSS |")
        print("|---|---:|---:|---:|")
        print(f"| upload → job done ({state}) | {secs:.1f} | {web_mb:.0f} MB | {consumer_mb:.0f} MB |")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        if drop is not None:
            drop()


if __name__ == "__main__":
    main()
