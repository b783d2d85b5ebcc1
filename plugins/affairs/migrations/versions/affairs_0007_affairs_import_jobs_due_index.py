"""affairs: imports run as core.jobs; the "due for a visit" order index

Revision ID: affairs_0007
Revises: affairs_0006
Create Date: 2026-12-03 18:30:00

An import runs as the core job "affairs.import": its row records the job
(job_id) and no longer keeps the error report (the job's result file does).
Residents get an index in the order of the "due for a visit" list
(last_visit_date NULLS FIRST, id): on PostgreSQL the plain last_visit_date
index holds NULLs last and cannot serve that order, so the list read and
sorted every resident; SQLite's ascending index holds NULLs first already.
The settings get the weekday and hour of the visit-quota reminder (NULL:
the district's, else Thursday 09:00).
"""
from alembic import op
import sqlalchemy as sa


revision = 'affairs_0007'
down_revision = 'affairs_0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('affairs_import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.drop_column('error_report')
    with op.batch_alter_table('affairs_setting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_weekday', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reminder_hour', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_affairs_resident_due_order', 'affairs_resident',
                        [sa.text('last_visit_date ASC NULLS FIRST'), 'id'])


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_affairs_resident_due_order', table_name='affairs_resident')
    with op.batch_alter_table('affairs_setting', schema=None) as batch_op:
        batch_op.drop_column('reminder_hour')
        batch_op.drop_column('reminder_weekday')
    with op.batch_alter_table('affairs_import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_report', sa.LargeBinary(), nullable=True))
        batch_op.drop_column('job_id')
