"""The rules of the stations module, one file per aggregate. Plain functions:
no Flask request in them; they raise StationsError (a core.forms.DomainError)
with the form field the message belongs to."""

from __future__ import annotations

from core.forms import DomainError


class StationsError(DomainError):
    """A rule of the stations module refused the input."""


class ShiftFull(StationsError):
    """Every slot of the shift is taken (and no waitlist was wanted)."""
