"""My jobs: the list with live progress, a job's page, retry, the result file."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..audit import record
from ..extensions import db
from ..security import requires
from ..web import is_fragment_request, paginate, render
from .models import Job
from .runner import sweep_stale
from .service import retry as retry_job

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _own(job_id: int) -> Job:
    """A job of the signed-in user; anyone else's is a 404."""
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != current_user.id:
        abort(404)
    return job


def _polled(resp_body, active: bool):
    resp = make_response(resp_body)
    if is_fragment_request() and not active:
        resp.headers["HX-Trigger"] = "wangge-inbox"  # a finished job may have sent a notification
    return resp


@bp.route("/")
@requires(None)
def index():
    sweep_stale(user_id=current_user.id)
    page = paginate(select(Job).where(Job.user_id == current_user.id).order_by(Job.id.desc()), ahead=200)
    active = any(j.active for j in page.items)
    return _polled(render("jobs/list.html", block="jobs", page=page, active=active), active)


@bp.route("/<int:job_id>")
@requires(None)
def detail(job_id: int):
    job = _own(job_id)
    if job.state == "running" and sweep_stale(user_id=current_user.id):
        db.session.refresh(job)
    return _polled(render("jobs/detail.html", block="status", job=job), job.active)


@bp.route("/<int:job_id>/retry", methods=["POST"])
@requires(None)
def retry(job_id: int):
    job = _own(job_id)
    if job.state != "failed":
        flash(_("Only a failed job can be retried."), "error")
    else:
        record("job.retried", job, summary=job.task, community_id=job.community_id)
        retry_job(job)
        flash(_("The job was queued again."), "success")
    return redirect(url_for("jobs.detail", job_id=job_id))


@bp.route("/<int:job_id>/file")
@requires(None)
def download(job_id: int):
    from ..uploads import send

    job = _own(job_id)
    result = job.result or {}
    if not result.get("file"):
        abort(404)
    record("job.downloaded", job, summary=result.get("filename"), community_id=job.community_id)
    db.session.commit()
    return send(result["file"], download_name=result.get("filename") or "result")
