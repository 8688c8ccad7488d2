"""Login, password reset and account activation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from .base import Form


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class RequestResetForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])


class SetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10)])
    confirm = PasswordField(
        _l("Repeat password"), validators=[DataRequired(), EqualTo("password")]
    )

