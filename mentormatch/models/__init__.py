"""Typed SQLAlchemy models, one module per aggregate; imported here so metadata is complete."""

from .account import ROLES, User, UserRole
from .base import Base, utcnow
from .competency import Competency, PersonCompetency
from .logbook import ActionItem, Evaluation, Feedback, LogCompetency, SessionLog
from .matching import Proposal, Round, RoundConstraint, UnmatchedMentee
from .messaging import AuditLog, InboundMessage, InboxCursor, OutboxMessage, SchedulerLease
from .org import Location, Unit
from .pair import Goal, LevelChange, Pair
from .person import AvailabilityWindow, LeaveDate, Person
from .programme import MentorPreference, Participant, Programme, ProgrammeCoordinator
from .report_indexes import ACTION_ITEM_REPORT, SESSION_REPORT  # noqa: F401
from .review_indexes import PROPOSAL_REVIEW  # noqa: F401
from .schedule import Attendee, OccurrenceResponse, Session, SessionSeries
from .upload import StagedUpload

__all__ = [
    "ROLES", "ActionItem", "Attendee", "AuditLog", "AvailabilityWindow", "Base", "Competency",
    "Evaluation", "Feedback", "Goal", "InboundMessage", "InboxCursor", "LeaveDate", "LevelChange",
    "Location", "LogCompetency", "MentorPreference", "OccurrenceResponse", "OutboxMessage", "Pair",
    "Participant", "Person", "PersonCompetency", "Programme", "ProgrammeCoordinator", "Proposal",
    "Round", "RoundConstraint", "SchedulerLease", "Session", "SessionLog", "SessionSeries",
    "StagedUpload", "Unit", "UnmatchedMentee", "User", "UserRole", "utcnow",
]
