"""inquiry: indexes for a community's problems by state and for supervised problems

Revision ID: inquiry_0005
Revises: inquiry_0004
Create Date: 2026-11-28 22:35:00

"""
from alembic import op


revision = 'inquiry_0005'
down_revision = 'inquiry_0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inquiry_problem', schema=None) as batch_op:
        batch_op.create_index('ix_inquiry_problem_community_state_created', ['community_id', 'state', 'created_at'], unique=False)
        batch_op.create_index('ix_inquiry_problem_supervised_state', ['supervised', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('inquiry_problem', schema=None) as batch_op:
        batch_op.drop_index('ix_inquiry_problem_supervised_state')
        batch_op.drop_index('ix_inquiry_problem_community_state_created')
