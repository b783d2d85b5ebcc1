"""Benchmark of the grid tree at district scale and ten times that.

    .venv/bin/python -m bench.grid [--repeat 30] [--no-write]

Builds scale-1 and scale-10 SQLite databases with the demo (each build in a
subprocess, so its time and peak memory are its own), then measures in one
run, signed in as the district admin, the median latency of the tree root,
a community node page, a building node page, tree search, who-covers-today
and the dashboard, each as a ratio to the trivial page. Writes the table
into its section of docs/performance.md.
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
SECTION = "## Grid tree and demo district"
TARGET_RATIO = 3.0
TARGET_GROWTH = 1.25


def build(scale: int, folder: Path) -> dict:
    """Build the demo at `scale` into folder/wangge.sqlite in a fresh process."""
    folder.mkdir(parents=True, exist_ok=True)
    code = (
        "import json, resource, time\n"
        "from core import create_app\n"
        "from core.extensions import db\n"
        "from flask_migrate import upgrade\n"
        f"app = create_app({{'INSTANCE_PATH': {str(folder)!r}, 'SECRET_KEY': 'bench-' * 8}})\n"
        "with app.app_context():\n"
        "    upgrade(revision='heads')\n"
        "    from core.demo import build_demo\n"
        "    t0 = time.perf_counter()\n"
        f"    build_demo(scale={scale}, seed=1, report=lambda s: None)\n"
        "    secs = time.perf_counter() - t0\n"
        "mods = sorted(app.extensions['wangge'].registry.modules)\n"
        "print(json.dumps({'seconds': secs, 'modules': mods, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={**os.environ}, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"demo build at scale {scale} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - t0
    return result


def pages_for(app) -> dict[str, str]:
    from sqlalchemy import select

    from core.extensions import db
    from core.models import GridNode

    def first(level, offset=0):
        return db.session.scalar(
            select(GridNode).where(GridNode.level == level).order_by(GridNode.id).offset(offset).limit(1)
        )

    community = first("community", 4)
    building = first("building", 40)
    estate = db.session.scalar(
        select(GridNode).where(GridNode.parent_id == community.id).order_by(GridNode.sort_order).limit(1)
    )
    return {
        "tree root": "/grid/",
        "community node page": f"/grid/node/{community.id}",
        "building node page": f"/grid/node/{building.id}",
        "tree search (estate name)": f"/grid/search?q={estate.name[:2]}",
        "tree search (code prefix)": f"/grid/search?q={community.code}",
        "tree search (no match)": "/grid/search?q=无此名称",
        "who covers today": f"/grid/node/{community.id}/coverage",
        "dashboard": "/",
    }


def measure(folder: Path, repeat: int) -> list[dict]:
    from bench.harness import bench_app, sign_in
    from bench.harness import measure as run
    from core.demo import DEMO_PASSWORD

    with bench_app("sqlite:///" + str(folder / "wangge.sqlite"), folder) as (app, client):
        sign_in(client, "district", DEMO_PASSWORD)
        rows = run(client, pages_for(app), repeat=repeat)
        # What HTMX asks for while the user types or opens a branch: the
        # fragment alone, measured against the trivial page with the same header.
        frags = run(client, fragments_for(app), repeat=repeat, headers={"HX-Request": "true"})
        return rows + [dict(r, page=r["page"] + " (HTMX fragment)") for r in frags[1:]]


def fragments_for(app) -> dict[str, str]:
    pages = pages_for(app)
    community = pages["community node page"].rsplit("/", 1)[1]
    return {
        "tree search (estate name)": pages["tree search (estate name)"],
        "tree search (no match)": pages["tree search (no match)"],
        "expand a community": f"/grid/node/{community}/children",
        "who covers today": pages["who covers today"],
    }


def measure_in_subprocess(folder: Path, repeat: int) -> list[dict]:
    """Measure one database in a fresh process, so that neither scale pays
    for the other's objects in memory (each ratio is still against the
    trivial page of the same run)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.grid", "--measure", str(folder), "--repeat", str(repeat)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ}, check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"measuring {folder} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(res1, res10, builds, repeat=30) -> str:
    lines = [
        "Run: `.venv/bin/python -m bench.grid` (builds both databases in a temporary folder, "
        f"then measures each in a fresh process, signed in as the district admin, {repeat} rounds).",
        "",
        f"Demo build, SQLite, scale 10 ({builds[10]['nodes']:,} grids): "
        f"**{builds[10]['seconds']:.1f} s**, peak memory **{builds[10]['peak_mb']:.0f} MB** "
        f"(scale 1: {builds[1]['seconds']:.1f} s, {builds[1]['peak_mb']:.0f} MB). "
        "Target: at most 120 s and 500 MB. Modules loaded (each adds its own demo data): "
        + ", ".join(builds[10]["modules"]) + ".",
        "",
        "| page | scale 1 ms | scale 1 ratio | scale 10 ms | scale 10 ratio | growth (10 / 1) | ok |",
        "|---|---:|---:|---:|---:|---:|:-:|",
    ]
    failed = []
    for r1, r10 in zip(res1, res10, strict=True):
        growth = r10["ratio"] / r1["ratio"]
        ok = r10["ratio"] <= TARGET_RATIO and r1["ratio"] <= TARGET_RATIO and growth <= TARGET_GROWTH
        if not ok:
            failed.append(r1["page"])
        lines.append(
            f"| {r1['page']} | {r1['median_ms']:.2f} | {r1['ratio']:.2f} | {r10['median_ms']:.2f} | "
            f"{r10['ratio']:.2f} | {growth:.2f} | {'yes' if ok else '**no**'} |"
        )
    lines += [
        "",
        f"Targets: ratio at most {TARGET_RATIO:g} at both scales, growth at most {TARGET_GROWTH:g}. "
        + ("All pages meet them." if not failed else "Missed by: " + ", ".join(failed) + "."),
        "",
        "What keeps the grid pages flat: node pages read the maintained totals "
        "(n_communities … n_zones) and never count a subtree; children lists and the "
        "tree's first level stop at 25 rows with a \"show more\" link; who-covers-today "
        "reads one community's posts and their leave in two queries; the community page "
        "loads its coverage table only when opened (or when a grid has nobody); search is "
        "a range scan of the code index plus a name match among communities and estates "
        "through the parent index that stops at 20 hits (buildings and zones, named "
        "\"3栋\" or \"2单元\", are found by code or under their estate).",
        "",
        "The trivial page (/ping) is the shared layout around one line, so a full page's "
        "ratio is its own cost over the layout's; HTMX fragment rows are compared with "
        "/ping requested as a fragment (no layout), the same request shape. What still "
        "grows or costs: (1) the layout's community switcher lists every community in "
        "scope (19, then 190), about 0.7 ms at scale 10 — it is in the trivial page too, "
        "so it shows in the absolute figures, not in the ratios; (2) a name search that "
        "matches nothing reads every estate's name (191, then 1,910), about 2 ms at "
        "scale 10 — the fix is a trigram index (pg_trgm on PostgreSQL, FTS5 on SQLite), "
        "a schema change not made yet; (3) fragments are small against a fragment "
        "baseline of about 0.7 ms, so 1–3 ms of real work reads as 3–6×.",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    doc = ROOT / "docs" / "performance.md"
    content = doc.read_text()
    start = content.index(SECTION)
    body_start = content.index("\n", start) + 1
    nxt = content.find("\n## ", body_start)
    end = nxt + 1 if nxt != -1 else len(content)
    doc.write_text(content[:body_start] + "\n" + text + "\n\n" + content[end:])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    ap.add_argument("--measure", metavar="FOLDER", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.repeat)))
        return
    with tempfile.TemporaryDirectory(prefix="wangge-bench-grid-") as tmp:
        builds = {}
        for scale in (1, 10):
            print(f"building the demo at scale {scale} …", flush=True)
            builds[scale] = build(scale, Path(tmp) / f"scale{scale}")
            builds[scale]["nodes"] = 1 + scale * (19 + 191 + 897 + 3134)
            print(f"  {builds[scale]['seconds']:.1f} s, peak {builds[scale]['peak_mb']:.0f} MB", flush=True)
        print("measuring …", flush=True)
        res1 = measure_in_subprocess(Path(tmp) / "scale1", args.repeat)
        res10 = measure_in_subprocess(Path(tmp) / "scale10", args.repeat)
    text = table(res1, res10, builds, args.repeat)
    print(text)
    if not args.no_write:
        write_section(text)
        print("written to docs/performance.md")


if __name__ == "__main__":
    main()
