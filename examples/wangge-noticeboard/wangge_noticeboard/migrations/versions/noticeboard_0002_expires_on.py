"""noticeboard: a notice's last day on the board

Revision ID: noticeboard_0002
Revises: noticeboard_0001
Create Date: 2026-12-03 17:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'noticeboard_0002'
down_revision = 'noticeboard_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('noticeboard_notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('noticeboard_notice', schema=None) as batch_op:
        batch_op.drop_column('expires_on')
