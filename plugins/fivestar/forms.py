"""Flask-WTF forms of the five-star evaluation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FloatField,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

KIND_LABELS = {
    "service": _l("Volunteer service"),
    "problem": _l("Problem solved"),
    "duty": _l("Duty"),
    "publicity": _l("Policy publicity"),
    "mediation": _l("Dispute mediation"),
    "other": _l("Other"),
}


class RecordForm(FlaskForm):
    member = SelectField(_l("Member"), coerce=int, validators=[InputRequired()])
    day = DateField(_l("Date"), validators=[InputRequired()])
    hours = FloatField(_l("Hours"), default=0, validators=[InputRequired(), NumberRange(0, 24)])
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    title = StringField(_l("What was done"), validators=[DataRequired(), Length(max=200)])
    note = TextAreaField(_l("Evidence note (who confirmed it, how the problem was solved)"),
                         validators=[Length(max=2000)])
    evidence = FileField(_l("Evidence file (photo, PDF, Word, Excel)"))


class RuleRow(FlaskForm):
    class Meta:
        csrf = False

    source = StringField(_l("Source"), validators=[Length(max=40)])
    kind = StringField(_l("Kind"), validators=[Length(max=40)])
    # Checked by the rules service (a blank row is skipped whatever it says).
    per = SelectField(_l("Per"), choices=[("hour", _l("hour")), ("record", _l("record"))], validate_choice=False)
    points = FloatField(_l("Points"), validators=[Optional()])
    cap = FloatField(_l("Cap a month"), validators=[Optional()])


class ItemRow(FlaskForm):
    class Meta:
        csrf = False

    code = StringField(_l("Code"), validators=[Length(max=30)])
    title = StringField(_l("Item"), validators=[Length(max=120)])
    points = FloatField(_l("Points (negative: deduction)"), validators=[Optional()])


class RulesForm(FlaskForm):
    valid_from = DateField(_l("In force from (month)"), validators=[InputRequired()])
    rating_weight = FloatField(_l("Weight of the resident rating (points per star)"),
                               validators=[InputRequired(), NumberRange(0, 100)])
    month_cap = FloatField(_l("Most points from records in a month"), validators=[Optional(), NumberRange(0)])
    note = StringField(_l("Why the rules change"), validators=[DataRequired(), Length(max=200)])
    rules = FieldList(FormField(RuleRow), min_entries=8, max_entries=20)
    items = FieldList(FormField(ItemRow), min_entries=6, max_entries=20)


class ComputeForm(FlaskForm):
    community = SelectField(_l("Community"), coerce=int)
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), Length(max=7)])


class AmendForm(FlaskForm):
    delta = FloatField(_l("Change of points (+/-)"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)])


class RejectForm(FlaskForm):
    source = HiddenField()
    key = HiddenField()
    day = HiddenField()
    reason = StringField(_l("Reason for rejecting"), validators=[DataRequired(), Length(max=300)])


class AdjustForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), Length(max=7)])
    code = SelectField(_l("Bonus or deduction item"))
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)])


class RoundForm(FlaskForm):
    community = SelectField(_l("Community"), coerce=int)
    half = StringField(_l("Half year (e.g. 2026H1)"), validators=[DataRequired(), Length(max=6)])
    items = StringField(_l("Items to rate (separated by commas)"), validators=[DataRequired(), Length(max=300)])
    opens_on = DateField(_l("Opens on"), validators=[InputRequired()])
    closes_on = DateField(_l("Closes on"), validators=[InputRequired()])


class LinkForm(FlaskForm):
    member = SelectField(_l("Member"), coerce=int)


STAR_CHOICES = [(str(i), "★" * i) for i in range(5, 0, -1)]


def rating_form(items, sheet=False):
    """A rating form with one 1–5 star choice per item of the round."""
    attrs = {f"s{i}": RadioField(title, choices=STAR_CHOICES, validators=[InputRequired(
        message=_l("Give 1 to 5 stars."))]) for i, title in enumerate(items)}
    attrs["opinion"] = TextAreaField(_l("Your opinion (optional)"), validators=[Length(max=1000)])
    if sheet:
        attrs["member"] = SelectField(_l("Member"), coerce=int)
        attrs["representative"] = StringField(_l("Representative"), validators=[DataRequired(), Length(max=60)])
    return type("RatingForm", (FlaskForm,), attrs)


class ModerateForm(FlaskForm):
    decision = HiddenField()


class SubmitQuarterForm(FlaskForm):
    community = SelectField(_l("Community"), coerce=int)
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(2000, 2100)])
    quarter = SelectField(_l("Quarter"), coerce=int, choices=[(1, "Q1"), (2, "Q2"), (3, "Q3"), (4, "Q4")])


class NoteForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Length(max=300)])


class BatchForm(FlaskForm):
    number = IntegerField(_l("Batch number"), validators=[InputRequired(), NumberRange(1, 999)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    opened_on = DateField(_l("Opened on"), validators=[InputRequired()])
    min_quarter_score = FloatField(_l("Lowest score of each of the last four quarters"),
                                   validators=[InputRequired(), NumberRange(0)])
    min_rating = FloatField(_l("Lowest resident rating (stars)"), validators=[InputRequired(), NumberRange(1, 5)])
    no_rejected = BooleanField(_l("No rejected records in the period"), default=True)
    notice_days = IntegerField(_l("Public notice period (days)"), default=7,
                               validators=[InputRequired(), NumberRange(1, 30)])


class NominateForm(FlaskForm):
    member = HiddenField()


class DecideForm(FlaskForm):
    decision = HiddenField()
    note = StringField(_l("Review note"), validators=[Length(max=300)])


class ObjectionForm(FlaskForm):
    reason = TextAreaField(_l("Your objection and its reason"), validators=[DataRequired(), Length(min=5, max=2000)])
    contact = StringField(_l("How to reach you (optional)"), validators=[Length(max=60)])
    website = StringField(_l("Leave this empty"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=2000)])
    upheld = BooleanField(_l("The objection is upheld (the nomination is withdrawn)"))
