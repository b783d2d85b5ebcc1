"""The notice board's rules, one file per aggregate: plain functions over the
session, no Flask request; a refused input raises NoticeError with its field."""

from .notices import NoticeError, post_notice, post_welcome_notices, take_down  # noqa: F401
