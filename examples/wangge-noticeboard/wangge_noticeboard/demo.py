"""Demo data of the notice board (wangge_demo_data): deterministic for a seed."""

from __future__ import annotations

from .services import post_welcome_notices


def build(report) -> None:
    n = post_welcome_notices()
    report(f"noticeboard: {n} welcome notices")
