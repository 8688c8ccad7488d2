"""Refusals a mentor or mentee can cause, and the one table of their translated messages.

Services raise a `ParticipantError` subclass with a short code (and named values for the message);
views show `exc.message()`, rendered in the viewer's language. Codes never reach a user: an
unknown code shows a generic sentence.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext

from .errors import ServiceError
from .timefmt import format_day


def N_(message: str) -> str:
    """Mark a msgid for extraction; translated when shown (`ParticipantError.message`)."""
    return message


MESSAGES: dict[str, str] = {
    # session logs
    "pair_inactive": N_("This pair is not active."),
    "duration_too_short": N_("The duration must be at least 1 minute."),
    "duration_too_long": N_("The duration can be at most %(max)s minutes."),
    "future_date": N_("The date cannot be after today (%(today)s, your local date)."),
    "before_pair_start": N_("The date cannot be before the pair started (%(date)s)."),
    "before_programme_start": N_(
        "The date cannot be before the programme starts (%(date)s)."),
    "not_session_date": N_(
        "A log of a session carries the session's date (%(date)s, at most %(days)s day(s) "
        "apart)."),
    "off_day_refused": N_(
        "%(date)s is a weekend day or holiday (%(why)s); this programme does not accept logs "
        "on such days."),
    "off_day_unconfirmed": N_(
        "This log is dated on a weekend day or holiday (%(why)s): tick that the session really "
        "took place that day to confirm it."),
    "after_programme_end": N_(
        "The date cannot be later than %(days)s days after the programme's end (%(date)s)."),
    "topics_required": N_("Please write the topics discussed."),
    "too_long": N_("The text is too long."),
    "bad_competency": N_("Choose competencies from the list."),
    "bad_action_item": N_("Each action item needs a short text."),
    "bad_session": N_("That session does not belong to this pair."),
    "session_not_held": N_("A cancelled or not-held session cannot be logged."),
    "session_not_started": N_(
        "That session has not started yet. Log it after it has taken place."),
    "already_logged": N_("That session already has a log."),
    "daily_limit": N_("At most %(limit)s minutes can be logged for one day; %(used)s minutes "
                      "are already logged for %(date)s."),
    "not_mentee": N_("Only the mentee of this pair can do this."),
    "not_mentor": N_("Only the mentor of this pair can do this."),
    "not_author": N_("Only the author can edit this log."),
    "already_confirmed": N_("This log is already confirmed."),
    "comment_required": N_("Please say what is wrong in a comment."),
    "log_session_not_held": N_(
        "The session of this log was marked not held or cancelled, so the log cannot be "
        "confirmed. Dispute it instead."),
    # sessions: held / not held, new times
    "session_cancelled": N_("The session was cancelled."),
    "session_in_future": N_("The session has not started yet."),
    "session_has_confirmed_log": N_(
        "This session has a confirmed log and its JP credit, so it cannot be marked not held. "
        "If the log is wrong, please contact the coordinator."),
    "session_has_pending_log": N_(
        "This session has a log waiting for your confirmation. If the session did not take "
        "place, dispute the log instead."),
    "session_not_scheduled": N_("Only a scheduled session can be moved."),
    "bad_time": N_("Please give a valid date and time."),
    "time_in_past": N_("The new time must be in the future."),
    "no_proposal": N_("There is no proposed time to answer."),
    "proposal_expired": N_("The proposed time has already passed. Please ask for a new time."),
    "outside_working_hours": N_(
        "%(name)s: %(time)s is outside working hours (%(hours)s)."),
    "holiday": N_("%(name)s: %(date)s is a public holiday or cuti bersama (%(holiday)s)."),
    "on_leave": N_("%(name)s is on leave on %(date)s."),
    "clash": N_("%(name)s already has a mentoring session at %(time)s."),
    "reschedule_refused": N_("The session could not be moved: %(reason)s"),
    # form parsing
    "bad_number": N_("Please enter a whole number."),
    "bad_date": N_("Please give a valid date."),
    # goals and levels
    "not_member": N_("Only the mentor or mentee of this pair can do this."),
    "bad_level": N_("Levels go from 1 to 5."),
    "description_required": N_("Please describe the goal."),
    "bad_status": N_("Unknown status."),
    # feedback, evaluations, ending a pair
    "bad_rating": N_("Choose a rating from 1 to 5."),
    "bad_stage": N_("Unknown evaluation stage."),
    "answer_all": N_("Please answer every question with 1 to 5."),
    "reason_required": N_("Please give a reason."),
    "evaluation_not_open": N_("This evaluation is not open yet: %(when)s"),
    # certificate
    "certificate_not_ready": N_(
        "The certificate is available from %(date)s (the end of the programme), or earlier "
        "once your pair has ended."),
    "no_certificate": N_("There is no mentoring to certify in this programme."),
    "no_credited_jp": N_("No certificate yet: no confirmed mentoring time has been credited "
                         "as JP in this programme."),
}
GENERIC = N_("This action could not be completed.")


class ParticipantError(ServiceError):
    """A refusal with a code from `MESSAGES` and the values its message names. A value may be
    a callable: it is called when the message is shown, so times and sentences come out in the
    viewer's language even when the service ran outside a request; a `date` is shown as the
    reader writes it ("9 Sep 2026")."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.params = params

    def user_message(self) -> str:
        return self.message()

    def message(self) -> str:
        template = MESSAGES.get(self.code)
        if template is None:
            return str(gettext(GENERIC))
        try:
            values = {k: _shown(v() if callable(v) else v) for k, v in self.params.items()}
            return str(gettext(template, **values) if values else gettext(template))
        except (KeyError, ValueError, TypeError):  # a message without its values: say something
            return str(gettext(GENERIC))


def _shown(value: Any) -> Any:
    return format_day(value) if isinstance(value, date) and not isinstance(value, datetime) \
        else value


class LogError(ParticipantError):
    """Session logs and session actions (held / not held, new times)."""


class GoalError(ParticipantError):
    """Development plan: goals and level changes."""


class FeedbackError(ParticipantError):
    """Feedback, evaluations, ending a pair."""


class CertificateError(ParticipantError):
    """Certificate of mentoring hours."""
