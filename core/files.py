"""The app's files readable by the app's user only (issue 11, item 8).

`secure_instance(app)` — the lead calls it in create_app after the config is
loaded — sets the process umask to 077, so that every file the app creates
from then on (the SQLite database and its journal, uploads, backups, the
jobs queue, exports) is 0600 and every folder 0700, and tightens what already
exists: the instance folder, the SQLite database, the upload folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

UMASK = 0o077


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.exists():
            path.chmod(mode)
    except OSError:  # pragma: no cover - a file owned by someone else: leave it
        pass


def secure_instance(app: Flask) -> None:
    os.umask(UMASK)
    instance = Path(app.instance_path)
    _chmod(instance, 0o700)
    uri = str(app.config.get("SQLALCHEMY_DATABASE_URI") or "")
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        db_file = Path(uri.removeprefix("sqlite:///").split("?")[0])
        for suffix in ("", "-wal", "-shm", "-journal"):
            _chmod(db_file.with_name(db_file.name + suffix), 0o600)
    uploads = Path(app.config.get("UPLOAD_FOLDER") or instance / "uploads")
    _chmod(uploads, 0o700)
    if uploads.is_dir():
        for p in uploads.rglob("*"):
            _chmod(p, 0o700 if p.is_dir() else 0o600)
