"""Forms of the mentor's and mentee's pages: session logs, session actions, goals, levels,
feedback, evaluations, ending a pair. A value that is not even a number or a date is refused
here with the same sentence the logbook uses (services/participant_errors.py), beside its
field; the rules (how long, which day, whose session) stay the services'."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from wtforms import BooleanField, Field, RadioField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from ...services.logbook import ActionInput, LogInput
from ...services.participant_errors import LogError
from ...settings import Question
from .base import Form, IdListField, ListField


class Parsed(StringField):
    """Text read by ``parse`` (int, date, ...); when it cannot be read the user sees the
    logbook's message for ``code``. ``value`` is the parsed value (None when left blank and
    not ``required``)."""

    def __init__(self, parse: Callable[[str], Any], code: str, *, required: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.parse, self.code, self.required = parse, code, required
        self.value: Any = None

    def pre_validate(self, form: Any) -> None:
        raw = (self.data or "").strip()
        self.value = None
        if not raw and not self.required:
            return
        try:
            self.value = self.parse(raw)
        except (ValueError, OverflowError):
            raise ValidationError(LogError(self.code).message()) from None


def _whole(code: str = "bad_number", **kw: Any) -> Parsed:
    return Parsed(int, code, **kw)


def _day(**kw: Any) -> Parsed:
    return Parsed(date.fromisoformat, "bad_date", **kw)


class _Dates(ListField):
    """The action items' due dates, one per row, blank allowed."""

    def pre_validate(self, form: Any) -> None:
        for raw in self.data or []:
            if raw.strip():
                try:
                    date.fromisoformat(raw.strip())
                except ValueError:
                    raise ValidationError(LogError("bad_date").message()) from None


class LogForm(Form):
    """Write or correct a session log (field names as the page has always posted them)."""

    form_id = "log"
    session_id = _whole("bad_session", required=False)
    held_on = _day()
    duration_minutes = _whole()
    topics = TextAreaField(validators=[Length(max=1000)])
    competency = IdListField()
    notes = TextAreaField(validators=[Length(max=20000)])
    notes_visible = BooleanField(false_values=("", "0", "false"))
    action_text = ListField()
    action_due = _Dates()
    submit_token = StringField(validators=[Length(max=100)])

    #: which field a logbook refusal is about (the rest are shown above the form)
    FIELDS = {"duration_too_short": "duration_minutes", "duration_too_long": "duration_minutes",
              "daily_limit": "duration_minutes", "future_date": "held_on",
              "before_pair_start": "held_on", "before_programme_start": "held_on",
              "after_programme_end": "held_on", "not_session_date": "held_on",
              "off_day_refused": "held_on", "topics_required": "topics",
              "bad_competency": "competency", "bad_action_item": "action_text",
              "bad_session": "session_id", "session_not_held": "session_id",
              "session_not_started": "session_id", "already_logged": "session_id"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.competency.message = LogError("bad_competency").message()

    def data_for_service(self) -> LogInput:
        texts, dues = self.action_text.data or [], self.action_due.data or []
        items = []
        for i, text in enumerate(texts):
            due = dues[i].strip() if i < len(dues) else ""
            if text.strip() or due:
                items.append(ActionInput(text, date.fromisoformat(due) if due else None))
        return LogInput(
            held_on=self.held_on.value, duration_minutes=self.duration_minutes.value,
            topics=self.topics.data or "", notes=self.notes.data,
            notes_visible_to_coordinator=bool(self.notes_visible.data),
            competency_ids=self.competency.ids, action_items=items,
            session_id=self.session_id.value, token=self.submit_token.data)


class AnswerInviteForm(Form):
    form_id = "invite"
    answer = RadioField(choices=["ACCEPTED", "DECLINED"])


class ConfirmLogForm(Form):
    form_id = "confirm"
    off_day_ok = BooleanField(false_values=("", "0"))


class DisputeLogForm(Form):
    form_id = "dispute"
    comment = TextAreaField(validators=[Length(max=1000)])


class MarkSessionForm(Form):
    form_id = "mark"
    held = BooleanField(false_values=("", "0"))


class ProposeTimeForm(Form):
    """A new start on the mentor's wall clock (a datetime-local input)."""

    form_id = "propose"
    new_start = Parsed(datetime.fromisoformat, "bad_time")

    def start_utc(self, tz: str) -> datetime:
        value: datetime = self.new_start.value
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(tz))
        return value.astimezone(UTC)


class AnswerProposalForm(Form):
    form_id = "proposal"
    accept = BooleanField(false_values=("", "0"))


class GoalForm(Form):
    form_id = "goal"
    competency_id = _whole("bad_competency")
    target_level = _whole("bad_level")
    due_date = _day(required=False)
    description = TextAreaField(validators=[Length(max=1000)])


class GoalStatusForm(Form):
    form_id = "goal-status"
    status = StringField(validators=[Length(max=20)])  # the service knows the states


class LevelForm(Form):
    form_id = "level"
    competency_id = _whole("bad_competency")
    new_level = _whole("bad_level")
    note = TextAreaField(validators=[Length(max=1000)])


class EndPairForm(Form):
    form_id = "end-pair"
    reason = TextAreaField(validators=[Length(max=1000)])


class FeedbackForm(Form):
    form_id = "feedback"
    rating = _whole("bad_rating")
    comment = TextAreaField(validators=[Length(max=2000)])


def evaluation_form(questions: Sequence[Question]) -> Form:
    """The evaluation's questions are configured ([evaluation] questions): one field each
    (a 1-5 rating or a text); whether every rating is answered is the service's rule."""

    class EvaluationForm(Form):
        form_id = "evaluation"

        def answers(self) -> dict[str, Any]:
            return {q.key: self[q.key].data for q in questions}

    for q in questions:
        field: Field
        if q.kind == "rating":
            field = StringField(validators=[Length(max=1)])
        else:
            field = TextAreaField(validators=[Length(max=2000)])
        setattr(EvaluationForm, q.key, field)
    return EvaluationForm()
