"""Everything rich: event rows, response panels, error lines, tables. The only package that
imports rich; everything else names what it needs from here.

- ``rows``: one-line event rows, deltas folded (``create --events``, ``pipe --pretty``, replay,
  the console's events view and log)
- ``panels``: the response panel, error lines, JSON blocks
- ``tables``: responses, items, help, doctor, settings and profiles
- ``console``: the consoles and rtc's own one-line notes
- ``safe``: how server text becomes ``Text`` (never markup, never raw control characters)

Server data is untrusted and may be malformed: every renderer here takes any JSON without
failing, and no server string reaches the terminal uncleaned.
"""

from realtime_cli.render.compare import figures_table, live_line, side_by_side
from realtime_cli.render.console import (
    RichConsole,
    console_for_repl,
    make_console,
    note,
    print_listed_row,
    print_row,
)
from realtime_cli.render.panels import (
    STATUS_STYLE,
    error_line,
    error_text,
    json_block,
    print_json,
    response_panel,
)
from realtime_cli.render.rows import EventRows, log_row, summary
from realtime_cli.render.tables import (
    DOCTOR_STYLE,
    doctor_table,
    help_view,
    items_table,
    print_settings,
    profiles_table,
    responses_table,
)

__all__ = [
    "DOCTOR_STYLE",
    "STATUS_STYLE",
    "EventRows",
    "RichConsole",
    "console_for_repl",
    "doctor_table",
    "error_line",
    "error_text",
    "figures_table",
    "help_view",
    "items_table",
    "json_block",
    "live_line",
    "log_row",
    "make_console",
    "note",
    "print_json",
    "print_listed_row",
    "print_row",
    "print_settings",
    "profiles_table",
    "response_panel",
    "responses_table",
    "side_by_side",
    "summary",
]
