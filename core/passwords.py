"""The password rules: long enough, and not one that attackers try first.

The common list is the 30,000 most used passwords that the zxcvbn package
(PyPI `zxcvbn`, maintained) bundles, plus the ones common in China that it
lacks. Compared case-insensitively.
"""

from __future__ import annotations

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 8
MAX_LENGTH = 128

# Common in China and missing from the list above.
CHINESE_COMMON = (
    "woaini1314", "5201314", "52013141314", "1314520", "woaini520", "aini1314", "woaini123",
    "88888888", "66666666", "99999999", "00000000", "11111111", "12341234", "123123123",
    "147258369", "147258", "123qwe", "qq123456", "a123456", "a12345678", "abc123456",
    "aa123456", "a1234567", "zxcvbnm123", "1qaz2wsx", "qwe123456", "wangge123", "admin123",
    "admin888", "password1", "p@ssw0rd", "passw0rd", "root1234", "test1234", "zhang123456",
    "wang123456", "li123456", "iloveyou1", "asd123456", "abcd1234", "1234qwer",
)

TOO_COMMON = _l("This password is one of the most common ones and is tried first by attackers. Choose another.")


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(CHINESE_COMMON)


def problem(password: str, username: str | None = None):
    """Why `password` may not be used (a lazy message), or None when it may."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_LENGTH)
    low = password.lower()
    if low in _common() or len(set(low)) <= 2:
        return TOO_COMMON
    if username and username.lower() in low:
        return _l("The password must not contain the username.")
    return None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password-just-for-timing")


def spend_check_time(password: str) -> None:
    """Take as long as checking a real password: a failed sign-in for an
    unknown username must not be faster than one for a known account."""
    check_password_hash(_dummy_hash(), password)
