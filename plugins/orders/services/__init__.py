"""The rules of the orders module, one file per aggregate. Plain functions:
no Flask request in them; refusals are OrdersError (a core.forms.DomainError)."""

from core.forms import DomainError


class OrdersError(DomainError):
    """A rule of the orders module refused the input (message next to `field`)."""
