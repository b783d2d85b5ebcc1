"""Latency as a ratio to a trivial page of the same app.

Every page is measured in one run against /ping — the shared layout around
one line of text, same middleware, signed in — so the machine's speed
cancels out and the ratio shows what the page itself costs. Use from the benchmark scripts:

    with bench_app(db_path) as (app, client):
        sign_in(client, "district")
        rows = measure(client, {"tree root": "/grid/", ...})
        print(markdown_table(rows))
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from pathlib import Path

TRIVIAL = "/ping"


@contextmanager
def bench_app(database_url: str, instance_path: str | Path, **config):
    from core import create_app

    cfg = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance_path),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
    }
    cfg.update(config)
    app = create_app(cfg)
    with app.app_context():
        yield app, app.test_client()


def sign_in(client, username: str, password: str) -> None:
    resp = client.post("/login", data={"username": username, "password": password})
    if resp.status_code != 302:
        raise RuntimeError(f"could not sign in as {username}")


def _time(client, url: str, headers=None) -> float:
    t0 = time.perf_counter()
    resp = client.get(url, headers=headers or {})
    dt = time.perf_counter() - t0
    if resp.status_code != 200:
        raise RuntimeError(f"{url} answered {resp.status_code}")
    return dt


def measure(client, pages: dict[str, str], repeat: int = 30, warmup: int = 3, headers=None) -> list[dict]:
    """Median latency of each page and its ratio to the trivial page.

    Pages and the trivial page are interleaved so that drift affects both.
    """
    for url in [TRIVIAL, *pages.values()]:
        for _ in range(warmup):
            _time(client, url, headers)
    samples: dict[str, list[float]] = {name: [] for name in pages}
    trivial: list[float] = []
    for _ in range(repeat):
        trivial.append(_time(client, TRIVIAL, headers))
        for name, url in pages.items():
            samples[name].append(_time(client, url, headers))
    base = statistics.median(trivial)
    rows = [{"page": "trivial (/ping)", "url": TRIVIAL, "median_ms": base * 1000, "ratio": 1.0}]
    for name, url in pages.items():
        med = statistics.median(samples[name])
        rows.append({"page": name, "url": url, "median_ms": med * 1000, "ratio": med / base})
    return rows


def markdown_table(rows: list[dict], title: str = "") -> str:
    out = []
    if title:
        out.append(f"### {title}\n")
    out.append("| page | median ms | ratio to trivial |")
    out.append("|---|---:|---:|")
    for r in rows:
        out.append(f"| {r['page']} | {r['median_ms']:.2f} | {r['ratio']:.2f} |")
    return "\n".join(out)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
