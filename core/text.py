"""Text as users type it, made safe to store and to write out.

`clean(text)` drops the characters that break XML, xlsx and terminals: the C0
controls except tab and line breaks, DEL and the C1 controls, lone
surrogates and the two non-characters U+FFFE/U+FFFF. Modules call it on the
way in (form fields, imports, APIs); the exporters call it on the way out.
"""

from __future__ import annotations

import re

_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# Cells starting with these are formulas to Excel, LibreOffice and WPS.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text):
    """`text` without control characters (None stays None; non-text is returned as is)."""
    if not isinstance(text, str):
        return text
    return _BAD.sub("", text)


def has_control(text) -> bool:
    return isinstance(text, str) and _BAD.search(text) is not None


def clean_line(text):
    """clean() and also no line breaks or tabs: for one-line fields (names, titles)."""
    if not isinstance(text, str):
        return text
    return " ".join(clean(text).split()) if any(c in text for c in "\t\r\n") else clean(text)


def no_formula(text: str) -> str:
    """A spreadsheet shows this text as text, never runs it as a formula."""
    return "'" + text if text[:1] in FORMULA_START else text
