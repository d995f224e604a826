"""Start-up does only what the command needs (issue #10): --version is answered before the
connection options are read, and no command's help loads pydantic (typer 0.29 did, building
a validator per option on every run)."""

from __future__ import annotations

import sys

import pytest
from cli_run import rtc

from realtime_cli import __version__


def test_version_is_eager_whatever_follows() -> None:
    for args in (["--version"], ["-V", "--view", "nope", "--url", "::bad"], ["--url", "x", "-V"]):
        result = rtc(*args)
        assert (result.returncode, result.stdout, result.stderr) == (0, f"rtc {__version__}\n", "")


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["create", "--help"]])
def test_start_up_does_not_load_pydantic(args: list[str]) -> None:
    result = rtc(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "typer" in imported  # the import log is there
    assert not [name for name in imported if name.split(".")[0] == "pydantic"]
    assert "websockets" not in imported and "realtime_cli.server.app" not in imported


def test_the_typer_pin_says_why() -> None:
    from cli_run import ROOT

    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"typer>=0.12,<0.29"' in pyproject and "pydantic" in pyproject
    assert sys.version_info >= (3, 11)
