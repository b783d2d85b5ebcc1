"""The inbox: notifications, mark read, the unread count, preferences."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import utcnow
from ..security import requires
from ..web import is_fragment_request, paginate, render
from . import enabled_kinds, unread_count
from .models import Notification, NotificationPreference

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


@bp.app_context_processor
def _unread_in_header():
    def inbox_unread() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            return unread_count(current_user.id)
        except SQLAlchemyError:  # the error page of a failing database still renders
            db.session.rollback()
            return 0

    return {"inbox_unread": inbox_unread}


def _own(note_id: int) -> Notification:
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    return note


def _changed(resp):
    """Tell the header's unread count to refresh (HTMX requests)."""
    resp = make_response(resp)
    resp.headers["HX-Trigger"] = "wangge-inbox"
    return resp


@bp.route("/")
@requires(None)
def index():
    stmt = select(Notification).where(Notification.user_id == current_user.id)
    if request.args.get("unread"):
        stmt = stmt.where(Notification.read_at.is_(None))
    page = paginate(stmt.order_by(Notification.id.desc()), ahead=200)
    return render("inbox/list.html", block="notes", page=page, unread=unread_count(current_user.id))


@bp.route("/count")
@requires(None)
def count():
    return render("inbox/count.html", block="badge", unread=unread_count(current_user.id))


@bp.route("/<int:note_id>/open", methods=["POST"])
@requires(None)
def open_note(note_id: int):
    """Mark read and go where the notification points."""
    note = _own(note_id)
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()
    return redirect(note.url or url_for("inbox.index"))


@bp.route("/<int:note_id>/read", methods=["POST"])
@requires(None)
def mark_read(note_id: int):
    note = _own(note_id)
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()
    if is_fragment_request():
        return _changed(render("inbox/list.html", block="note", note=note))
    return redirect(request.referrer or url_for("inbox.index"))


@bp.route("/read-all", methods=["POST"])
@requires(None)
def mark_all_read():
    n = db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount
    db.session.commit()
    flash(_("%(n)s notifications marked read.", n=n), "success")
    return _changed(redirect(url_for("inbox.index")))


@bp.route("/preferences", methods=["GET", "POST"])
@requires(None)
def preferences():
    kinds = enabled_kinds(current_user.id)
    if request.method == "POST":
        chosen = set(request.form.getlist("kind"))
        db.session.execute(delete(NotificationPreference).where(NotificationPreference.user_id == current_user.id))
        for kind, _on in kinds:
            on = kind.name in chosen
            if on != kind.default:  # keep only choices that differ from the default
                db.session.add(NotificationPreference(user_id=current_user.id, kind=kind.name, enabled=on))
        db.session.commit()
        flash(_("Your choices were saved."), "success")
        return redirect(url_for("inbox.preferences"))
    return render("inbox/preferences.html", kinds=kinds)
