"""Typed SQLAlchemy models, one module per aggregate; imported here so metadata is complete."""

from .account import ROLES, Actor, User, UserRole
from .base import Base, utcnow
from .competency import Competency, PersonCompetency
from .hours import WorkingHoursOverride
from .integration import API_SCOPES, ApiCall, ApiClient, SsoGroupRole, SsoIdentity
from .logbook import ActionItem, Evaluation, Feedback, LogCompetency, LogStatus, SessionLog
from .matching import Proposal, Round, RoundConstraint, RoundStatus, UnmatchedMentee
from .messaging import (
    AuditLog,
    InboundMessage,
    InboxCursor,
    OutboxMessage,
    OutboxStatus,
    SchedulerLease,
)
from .org import Location, Unit
from .pair import Goal, GoalStatus, LevelChange, Pair, PairStatus
from .person import AvailabilityWindow, LeaveDate, Person
from .programme import (
    MentorPreference,
    Participant,
    Programme,
    ProgrammeCoordinator,
    ProgrammeStatus,
)
from .report_indexes import ACTION_ITEM_REPORT, SESSION_REPORT  # noqa: F401
from .review_indexes import PROPOSAL_REVIEW  # noqa: F401
from .schedule import (
    Attendee,
    OccurrenceResponse,
    SeriesStatus,
    Session,
    SessionSeries,
    SessionStatus,
)
from .upload import StagedUpload

__all__ = [
    "ROLES", "Actor",
    "ActionItem", "Attendee", "AuditLog", "AvailabilityWindow", "Base", "Competency",
    "Evaluation", "Feedback", "Goal", "InboundMessage", "InboxCursor", "LeaveDate", "LevelChange",
    "Location", "LogCompetency", "MentorPreference", "OccurrenceResponse", "OutboxMessage", "Pair",
    "Participant", "Person", "PersonCompetency", "Programme", "ProgrammeCoordinator", "Proposal",
    "Round", "RoundConstraint", "SchedulerLease", "Session", "SessionLog", "SessionSeries",
    "StagedUpload", "Unit", "UnmatchedMentee", "User", "UserRole", "WorkingHoursOverride", "utcnow",
    # state machines (StrEnum: each value is today's string)
    "GoalStatus", "LogStatus", "OutboxStatus", "PairStatus", "ProgrammeStatus", "RoundStatus",
    "SeriesStatus", "SessionStatus",
]
__all__ += ["API_SCOPES", "ApiCall", "ApiClient", "SsoGroupRole", "SsoIdentity"]
