"""calendar: dated working-hours overrides (Ramadan hours) an admin adds; a programme's rule
for logs dated on weekends and holidays

Revision ID: 0007_calendar
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import mentormatch.models.base

revision = '0007_calendar'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'working_hours_override',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=False),
        sa.Column('mon_thu_start', sa.String(length=5), nullable=False),
        sa.Column('mon_thu_end', sa.String(length=5), nullable=False),
        sa.Column('mon_thu_break_start', sa.String(length=5), nullable=True),
        sa.Column('mon_thu_break_end', sa.String(length=5), nullable=True),
        sa.Column('fri_start', sa.String(length=5), nullable=False),
        sa.Column('fri_end', sa.String(length=5), nullable=False),
        sa.Column('fri_break_start', sa.String(length=5), nullable=True),
        sa.Column('fri_break_end', sa.String(length=5), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', mentormatch.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.CheckConstraint('end_date >= start_date', name=op.f('ck_working_hours_override_period')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_working_hours_override_created_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_working_hours_override')),
    )


    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('off_day_logs', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_column('off_day_logs')
    op.drop_table('working_hours_override')
