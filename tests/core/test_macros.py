"""templates/macros.html: field() passes hx-* (and data-*, aria-*) attributes to the input."""

from __future__ import annotations

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired()])
    agree = BooleanField("Agree")


TEMPLATE = """{% from "macros.html" import field %}
{{ field(form.code, hx_post="/check", hx_trigger="change", hx_target="closest .field", data_role="code") }}
{{ field(form.agree, attrs={'hx-get': '/agree'}) }}"""


def test_field_accepts_hx_attributes_for_inline_validation(app):
    with app.test_request_context("/", method="POST", data={"code": ""}):
        form = CodeForm()
        form.validate()
        html = render_template_string(TEMPLATE, form=form)
    assert 'hx-post="/check"' in html and 'hx-trigger="change"' in html
    assert 'hx-target="closest .field"' in html and 'data-role="code"' in html
    assert 'hx-get="/agree"' in html
    # The error stays next to the field, and the input says so.
    assert 'aria-invalid="true"' in html and 'id="code-err"' in html
