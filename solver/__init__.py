"""MentorMatch solver: pure package (OR-Tools + standard library), JSON in, JSON out."""

from .decompose import solve  # model.solve, or the decomposed solve for a national cohort
from .fit import Fit, fit_check
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
    "solve",
    "validate",
]
