"""The demo district. (Placeholder until the grid-tree work lands: builds the root.)"""

from __future__ import annotations

import random

from sqlalchemy import delete

from .extensions import db
from .models import GridNode, RoleGrant, User

DEMO_PASSWORD = "wangge-demo"


def reset_data():
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.commit()


def build_demo(scale: int = 1, seed: int = 1, report=print):
    rng = random.Random(seed)
    root = GridNode(level="district", name="湾沚区", code="340221", depth=0, path="")
    db.session.add(root)
    db.session.flush()
    root.path = f"/{root.id}/"
    admin = User(username="district", display_name="区委组织部管理员")
    admin.set_password(DEMO_PASSWORD)
    db.session.add(admin)
    db.session.flush()
    db.session.add(RoleGrant(user_id=admin.id, role="district_admin", node_id=root.id))
    db.session.commit()
    pm = __import__("flask").current_app.extensions["wangge"].pm
    pm.hook.wangge_demo_data(scale=scale, rng=rng, report=report)
    db.session.commit()


def print_demo_logins(echo=print):
    echo(f"Demo logins (password {DEMO_PASSWORD}): district")
