"""The notice board's blueprint; one file per area (here only the board)."""

from flask import Blueprint

bp = Blueprint("noticeboard", __name__, url_prefix="/noticeboard", template_folder="../templates",
               static_folder="../static")

from . import board  # noqa: E402,F401 - registers the routes on bp
