"""Forms of the administrator's pages: user accounts, working hours, API clients, SSO
groups."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ...models import API_SCOPES, ROLES
from .base import Form, SearchForm


class InviteForm(Form):
    form_id = "invite"
    # one plain address: the service checks it (and says so in its own words)
    email = EmailField(validators=[InputRequired(), Length(max=254)])
    person = StringField(validators=[Length(max=254)])
    roles = SelectMultipleField(choices=list(ROLES))


class InviteProgrammeForm(Form):
    form_id = "invite-programme"
    programme_id = IntegerField(validators=[InputRequired(), NumberRange(min=1)])


class UserForm(Form):
    """One account's row: save its roles and state, or resend / unlock."""

    form_id = "user"
    action = SelectField(choices=["save", "resend", "unlock"], default="save")
    roles = SelectMultipleField(choices=list(ROLES))
    active = BooleanField(false_values=("", "0"))


class ApiClientForm(Form):
    form_id = "api-client"
    name = StringField(validators=[
        InputRequired(_l("Give the client a name (at most 200 characters).")),
        Length(max=200, message=_l("Give the client a name (at most 200 characters)."))])
    scopes = SelectMultipleField(choices=list(API_SCOPES), validators=[
        InputRequired(_l("Choose at least one scope."))])


class SsoGroupForm(Form):
    form_id = "sso-group"
    group = StringField(validators=[InputRequired(), Length(max=200)])
    role = SelectField(choices=list(ROLES), validators=[InputRequired()])


class WorkingHoursForm(Form):
    """A dated override of the working hours: the service reads the dates and times and
    checks the spans (its messages name the rule)."""

    form_id = "hours"
    name = StringField(validators=[Length(max=100)])

    def values(self) -> dict[str, str]:
        return {name: field.data or "" for name, field in self._fields.items()
                if name != "csrf_token"}


for _name in ("from", "to", *(f"{day}_{part}" for day in ("mon_thu", "fri")
                              for part in ("start", "end", "break_start", "break_end"))):
    setattr(WorkingHoursForm, _name, StringField(validators=[Length(max=20)]))


class UsersSearchForm(SearchForm):
    """The account list's search."""

    form_id = "users-search"
    q = StringField(filters=[lambda v: (v or "")[:100]])
    state = SelectField(choices=["", "pending", "inactive"], default="")
    page = IntegerField(validators=[Optional(), NumberRange(min=1)])
