"""WTForms used by several blueprints (every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class RequestResetForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10)])
    confirm = PasswordField(
        _l("Repeat password"), validators=[DataRequired(), EqualTo("password")]
    )

