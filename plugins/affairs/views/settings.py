"""Module settings: the weekly quota and the special groups."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.audit import record
from core.extensions import db
from core.models import GridNode
from core.security import requires
from core.web import current_community_id, render

from .. import services as S
from ..forms import (
    GroupTypeForm,
    QuotaForm,
)
from ..models import (
    GroupType,
)
from . import bp
from .common import _groups


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
    target = db.session.get(GridNode, target_id) if target_id else None
    qform = QuotaForm(prefix="q", weekly_quota=S.weekly_quota(target_id))
    gform = GroupTypeForm(prefix="g")
    which = request.form.get("form")
    if request.method == "POST" and which == "quota" and qform.validate():
        S.set_weekly_quota(target_id, qform.weekly_quota.data, current_user.id)
        record("affairs.settings.quota", object_type="affairs_setting", summary=str(qform.weekly_quota.data), community_id=target_id)
        db.session.commit()
        flash(_("The weekly quota is now %(n)s visits.", n=qform.weekly_quota.data), "success")
        return redirect(url_for("affairs.settings"))
    district = ids is None
    if request.method == "POST" and which in ("group", "intervals") and not district:
        abort(403)  # special groups are the district's, shared by every community
    if request.method == "POST" and which == "group" and gform.validate():
        code = "custom_" + uuid.uuid4().hex[:8]
        g = GroupType(code=code, name=gform.name.data.strip(), builtin=False, visit_interval_days=gform.visit_interval_days.data)
        db.session.add(g)
        db.session.flush()
        record("affairs.settings.group", g, summary=g.name)
        db.session.commit()
        flash(_("Special group “%(name)s” added.", name=g.name), "success")
        return redirect(url_for("affairs.settings"))
    if request.method == "POST" and which == "intervals":
        for g in _groups():
            raw = request.form.get(f"interval-{g.id}", "").strip()
            if raw == "":
                g.visit_interval_days = None
            elif raw.isdigit() and 1 <= int(raw) <= 365:
                g.visit_interval_days = int(raw)
            else:
                flash(_("A visit interval is a number of days from 1 to 365."), "error")
                db.session.rollback()
                return redirect(url_for("affairs.settings"))
        record("affairs.settings.intervals", object_type="affairs_group_type")
        db.session.commit()
        flash(_("Changes saved."), "success")
        return redirect(url_for("affairs.settings"))
    return render("affairs/settings.html", qform=qform, gform=gform, groups=_groups(), target=target, district=district)


