"""Forms of the grid pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

PHONE = Regexp(
    r"^(1\d{10}|0\d{2,3}-?\d{7,8})$",
    message=_l("Enter an 11-digit mobile number or a landline such as 0553-1234567."),
)
CODE = Regexp(r"^[0-9A-Za-z-]+$", message=_l("Use digits, letters and dashes only."))


class NodeForm(FlaskForm):
    name = StringField(_l("Grid name"), validators=[DataRequired(message=_l("Give the grid a name.")), Length(max=120)])
    code = StringField(_l("Grid code"), validators=[DataRequired(message=_l("Give the grid a code.")), Length(max=40), CODE])
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[Optional(), NumberRange(min=0, max=100000)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    party_org = StringField(_l("Party organisation"), validators=[Optional(), Length(max=120)])
    party_leader = StringField(_l("Secretary or leader"), validators=[Optional(), Length(max=60)])
    party_leader_phone = StringField(_l("Leader's phone"), validators=[Optional(), PHONE])
    property_company_id = SelectField(_l("Property company"), coerce=int, default=0, validators=[Optional()])


class MoveForm(FlaskForm):
    parent_code = StringField(
        _l("New parent (grid code)"), validators=[DataRequired(message=_l("Enter the code of the new parent grid.")), Length(max=40)]
    )


class ImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[FileRequired(message=_l("Choose a file to import."))])


class OrgForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[])
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(max=120)])
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=40)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[Optional(), PHONE])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    active = BooleanField(_l("In service (inactive ones are not offered in forms)"), default=True)


class PostForm(FlaskForm):
    a_user_id = SelectField(_l("A-post worker"), coerce=int, default=0)
    b_user_id = SelectField(_l("B-post worker (backs A up)"), coerce=int, default=0)


class LeaveForm(FlaskForm):
    user_id = SelectField(_l("Grid worker"), coerce=int, validators=[DataRequired(message=_l("Choose the worker."))])
    start_date = DateField(_l("From"), validators=[DataRequired(message=_l("Enter the first day of leave."))])
    end_date = DateField(_l("To (inclusive)"), validators=[DataRequired(message=_l("Enter the last day of leave."))])
    reason = StringField(_l("Reason"), validators=[DataRequired(message=_l("Give a reason for the leave.")), Length(max=200)])


class SeatForm(FlaskForm):
    organisation_id = SelectField(_l("Partner unit"), coerce=int, validators=[DataRequired(message=_l("Choose a partner unit."))])
    role_note = StringField(_l("Role on the committee"), validators=[Optional(), Length(max=120)])
