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


# --- Periodic tasks (core.jobs) ---------------------------------------------------------------

def _community_stations(community_id):
    from sqlalchemy import select

    from core.extensions import db

    from .models import Station

    return db.session.scalars(select(Station).where(Station.community_id == community_id).order_by(Station.id)).all()


def generate_ahead(community_id) -> int:
    """Every night: the rota lines' shifts for the coming four weeks."""
    from core import clock
    from core.extensions import db

    from .services.shifts import generate_shifts

    made = sum(generate_shifts(st, clock.today(), 4) for st in _community_stations(community_id))
    db.session.commit()
    return made


def warn_expiring(community_id) -> int:
    """Every morning: tell a station's organisers about medicine expiring within
    30 days (once per batch and expiry date)."""
    from core import clock
    from core.extensions import db

    from .services.medicine import expiring_batches, notify_expiring

    sent = 0
    for st in _community_stations(community_id):
        batches = expiring_batches(st, clock.today())
        if batches:
            sent += notify_expiring(st, batches, clock.today())
    db.session.commit()
    return sent
