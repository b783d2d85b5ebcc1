"""The rules of grid affairs, one module per aggregate: plain functions over
the session, no Flask request. They raise :class:`AffairsError` (a
core.forms.DomainError) naming the field a refusal belongs to.

This package re-exports every rule, so callers write ``services.save_resident``.
"""

from core.privacy import mask_id, mask_phone  # noqa: F401

from .common import (  # noqa: F401
    LABELS,
    NO,
    PHONE_RE,
    YES,
    AffairsError,
    IdInfo,
    age_on,
    check_phone,
    flush,
    group_name,
    label,
    parse_bool,
    parse_id_number,
)
from .groups import (  # noqa: F401
    DEFAULT_INTERVALS,
    active_tag_condition,
    add_group_type,
    add_tag,
    end_tag,
    ensure_group_types,
    set_visit_intervals,
)
from .import_run import (  # noqa: F401
    STAT_TABLES,
    refresh_statistics,
    run_import,
    upload_path,
)
from .imports import (  # noqa: F401
    ENUMS,
    HOUSE_COLUMNS,
    RESIDENT_COLUMNS,
    bulk_update_by_id,
    columns_for,
    enum_lookup,
    example_row,
    headers,
)
from .quota import (  # noqa: F401
    WorkerWeek,
    communities_on,
    community_quotas,
    compliance,
    compliance_by_community,
    worker_history,
    workers_under,
    works_under,
)
from .residents import (  # noqa: F401
    add_household,
    house_node_or_error,
    remove_resident,
    save_house,
    save_resident,
)
from .squads import (  # noqa: F401
    add_member,
    add_report,
    remove_member,
)
from .tasks import (  # noqa: F401
    ITEM_COLUMNS,
    PERIOD_RE,
    assign_item,
    check_period,
    current_period,
    import_items,
    item_rows,
    set_task_status,
)
from .totals import (  # noqa: F401
    bump_totals,
    follow_node_move,
    node_holders,
    node_totals,
    paths_condition,
    recompute_totals,
)
from .visits import (  # noqa: F401
    covering_for,
    hand_off_problem,
    iso_week_of,
    previous_weeks,
    record_visit,
    reminder_schedule,
    set_weekly_quota,
    week_bounds,
    weekly_quota,
)
