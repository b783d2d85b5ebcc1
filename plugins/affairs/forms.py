"""Forms of grid affairs (Flask-WTF). The rules themselves live in services/.

The resident and house edit forms carry an edit token (core.forms): a save
drawn from an older version of the record is refused, naming what changed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core import clock
from core.forms import VersionedFormMixin

from .models import (
    EMPLOYMENT,
    FINDINGS,
    HOUSE_USES,
    OCCUPANCIES,
    REPORT_TOPICS,
    RESIDENCE,
    SOCIAL_SECURITY,
    SQUAD_ROLES,
    VISIT_KINDS,
)
from .services.common import LABELS


def choices(codes):
    return [(c, LABELS.get(c, c)) for c in codes]


class HouseForm(VersionedFormMixin, FlaskForm):
    building = StringField(_l("Building (grid code)"), validators=[DataRequired(), Length(max=40)],
                           render_kw={"list": "house-nodes", "autocomplete": "off"})
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=20)])
    floor = IntegerField(_l("Floor"), validators=[Optional(), NumberRange(-5, 200)])
    room = StringField(_l("Room"), validators=[DataRequired(), Length(max=20)])
    use = SelectField(_l("Use"), choices=choices(HOUSE_USES))
    occupancy = SelectField(_l("Occupancy"), choices=choices(OCCUPANCIES))
    area_m2 = IntegerField(_l("Area (m²)"), validators=[Optional(), NumberRange(1, 100000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class ResidentForm(VersionedFormMixin, FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    id_number = StringField(_l("ID-card number"), validators=[DataRequired(), Length(max=24)],
                            render_kw={"autocomplete": "off", "inputmode": "text"})
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20)], render_kw={"inputmode": "tel"})
    building = StringField(_l("Building (grid code)"), validators=[Optional(), Length(max=40)],
                           render_kw={"list": "house-nodes", "autocomplete": "off"})
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=20)])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=20)])
    household_id = SelectField(_l("Household"), coerce=int, choices=[], validate_choice=False)
    residence = SelectField(_l("Residence"), choices=choices(RESIDENCE))
    party_member = BooleanField(_l("Party member"))
    social_security = SelectField(_l("Social security"), choices=choices(SOCIAL_SECURITY))
    employment = SelectField(_l("Employment"), choices=choices(EMPLOYMENT))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class HouseholdForm(FlaskForm):
    head_name = StringField(_l("Head of household"), validators=[DataRequired(), Length(max=60)])


class TagForm(FlaskForm):
    group_type_id = SelectField(_l("Special group"), coerce=int, choices=[])
    start_date = DateField(_l("From"), default=clock.today, validators=[DataRequired()])
    end_date = DateField(_l("Until"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class EndTagForm(FlaskForm):
    end_date = DateField(_l("Ended on"), default=clock.today, validators=[DataRequired()])
    notes = StringField(_l("Why"), validators=[Optional(), Length(max=500)])


class VisitForm(FlaskForm):
    target = StringField(_l("Who did you visit?"), validators=[Optional()])
    kind = RadioField(_l("How"), choices=choices(VISIT_KINDS), default="home")
    finding = RadioField(_l("Finding"), choices=choices(FINDINGS), default="none")
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    visit_date = DateField(_l("Date"), default=clock.today, validators=[DataRequired()])


class SquadMemberForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices(SQUAD_ROLES))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20)])


class SquadReportForm(FlaskForm):
    member_id = SelectField(_l("Reported by"), coerce=int, choices=[])
    topic = SelectField(_l("Topic"), choices=choices(REPORT_TOPICS))
    content = TextAreaField(_l("What changed"), validators=[DataRequired(), Length(max=4000)])


class AssignForm(FlaskForm):
    item_id = SelectField(_l("Item"), coerce=int, choices=[], validate_choice=False)
    period = StringField(_l("Period"), validators=[DataRequired(), Length(max=10)])


class ImportForm(FlaskForm):
    kind = RadioField(_l("What"), choices=[("residents", _l("Residents")), ("houses", _l("Houses"))], default="residents")
    mode = RadioField(
        _l("If some rows are wrong"),
        choices=[
            ("good_rows", _l("Apply the good rows and give me a report of the wrong ones")),
            ("all_or_nothing", _l("Apply nothing unless every row is right")),
        ],
        default="good_rows",
    )
    file = FileField(_l("Excel file (.xlsx)"))


class ItemsImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"))


WEEKDAYS = [(1, _l("Monday")), (2, _l("Tuesday")), (3, _l("Wednesday")), (4, _l("Thursday")), (5, _l("Friday")),
            (6, _l("Saturday")), (7, _l("Sunday"))]


class QuotaForm(FlaskForm):
    weekly_quota = IntegerField(_l("Visits per worker per week"), validators=[DataRequired(), NumberRange(0, 100)])
    reminder_weekday = SelectField(_l("Remind workers short of it on"), coerce=int, choices=WEEKDAYS)
    reminder_hour = IntegerField(_l("From the hour"), validators=[Optional(), NumberRange(0, 23)])


class GroupTypeForm(FlaskForm):
    name = StringField(_l("Name of the group"), validators=[DataRequired(), Length(max=60)])
    visit_interval_days = IntegerField(_l("Visit at least every … days"), validators=[Optional(), NumberRange(1, 365)])
