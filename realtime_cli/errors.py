"""The user-facing exception tree and exit codes.

Realtime ``error`` *events* are data (shown inline, counted by the tracker); these exceptions are
for failures at the user boundary. ``cli.py`` is the only place that catches them broadly and
turns them into a one-line message and an exit code::

    RtcError                      exit 1  something went wrong
    ├── UsageError                exit 2  bad flag, bad value, invalid client event: nothing sent
    ├── ConnectError              exit 3  refused, DNS, TLS, HTTP status, fatal close at start
    └── ConnectionLost            exit 4  the socket closed before the work was done

Messages are one line, lower case, and say what and where.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # response ended other than completed, or the server answered with an error
    USAGE = 2  # usage or validation error: nothing was sent
    CONNECT = 3  # could not connect or authenticate
    LOST = 4  # connection lost mid-work
    HANGUP = 129  # SIGHUP (the terminal closed): active responses cancelled first
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (a process manager, timeout(1)): active responses cancelled first


class RtcError(Exception):
    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(RtcError):
    exit_code = ExitCode.USAGE


class ConnectError(RtcError):
    exit_code = ExitCode.CONNECT


class ConnectionLost(RtcError):
    exit_code = ExitCode.LOST

    def __init__(self, message: str, code: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
