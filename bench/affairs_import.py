"""Benchmark: import 100,000 residents from one .xlsx on SQLite.

    .venv/bin/python -m bench.affairs_import [--rows 100000] [--keep DIR]

Builds a small tree (2 communities … 400 zones) in a fresh SQLite database,
writes the Excel file in a child process (so that its memory does not count),
then times, in this process, the import job of the grid affairs module:
the first import (all rows created), a re-import of the same file (nothing
changes) and an all-or-nothing import. Reports wall time and peak RSS.
Target (issue 4): first import ≤ 60 s, peak memory < 300 MB.

    .venv/bin/python -m bench.affairs_import --pages INSTANCE_DIR [--user district]

instead measures the module's pages (as ratios to /ping) on the database of
an instance folder that holds the demo district (`flask --app wsgi demo`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import peak_rss_mb

SEED_ZONES = (2, 5, 10, 4)  # communities, estates, buildings, zones -> 400 zones


def write_file(path: str, rows: int, codes: list[str]) -> None:
    """Child process: a resident file with valid, unique ID numbers."""
    from openpyxl import Workbook
    from stdnum.cn import ric

    from core import create_app
    from plugins.affairs import services as S

    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(), "SQLALCHEMY_DATABASE_URI": "sqlite://", "PLUGINS": ["affairs"]})
    with app.app_context():
        headers = S.headers("residents", "zh_CN")
    rng = random.Random(4)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append(headers)
    start = dt.date(1940, 1, 1)
    for i in range(rows):
        birth = start + dt.timedelta(days=(i // 999) % 25000)
        body = f"340221{birth:%Y%m%d}{i % 999:03d}"
        number = body + ric.calc_check_digit(body + "0")
        ws.append([
            "居民" + str(i), number, "139" + f"{rng.randrange(10**8):08d}", codes[i % len(codes)],
            str(1 + i % 3), 1 + (i // 3) % 18, f"{1 + (i // 3) % 18}{1 + i % 4:02d}-{i // 5000}",
            "户籍人口" if i % 7 else "非户籍人口", "是" if i % 13 == 0 else "否", "城乡居民社保", "在职",
        ])
    wb.save(path)


PAGES = {
    "residents list": "/affairs/residents",
    "residents list, page 50": "/affairs/residents?page=50",
    "houses list": "/affairs/houses",
    "special groups": "/affairs/groups",
    "special groups, only due": "/affairs/groups?due=1",
    "special groups, page 5": "/affairs/groups?page=5",
    "visits list": "/affairs/visits",
    "visit compliance": "/affairs/compliance",
    "widget: due for a visit": "/affairs/widgets/due",
    "module index": "/affairs/",
    "search by name": "/affairs/residents?q=王",
}


def measure_pages(instance: Path, user: str) -> None:
    from bench.harness import bench_app, markdown_table, measure, sign_in

    url = "sqlite:///" + str(instance / "wangge.sqlite")
    with bench_app(url, instance, PLUGINS=["affairs"]) as (_app, client):
        sign_in(client, user, "wangge-demo")
        root = client.get("/affairs/panels/residents/1")  # the district node of the demo
        pages = dict(PAGES)
        if root.status_code == 200:
            pages["node panel: residents (district)"] = "/affairs/panels/residents/1"
            pages["node panel: houses (district)"] = "/affairs/panels/houses/1"
            pages["node panel: special groups (district)"] = "/affairs/panels/groups/1"
        print(markdown_table(measure(client, pages, repeat=5, warmup=1), title=f"grid affairs pages as {user}"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", default=None, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--write-file", nargs=2, metavar=("PATH", "CODES_JSON"), help=argparse.SUPPRESS)
    parser.add_argument("--pages", metavar="INSTANCE_DIR", help="measure the pages on this instance's demo database")
    parser.add_argument("--user", default="district", help="demo login for --pages")
    args = parser.parse_args()
    if args.pages:
        measure_pages(Path(args.pages), args.user)
        return
    if args.write_file:
        write_file(args.write_file[0], args.rows, json.loads(Path(args.write_file[1]).read_text()))
        return

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-affairs-"))
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "bench.sqlite"
    if db_path.exists():
        db_path.unlink()

    from core import create_app
    from core.extensions import db
    from plugins.affairs import services as S
    from plugins.affairs.models import ImportJob, Resident
    from tests import factories

    app = create_app({
        "INSTANCE_PATH": str(work), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "PLUGINS": ["affairs"],
        "LOAD_ENTRY_POINTS": False, "SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
    })
    with app.app_context():
        db.create_all()
        tree = factories.build_tree(*SEED_ZONES)
        user = factories.make_user("bench-admin", "district_admin", tree.district)
        codes = [z.code for z in tree.zones]
        user_id, scope = user.id, json.dumps([tree.district.path])
    codes_file = work / "codes.json"
    codes_file.write_text(json.dumps(codes))
    xlsx = work / f"residents-{args.rows}.xlsx"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench.affairs_import", "--rows", str(args.rows),
                    "--write-file", str(xlsx), str(codes_file)], check=True)
    print(f"wrote {xlsx.name} ({xlsx.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    print(f"peak RSS before importing: {peak_rss_mb():.0f} MB")

    class BenchJob:
        """What a core.jobs task receives, minus the queue (progress is dropped)."""

        id = None

        def __init__(self):
            self.result = {}

        def progress(self, done, total=None):
            pass

        def save_file(self, data, filename):
            self.result["file"] = filename

    results = []
    with app.app_context():
        for label, mode in (("first import (good rows)", "good_rows"), ("re-import, same file", "good_rows"),
                            ("re-import, all or nothing", "all_or_nothing")):
            upload = work / f"upload-{mode}.xlsx"  # the job deletes its upload when done
            shutil.copyfile(xlsx, upload)
            job = ImportJob(kind="residents", mode=mode, filename=xlsx.name, stored_path=str(upload), locale="zh_CN",
                            scope=scope, user_id=user_id)
            db.session.add(job)
            db.session.commit()
            t0 = time.perf_counter()
            S.run_import(BenchJob(), job.id)
            secs = time.perf_counter() - t0
            job = db.session.get(ImportJob, job.id)
            n = db.session.query(Resident).count()
            results.append((label, secs, job.created_count, job.updated_count, job.unchanged_count, job.error_count, n))
            print(f"{label}: {secs:.1f} s, +{job.created_count} ~{job.updated_count} ={job.unchanged_count} "
                  f"!{job.error_count}, residents {n}, status {job.status} {job.message or ''}")
    peak = peak_rss_mb()
    print()
    print(f"| run ({args.rows:,} rows, SQLite) | seconds | created | updated | unchanged | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, secs, c, u, un, e, _n in results:
        print(f"| {label} | {secs:.1f} | {c:,} | {u:,} | {un:,} | {e:,} |")
    print(f"\npeak RSS of the importing process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
