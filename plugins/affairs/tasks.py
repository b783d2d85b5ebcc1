"""Background and periodic work of grid affairs (core.jobs).

- "affairs.import": an Excel import of residents or houses
  (services.run_import; started by the import page).
- "affairs.export": a big export (residents, houses, special groups, visits)
  written to a file the user downloads from the job's page (exports.run_export).
- "affairs.visit_quota" (periodic, per community): on the configured weekday
  and hour, grid workers short of their weekly visit quota are told.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.plugins import NotificationKind, Periodic, Task


def import_task(job, import_id: int, file: str | None = None) -> dict:
    from .services import run_import

    return run_import(job, import_id, file=file)


def export_task(job, **params) -> dict:
    from .exports import run_export

    return run_export(job, **params)


def quota_reminder_task(community_id: int) -> int:
    from .services.reminders import visit_quota_reminders

    return visit_quota_reminders(community_id)


def tasks() -> list[Task]:
    return [
        Task("affairs.import", import_task, _l("Import residents or houses")),
        Task("affairs.export", export_task, _l("Export of grid affairs")),
    ]


def periodic_tasks() -> list[Periodic]:
    # Every hour on the hour: each community is told on its own weekday and
    # hour (settings), checked by the task; a run is claimed once per slot and
    # each reminder is de-duplicated by its key (year, week, worker).
    return [Periodic("affairs.visit_quota", quota_reminder_task, schedule={"minute": "0"}, per_community=True)]


def notification_kinds() -> list[NotificationKind]:
    return [
        NotificationKind(
            "affairs.visit_quota",
            _l("Weekly visit quota"),
            description=_l("A reminder on the configured weekday when you are short of your weekly visit quota."),
            level="warning",
        )
    ]
