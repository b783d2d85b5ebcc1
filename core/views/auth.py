"""Sign in, sign out, change password; the session rules.

A session (and a remember-me cookie) holds "user id:session version:nonce"
(User.get_id). Signing out or changing the password raises the account's
session version, so every other session and remember cookie of the account
stops working; the nonce makes each sign-in's cookie different.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..audit import record
from ..extensions import db, limiter
from ..models import User, utcnow
from ..passwords import MAX_LENGTH, MIN_LENGTH, problem, spend_check_time
from ..security import public, requires
from ..text import clean, has_control
from ..web import render

bp = Blueprint("auth", __name__)

# The largest id a database integer column holds: a bigger one in a URL is no record.
MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000


def load_user(user_id: str):
    """flask-login's user loader: refuses a session of an older session version."""
    parts = str(user_id).split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[0]) > 10:
        return None
    user = db.session.get(User, int(parts[0]))
    if user is None or not user.active or int(parts[1]) != (user.session_version or 0):
        return None
    user.login_nonce = parts[2]
    return user


def password_rule(form, field):
    """WTForms validator: the password policy of core.passwords."""
    username = None
    if "username" in form:
        username = form["username"].data
    elif current_user and current_user.is_authenticated:
        username = current_user.username
    why = problem(field.data or "", username)
    if why is not None:
        raise ValidationError(str(why))


@bp.before_app_request
def _clean_input():
    """Control characters never reach a view: they break exports, XML and
    PostgreSQL (which refuses NUL in text). Query and form values are cleaned
    here, once, for every module (core.text.clean); typed text is kept."""
    for attr in ("args", "form"):
        if attr == "form" and request.method not in ("POST", "PUT", "PATCH"):
            continue
        values = getattr(request, attr)
        if any(has_control(v) for v in values.values()):
            setattr(request, attr, ImmutableMultiDict([(k, clean(v)) for k, v in values.items(multi=True)]))


# Endpoints a user who must first change their password may still reach.
_OPEN_WHILE_CHANGING = {"auth.password", "auth.logout", "main.set_locale", "static"}


@bp.before_app_request
def _session_rules():
    # This runs before the app's own hooks: drop what an earlier request in the
    # same app context cached (the user, the community), as they do.
    for key in [k for k in vars(g) if k.startswith(("wangge_", "_login_user"))]:
        g.pop(key, None)
    # Ids and page numbers no database column holds: 404, never a 500 from the driver.
    extreme = any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in (request.view_args or {}).values())
    page, community = request.args.get("page", ""), request.args.get("community", "")
    extreme = extreme or len(page) > 7 or (page.isdigit() and int(page) > MAX_PAGE)
    extreme = extreme or (community.isdigit() and int(community) > MAX_ID)
    if extreme:
        g.wangge_community = None  # the 404 page must not look the huge id up either
        abort(404)
    endpoint = request.endpoint or ""
    if endpoint in _OPEN_WHILE_CHANGING or endpoint.endswith(".static"):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        target = url_for("auth.password")
        if request.headers.get("HX-Request"):
            resp = make_response("", 204)
            resp.headers["HX-Redirect"] = target
            return resp
        return redirect(target)
    return None


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in on this device"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH), password_rule]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("main.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return url_for("main.dashboard")
    return target


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], error_message="too many login attempts")
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is None:
            spend_check_time(form.password.data)  # no telling unknown names by the time taken
        if user is None or not user.check_password(form.password.data):
            form.password.errors.append(_("Wrong username or password."))
            record("login.failed", object_type="user_account", summary=form.username.data.strip()[:60])
            db.session.commit()
        elif not user.active:
            form.username.errors.append(_("This account is disabled. Ask your administrator."))
        else:
            user.login_nonce = secrets.token_urlsafe(12)
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            record("login", user, user=user)
            db.session.commit()
            if user.locale and "locale" not in session:
                session["locale"] = user.locale
            return redirect(_safe_next(request.args.get("next")))
    return render("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@requires(None)
def logout():
    user = current_user._get_current_object()
    user.end_sessions()  # every device: a copied cookie is dead too
    record("logout", user)
    db.session.commit()
    logout_user()
    session.pop("community_id", None)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@requires(None)
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not user.check_password(form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        elif form.new.data == form.current.data:
            form.new.errors.append(_("Choose a password different from the current one."))
        else:
            user.set_password(form.new.data)
            user.must_change_password = False
            user.end_sessions()  # other devices sign in again with the new password
            record("password.changed", user)
            db.session.commit()
            # This session goes on, with a new id (and remember cookie, if it had one).
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            user.login_nonce = secrets.token_urlsafe(12)
            login_user(user, remember=remembered)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.dashboard"))
    return render("auth/password.html", form=form, forced=current_user.must_change_password)
