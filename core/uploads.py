"""Uploads in one configured place (``UPLOAD_FOLDER``, default
``instance/uploads``), one sub-folder per module; never served directly —
a module's view checks access (core.access) and sends the file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from flask import abort, current_app, send_file


def upload_root() -> Path:
    root = Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def folder(module: str, *parts: str) -> Path:
    """The folder for a module's files (created, readable by the app's user only)."""
    path = upload_root().joinpath(module, *parts)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def save_bytes(module: str, data: bytes, suffix: str = "", *parts: str) -> str:
    """Store bytes under the module's folder; returns the name to keep in the
    database (relative to the upload root)."""
    name = f"{uuid.uuid4().hex}{suffix}"
    target = folder(module, *parts) / name
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return str(target.relative_to(upload_root()))


def path_of(stored: str) -> Path:
    """The file of a stored name; 404 when it is missing or points outside the root."""
    root = upload_root().resolve()
    path = (root / stored).resolve()
    if root not in path.parents or not path.is_file():
        abort(404)
    return path


def send(stored: str, mimetype: str | None = None, download_name: str | None = None):
    """Send a stored file (after the caller checked access to its record)."""
    resp = send_file(path_of(stored), mimetype=mimetype, download_name=download_name,
                     as_attachment=download_name is not None)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
