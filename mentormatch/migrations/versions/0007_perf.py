"""perf: the index the paged round review reads (proposals of a round by score)

Revision ID: 0007_perf
Revises: 0006
"""

from alembic import op

revision = '0007_perf'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_review', ['round_id', 'score', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_review')
