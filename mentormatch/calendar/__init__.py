"""Pure calendar layer: iTIP builders and parsers, VTIMEZONEs, holidays, iMIP mail, RSVP links."""

from .email import ComposedMail, compose_invite_bytes, compose_invite_email
from .holidays import OccurrencePlan, plan_occurrences
from .itip import (
    build_cancel,
    build_feed,
    build_occurrence_request,
    build_reply,
    build_request,
)
from .links import RsvpToken, RsvpTokenError, sign_rsvp, verify_rsvp
from .model import Attendee, FeedSeries, OccurrenceOverride, SeriesSpec
from .replies import ItipError, ParsedItip, parse_itip, supersedes
from .vtimezone import build_vtimezone

__all__ = [
    "Attendee",
    "ComposedMail",
    "FeedSeries",
    "ItipError",
    "OccurrenceOverride",
    "OccurrencePlan",
    "ParsedItip",
    "RsvpToken",
    "RsvpTokenError",
    "SeriesSpec",
    "build_cancel",
    "build_feed",
    "build_occurrence_request",
    "build_reply",
    "build_request",
    "build_vtimezone",
    "compose_invite_bytes",
    "compose_invite_email",
    "parse_itip",
    "plan_occurrences",
    "sign_rsvp",
    "supersedes",
    "verify_rsvp",
]
