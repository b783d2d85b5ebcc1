"""Flask-WTF forms of the orders module. Choices are filled by the views
(from the user's scope); the rules live in services/."""

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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.forms import VersionedFormMixin

from .models import CATEGORIES, NEED_SOURCES, PROJECT_STATES, RESOURCE_KINDS

CATEGORY_LABELS = {
    "governance": _l("Grass-roots governance"),
    "social_work": _l("Social-work station operation"),
    "specific_groups": _l("Services for specific groups"),
    "party_service": _l("Party service to the public"),
}
KIND_LABELS = {"money": _l("Money"), "venue": _l("Venue"), "skill": _l("Skills"), "material": _l("Materials")}
SOURCE_LABELS = {"resident": _l("Resident"), "visit": _l("Grid worker's visit"), "problem": _l("Problem")}
PROJECT_STATE_LABELS = {"planned": _l("Planned"), "running": _l("Running"), "done": _l("Done")}


def _category_choices():
    return [(c, CATEGORY_LABELS[c]) for c in CATEGORIES]


class RegistrationForm(FlaskForm):
    community_id = SelectField(_l("Community where you live"), coerce=int)
    employer_org_id = SelectField(_l("Employer unit"), coerce=int, default=0)
    employer_name = StringField(_l("Employer unit (if not in the list)"), validators=[Length(max=120)])
    party_branch = StringField(_l("Party branch of your unit"), validators=[Length(max=120)])
    address = StringField(_l("Home address"), validators=[DataRequired(), Length(max=255)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=20)])
    skills = StringField(_l("Skills (separated by commas)"), validators=[Length(max=255)])
    resources = StringField(_l("Resources you can offer"), validators=[Length(max=255)])
    hours_per_month = IntegerField(_l("Hours a month you can serve"), default=4,
                                   validators=[InputRequired(), NumberRange(0, 200)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Length(max=255)])


class PostForm(VersionedFormMixin, FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    category = SelectField(_l("Category"), choices=_category_choices)
    description = TextAreaField(_l("Description"))
    skills = StringField(_l("Skills wanted"), validators=[Length(max=255)])
    grids = SelectMultipleField(_l("Grids it serves"), coerce=int)


class OrderForm(FlaskForm):
    post_id = SelectField(_l("Service post"), coerce=int)
    node_id = SelectField(_l("Where (grid)"), coerce=int)
    title = StringField(_l("What is to be done"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Details"))
    day = DateField(_l("Date"), validators=[InputRequired()])
    time = TimeField(_l("Start time"), validators=[InputRequired()])
    hours = FloatField(_l("Hours"), default=2, validators=[InputRequired()])
    deadline_day = DateField(_l("Take by (date)"), validators=[InputRequired()])
    deadline_time = TimeField(_l("Take by (time)"), validators=[InputRequired()])
    needed = IntegerField(_l("Members needed"), default=2, validators=[InputRequired()])
    skills = StringField(_l("Skills wanted"), validators=[Length(max=255)])
    need_id = SelectField(_l("From a need of the needs list"), coerce=int, default=0)


class AssignForm(FlaskForm):
    member_id = SelectField(_l("Member"), coerce=int)


class ReportForm(FlaskForm):
    text = TextAreaField(_l("What you did"))
    hours = FloatField(_l("Hours"), validators=[InputRequired()])
    photo = FileField(_l("Photo (optional)"), validators=[FileAllowed(["jpg", "jpeg", "png"], _l("A JPEG or PNG photo."))])


class CommitmentForm(FlaskForm):
    text = StringField(_l("My commitment"), validators=[DataRequired(), Length(max=255)])
    items = StringField(_l("Service items"), validators=[DataRequired(), Length(max=255)])
    deadline = DateField(_l("Completion deadline"), validators=[InputRequired()])
    post_id = SelectField(_l("Service post"), coerce=int, default=0)


class ResourceForm(FlaskForm):
    node_id = SelectField(_l("Grid"), coerce=int)
    org_id = SelectField(_l("Offered by"), coerce=int, default=0)
    category = SelectField(_l("Category"), choices=_category_choices)
    kind = SelectField(_l("Type of resource"), choices=lambda: [(k, KIND_LABELS[k]) for k in RESOURCE_KINDS])
    title = StringField(_l("Resource"), validators=[DataRequired(), Length(max=120)])
    amount = FloatField(_l("Amount"), default=0, validators=[InputRequired()])
    unit = StringField(_l("Unit of the amount"), validators=[Length(max=12)])


class NeedForm(FlaskForm):
    node_id = SelectField(_l("Grid"), coerce=int)
    category = SelectField(_l("Category"), choices=_category_choices)
    source = SelectField(_l("Comes from"), choices=lambda: [(s, SOURCE_LABELS[s]) for s in NEED_SOURCES])
    title = StringField(_l("Need"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Details"))


class ProjectForm(FlaskForm):
    name = StringField(_l("Project name"), validators=[DataRequired(), Length(max=120)])
    budget = FloatField(_l("Budget (yuan)"), default=0, validators=[InputRequired()])
    need_ids = SelectMultipleField(_l("Needs matched"), coerce=int)
    resource_ids = SelectMultipleField(_l("Resources"), coerce=int)
    member_ids = SelectMultipleField(_l("Members"), coerce=int, validators=[Optional()])


class MilestoneForm(FlaskForm):
    title = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=120)])
    due_date = DateField(_l("Date"), validators=[InputRequired()])


class ResultForm(FlaskForm):
    state = SelectField(_l("State"), choices=lambda: [(s, PROJECT_STATE_LABELS[s]) for s in PROJECT_STATES])
    result = TextAreaField(_l("Outcome"))


class ImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"))
    keep_good = BooleanField(_l("Save the good rows even if some rows have errors"))
