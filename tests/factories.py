"""The test data builders live in the testing kit (core.testing.factories);
this name stays for the tests that import it."""

from core.testing.factories import *  # noqa: F403
from core.testing.factories import (  # noqa: F401
    PASSWORD,
    GridNode,
    GridPost,
    Organisation,
    RoleGrant,
    Tree,
    User,
    assign_post,
    build_tree,
    db,
    make_org,
    make_user,
)
