"""The one table of UI labels: every code a page would otherwise show raw (states, kinds,
modes, roles, audit actions...), translated once, in the reader's language when shown.

State keys are the models' StrEnum members, so a label exists for each state the models know
(tests/unit/test_states_labels.py checks it)."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l

from ..models import GoalStatus, OutboxStatus, PairStatus, ProgrammeStatus, RoundStatus
from ..services import catalogue, reason_words


@cache
def labels() -> dict[str, dict[str, Any]]:
    """Every code a page would otherwise show raw, as the reader's language says it (lazy
    strings: built once, translated whenever shown)."""
    return {
        "status": {RoundStatus.DRAFT: _l("Draft"), RoundStatus.QUEUED: _l("Queued"),
                   RoundStatus.SOLVING: _l("Solving"), RoundStatus.SOLVED: _l("Solved"),
                   RoundStatus.STALE: _l("Changed – re-solve needed"),
                   RoundStatus.FAILED: _l("Failed"), RoundStatus.APPROVED: _l("Approved")},
        "kind": {"initial": _l("Initial"), "rematch": _l("Rematch")},
        "policy": {"either": _l("Online or in person"), "online": _l("Online only"),
                   "in_person": _l("In person only")},
        "mode": {"online": _l("Online"), "in_person": _l("In person")},
        "programme": {ProgrammeStatus.ACTIVE: _l("Active"), ProgrammeStatus.CLOSED: _l("Closed"),
                      ProgrammeStatus.ARCHIVED: _l("Archived"),
                      ProgrammeStatus.DRAFT: _l("Draft")},
        "pair": {PairStatus.INVITED: _l("Invited"), PairStatus.ACTIVE: _l("Active"),
                 PairStatus.DECLINED: _l("Declined"), PairStatus.ENDED: _l("Ended early"),
                 PairStatus.COMPLETED: _l("Completed")},
        "goal": {GoalStatus.OPEN: _l("In progress"), GoalStatus.ACHIEVED: _l("Achieved"),
                 GoalStatus.DROPPED: _l("Dropped")},
        "outbox": {OutboxStatus.PENDING: _l("Waiting"),
                   OutboxStatus.CLAIMED: _l("Picked up for sending"),
                   OutboxStatus.SENDING: _l("Being sent"), OutboxStatus.SENT: _l("Sent"),
                   OutboxStatus.FAILED: _l("Failed"),
                   OutboxStatus.UNCERTAIN: _l("Delivery uncertain")},
        "role": {"admin": _l("Administrator"), "coordinator": _l("Coordinator"),
                 "mentor": _l("Mentor"), "mentee": _l("Mentee")},
        "phase": {"queued": _l("Waiting for the solver"), "building": _l("Reading participants"),
                  "solving": _l("Solving"), "locks": _l("Checking locks"),
                  "candidates": _l("Choosing candidates"), "flow": _l("Matching"),
                  "slots": _l("Choosing times"), "cpsat": _l("Improving the result"),
                  "done": _l("Done"), "failed": _l("Failed")},
        "solver": {"OPTIMAL": _l("optimal"), "FEASIBLE": _l("good, not proven optimal"),
                   "EMPTY": _l("nothing to match"), "INFEASIBLE": _l("no solution"),
                   "UNKNOWN": _l("unknown")},
        "error": {"worker_stopped": _l("The solver stopped before it finished (its process "
                                       "ended); nothing was changed. You can run it again."),
                  "invalid_solution": _l("The solver's result failed the checks; nothing was "
                                         "changed. You can run it again."),
                  "solver_error": _l("The solve failed; nothing was changed. You can run it "
                                     "again.")},
        "unmatched": reason_words.unmatched_labels(),
        "infeasible": {"not_selected": _l("one of them is not in this round"),
                       "mentee_taken": _l("the mentee is already fixed to another mentor"),
                       "capacity": _l("the mentor has no place left"),
                       "no_slot": _l("the mentor has no free common time left"),
                       "other": _l("the solver could not keep it")},
        "rounding": {"floor": _l("Round down to whole JP"),
                     "nearest": _l("Round to the nearest whole JP"),
                     "half": _l("Round down to half JP")},
        "rule": reason_words.rule_labels(),
        "action": {
            "programme.create": _l("Programme created"),
            "programme.update": _l("Programme changed"),
            "programme.participants_add": _l("Participants added"),
            "programme.preferences": _l("Mentor preferences saved"),
            "programme.mentor_withdraw": _l("Mentor withdrawn"),
            "round.create": _l("Round created"), "round.filters": _l("Round filters changed"),
            "round.criteria": _l("Round criteria changed"),
            "round.solve": _l("Solve requested"), "round.solved": _l("Round solved"),
            "round.failed": _l("Solve failed"), "round.lock": _l("Pair locked"),
            "round.forbid": _l("Pair forbidden"), "round.clear": _l("Adjustment removed"),
            "round.approve": _l("Round approved and published"),
            "series.create": _l("Session series created"),
            "series.cancel": _l("Session series cancelled"),
            "series.move": _l("Session series moved"),
            "session.reschedule": _l("Session moved"), "session.cancel": _l("Session cancelled"),
            "session.mark": _l("Session marked"), "session.propose": _l("New time proposed"),
            "session.proposal_answer": _l("Proposed time answered"),
            "attendee.answer": _l("Invitation answered"),
            "pair.declined": _l("Pair declined"), "pair.end": _l("Pair ended"),
            "log.submit": _l("Session log submitted"), "log.update": _l("Session log changed"),
            "log.confirm": _l("Session log confirmed"),
            "log.dispute": _l("Session log disputed"),
            "goal.add": _l("Goal added"), "goal.status": _l("Goal status changed"),
            "level.change": _l("Competency level changed"),
            "feedback.give": _l("Feedback given"), "evaluation.submit": _l("Evaluation given"),
            "report.nudge": _l("Reminder sent from a report"),
            "outbox.resend": _l("E-mail sent again"),
        },
    }


def label(group: str, code: Any, default: Any = None) -> str:
    table = labels().get(group, {})
    if code in table:
        return str(table[code])
    return str(default) if default is not None else str(_l("Other"))


def pair_reason(reasons: list[dict[str, Any]] | None) -> str:
    """"Why this pair" from the stored reason codes, in the reader's language (competency
    names read once per request, however many rows a page words)."""
    if not has_request_context():
        return reason_words.pair_reason(reasons)
    if "_mm_competencies" not in g:
        g._mm_competencies = catalogue.by_code()
    return reason_words.pair_reason(reasons, g._mm_competencies)


def unmatched_reason(reason: str, params: dict[str, Any] | None = None) -> str:
    """Why a mentee stayed unmatched, with the solver's figures, in the reader's language."""
    return reason_words.unmatched_reason(reason, params)
