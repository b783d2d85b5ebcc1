"""Response headers the core adds on top of the CSP set (core/app.py).

The lead's app factory calls `add_security_headers(app, resp)` from its
security-headers after_request (or `install(app)` registers it):
- Strict-Transport-Security in production (ENV_NAME=production, HSTS_MAX_AGE);
- Cache-Control: no-store on every page for a signed-in user and on every
  download (exports hold personal data), unless the view set its own.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user


def add_security_headers(app: Flask, resp):
    if app.config.get("ENV_NAME") == "production" and app.config.get("HSTS_MAX_AGE"):
        resp.headers.setdefault(
            "Strict-Transport-Security", f"max-age={int(app.config['HSTS_MAX_AGE'])}; includeSubDomains"
        )
    if "Cache-Control" not in resp.headers and _personal(resp):
        resp.headers["Cache-Control"] = "no-store"
    return resp


def _personal(resp) -> bool:
    if (request.endpoint or "").endswith("static"):
        return False
    if resp.headers.get("Content-Disposition", "").startswith("attachment"):
        return True
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # noqa: BLE001 - no user machinery (a bare app, a failed loader)
        return False


def install(app: Flask) -> None:
    app.after_request(lambda resp: add_security_headers(app, resp))
