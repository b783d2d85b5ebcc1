"""Translations: every plugin has its own translations/ folder, merged by
Flask-Babel into one catalog. The .po files are the source; the .mo files
are compiled

- at build/install time (setup.py's build_py compiles every .po it packages),
  so an installed package carries them; or
- when missing or stale (a fresh clone, an edited .po), into the instance
  folder (``instance/translations/<name>-<hash>/``) at start-up — never into the
  package folder, which may be read-only or shared by several instances.

Sources are named as translators know them (`zh_CN/`); Babel resolves
"zh_CN" to the CLDR locale zh_Hans_CN and looks for that folder, so the
compiled catalog is written under Babel's canonical name.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import gettext


def _targets(source: Path, out: Path):
    """(po, mo) pairs: each catalog of `source` and where its compiled form goes under `out`."""
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        locale = str(Locale.parse(po.parent.parent.name))
        yield po, out / locale / "LC_MESSAGES" / (po.stem + ".mo")


def _fresh(po: Path, mo: Path) -> bool:
    return mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime


def compile_catalog(po: Path, mo: Path) -> None:
    """Compile one .po into `mo` (atomically: several workers may start at once)."""
    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    tmp = mo.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        write_mo(f, catalog, use_fuzzy=False)
    os.replace(tmp, mo)


def compile_in_place(source: str | Path) -> list[Path]:
    """Compile every catalog of a translations folder next to its .po (the
    build step; also `flask --app wsgi translations compile` in a checkout)."""
    written = []
    for po, mo in _targets(Path(source), Path(source)):
        if not _fresh(po, mo):
            compile_catalog(po, mo)
            written.append(mo)
    return written


def compiled_translation_dirs(dirs: list[str], instance_path: Path) -> list[str]:
    """The folders Flask-Babel should read: each source folder whose .mo files
    are all present and fresh (compiled at build time), else a copy compiled
    into the instance folder."""
    out = []
    for d in dirs:
        source = Path(d)
        pairs = list(_targets(source, source))
        if all(_fresh(po, mo) for po, mo in pairs):
            out.append(str(source))
            continue
        digest = hashlib.sha1(str(source.resolve()).encode()).hexdigest()[:10]
        target = instance_path / "translations" / f"{source.parent.name}-{digest}"
        for po, mo in _targets(source, target):
            if not _fresh(po, mo):
                compile_catalog(po, mo)
        out.append(str(target))
    return out


def N_(msgid: str) -> str:
    """Mark an English message for translation without translating it now.

    For messages stored and translated when read, in the reader's language:
    notifications (core.notify) and job results and failures (core.jobs).
    pybabel extracts `N_` by default; tests/test_i18n.py knows it too.
    """
    return msgid


def translate(msgid: str, params: dict | None = None) -> str:
    """A stored msgid and its params, in the current locale. A msgid whose
    params do not fit (a changed message) shows untranslated rather than fail."""
    params = params or {}
    try:
        return gettext(msgid, **params)
    except (KeyError, ValueError, TypeError):
        try:
            return msgid % params if params else msgid
        except (KeyError, ValueError, TypeError):
            return msgid
