"""The script filter shared by the script list, the statistics, the scenarios, the
simulations, the explanations and the grader effects (API.md §2; R-UNIT-3, R-MASS-4,
R-MASS-4b, R-MASS-5).

One table of keys (`keys.py`) drives parsing and labels (`filter.py`), the SQL filter
(`sql.py`), the numpy mask (`mask.py`) and the linked options (`options.py`). It sits
above `referential` and below `marking`: the callers pass the user's scope queryset in.
"""

from harmonie.scriptfilter.filter import (
    LOCKED_ONLY_KEY,
    ScriptFilter,
    decimal_text,
    filter_query_data,
    locked_only_parse,
    script_filter_describe,
    script_filter_parse,
)
from harmonie.scriptfilter.keys import (
    FILTER_KEYS,
    KEYS,
    LABELS,
    LIST_KEYS,
    LIST_TABLE,
    LISTS,
    MARK_KEYS,
    scenario_filter_keys,
)
from harmonie.scriptfilter.mask import key_ids, script_filter_mask
from harmonie.scriptfilter.options import cache_key, filter_options, marks_cache_head
from harmonie.scriptfilter.sql import part_mark_expression, scripts_filter

__all__ = [
    "FILTER_KEYS",
    "KEYS",
    "LABELS",
    "LISTS",
    "LIST_KEYS",
    "LIST_TABLE",
    "LOCKED_ONLY_KEY",
    "MARK_KEYS",
    "ScriptFilter",
    "cache_key",
    "decimal_text",
    "filter_options",
    "filter_query_data",
    "key_ids",
    "locked_only_parse",
    "marks_cache_head",
    "part_mark_expression",
    "scenario_filter_keys",
    "script_filter_describe",
    "script_filter_mask",
    "script_filter_parse",
    "scripts_filter",
]
