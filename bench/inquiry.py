"""Benchmark of Square Inquiry: the problem list with filters and the
analysis page at 10,000 and 100,000 problems.

    .venv/bin/python -m bench.inquiry [--repeat 30] [--no-write] [--sizes 10000,100000]

For each size, builds a SQLite database in a fresh process: the core demo
district (scale 1) with the module's demo data, then bulk-generated problems
(same generator, more volume) up to the size. Then measures, signed in as
the district admin, each page's median latency as a ratio to the trivial
page, in one run. Writes the table into its section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Square Inquiry: problem list and analysis"
TARGET_RATIO = 3.0
PER_VOLUME = 670  # problems the demo generator makes per unit of volume


def build(size: int, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    volume = max(0.0, (size - PER_VOLUME) / PER_VOLUME)
    code = (
        "import json, random, resource, time\n"
        "from core import create_app\n"
        "from core.extensions import db\n"
        "from flask_migrate import upgrade\n"
        f"app = create_app({{'INSTANCE_PATH': {str(folder)!r}, 'SECRET_KEY': 'bench-' * 8, 'PLUGINS': ['inquiry']}})\n"
        "with app.app_context():\n"
        "    upgrade(revision='heads')\n"
        "    from core.demo import build_demo\n"
        "    from plugins.inquiry.demo import build\n"
        "    from plugins.inquiry.models import Problem\n"
        "    t0 = time.perf_counter()\n"
        "    build_demo(scale=1, seed=1, report=lambda s: None)\n"
        f"    if {volume} > 0:\n"
        f"        build(1, random.Random(2), lambda s: None, volume={volume}, events=False)\n"
        "        db.session.commit()\n"
        "    n = db.session.query(Problem).count()\n"
        "    secs = time.perf_counter() - t0\n"
        "print(json.dumps({'seconds': secs, 'problems': n, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "WANGGE_PLUGINS": '["inquiry"]'}, check=False)
    if out.returncode != 0:
        raise SystemExit(f"build of {size} problems failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - t0
    return result


def pages_for(app) -> dict[str, str]:
    from sqlalchemy import func, select

    from core.extensions import db
    from core.models import GridNode, Organisation
    from plugins.inquiry.models import Category, Problem

    community = db.session.scalar(select(GridNode.id).where(GridNode.level == "community").order_by(GridNode.id))
    unit = db.session.scalar(select(Problem.unit_id).where(Problem.unit_id.isnot(None)).group_by(Problem.unit_id)
                             .order_by(func.count().desc()).limit(1))
    prop = db.session.scalar(select(Category.id).where(Category.code == "property"))
    _org = db.session.get(Organisation, unit)
    return {
        "problem list": "/inquiry/problems",
        "problem list: open, one community": f"/inquiry/problems?state=open&community={community}",
        "problem list: one unit, property, period": f"/inquiry/problems?unit={unit}&category={prop}&start=2026-01-01&end=2026-12-31",
        "problem list: overdue": "/inquiry/problems?overdue=1",
        "problem list: closed, resident channel": "/inquiry/problems?state=closed&channel=resident",
        "problem list: search": "/inquiry/problems?q=%E7%94%B5%E6%A2%AF",
        "problem list (HTMX fragment, page 5)": "/inquiry/problems?state=closed&page=5",
        "analysis (12 months)": "/inquiry/analysis",
        "overview": "/inquiry/",
    }


def measure(folder: Path, repeat: int) -> list[dict]:
    from bench.harness import bench_app, sign_in
    from bench.harness import measure as run

    url = "sqlite:///" + str(folder / "wangge.sqlite")
    with bench_app(url, folder, PLUGINS=["inquiry"]) as (app, client):
        sign_in(client, "district", "wangge-demo")
        pages = pages_for(app)
        rows = run(client, pages, repeat=repeat)
    return rows


def write_section(text: str) -> None:
    doc = ROOT / "docs" / "performance.md"
    body = doc.read_text()
    start = body.index(SECTION)
    nxt = body.find("\n## ", start + len(SECTION))
    end = len(body) if nxt == -1 else nxt + 1
    doc.write_text(body[:start] + text.rstrip() + "\n\n" + body[end:].lstrip("\n") if nxt != -1 else body[:start] + text.rstrip() + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--keep", help="folder to keep the databases in")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = Path(args.keep or tempfile.mkdtemp(prefix="bench-inquiry-"))
    results = {}
    for size in sizes:
        folder = base / str(size)
        if not (folder / "wangge.sqlite").exists():
            info = build(size, folder)
            print(f"built {info['problems']} problems in {info['seconds']:.1f} s (peak {info['peak_mb']:.0f} MB)", flush=True)
        else:
            info = {"problems": "?", "seconds": 0, "peak_mb": 0}
        rows = measure(folder, args.repeat)
        results[size] = (info, rows)
        from bench.harness import markdown_table

        print(markdown_table(rows, f"{size} problems"), flush=True)
    lines = [SECTION, "",
             "`.venv/bin/python -m bench.inquiry` — SQLite, signed in as the district admin, median of "
             f"{args.repeat} requests per page, interleaved with the trivial page. Target: every page ≤ {TARGET_RATIO:.0f}× trivial.",
             ""]
    names = [r["page"] for r in next(iter(results.values()))[1]]
    head = "| page | " + " | ".join(f"{s:,} problems: ms | ratio" for s in sizes) + " |"
    lines += [head, "|---|" + "---:|---:|" * len(sizes)]
    for i, name in enumerate(names):
        cells = []
        for s in sizes:
            r = results[s][1][i]
            cells.append(f"{r['median_ms']:.2f} | {r['ratio']:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    worst = max(r["ratio"] for _i, rows in results.values() for r in rows)
    lines += ["", f"Worst ratio: {worst:.2f} ({'within' if worst <= TARGET_RATIO else 'OVER'} the {TARGET_RATIO:.0f}× target). "
              "Build times: " + ", ".join(f"{s:,}: {results[s][0]['seconds']:.0f} s" for s in sizes) + ".", "",
              "How it stays flat: the lists paginate in SQL on composite indexes (state, unit, community, category, "
              "channel, each with created_at; state with deadline for overdue); the page count is capped "
              "(an exact count up to 500 rows past the current page, \"more than N\" beyond), the analysis sums maintained monthly totals "
              "(inquiry_month_stat: month × community × category × unit, plus district-wide and per-community rows, "
              "kept by every transition, rebuilt by `flask inquiry rebuild-stats`), and hotspots read a maintained "
              "table (inquiry_hotspot: the latest 90-day count per building and category).", ""]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    time.sleep(0)
    main()
