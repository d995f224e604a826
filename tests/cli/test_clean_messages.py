"""rtc's own words for bad values and in --help (issue 15 #7): no Python types as metavars, no
validation library's phrasing, no `got None`."""

from __future__ import annotations

import re

import pytest
from cli_run import rtc


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--modality", "txt"),
            "Invalid value for '--modality': 'txt' is not one of 'text', 'audio'.",
        ),
        (("--cancel-after", "x"), "Invalid value for '--cancel-after': 'x' is not a valid float."),
        (("--timeout", "-1"), "Invalid value for '--timeout': -1 is not in the range x>=0."),
        (("--conversation", "maybe"), "Invalid value for '--conversation': 'maybe' is not one of"),
    ],
)
def test_bad_create_values_read_like_the_console(args: tuple[str, ...], expected: str) -> None:
    result = rtc("create", *args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Value error" not in result.stderr and "Input should be" not in result.stderr


@pytest.mark.parametrize(
    "command", [("create",), ("repl",), ("serve",), ("profile", "add"), ("export",), ("pipe",)]
)
def test_help_shows_metavars_not_python_types(command: tuple[str, ...]) -> None:
    result = rtc(*command, "--help", env={"COLUMNS": "120"})
    options = [line for line in result.stdout.splitlines() if line.lstrip().startswith("-")]
    assert options
    for line in options:
        assert not re.search(r"<(str|int|float|list\[str\]|int range|float range)>", line), line


def test_a_sleep_without_seconds_says_so() -> None:
    result = rtc("pipe", "--local", stdin='{"rtc": "sleep"}\n')
    assert 'sleep needs "seconds", e.g. {"rtc": "sleep", "seconds": 0.5}' in result.stderr
    assert "None" not in result.stderr
