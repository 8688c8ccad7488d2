"""rounds: solve heartbeat, chosen mode of proposals and pairs, pair weekly slot,
programme override policy

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa
import mentormatch.models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matching_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', mentormatch.models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=10), nullable=False, server_default='online'))
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('weekly_slot_utc', sa.Integer(), nullable=True))
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('override_policy', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_column('override_policy')
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.drop_column('weekly_slot_utc')
        batch_op.drop_column('mode')
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_column('mode')
    with op.batch_alter_table('matching_round', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
