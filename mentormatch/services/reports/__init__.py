"""Programme reports for coordinators: dashboard numbers, participation alerts, competency progress.

Every dashboard figure comes from a handful of aggregate queries grouped by the raw
(unit_id, location_id, grade band) of the person the figure is about; the few hundred groups are
rolled up in Python into overall / by unit / by city / by grade band, so a figure of the whole
programme is by construction the sum of its groups. No query returns one row per session or log.
Works on SQLite and PostgreSQL.

Attribution: participants and invitations count in the group of the person themselves; pairs,
sessions, logs, JP and feedback in the group of the pair's mentee.

Definitions used everywhere (dashboard, breakdowns, trend, print):
- participant: an active participant of the programme, counted once even with both roles;
- matched mentee: an active mentee participant with a pair that is invited, active or completed;
- planned session: a session of the programme that is not cancelled (held + missed + awaiting
  + upcoming); cancelled sessions are shown on their own;
- upcoming session: still scheduled and starting in the future; a scheduled session that has
  started is *awaiting its log* (the missed-marking job makes it missed after
  `[scheduler] missed_after_days`), whatever became of its series;
- JP credited: per mentee, the confirmed credited minutes of the programme converted by the
  programme's JP rule (`services.jp`), as on the mentee's home page; groups add these up.

The package is split by job: `common` (settings, definitions, shared SQL expressions),
`dashboard` (the dashboard figures and the monthly trend), `progress` (evaluations and
competency progress), `alerts` (the alert lists and their counts) and `cache` (the dashboard's
figures kept for a short while, shared by the workers). Callers use the names below.
"""

from .alerts import (
    AlertFilter,
    AlertPage,
    AlertRow,
    _now,
    alert_count,
    alert_page,
    alert_rows,
    alerts_summary,
    filter_options,
    pace_target_jp,
)
from .cache import figures
from .common import (
    ALERT_KINDS,
    BANDS,
    DIMENSIONS,
    LIVE_PAIR,
    MATCHED_PAIR,
    MISSED_STATES,
    NONE_LABEL,
    PLANNED_STATES,
    SUMMARY_KEYS,
    band_key,
    band_label,
    chase_after_days,
    clock,
    credited_jp,
    jp_rule,
    local_zone,
    month_expr,
    report_settings,
    session_counts,
    yearly_target_jp,
)
from .dashboard import TREND_KEYS, dashboard, trend
from .progress import competency_progress, evaluation_summary

__all__ = [
    "ALERT_KINDS", "BANDS", "DIMENSIONS", "LIVE_PAIR", "MATCHED_PAIR", "MISSED_STATES",
    "NONE_LABEL", "PLANNED_STATES", "SUMMARY_KEYS", "TREND_KEYS", "AlertFilter", "AlertPage",
    "AlertRow", "_now", "alert_count", "alert_page", "alert_rows", "alerts_summary",
    "band_key", "band_label", "chase_after_days", "clock", "competency_progress",
    "credited_jp", "dashboard", "evaluation_summary", "figures", "filter_options", "jp_rule",
    "local_zone", "month_expr", "pace_target_jp", "report_settings", "session_counts", "trend",
    "yearly_target_jp",
]
