"""Every user-visible message has a zh_CN translation; English is the source."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "_l": None, "N_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2), "lazy_ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def _sources():
    """(folder, extraction root) pairs: the core and every built-in plugin."""
    yield ROOT / "core"
    yield ROOT / "templates"
    for p in sorted((ROOT / "plugins").iterdir()):
        if (p / "__init__.py").exists():
            yield p


def _catalog() -> dict[str, str]:
    merged: dict[str, str] = {}
    for po in list(ROOT.glob("core/**/translations/zh_CN/LC_MESSAGES/messages.po")) + list(
        ROOT.glob("plugins/*/translations/zh_CN/LC_MESSAGES/messages.po")
    ):
        with po.open("rb") as f:
            cat = read_po(f, locale="zh_CN")
        for msg in cat:
            if not msg.id:
                continue
            key = msg.id if isinstance(msg.id, str) else msg.id[0]
            value = msg.string if isinstance(msg.string, str) else (msg.string[0] if msg.string else "")
            if value and not msg.fuzzy:
                merged[key] = value
    return merged


def _messages():
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    for src in _sources():
        if src.name == "templates":
            mm = [("**.html", "jinja2")]
        else:
            mm = method_map
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
            str(src), method_map=mm, keywords=KEYWORDS, options_map={"**.html": {"extensions": "jinja2.ext.i18n"}}
        ):
            if "/migrations/" in filename or "/tests/" in filename:
                continue
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                yield f"{src.name}/{filename}:{lineno}", msgid


def test_every_message_has_a_zh_cn_translation():
    catalog = _catalog()
    missing = sorted({(where, msgid) for where, msgid in _messages() if msgid not in catalog})
    assert not missing, f"{len(missing)} messages lack a zh_CN translation, e.g.:\n" + "\n".join(
        f"  {w}: {m!r}" for w, m in missing[:40]
    )


def test_the_ui_is_chinese_by_default_and_english_on_request(client, tree, login):
    from tests.factories import make_user

    make_user("admin1", "district_admin", tree.district)
    login("admin1")
    zh = client.get("/").get_data(as_text=True)
    assert "工作台" in zh and 'lang="zh-CN"' in zh
    client.post("/locale", data={"locale": "en"})
    en = client.get("/").get_data(as_text=True)
    assert "Dashboard" in en and 'lang="en"' in en
