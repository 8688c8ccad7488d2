"""The declarative job list: stable ids, what runs, how often. The runner adds them to
APScheduler with ``replace_existing``; every job first takes or renews the scheduler lease and
gets ``worker``/``fence`` keyword arguments when its function accepts them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import solves, tasks


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[..., Any]
    seconds: int
    #: config key (section, key) overriding ``seconds``
    interval_key: tuple[str, str] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


JOBS: tuple[Job, ...] = (
    Job("dispatch_outbox", tasks.run_dispatch, 15, interval_key=("mail", "dispatch_seconds")),
    Job("poll_inbox", tasks.poll_inbox, 60, interval_key=("inbox", "poll_seconds")),
    Job("reminders", tasks.reminders, 60),
    Job("nudge_log", tasks.nudge_log, 300),
    Job("chase_invites", tasks.chase_invites, 3600),
    Job("escalate", tasks.escalate, 3600),
    Job("mark_missed", tasks.mark_missed, 3600),
    Job("weekly_digest", tasks.weekly_digest, 900),
    Job("run_solves", solves.run_solves, 5, interval_key=("rounds", "poll_seconds")),
)

__all__ = ["JOBS", "Job"]
