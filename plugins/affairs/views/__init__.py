"""The pages of grid affairs: one blueprint, one file per area."""

from __future__ import annotations

from flask import Blueprint

from .. import services as S

bp = Blueprint("affairs", __name__, url_prefix="/affairs", template_folder="../templates",
               static_folder="../static", static_url_path="/static")

@bp.app_template_global("affairs_label")
def _label(code):
    return S.label(code)


@bp.app_template_filter("mask_id")
def _mask_id(v):
    return S.mask_id(v)


@bp.app_template_filter("mask_phone")
def _mask_phone(v):
    return S.mask_phone(v)


@bp.app_template_global("group_name")
def _group_name(g):
    return S.group_name(g)




from . import exports, groups, houses, imports, panels, residents, settings, squads, tasks, visits  # noqa: E402, F401
