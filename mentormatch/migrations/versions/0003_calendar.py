"""calendar: fenced outbox claims, lease epoch, inbox cursor, reply ordering and details

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import mentormatch.models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox_cursor',
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('failing_uid', sa.BigInteger(), nullable=True),
    sa.Column('failing_attempts', sa.Integer(), nullable=False),
    sa.Column('updated_at', mentormatch.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_inbox_cursor'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('claim_epoch', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('handed_at', mentormatch.models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('scheduler_lease', schema=None) as batch_op:
        batch_op.add_column(sa.Column('epoch', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('mailbox_ref', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('session_series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence_changed_at', mentormatch.models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence_changed_at', mentormatch.models.base.UTCDateTime(timezone=True), nullable=True))
    # rows claimed under the old scheme ('sending' meant "claimed") become plain claims, so the
    # new recovery returns them to 'pending' rather than flagging them uncertain
    op.execute("UPDATE outbox_message SET status = 'claimed' WHERE status = 'sending'")


def downgrade() -> None:
    op.execute("UPDATE outbox_message SET status = 'sending' "
               "WHERE status IN ('claimed', 'uncertain')")
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_column('sequence_changed_at')
    with op.batch_alter_table('session_series', schema=None) as batch_op:
        batch_op.drop_column('sequence_changed_at')
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.drop_column('details')
        batch_op.drop_column('mailbox_ref')
        batch_op.drop_column('reason_code')
    with op.batch_alter_table('scheduler_lease', schema=None) as batch_op:
        batch_op.drop_column('epoch')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('handed_at')
        batch_op.drop_column('claim_epoch')
        batch_op.drop_column('claim_token')
    op.drop_table('inbox_cursor')
