"""Forms of the calendar pages, the staff import, the reports' reminders and the language
switch."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from .base import Form, IdListField


class SeriesAnswerForm(Form):
    """Accept / decline in the app: the whole series, or one session (``recurrence_id``, an
    instant with its offset, as the page writes it)."""

    form_id = "series-answer"
    partstat = StringField(validators=[Length(max=20)])
    recurrence_id = StringField(validators=[Length(max=40)])
    next = StringField(validators=[Length(max=2000)])

    PARTSTATS = ("ACCEPTED", "DECLINED", "TENTATIVE")

    def validate_partstat(self, field: StringField) -> None:
        if (field.data or "").upper() not in self.PARTSTATS:
            raise ValidationError(_l("Not a valid choice."))

    def validate_recurrence_id(self, field: StringField) -> None:
        if field.data and self._instant(field.data) is None:
            raise ValidationError(_l("Not a valid datetime value."))

    @staticmethod
    def _instant(raw: str) -> datetime | None:
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return value.astimezone(UTC) if value.tzinfo is not None else None

    def answer(self) -> str:
        return (self.partstat.data or "").upper()

    def occurrence(self) -> datetime | None:
        return self._instant(self.recurrence_id.data) if self.recurrence_id.data else None


class ReplyUploadForm(Form):
    """A REPLY to apply: the .ics or the whole .eml (the size is checked while reading)."""

    form_id = "reply-upload"
    file = FileField(validators=[FileRequired(_l("Choose a .ics or .eml file."))])


class ImportUploadForm(Form):
    form_id = "import-upload"
    file = FileField(validators=[FileRequired(_l("Choose a CSV or XLSX file."))])
    default_zone = StringField(validators=[Length(max=40)])

    ALLOWED = (".csv", ".txt", ".xlsx", ".xlsm")

    def validate_file(self, field: FileField) -> None:
        name = (field.data.filename or "") if field.data else ""
        if not name.lower().endswith(self.ALLOWED):
            raise ValidationError(_l("Only CSV and XLSX files can be imported."))


class ImportConfirmForm(Form):
    form_id = "import-confirm"
    token = StringField(validators=[Length(max=200)])
    default_zone = StringField(validators=[Length(max=40)])


class NudgeForm(Form):
    """Remind everyone on an alert list (or the people of one row), with the list's
    filters."""

    form_id = "nudge"
    person_id = IdListField()
    days = StringField(validators=[Length(max=3)])
    unit = IntegerField(validators=[Optional(), NumberRange(min=1)])
    city = StringField(validators=[Length(max=100)])
    page = IntegerField(validators=[Optional(), NumberRange(min=1)])


class LanguageForm(Form):
    form_id = "language"
    locale = StringField(validators=[Length(max=10)])
    next = StringField(validators=[Length(max=2000)])
