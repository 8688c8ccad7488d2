"""MentorMatch solver: pure package (OR-Tools + standard library), JSON in, JSON out."""

from .model import solve
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
    "solve",
    "validate",
]
