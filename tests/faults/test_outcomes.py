"""What rtc create and rtc pipe make of responses that end badly, as a user sees it."""

from __future__ import annotations

from cli_run import rtc
from faulty import served

from realtime_cli.errors import ExitCode


def test_create_exits_1_for_a_response_cancelled_by_someone_else() -> None:
    with served("cancelled") as (url, _):
        result = rtc("create", "hi", "--url", url)
    assert result.returncode == ExitCode.FAILED, result.stderr
    # Piped, stdout is the answer alone and the panel (with the status) is on stderr.
    assert result.stdout == "Hello\n"
    assert "cancelled (turn_detected)" in result.stderr


def test_create_exits_0_only_for_the_cancel_it_asked_for() -> None:
    with served("hold") as (url, _):
        result = rtc("create", "hi", "--url", url, "--cancel-after", "0.2")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "status        cancelled (client_cancelled)" in result.stderr  # the panel, piped


def test_create_shows_a_failed_responses_code_and_message() -> None:
    with served("failed") as (url, _):
        result = rtc("create", "hi", "--url", url)
    assert result.returncode == ExitCode.FAILED
    assert "failed (model_crashed: The model crashed.)" in result.stderr  # the panel, piped


def test_pipe_says_why_a_response_failed() -> None:
    with served("failed") as (url, _):
        result = rtc("pipe", "--url", url, stdin='{"type": "response.create"}\n')
    assert result.returncode == ExitCode.FAILED
    assert result.stderr.endswith(" ended failed (model_crashed: The model crashed.)\n")
