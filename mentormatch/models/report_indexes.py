"""Indexes the programme reports rely on. The tables belong to other aggregates; the indexes
live here, next to nothing else, so the reports' needs stay in one place (migration 0006).

- session (series_id, status, start_at): the dashboard counts sessions per series and status,
  the trend groups them by month and the no-session alert takes each pair's last held one;
  all three read this index alone, never the table.
- action_item (log_id, done): the logs export counts each log's action items and open ones.
"""

from __future__ import annotations

from sqlalchemy import Index

from .logbook import ActionItem
from .schedule import Session

SESSION_REPORT = Index("ix_session_report", Session.series_id, Session.status, Session.start_at)
ACTION_ITEM_REPORT = Index("ix_action_item_report", ActionItem.log_id, ActionItem.done)
