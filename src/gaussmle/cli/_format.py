"""The command line's text formatting; it lives in :mod:`gaussmle._text` (shared with summaries)."""

from .._text import (
    ESTIMATE_HEADER,
    decimals,
    estimate_cells,
    estimate_rows,
    fmt_count,
    fmt_fixed,
    fmt_interval,
    fmt_num,
    json_text,
    jsonable,
    render_table,
    side_by_side,
    wrap,
)

__all__ = [
    "ESTIMATE_HEADER",
    "decimals",
    "estimate_cells",
    "estimate_rows",
    "fmt_count",
    "fmt_fixed",
    "fmt_interval",
    "fmt_num",
    "json_text",
    "jsonable",
    "render_table",
    "side_by_side",
    "wrap",
]
