"""api: REST API clients and their call log; single sign-on identities and group roles

Revision ID: 0007_api
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from mentormatch.models.base import UTCDateTime

revision = '0007_api'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_client',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('secret_hash', sa.String(length=128), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_used_at', UTCDateTime(), nullable=True),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_api_client_created_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_client')),
        sa.UniqueConstraint('key_id', name=op.f('uq_api_client_key_id')),
    )
    op.create_table(
        'api_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=True),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=True),
        sa.Column('records', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], ondelete='SET NULL',
                                name=op.f('fk_api_call_client_id_api_client')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_call')),
    )
    op.create_index('ix_api_call_client_at', 'api_call', ['client_id', 'at'], unique=False)
    op.create_table(
        'sso_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=500), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('linked_by', sa.String(length=10), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_login_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE',
                                name=op.f('fk_sso_identity_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_identity')),
        sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_sso_identity_issuer_subject')),
    )
    op.create_index(op.f('ix_sso_identity_user_id'), 'sso_identity', ['user_id'], unique=False)
    op.create_table(
        'sso_group_role',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_name', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_group_role')),
        sa.UniqueConstraint('group_name', 'role', name=op.f('uq_sso_group_role_group_name_role')),
    )


def downgrade() -> None:
    op.drop_table('sso_group_role')
    op.drop_index(op.f('ix_sso_identity_user_id'), table_name='sso_identity')
    op.drop_table('sso_identity')
    op.drop_index('ix_api_call_client_at', table_name='api_call')
    op.drop_table('api_call')
    op.drop_table('api_client')
