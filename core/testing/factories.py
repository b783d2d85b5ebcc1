"""Small, explicit test data built with the same services the app uses (part of the
plugin author's testing kit: `from core.testing.factories import build_tree, make_user`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.extensions import db
from core.grid.services import create_node
from core.models import GridNode, GridPost, Organisation, RoleGrant, User

PASSWORD = "test-password-1"


@dataclass
class Tree:
    district: GridNode
    communities: list[GridNode] = field(default_factory=list)
    estates: list[GridNode] = field(default_factory=list)
    buildings: list[GridNode] = field(default_factory=list)
    zones: list[GridNode] = field(default_factory=list)


def build_tree(communities=2, estates=2, buildings=2, zones=2) -> Tree:
    district = create_node(None, "district", "湾沚区", "340221")
    t = Tree(district=district)
    for c in range(1, communities + 1):
        cn = create_node(district, "community", f"测试{c}社区", f"340221-C{c:02d}", sort_order=c)
        t.communities.append(cn)
        for e in range(1, estates + 1):
            en = create_node(cn, "estate", f"{cn.name}{e}号小区", f"{cn.code}-E{e:02d}", sort_order=e)
            t.estates.append(en)
            for b in range(1, buildings + 1):
                bn = create_node(en, "building", f"{b}栋", f"{en.code}-B{b:02d}", sort_order=b)
                t.buildings.append(bn)
                for z in range(1, zones + 1):
                    t.zones.append(create_node(bn, "zone", f"{bn.name}{z}区", f"{bn.code}-Z{z:02d}", sort_order=z))
    db.session.commit()
    return t


def make_user(username, role=None, node=None, organisation=None, password=PASSWORD, display_name=None) -> User:
    user = User(username=username, display_name=display_name or username, organisation_id=organisation.id if organisation else None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if role is not None:
        db.session.add(RoleGrant(user_id=user.id, role=role, node_id=node.id))
    db.session.commit()
    return user


def make_org(name, kind="department") -> Organisation:
    org = Organisation(name=name, kind=kind, short_name=name[:4])
    db.session.add(org)
    db.session.commit()
    return org


def assign_post(node, a_user=None, b_user=None) -> GridPost:
    post = GridPost(node_id=node.id, a_user_id=a_user.id if a_user else None, b_user_id=b_user.id if b_user else None)
    db.session.add(post)
    db.session.commit()
    return post

