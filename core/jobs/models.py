"""The job record and the claims of periodic runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow

STATES = ("queued", "running", "done", "failed")


class Job(db.Model):
    """One run of a background task: who started it, for which community,
    how far it got, and how it ended."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200), default="")
    module: Mapped[str] = mapped_column(String(40), default="core")
    state: Mapped[str] = mapped_column(String(10), default="queued")
    params: Mapped[dict | None] = mapped_column(JSON)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(255))
    # What the task returned (JSON); "file"/"filename" name a stored result file.
    result: Mapped[dict | None] = mapped_column(JSON)
    # The reason of a failure for users: a msgid translated when read (with
    # error_params), or text already in the starter's language (error_params NULL).
    error: Mapped[str | None] = mapped_column(Text)
    error_params: Mapped[dict | None] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Incremented when a consumer claims the job: a retry is attempt 2, ...
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # "host:pid" of the consumer running it, to spot a consumer that died.
    worker: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (
        Index("ix_job_user_id_id", "user_id", "id"),
        Index("ix_job_state_heartbeat", "state", "heartbeat_at"),
    )

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return max(0, min(100, int(self.done * 100 / self.total)))

    @property
    def error_text(self) -> str:
        from ..i18n import translate

        if not self.error:
            return ""
        if self.error_params is None:
            return self.error
        return translate(self.error, self.error_params)

    @property
    def summary_text(self) -> str:
        """The result's summary line ("message" msgid + "params"), in the reader's language."""
        from ..i18n import translate

        res = self.result or {}
        return translate(res["message"], res.get("params") or {}) if res.get("message") else ""


class PeriodicRun(db.Model):
    """A claim: the first consumer to insert (task, slot) runs that slot;
    every other consumer's insert fails on the unique key and it skips."""

    __tablename__ = "job_periodic_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(80))
    # The scheduled minute (naive UTC) that this run is for.
    slot: Mapped[dt.datetime] = mapped_column(DateTime)
    worker: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("task", "slot"),)
