from __future__ import annotations

import click
from flask.cli import with_appcontext

from . import queries


@click.group("noticeboard")
def noticeboard_group():
    """The notice board."""


@noticeboard_group.command("stats")
@with_appcontext
def stats_command():
    """How many notices each grid node carries."""
    rows = queries.counts_by_node()
    if not rows:
        click.echo("No notices yet.")
    for name, n in rows:
        click.echo(f"{name}: {n}")
