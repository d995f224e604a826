"""Running rtc as a user does: a real process, real pipes, the repo's package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RTC = [sys.executable, "-m", "realtime_cli"]


def rtc(
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``rtc ARGS`` with ``stdin`` piped in (or none at all), ``env`` added to the environment."""
    return subprocess.run(
        [*RTC, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        env=None if env is None else {**os.environ, **env},
    )
