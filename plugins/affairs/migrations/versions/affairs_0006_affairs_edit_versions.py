"""affairs: edit versions of residents and houses; the import job's grid

Revision ID: affairs_0006
Revises: affairs_0005
Create Date: 2026-12-03 17:30:00

Residents and houses get a version column (bumped by every UPDATE, so that
an edit form drawn from an older version is refused, core.forms); existing
rows start at 1 through the server default. An import job records the root
of its importer's grids (core.access gates it there).
"""
from alembic import op
import sqlalchemy as sa


revision = 'affairs_0006'
down_revision = 'affairs_0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('affairs_resident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('affairs_house', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('affairs_import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_affairs_import_job_node_id_grid_node'), 'grid_node', ['node_id'], ['id'])


def downgrade():
    with op.batch_alter_table('affairs_import_job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_affairs_import_job_node_id_grid_node'), type_='foreignkey')
        batch_op.drop_column('node_id')
    with op.batch_alter_table('affairs_house', schema=None) as batch_op:
        batch_op.drop_column('version')
    with op.batch_alter_table('affairs_resident', schema=None) as batch_op:
        batch_op.drop_column('version')
