"""The console reconnects by itself after a recoverable close, and picks up where the user was.

Recoverable: 1001 going away, 1005 no status, 1006 dropped (no close frame, or a keepalive that
went unanswered), 1011 server error, 1012 service restart, 1013 try again later. Tries come with
exponential backoff and jitter (so many consoles do not stampede a restarting server), up to
``ATTEMPTS``; the toolbar shows each attempt and Ctrl-C stops trying. Never after a fatal answer:
close 3000/4000, or an ``error`` saying the key or the account is the problem (retrying cannot
fix those). ``session_expired`` is reported with the offer to type ``reconnect``.

The new server session knows nothing of the old one: after any reconnect rtc sends again the
session settings the user changed (the profile's defaults are sent by ``open_session`` itself),
says that the conversation starts afresh, and offers ``replay-items``, which re-creates the
earlier user and assistant text messages, in order, as ``conversation.item.create``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from realtime_cli.console.shell import Shell
from realtime_cli.errors import ConnectionLost, RtcError, UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.events import JSON, Client
from realtime_cli.protocol.fields import obj, seq, text
from realtime_cli.protocol.tracker import Tracker
from realtime_cli.session.client import Session

RECOVERABLE = frozenset({1001, 1005, 1006, 1011, 1012, 1013})
FATAL_CODES = frozenset({3000, 4000})
FATAL_ERRORS = frozenset({"invalid_api_key", "insufficient_quota", "account_deactivated"})
ATTEMPTS = 6
BASE_DELAY = 0.5  # seconds before the first try; doubled each time, up to MAX_DELAY
MAX_DELAY = 8.0
SETTINGS_EVENT_ID = "rtc_session_again"


def recoverable(lost: ConnectionLost, tracker: Tracker) -> bool:
    """Whether a close is worth retrying on its own (see the module's docstring)."""
    code = 1006 if lost.code is None else lost.code
    last = tracker.errors[-1].code if tracker.errors else None
    if last in FATAL_ERRORS or last == "session_expired":
        return False
    return code in RECOVERABLE


def fatal_connect(error: RtcError) -> bool:
    """A failed try that no later try can fix (the key or the account)."""
    message = error.message
    return any(code in message for code in FATAL_ERRORS) or any(
        f"close {code}" in message for code in FATAL_CODES
    )


def delay(attempt: int, base: float = BASE_DELAY) -> float:
    """Seconds before try ``attempt`` (1-based): exponential, capped, with +-20 % jitter."""
    jitter: float = random.uniform(0.8, 1.2)
    return min(MAX_DELAY, base * 2.0 ** (attempt - 1)) * jitter


def text_items(tracker: Tracker) -> list[tuple[str, str]]:
    """(role, text) of the user and assistant messages, in conversation order."""
    found = []
    for item in tracker.items.values():
        role = item.get("role")
        if item.get("type") != "message" or role not in ("user", "assistant"):
            continue
        parts = [obj(part) for part in seq(item.get("content"))]
        said = "".join(text(p.get("text")) or text(p.get("transcript")) for p in parts)
        if said:
            found.append((str(role), said))
    return found


def replay_events(items: list[tuple[str, str]]) -> list[JSON]:
    """The ``conversation.item.create`` events that re-create ``items``, in order."""
    created = []
    for role, said in items:
        kind = "input_text" if role == "user" else "output_text"
        item = {"type": "message", "role": role, "content": [{"type": kind, "text": said}]}
        created.append(events.item_create(item))
    return created


def remember(shell: Shell) -> None:
    """Before leaving a session: keep its text messages for ``replay-items``."""
    if shell.session is not None:
        items = text_items(shell.session.tracker)
        if items:
            shell.earlier_items = items


async def after_reconnect(shell: Shell, session: Session) -> None:
    """Tell the user where they are, and send their session settings again."""
    earlier = len(shell.earlier_items)
    offer = f" · type replay-items to re-create the {earlier} earlier messages" if earlier else ""
    shell.say(
        "a new session: the conversation starts afresh (the server knows nothing of the old "
        f"one){offer}",
        "bold",
    )
    if shell.session_changes:
        event = {
            "type": Client.session_update,
            "session": shell.session_changes,
            "event_id": SETTINGS_EVENT_ID,
        }
        await session.send(event)
        shell.say("sent your session settings again")


async def replay_items(shell: Shell, args: list[str], line: str) -> None:
    """``replay-items``: re-create the earlier session's text messages in this one."""
    if args:
        raise UsageError("replay-items takes no arguments")
    if not shell.earlier_items:
        raise UsageError("no earlier messages to replay (only after a reconnect)")
    created = replay_events(shell.earlier_items)
    for event in created:
        await shell.send(event, line)
    shell.say(f"re-created {len(created)} messages")
    shell.earlier_items = []


async def keep_trying(
    shell: Shell, lost: ConnectionLost, start_receiver: Callable[[Session], None]
) -> None:
    """Reconnect with backoff until it works, the limit is reached or a try is fatal. Cancelled
    by Ctrl-C (the console says so) or by a typed ``reconnect``."""
    try:
        await _tries(shell, start_receiver)
    except ConnectionLost:
        pass  # lost again while sending the settings: the new receive loop says so
    finally:
        if shell.state.startswith("reconnecting"):  # cancelled (Ctrl-C, reconnect, quit)
            shell.state = "disconnected"
            shell.generation += 1


async def _tries(shell: Shell, start_receiver: Callable[[Session], None]) -> None:
    base = shell.reconnect_base
    for attempt in range(1, ATTEMPTS + 1):
        wait = delay(attempt, base)
        shell.state = f"reconnecting {attempt}/{ATTEMPTS}"
        shell.generation += 1
        shell.changed = True
        shell.say(f"reconnecting in {wait:.1f}s (try {attempt} of {ATTEMPTS}; Ctrl-C stops)")
        await asyncio.sleep(wait)
        await shell.disconnect()
        try:
            session = await shell.connect()
        except RtcError as exc:
            shell.say(f"reconnect failed: {exc.message}", "red")
            if fatal_connect(exc):
                break
            continue
        start_receiver(session)
        await after_reconnect(shell, session)
        return
    shell.state = "disconnected"
    shell.generation += 1
    shell.say("gave up reconnecting · type reconnect to try again", "bold red")
