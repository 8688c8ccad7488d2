"""reason codes: proposals keep the solver's reason codes and parameters, not prose

The Indonesian/English sentences (``reason_id`` / ``reason_en`` on proposals and pairs) go:
pages word the codes in the reader's language when they show them. Unmatched mentees keep the
solver's figures for their reason. Proposals written before this keep an empty list (their
sentences cannot be turned back into codes); a re-solve of the round gives them again.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reasons", sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.drop_column("reason_id")
        batch_op.drop_column("reason_en")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.alter_column("reasons", server_default=None)
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.drop_column("reason_id")
        batch_op.drop_column("reason_en")
    with op.batch_alter_table("unmatched_mentee", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
    with op.batch_alter_table("unmatched_mentee", schema=None) as batch_op:
        batch_op.alter_column("params", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("unmatched_mentee", schema=None) as batch_op:
        batch_op.drop_column("params")
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_id", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("reason_en", sa.String(length=1000), nullable=True))
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_id", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("reason_en", sa.String(length=1000), nullable=True))
        batch_op.drop_column("reasons")
