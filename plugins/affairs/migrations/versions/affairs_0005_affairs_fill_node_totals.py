"""affairs: fill the maintained node totals of an existing database

Revision ID: affairs_0005
Revises: affairs_0004
Create Date: 2026-11-28 22:20:00

The totals table (affairs_0003) starts empty; this fills it from the rows,
set-based: each node's totals are those of its subtree (path range join).
Same keys as plugins/affairs/services.py (recompute_totals).
"""
from alembic import op


revision = 'affairs_0005'
down_revision = 'affairs_0004'
branch_labels = None
depends_on = None

SUBTREE = "JOIN grid_node n ON n.path >= a.path AND n.path < a.path || '~'"


def upgrade():
    op.execute("DELETE FROM affairs_node_total")
    fills = [
        ("'residents'", "count(*)", "affairs_resident x ON x.node_id = n.id", ""),
        ("'party'", "sum(CASE WHEN x.party_member THEN 1 ELSE 0 END)", "affairs_resident x ON x.node_id = n.id", ""),
        ("'non_registered'", "sum(CASE WHEN x.residence = 'non_registered' THEN 1 ELSE 0 END)",
         "affairs_resident x ON x.node_id = n.id", ""),
        ("'houses'", "count(*)", "affairs_house x ON x.node_id = n.id", ""),
        ("'occ:' || x.occupancy", "count(*)", "affairs_house x ON x.node_id = n.id", ", x.occupancy"),
        ("'group:' || CAST(x.group_type_id AS VARCHAR(20))", "count(*)",
         "affairs_resident r ON r.node_id = n.id JOIN affairs_group_tag x ON x.resident_id = r.id AND x.end_date IS NULL",
         ", x.group_type_id"),
    ]
    for key, value, join, group in fills:
        op.execute(
            f"INSERT INTO affairs_node_total (node_id, key, value) "
            f"SELECT a.id, {key}, {value} FROM grid_node a {SUBTREE} JOIN {join} "
            f"GROUP BY a.id{group} HAVING {value} > 0"
        )


def downgrade():
    op.execute("DELETE FROM affairs_node_total")
