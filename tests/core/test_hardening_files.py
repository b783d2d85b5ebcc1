"""The database, uploads and backups are readable by the app's user only."""

from __future__ import annotations

import os
import stat

from core import files


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_secure_instance_tightens_existing_files_and_new_ones(app, tmp_path):
    old = os.umask(0o022)
    try:
        instance = tmp_path / "inst"
        (instance / "uploads" / "inquiry").mkdir(parents=True)
        (instance / "uploads" / "inquiry" / "a.jpg").write_bytes(b"x")
        (instance / "wangge.sqlite").write_bytes(b"")
        app.instance_path = str(instance)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'wangge.sqlite'}"
        app.config["UPLOAD_FOLDER"] = None
        files.secure_instance(app)
        assert _mode(instance) == 0o700
        assert _mode(instance / "wangge.sqlite") == 0o600
        assert _mode(instance / "uploads") == 0o700
        assert _mode(instance / "uploads" / "inquiry" / "a.jpg") == 0o600
        # Created afterwards (a backup, a new upload): private too.
        (instance / "backup.sqlite").write_bytes(b"")
        (instance / "uploads" / "new").mkdir()
        assert _mode(instance / "backup.sqlite") == 0o600
        assert _mode(instance / "uploads" / "new") == 0o700
    finally:
        os.umask(old)
