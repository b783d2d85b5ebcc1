"""`flask --app wsgi stations …`: generating the rota's shifts ahead."""

from __future__ import annotations

import click
from flask.cli import AppGroup

stations_cli = AppGroup("stations", help="Pioneer stations maintenance.")


def generate_all(weeks: int = 4) -> int:
    """Shifts of every station's rota lines for the coming weeks (where the module is on)."""
    from sqlalchemy import select

    from core import clock
    from core.access import module_condition
    from core.extensions import db

    from .models import Station
    from .services.shifts import generate_shifts

    made = 0
    for station in db.session.scalars(select(Station).where(module_condition("stations", Station.community_id))):
        made += generate_shifts(station, clock.today(), weeks)
    return made


@stations_cli.command("generate")
@click.option("--weeks", default=4, show_default=True, help="How many weeks ahead.")
def generate_command(weeks):
    """Create the shifts of every station's rota lines for the coming weeks."""
    from core.extensions import db

    n = generate_all(weeks)
    db.session.commit()
    click.echo(f"{n} shifts created.")
