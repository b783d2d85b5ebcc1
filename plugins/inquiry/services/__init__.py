"""The rules of Square Inquiry, as plain functions over the session, one file
per aggregate. No Flask request in here: the views, the Open311 API, the visit
hook, the demo and the tests all go through the same functions. This package
re-exports them so callers write ``services.create_problem(...)``."""

from __future__ import annotations

from .catalog import (  # noqa: F401
    DEFAULT_CATEGORIES,
    category_title,
    check_api_key,
    ensure_categories,
    estate_of,
    hash_key,
    issue_api_key,
    proposed_unit_id,
    units,
)
from .deadlines import (  # noqa: F401
    DeadlineWarning,
    add_working_days,
    deadline_colour,
    deadline_for,
    deadline_warnings,
    end_of_local_day,
    extra_days,
    is_working_day,
    overdue_condition,
    warn_share,
    working_days_between,
)
from .handling import (  # noqa: F401
    claim,
    decide_extension,
    pending_extension,
    report_result,
    request_extension,
    return_to_triage,
    supervise,
)
from .intake import (  # noqa: F401
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    ReadyPhoto,
    create_problem,
    duplicate_candidates,
    file_opinion,
    mark_duplicate,
    photo_file,
    prepare_photos,
    reject,
    store_photos,
    verify,
)
from .sheets import (  # noqa: F401
    add_to_sheet,
    create_sheet,
    issue_sheet,
    next_sheet_number,
    remove_from_sheet,
    sheet_problems,
)
from .stats import (  # noqa: F401
    ALL,
    HOT_DAYS,
    HOT_MIN,
    STAT_FIELDS,
    bump,
    detail_rows,
    follow_node_move,
    month_key,
    rebuild_hot_counts,
    rebuild_stats,
    set_hot_count,
)
from .visits import (  # noqa: F401
    followup_days,
    record_contact_view,
    record_followup,
    return_visit,
)
from .workflow import (  # noqa: F401
    ACTION_TITLES,
    CHANNEL_TITLES,
    OUTCOME_TITLES,
    PRIORITY_TITLES,
    STATE_TITLES,
    TRANSITIONS,
    InquiryError,
    TransitionError,
    allowed,
    check,
    target_state,
    timeline,
    transition,
)
