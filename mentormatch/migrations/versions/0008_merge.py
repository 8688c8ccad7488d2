"""Join the schema changes made side by side (security, API/SSO, calendar, review index) into one head.

Revision ID: 0008
Revises: 0007_sec, 0007_api, 0007_calendar, 0007_perf
"""

revision = "0008"
down_revision = ("0007_sec", "0007_api", "0007_calendar", "0007_perf")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
