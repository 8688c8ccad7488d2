"""reports: the indexes the programme dashboard, trend, alerts and exports read

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.create_index('ix_session_report', ['series_id', 'status', 'start_at'],
                              unique=False)
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index('ix_action_item_report', ['log_id', 'done'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_index('ix_action_item_report')
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_index('ix_session_report')
