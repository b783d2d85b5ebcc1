from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class NoticeForm(FlaskForm):
    node_id = SelectField(_l("Post on"), coerce=int, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=5000)])
    expires_on = DateField(_l("Last day on the board"), validators=[Optional()])
