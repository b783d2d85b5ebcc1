"""Settings: categories, extra days, Open311 keys."""


from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.audit import record
from core.extensions import db
from core.models import utcnow
from core.security import requires
from core.web import render

from .. import services as svc
from ..forms import (
    ApiKeyForm,
    CategoryForm,
    ExtraDayForm,
)
from ..models import (
    ApiKey,
    Category,
    ExtraDay,
)
from . import bp
from .common import _categories, _locale, _unit_choices

# --- Settings: categories, extra days, Open311 keys --------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@requires("inquiry.settings")
def settings():
    cats = _categories()
    day_form = ExtraDayForm(prefix="day")
    key_form = ApiKeyForm(prefix="key")
    new_key = None
    action = request.form.get("action")
    if request.method == "POST":
        if action == "category":
            cat = db.session.get(Category, int(request.form.get("category_id", "0") or 0))
            form = CategoryForm()
            form.default_unit_id.choices = _unit_choices()
            if cat is None:
                abort(404)
            if form.validate_on_submit():
                cat.deadline_days = form.deadline_days.data
                cat.property_management = form.property_management.data
                cat.default_unit_id = form.default_unit_id.data
                record("inquiry.category", cat, summary=f"{cat.code}: {cat.deadline_days}")
                db.session.commit()
                flash(_("Category saved."), "success")
            else:
                flash(_("Working days must be between 1 and 90."), "error")
            return redirect(url_for("inquiry.settings"))
        if action == "day" and day_form.validate_on_submit():
            row = db.session.scalar(select(ExtraDay).where(ExtraDay.day == day_form.day.data)) or ExtraDay(day=day_form.day.data)
            row.is_workday = day_form.is_workday.data == "1"
            row.note = day_form.note.data or ""
            db.session.add(row)
            record("inquiry.extra_day", summary=f"{row.day}: {row.is_workday}")
            db.session.commit()
            flash(_("Day saved."), "success")
            return redirect(url_for("inquiry.settings"))
        if action == "day_delete":
            row = db.session.get(ExtraDay, int(request.form.get("day_id", "0") or 0))
            if row is not None:
                db.session.delete(row)
                db.session.commit()
            return redirect(url_for("inquiry.settings"))
        if action == "key" and key_form.validate_on_submit():
            row, new_key = svc.issue_api_key(key_form.name.data, current_user)
            record("inquiry.api_key", row, summary=row.name)
            db.session.commit()
            flash(_("Key issued. Copy it now: it is shown only once."), "success")
        elif action == "key_revoke":
            row = db.session.get(ApiKey, int(request.form.get("key_id", "0") or 0))
            if row is not None and row.revoked_at is None:
                row.revoked_at = utcnow()
                record("inquiry.api_key_revoke", row, summary=row.name)
                db.session.commit()
                flash(_("Key revoked."), "success")
            return redirect(url_for("inquiry.settings"))
        elif action in ("day", "key"):
            flash(_("Please correct the marked fields."), "error")
    days = list(db.session.scalars(select(ExtraDay).order_by(ExtraDay.day.desc()).limit(100)))
    keys = list(db.session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))
    cat_forms = []
    for c in cats:
        f = CategoryForm(formdata=None, obj=c)
        f.default_unit_id.choices = _unit_choices()
        cat_forms.append((c, f))
    return render("inquiry/settings.html", cat_forms=cat_forms, day_form=day_form, key_form=key_form, days=days, keys=keys,
                  new_key=new_key, loc=_locale(), category_title=svc.category_title)
