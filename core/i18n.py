"""Translations: every plugin has its own translations/ folder, merged by
Flask-Babel into one catalog. The .po files are the source; .mo files are
compiled from them when missing or stale, so a fresh clone just works.

Sources are named as translators know them (`zh_CN/`); Babel resolves
"zh_CN" to the CLDR locale zh_Hans_CN and looks for that folder, so the
compiled catalog is written under Babel's canonical name.
"""

from __future__ import annotations

import os
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def ensure_compiled(dirs: list[str]) -> None:
    for d in dirs:
        for po in Path(d).glob("*/LC_MESSAGES/*.po"):
            locale = str(Locale.parse(po.parent.parent.name))
            mo = Path(d) / locale / "LC_MESSAGES" / (po.stem + ".mo")
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            with po.open("rb") as f:
                catalog = read_po(f, locale=po.parent.parent.name)
            tmp = mo.with_suffix(f".{os.getpid()}.tmp")
            try:
                mo.parent.mkdir(parents=True, exist_ok=True)
                with tmp.open("wb") as f:
                    write_mo(f, catalog, use_fuzzy=False)
                os.replace(tmp, mo)  # atomic: several workers may start at once
            except OSError:  # pragma: no cover - a read-only install ships .mo files
                pass


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
    from flask_babel import gettext

    params = params or {}
    try:
        return gettext(msgid, **params)
    except (KeyError, ValueError, TypeError):
        try:
            return msgid % params if params else msgid
        except (KeyError, ValueError, TypeError):
            return msgid
