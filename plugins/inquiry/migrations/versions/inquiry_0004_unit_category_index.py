"""inquiry: index for a unit's problems of one category

Revision ID: inquiry_0004
Revises: inquiry_0003
Create Date: 2026-11-28 22:30:00

"""
from alembic import op


revision = 'inquiry_0004'
down_revision = 'inquiry_0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inquiry_problem', schema=None) as batch_op:
        batch_op.create_index('ix_inquiry_problem_unit_category_created', ['unit_id', 'category_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('inquiry_problem', schema=None) as batch_op:
        batch_op.drop_index('ix_inquiry_problem_unit_category_created')
