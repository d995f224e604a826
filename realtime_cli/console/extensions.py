"""What the shell asks of the parts that extend it (voice, the tool loop): protocols, so the shell
imports none of them and each lives in a module of its own."""

from __future__ import annotations

from typing import Protocol

from realtime_cli.session.client import Received, Session


class BargeIn(Protocol):
    """What the shell needs of the voice (console/voice.py): stop playback for a new turn."""

    def barge_in(self, why: str) -> bool: ...


class Extension(Protocol):
    """Something the shell tells of each connection, server event and typed line (the tool
    loop, ``tool_calls.py``), so it lives in a module of its own, not in the shell."""

    def connected(self, session: Session) -> None: ...

    def received(self, received: Received) -> None: ...

    async def disconnected(self) -> None: ...

    async def intercept(self, line: str) -> bool:
        """True when the line was an answer to the extension's question (consumed)."""
        ...

    def busy(self) -> bool:
        """Work Ctrl-C stops (``interrupt``)."""
        ...

    async def interrupt(self) -> None: ...
