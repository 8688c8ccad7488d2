"""participants schema changes

- session_log.submit_token: the log form's idempotency token (unique per pair), so a double click
  or a retried submit returns the first log instead of writing a second one.
- pair.notes_shared_with_coordinator dropped: it had no UI; coordinators read notes only where the
  mentee allowed it on the log itself (session_log.notes_visible_to_coordinator).

Revision ID: 0005
Revises: 0004
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('session_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submit_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_session_log_pair_id_submit_token'), ['pair_id', 'submit_token'])
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.drop_column('notes_shared_with_coordinator')


def downgrade() -> None:
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes_shared_with_coordinator', sa.Boolean(),
                                      nullable=False, server_default=sa.false()))
    with op.batch_alter_table('session_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_session_log_pair_id_submit_token'),
                                 type_='unique')
        batch_op.drop_column('submit_token')
