"""Module settings: the weekly quota and the special groups."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access
from core.audit import record
from core.extensions import db
from core.forms import DomainError
from core.security import requires
from core.web import current_community_id, render

from .. import queries as Q
from .. import services as S
from ..forms import (
    GroupTypeForm,
    QuotaForm,
)
from ..queries import MODULE
from . import bp


@bp.route("/settings", methods=["GET", "POST"])
@requires("affairs.settings")
def settings():
    from core.security import admin_community_ids

    ids = admin_community_ids()
    target_id = current_community_id() if ids is not None else None
    if ids is not None and target_id not in ids:
        target_id = sorted(ids)[0] if ids else None
        if target_id is None:
            abort(404)
    # A community's own quota is a write in that community (core.access); None: the district's.
    target = access.require_node(target_id, "affairs.settings", MODULE) if target_id else None
    weekday, hour = S.reminder_schedule(target_id)
    qform = QuotaForm(prefix="q", weekly_quota=S.weekly_quota(target_id), reminder_weekday=weekday, reminder_hour=hour)
    gform = GroupTypeForm(prefix="g")
    which = request.form.get("form")
    if request.method == "POST" and which == "quota" and qform.validate():
        S.set_weekly_quota(target_id, qform.weekly_quota.data, current_user.id,
                           qform.reminder_weekday.data, qform.reminder_hour.data)
        record("affairs.settings.quota", object_type="affairs_setting", community_id=target_id,
               summary=f"{qform.weekly_quota.data} / {qform.reminder_weekday.data} {qform.reminder_hour.data}:00")
        db.session.commit()
        flash(_("The weekly quota is now %(n)s visits.", n=qform.weekly_quota.data), "success")
        return redirect(url_for("affairs.settings"))
    district = ids is None
    if request.method == "POST" and which in ("group", "intervals") and not district:
        abort(403)  # special groups are the district's, shared by every community
    if request.method == "POST" and which == "group" and gform.validate():
        g = S.add_group_type(gform.name.data, gform.visit_interval_days.data)
        record("affairs.settings.group", g, summary=g.name)
        db.session.commit()
        flash(_("Special group “%(name)s” added.", name=g.name), "success")
        return redirect(url_for("affairs.settings"))
    if request.method == "POST" and which == "intervals":
        try:
            S.set_visit_intervals({g.id: request.form.get(f"interval-{g.id}", "") for g in Q.active_groups()})
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("affairs.settings"))
        record("affairs.settings.intervals", object_type="affairs_group_type")
        db.session.commit()
        flash(_("Changes saved."), "success")
        return redirect(url_for("affairs.settings"))
    return render("affairs/settings.html", qform=qform, gform=gform, groups=Q.active_groups(), target=target, district=district)


