"""Access to the shared conformance corpus (real recorded frames and the spec's examples)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# A copy of ../shared/realtime_corpus (real recorded frames and the spec examples, each row with
# its source), kept in the repo so the suite runs the same wherever it is cloned.
CORPUS = Path(__file__).resolve().parent / "data" / "realtime_corpus"


def rows(name: str) -> list[dict[str, Any]]:
    with (CORPUS / name).open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def events(name: str) -> list[dict[str, Any]]:
    return [row["event"] for row in rows(name) if isinstance(row.get("event"), dict)]
