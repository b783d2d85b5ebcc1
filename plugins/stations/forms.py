"""Forms of the stations module (Flask-WTF). They check the shape of the
input; the rules are in services/."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from core.forms import VersionedFormMixin

PHONE = Regexp(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$",
               message=_l("Enter an 11-digit mobile number or a landline such as 0553-1234567."))
KIND_CHOICES = [("party_centre", _l("Party service centre")), ("idle_room", _l("Idle community room")),
                ("property_room", _l("Property room")), ("other", _l("Other room"))]
WEEKDAYS = [(0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")), (3, _l("Thursday")),
            (4, _l("Friday")), (5, _l("Saturday")), (6, _l("Sunday"))]


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


class StationForm(VersionedFormMixin, FlaskForm):
    node_id = SelectField(_l("Placed on"), coerce=_int_or_none, validate_choice=False)
    name = StringField(_l("Station name"), validators=[DataRequired(message=_l("Give the station a name.")), Length(max=120)])
    kind = SelectField(_l("Kind of room"), choices=KIND_CHOICES)
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    opening_hours = StringField(_l("Opening hours"), validators=[Optional(), Length(max=120)])
    weight = FloatField(_l("Weight of an hour on duty"), default=1.0,
                        validators=[InputRequired(message=_l("Give a number such as 1 or 1.5.")),
                                    NumberRange(0.1, 5, message=_l("The weight must lie between 0.1 and 5."))])
    cutoff_hours = IntegerField(_l("Sign-up and drop close (hours before a shift)"), default=2,
                                validators=[InputRequired(message=_l("Give a whole number of hours.")),
                                            NumberRange(0, 168, message=_l("The cut-off must lie between 0 and 168 hours."))])
    served = SelectMultipleField(_l("Grids served"), coerce=int, validate_choice=False)
    photo = FileField(_l("Photo"), validators=[FileAllowed(["jpg", "jpeg", "png", "webp"], _l("A JPEG, PNG or WebP picture."))])


class ClaimForm(FlaskForm):
    organisation_id = SelectField(_l("Contact department"), coerce=_int_or_none, validate_choice=False)
    start = DateField(_l("From"), validators=[Optional()])
    liaison_name = StringField(_l("Liaison"), validators=[DataRequired(message=_l("Name the liaison.")), Length(max=60)])
    liaison_phone = StringField(_l("Liaison's phone"), validators=[Optional(), PHONE])


class ShiftForm(FlaskForm):
    day = DateField(_l("Day"), validators=[InputRequired(message=_l("Give the day."))])
    start_time = TimeField(_l("From"), validators=[InputRequired(message=_l("Give the start time."))])
    end_time = TimeField(_l("To"), validators=[InputRequired(message=_l("Give the end time."))])
    role = StringField(_l("Role"), validators=[Optional(), Length(max=60)])
    needed = IntegerField(_l("Volunteers needed"), default=2,
                          validators=[InputRequired(message=_l("Give the number of volunteers needed.")),
                                      NumberRange(1, 50, message=_l("A shift needs between 1 and 50 volunteers."))])
    restricted = BooleanField(_l("Restricted: only an organiser assigns"))


class RotaForm(FlaskForm):
    weekday = SelectField(_l("Every"), choices=WEEKDAYS, coerce=int)
    start_time = TimeField(_l("From"), validators=[InputRequired(message=_l("Give the start time."))])
    end_time = TimeField(_l("To"), validators=[InputRequired(message=_l("Give the end time."))])
    role = StringField(_l("Role"), validators=[Optional(), Length(max=60)])
    needed = IntegerField(_l("Volunteers needed"), default=2,
                          validators=[InputRequired(message=_l("Give the number of volunteers needed.")),
                                      NumberRange(1, 50, message=_l("A shift needs between 1 and 50 volunteers."))])
    restricted = BooleanField(_l("Restricted: only an organiser assigns"))
    weeks = IntegerField(_l("Generate shifts for the next weeks"), default=4,
                         validators=[InputRequired(), NumberRange(0, 12, message=_l("From 0 to 12 weeks."))])


class NeededForm(FlaskForm):
    needed = IntegerField(_l("Volunteers needed"),
                          validators=[InputRequired(message=_l("Give the number of volunteers needed.")),
                                      NumberRange(1, 50, message=_l("A shift needs between 1 and 50 volunteers."))])


class AssignForm(FlaskForm):
    member_id = SelectField(_l("Member"), coerce=_int_or_none, validate_choice=False)


class SwapForm(FlaskForm):
    to_member_id = SelectField(_l("Hand my slot to"), coerce=_int_or_none, validate_choice=False)


class MarkForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=[("worked", _l("Worked")), ("no_show", _l("No-show")),
                                                  ("excused", _l("Excused"))])
    rating = SelectField(_l("Rating"), coerce=_int_or_none, validate_choice=False,
                         choices=[("", "—")] + [(str(i), "★" * i) for i in range(1, 6)])


class ModeForm(FlaskForm):
    mode = SelectField(_l("Mode"), choices=[("service", _l("Grid service point")), ("opinion", _l("Public-opinion post"))])


class IncidentForm(FlaskForm):
    name = StringField(_l("Incident"), validators=[DataRequired(message=_l("Name the incident.")), Length(max=120)])
    branch_name = StringField(_l("Temporary Party branch"), validators=[Optional(), Length(max=120)])
    secretary = StringField(_l("Branch secretary"), validators=[Optional(), Length(max=60)])
    rota_days = IntegerField(_l("24-hour rota for the next days"), default=1,
                             validators=[InputRequired(), NumberRange(0, 14, message=_l("The rota covers 0 to 14 days."))])
    per_shift = IntegerField(_l("Volunteers per 8-hour shift"), default=2,
                             validators=[InputRequired(), NumberRange(1, 50, message=_l("A shift needs between 1 and 50 volunteers."))])


class BranchForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Give the name.")), Length(max=60)])
    role = SelectField(_l("Seat"), choices=[("member", _l("Branch member")), ("secretary", _l("Secretary"))])


class LogForm(FlaskForm):
    text = TextAreaField(_l("What happened"), validators=[DataRequired(message=_l("Write what happened.")), Length(max=4000)])


class OpinionForm(FlaskForm):
    text = TextAreaField(_l("The resident's opinion"),
                         validators=[DataRequired(message=_l("Write down the opinion.")), Length(max=4000)])
    resident_name = StringField(_l("Resident's name"), validators=[Optional(), Length(max=60)])
    resident_phone = StringField(_l("Resident's phone"), validators=[Optional(), PHONE])


class BatchForm(FlaskForm):
    name = StringField(_l("Medicine"), validators=[DataRequired(message=_l("Name the medicine.")), Length(max=80)])
    spec = StringField(_l("Specification"), validators=[Optional(), Length(max=80)])
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(message=_l("Give a whole number.")),
                                                       NumberRange(1, 100000, message=_l("Give a number from 1 to 100,000."))])
    expiry = DateField(_l("Expires on"), validators=[InputRequired(message=_l("Give the expiry date."))])
    donor = StringField(_l("Donor"), validators=[Optional(), Length(max=80)])


class TakeForm(FlaskForm):
    batch_id = SelectField(_l("Batch"), coerce=_int_or_none, validate_choice=False)
    kind = SelectField(_l("How"), choices=[("give", _l("Give (consumed)")), ("lend", _l("Lend (to be returned)")),
                                           ("out", _l("Stock out (other use)"))])
    quantity = IntegerField(_l("Quantity"), default=1,
                            validators=[InputRequired(message=_l("Give a whole number.")),
                                        NumberRange(1, 100000, message=_l("Give a number from 1 to 100,000."))])
    resident_name = StringField(_l("Resident's name"), validators=[Optional(), Length(max=60)])
    resident_phone = StringField(_l("Resident's phone"), validators=[Optional(), Length(max=20)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class StockInForm(FlaskForm):
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(message=_l("Give a whole number.")),
                                                       NumberRange(1, 100000, message=_l("Give a number from 1 to 100,000."))])


class RemoveForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(message=_l("Say why the stock is removed.")), Length(max=200)])


class ImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[DataRequired(message=_l("Choose a file."))])
