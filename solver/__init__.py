"""MentorMatch solver: pure package (OR-Tools + standard library), JSON in, JSON out."""

from .decompose import solve  # model.solve, or the decomposed solve for a national cohort
from .fit import Booked, Fit, fit_check, keep_booked, weekly_busy
from .schema import (
    Instance,
    Link,
    LocalTime,
    Mentee,
    Mentor,
    Pair,
    Slot,
    Solution,
    SolverConfig,
    Stats,
    Unmatched,
    Weights,
    Window,
)
from .validate import validate

__all__ = [
    "Booked",
    "Fit",
    "Instance",
    "Link",
    "LocalTime",
    "Mentee",
    "Mentor",
    "Pair",
    "Slot",
    "Solution",
    "SolverConfig",
    "Stats",
    "Unmatched",
    "Weights",
    "Window",
    "fit_check",
    "keep_booked",
    "solve",
    "validate",
    "weekly_busy",
]
