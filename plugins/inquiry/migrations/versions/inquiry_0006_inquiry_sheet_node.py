"""inquiry: an assignment sheet belongs to the district or to one community

Revision ID: inquiry_0006
Revises: inquiry_0005
Create Date: 2026-12-03 17:29:05

Existing sheets were the district's: they are put on the district node.
"""
from alembic import op
import sqlalchemy as sa


revision = 'inquiry_0006'
down_revision = 'inquiry_0005'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, no table copy (inquiry_problem refers to this table);
    # SQLite takes the foreign key inline only.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE inquiry_sheet ADD COLUMN node_id INTEGER '
                   'CONSTRAINT fk_inquiry_sheet_node_id_grid_node REFERENCES grid_node (id)')
    else:
        op.add_column('inquiry_sheet', sa.Column('node_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_inquiry_sheet_node_id_grid_node'), 'inquiry_sheet', 'grid_node',
                              ['node_id'], ['id'])
    op.create_index(op.f('ix_inquiry_sheet_node_id'), 'inquiry_sheet', ['node_id'], unique=False)
    op.execute(
        "UPDATE inquiry_sheet SET node_id = (SELECT MIN(id) FROM grid_node WHERE level = 'district') "
        "WHERE node_id IS NULL"
    )


def downgrade():
    op.drop_index(op.f('ix_inquiry_sheet_node_id'), table_name='inquiry_sheet')
    with op.batch_alter_table('inquiry_sheet', schema=None) as batch_op:
        batch_op.drop_column('node_id')
