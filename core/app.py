"""The app factory: create_app builds one app with its own plugin manager and registry."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, make_response, render_template, request, session
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_migrate import Migrate
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.exceptions import HTTPException

from . import access, builtin, errors_extra, files, headers, jobs, security
from . import config as default_config
from .cli import register_cli
from .extensions import csrf, db, htmx, limiter, login_manager
from .i18n import compiled_translation_dirs
from .models import GridNode
from .modules import ModuleOff, is_enabled
from .plugins import Registry, build_plugin_manager, build_registry, register_blueprints
from .views import auth as auth_views
from .web import current_community_id, is_fragment_request, localtime

ROOT = Path(__file__).resolve().parent.parent
# In a checkout the app's templates/ and static/ sit next to core/; an installed
# package carries them as core/site/ (setup.py copies them there at build time).
CHECKOUT = (ROOT / "templates").is_dir() and (ROOT / "pyproject.toml").is_file()
SITE = ROOT if CHECKOUT else Path(__file__).resolve().parent / "site"
INSECURE_KEYS = {"dev", "secret", "changeme", "change-me", "development"}


@dataclass
class WanggeState:
    pm: Any
    registry: Registry


def create_app(config: dict | None = None, extra_plugins: list | None = None) -> Flask:
    # Default instance folder: instance/ of the checkout, or of the current
    # folder for an installed package (never inside site-packages).
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "WANGGE_INSTANCE_PATH", str((ROOT if CHECKOUT else Path.cwd()) / "instance")
    )
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(SITE / "templates"),
        static_folder=str(SITE / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _load_config(app, config)
    files.secure_instance(app)  # the database, uploads and backups readable by the app's user only
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)

    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(str(Path(app.instance_path) / "templates")), FileSystemLoader(app.template_folder)]
    )

    pm = build_plugin_manager(
        builtin,
        extra_plugins,
        load_entry_points=app.config["LOAD_ENTRY_POINTS"],
        only=app.config["PLUGINS"],
    )
    db.init_app(app)
    with app.app_context():
        _enforce_sqlite_foreign_keys(db.engine)
        registry = build_registry(pm)
    app.extensions["wangge"] = WanggeState(pm=pm, registry=registry)

    # A Migrate object per app: its configure callbacks would otherwise pile up
    # on one shared object, and the last app built would decide every app's branches.
    migrate = Migrate()
    migrate.init_app(app, db, directory=str(ROOT / "core" / "migrations"), render_as_batch=True)

    @migrate.configure
    def _version_locations(cfg):
        dirs = list(dict.fromkeys(registry.migration_dirs))
        cfg.set_main_option("version_locations", " ".join(dirs))
        cfg.set_main_option("version_path_separator", "space")
        return cfg

    translation_dirs = compiled_translation_dirs(
        [str(ROOT / "core" / "translations"), str(ROOT / "core" / "grid" / "translations"),
         str(ROOT / "core" / "jobs" / "translations"), *registry.translation_dirs],
        Path(app.instance_path),
    )
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs)
    # A Babel object per app: Flask-Babel caches the merged catalogs on it, and
    # each app has its own plugins' translation folders (tests build many apps).
    Babel().init_app(app, locale_selector=_select_locale, timezone_selector=lambda: app.config["TIMEZONE"])

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)

    # Refuses sessions and remember-me cookies of an older session version
    # (after sign-out, a password change or an admin reset).
    login_manager.user_loader(auth_views.load_user)

    jobs.init_app(app)  # after the registry: the queue is built from the declared tasks
    register_blueprints(app, pm, registry)
    _install_request_hooks(app)
    headers.install(app)
    _install_error_pages(app)
    errors_extra.install(app)
    _install_template_globals(app)

    register_cli(app)
    return app


def _load_config(app: Flask, config: dict | None) -> None:
    app.config.from_object(default_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "wangge.sqlite")
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    for key, value in os.environ.items():
        if key.startswith("WANGGE_") and key != "WANGGE_INSTANCE_PATH":
            app.config[key.removeprefix("WANGGE_")] = default_config.parse_env(value)
    if config:
        app.config.update(config)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgres://")
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        # A copy: the default dict lives in core.config and is shared by every app.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 15})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if app.config.get("REDIS_URL") and app.config.get("RATELIMIT_STORAGE_URI") == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]

    if not app.config.get("SECRET_KEY"):
        key_file = Path(app.instance_path) / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    if app.config["ENV_NAME"] == "production":
        key = str(app.config["SECRET_KEY"])
        if key.lower() in INSECURE_KEYS or len(key) < 32:
            raise RuntimeError(
                "Refusing to start in production with a default or short SECRET_KEY. "
                "Remove SECRET_KEY to have one generated into instance/secret_key, "
                "or set WANGGE_SECRET_KEY to a long random value."
            )
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def _enforce_sqlite_foreign_keys(engine) -> None:
    """SQLite checks foreign keys only when asked, per connection: ask on every one."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _foreign_keys_on(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _select_locale():
    if not has_request_context():
        return None  # CLI, start-up: the default locale (zh_CN)
    choice = session.get("locale")
    if choice is None and current_user and current_user.is_authenticated:
        choice = current_user.locale
    return "en" if choice == "en" else "zh_CN"


def _install_request_hooks(app: Flask) -> None:
    registry = app.extensions["wangge"].registry

    @app.before_request
    def fresh_request_state():
        # A request reuses an app context that is already pushed (tests, CLI),
        # and with it `g`: drop the per-request caches so nothing leaks between requests.
        for key in [k for k in vars(g) if k.startswith(("wangge_", "_flask_babel", "_login_user"))]:
            g.pop(key, None)
        # The community in scope of an object URL is the object's, whatever its
        # argument is called (node_id, problem_id, …): the module gate below follows it.
        found = _community_of_url(registry, registry.blueprint_module.get(request.blueprint or ""),
                                  request.view_args or {})
        if found is not None:
            g.wangge_community = found[0]

    @app.before_request
    def gate_modules():
        module = registry.blueprint_module.get(request.blueprint or "")
        if module is None or module == "core":
            return None
        cid = current_community_id()
        if cid is None and access.module_on_anywhere(module):
            # District-wide: open while some community has the module on;
            # every list leaves out the communities where it is off.
            return None
        if not is_enabled(module, cid):
            community = db.session.get(GridNode, cid) if cid else None
            raise ModuleOff(
                registry.modules[module].title,
                community.name if community else _l("the district"),
            )
        return None

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if request.headers.get("HX-Request"):
            resp.headers.add("Vary", "HX-Request")
        return resp


def _community_of_url(registry, module, view_args) -> tuple[int | None] | None:
    """(community id,) of the first anchored object named by a URL argument
    (an anchor's url_args: of the blueprint's own module, or the core's node_id),
    or None when the URL names none (or it does not exist)."""
    if not view_args:
        return None
    for anchor in access.anchors():
        if anchor.module not in registry.modules or anchor.module not in (module, "core"):
            continue
        for arg in anchor.url_args:
            value = view_args.get(arg)
            if value is None:
                continue
            try:
                ident = int(value)
            except (TypeError, ValueError):
                return None
            obj = db.session.get(anchor.model, ident) if -(2**63) < ident < 2**63 else None
            return (access.community_of(obj),) if obj is not None else None
    return None


def _install_error_pages(app: Flask) -> None:
    def page(template, status, **ctx):
        if is_fragment_request():
            # Put the message where the user looks, not inside a widget.
            resp = make_response(render_template(template, fragment=True, **ctx), status)
            resp.headers["HX-Retarget"] = "#flash"
            resp.headers["HX-Reswap"] = "innerHTML"
            return resp
        return render_template(template, **ctx), status

    @app.errorhandler(ModuleOff)
    def module_off(exc):
        return page("errors/module_off.html", 404, module_title=exc.module_title, community_name=exc.community_name)

    @app.errorhandler(404)
    def not_found(exc):
        return page("errors/404.html", 404)

    @app.errorhandler(403)
    def forbidden(exc):
        return page("errors/403.html", 403)

    @app.errorhandler(400)
    def bad_request(exc):
        return page("errors/400.html", 400, description=getattr(exc, "description", ""))

    @app.errorhandler(429)
    def too_many(exc):
        return page("errors/429.html", 429)

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        return page("errors/500.html", 500)

    @app.errorhandler(Exception)
    def unhandled(exc):
        if isinstance(exc, HTTPException):
            return exc
        if app.config.get("PROPAGATE_EXCEPTIONS") or app.testing and app.config.get("TESTING_RAISE", True):
            raise exc
        app.logger.exception("Unhandled error")
        db.session.rollback()
        return page("errors/500.html", 500)


def _install_template_globals(app: Flask) -> None:
    registry = app.extensions["wangge"].registry

    def visible(items):
        """Declared items of modules on in the current community, that the user may use."""
        cid = current_community_id()
        out = []
        for item in items:
            if not is_enabled(item.module, cid):
                continue
            if item.permission and not security.can(item.permission):
                continue
            out.append(item)
        return out

    @app.context_processor
    def inject():
        return {
            "registry": registry,
            "visible": visible,
            "can": security.can,
            "current_locale": str(get_locale()),
            "current_community_id": current_community_id,
        }

    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
