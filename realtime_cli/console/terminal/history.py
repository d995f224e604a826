"""The console's history file: owner-only, and never a line that carries a key or a tool
credential."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from prompt_toolkit.history import FileHistory, History, InMemoryHistory


def history_file(environ: Mapping[str, str]) -> Path:
    """``$XDG_STATE_HOME/rtc/history`` (default ``~/.local/state/rtc/history``)."""
    state = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "rtc" / "history"


# A typed line that may carry a credential: a key, or a tool's authorization/headers (an MCP
# server's token) in `session --set 'tools:=[...]'`, `create --set`, or a raw JSON event. Such a
# line is kept in memory for this session's Up arrow, never written to the history file: it is
# dropped whole (a redacted copy would only be a broken command to recall).
_SECRET_WORDS = re.compile(r"--api-key|api[-_]key|authorization|headers|bearer\s", re.IGNORECASE)


def keeps_secret(line: str, secrets: Sequence[str] = ()) -> bool:
    """Whether ``line`` must stay out of the history file."""
    return bool(_SECRET_WORDS.search(line)) or any(s and s in line for s in secrets)


class _History(FileHistory):
    """The history file, minus lines that carry a key or a tool credential (see above)."""

    def __init__(self, path: Path, secrets: Sequence[str]) -> None:
        super().__init__(str(path))
        self.secrets = [s for s in secrets if s]

    def store_string(self, string: str) -> None:
        if not keeps_secret(string, self.secrets):
            super().store_string(string)


def open_history(path: Path, secrets: Sequence[str] = ()) -> tuple[History, str | None]:
    """The history file, readable by its owner alone (it holds what the user typed): created
    0600 in a 0700 directory, and an older one made so."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError as exc:
        return InMemoryHistory(), f"history not saved: cannot write {path}: {exc.strerror}"
    return _History(path, secrets), None
