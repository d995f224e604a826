"""Where a key comes from, and getting it: a flag, an environment variable, a profile's
``key_env``, ``key_command`` (a password manager, say) or, if the user insists, ``api_key``.

A key never appears in a message. A failing ``key_command`` is reported with the profile and
its exit status only: its output is not shown, since it may hold the key.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from realtime_cli.errors import ConnectError, UsageError

Warn = Callable[[str], None]
# What an HTTP header value cannot carry: a key holding one (a CRLF .env file leaves a "\r")
# would break the handshake, or split it.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class KeySource:
    """One place a key may come from.

    ``how`` is ``flag`` (``--api-key``), ``env`` (an environment variable rtc knows), ``key_env``
    (a profile's variable), ``command`` (a profile's ``key_command``) or ``plain`` (a profile's
    ``api_key``). ``bearer`` says how it is sent: ``Authorization: Bearer`` or ``api-key``.
    """

    how: str
    name: str  # the flag, the variable, or the profile's name
    # The key itself (a key_env's variable name): never in the repr. Nor is the command, which
    # some write with the key in it ("echo sk-...").
    value: str | None = field(default=None, repr=False)
    command: str | tuple[str, ...] | None = field(default=None, repr=False)
    timeout: float = 30.0
    config_path: Path | None = None
    bearer: bool = True

    @property
    def description(self) -> str:
        if self.how == "flag":
            return self.name
        if self.how == "env":
            return f"env {self.name}"
        if self.how == "key_env":
            return f"env {self.value_name} (key_env of profile {self.name!r})"
        if self.how == "command":
            return f"key_command of profile {self.name!r}: {command_text(self.command)}"
        return f"api_key of profile {self.name!r} (plain text in {self.config_path})"

    @property
    def label(self) -> str:
        """Where the key comes from, for a message about the key (no command: it may hold it)."""
        if self.how == "command":
            return f"the output of key_command of profile {self.name!r}"
        if self.how == "plain":
            return f"api_key of profile {self.name!r}"
        return self.description

    def checked(self, key: str) -> str:
        """``key`` if a header can carry it; a control character in it (a stray carriage return
        from a CRLF .env file) is a usage error naming the source, never the key."""
        bad = _CONTROL.search(key)
        if bad:
            hint = " (a CRLF .env file?)" if bad.group() == "\r" else ""
            raise UsageError(
                f"{self.label}: the API key contains {control_name(bad.group())}{hint}: remove it"
            )
        return key

    @property
    def value_name(self) -> str:
        """The variable a ``key_env`` source names."""
        return self.value or ""

    def get(self, environ: Mapping[str, str], warn: Warn) -> str:
        """The key. Runs ``key_command`` if that is the source; a failure is a ``ConnectError``,
        a key with a control character a ``UsageError``."""
        return self.checked(self._get(environ, warn))

    def _get(self, environ: Mapping[str, str], warn: Warn) -> str:
        if self.how == "key_env":
            key = environ.get(self.value_name, "")
            if not key:
                raise ConnectError(
                    f"profile {self.name!r}: key_env {self.value_name} is not set "
                    f"(export {self.value_name}=... or pass --api-key)"
                )
            return key
        if self.how == "command":
            assert self.command is not None
            return run_key_command(self.command, self.timeout, self.name)
        if self.how == "plain" and self.config_path is not None:
            warn_if_readable(self.config_path, warn)
        return self.value or ""


def control_name(char: str) -> str:
    """A control character, named for a message."""
    names = {"\r": "a carriage return", "\n": "a line break", "\t": "a tab", "\x00": "a NUL byte"}
    return names.get(char, f"a control character (U+{ord(char):04X})")


def command_text(command: str | tuple[str, ...] | None) -> str:
    if command is None:
        return ""
    return command if isinstance(command, str) else " ".join(command)


def run_key_command(command: str | tuple[str, ...], timeout: float, profile: str) -> str:
    """Run a profile's ``key_command`` (a list: no shell; a string: through the shell) and return
    the first non-empty line of its stdout. stdin is not passed on (rtc pipe reads it); stderr is
    not shown."""
    shown = command_text(command).split()[0] if command_text(command).split() else "?"
    where = f"profile {profile!r}: key_command {shown!r}"
    try:
        done = subprocess.run(
            command if isinstance(command, str) else list(command),
            shell=isinstance(command, str),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConnectError(f"{where} timed out after {timeout:g}s") from None
    except OSError as exc:
        raise ConnectError(f"{where} cannot run: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise ConnectError(
            f"{where} failed with exit status {done.returncode} "
            "(its output is not shown; run it yourself to see why)"
        )
    text = done.stdout.decode("utf-8", "replace")
    key = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not key:
        raise ConnectError(f"{where} printed nothing on stdout")
    return key


def warn_if_readable(path: Path, warn: Warn) -> None:
    """One warning line when a file holding a plain-text key is readable by group or others."""
    if os.name != "posix":
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warn(
            f"rtc: warning: {path} holds an API key in plain text and is readable by others "
            f"(chmod 600 {path}, or use key_env/key_command)"
        )
