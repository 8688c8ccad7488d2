"""Join the schema changes made side by side (security, API/SSO, calendar) into one head.

Revision ID: 0008
Revises: 0007_sec, 0007_api, 0007_calendar
"""

revision = "0008"
down_revision = ("0007_sec", "0007_api", "0007_calendar")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
