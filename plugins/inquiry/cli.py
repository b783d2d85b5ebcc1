"""`flask --app wsgi inquiry …`: maintenance of the module's totals."""

from __future__ import annotations

import click
from flask.cli import AppGroup

inquiry_cli = AppGroup("inquiry", help="Square Inquiry maintenance.")


@inquiry_cli.command("rebuild-stats")
def rebuild_stats_command():
    """Recompute the analysis totals from the problems and their timeline."""
    from core.extensions import db

    from .services import rebuild_stats

    n = rebuild_stats()
    db.session.commit()
    click.echo(f"{n} rows of totals rebuilt.")
