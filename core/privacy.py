"""Masking of personal data in lists: the one implementation every module uses.

Seeing a value in full is a permission of the module that holds it, and is
written to the audit log there; these functions only decide what a list shows.
"""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """138****5678; a 7-digit number keeps only its first three digits."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    if len(phone) == 7:
        return phone[:3] + "****"
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id(number: str | None) -> str:
    """340221********123X: the area code and the last four only."""
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str | None) -> str:
    """张**: the family name only."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
