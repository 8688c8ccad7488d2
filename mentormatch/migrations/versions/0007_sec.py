"""sec: per-account session generation (logout, password change and deactivation end sessions)

Revision ID: 0007_sec
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_sec'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
