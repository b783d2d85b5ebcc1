"""Forms of Square Inquiry (Flask-WTF). Rules live in services.py; these only
parse and check the shape of the input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from core import clock

PHONE = Regexp(
    r"^(1\d{10}|0\d{2,3}-?\d{7,8})$",
    message=_l("Enter an 11-digit mobile number or a landline such as 0553-1234567."),
)


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


class LocationMixin:
    community = SelectField(_l("Community"), coerce=_int_or_none, validate_choice=False)
    estate = SelectField(_l("Estate"), coerce=_int_or_none, validate_choice=False)


class ReportForm(LocationMixin, FlaskForm):
    """A problem reported by a grid worker or community staff."""

    building = SelectField(_l("Building"), coerce=_int_or_none, validate_choice=False)
    zone = SelectField(_l("Party-member zone"), coerce=_int_or_none, validate_choice=False)
    address = StringField(_l("Address or landmark"), validators=[Optional(), Length(max=255)])
    description = TextAreaField(_l("What is the problem?"), validators=[DataRequired(message=_l("Describe the problem.")), Length(max=2000)])
    category_id = SelectField(_l("Category"), coerce=_int_or_none, validate_choice=False)
    reporter_name = StringField(_l("Reporter's name"), validators=[Optional(), Length(max=60)])
    reporter_phone = StringField(_l("Reporter's phone"), validators=[Optional(), PHONE])
    photos = MultipleFileField(_l("Photos"))


class PublicReportForm(LocationMixin, FlaskForm):
    """The form residents use without an account."""

    address = StringField(_l("Address or landmark"), validators=[DataRequired(message=_l("Say where the problem is.")), Length(max=255)])
    description = TextAreaField(_l("What is the problem?"), validators=[DataRequired(message=_l("Describe the problem.")), Length(max=2000)])
    category_id = SelectField(_l("Category"), coerce=_int_or_none, validate_choice=False)
    reporter_name = StringField(_l("Your name (optional)"), validators=[Optional(), Length(max=60)])
    reporter_phone = StringField(_l("Your phone (optional, for the return visit)"), validators=[Optional(), PHONE])
    photos = MultipleFileField(_l("Photos"))
    # A honeypot: hidden from people by CSS, filled in by bots.
    website = StringField(_l("Leave this field empty"))


class TriageForm(FlaskForm):
    category_id = SelectField(_l("Category"), coerce=_int_or_none, validate_choice=False,
                              validators=[DataRequired(message=_l("Choose a category."))])
    unit_id = SelectField(_l("Responsible unit"), coerce=_int_or_none, validate_choice=False,
                          validators=[DataRequired(message=_l("Choose the responsible unit: a department or a property company."))])
    priority = SelectField(_l("Priority"), choices=[("normal", _l("Normal")), ("urgent", _l("Urgent"))])
    deadline_days = IntegerField(_l("Deadline (working days after issue)"),
                                 validators=[DataRequired(message=_l("The deadline must be between 1 and 90 working days.")),
                                             NumberRange(1, 90, message=_l("The deadline must be between 1 and 90 working days."))])
    due_date = DateField(_l("Or a fixed due date"), validators=[Optional()])
    address = StringField(_l("Address or landmark"), validators=[Optional(), Length(max=255)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=1000)])


class DuplicateForm(FlaskForm):
    duplicate_of = StringField(_l("Duplicate of (reference)"), validators=[DataRequired(message=_l("Name the problem this one duplicates (its reference).")), Length(max=24)])
    reason = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ExtensionForm(FlaskForm):
    days = IntegerField(_l("Extra working days"), validators=[DataRequired(message=_l("Ask for 1 to 30 working days.")),
                                                             NumberRange(1, 30, message=_l("Ask for 1 to 30 working days."))])
    reason = TextAreaField(_l("Why more time is needed"), validators=[DataRequired(message=_l("Give the reason for the extension.")), Length(max=1000)])


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class ResultForm(FlaskForm):
    result_text = TextAreaField(_l("What was done"), validators=[DataRequired(message=_l("Describe what was done.")), Length(max=2000)])
    photos = MultipleFileField(_l("Photos of the result"))


class VisitForm(FlaskForm):
    outcome = RadioField(_l("The reporter is"), choices=[
        ("satisfied", _l("Satisfied")),
        ("basically_satisfied", _l("Basically satisfied")),
        ("dissatisfied", _l("Dissatisfied")),
        ("unreachable", _l("Unreachable")),
    ], validators=[DataRequired(message=_l("Choose the outcome of the return visit."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Integration"), validators=[DataRequired(message=_l("Name the integration that will use the key.")), Length(max=80)])


class ExtraDayForm(FlaskForm):
    # Today in the district (core.clock), not the server's date.
    day = DateField(_l("Day"), default=clock.today, validators=[DataRequired(message=_l("Choose a day."))])
    is_workday = SelectField(_l("The district declares it"), choices=[("1", _l("a working day")), ("0", _l("a day off"))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=120)])


class CategoryForm(FlaskForm):
    deadline_days = IntegerField(_l("Working days"), validators=[DataRequired(), NumberRange(1, 90)])
    property_management = BooleanField(_l("Property management"))
    default_unit_id = SelectField(_l("Usual department"), coerce=_int_or_none, validate_choice=False)
