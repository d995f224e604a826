"""``rtc create -c``: the conversation of the previous ``rtc create`` runs, kept in the state
directory (``$XDG_STATE_HOME/rtc/last_exchange.json``, default ``~/.local/state/rtc``), so the
next run can re-create it as items before its own prompt, like ``llm -c``.

Only the text of user and assistant messages is kept (no audio, no ids: a new session gives
new ids), the newest ``KEEP`` of them, in a file readable by its owner alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from realtime_cli.errors import UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.fields import obj, seq, text

KEEP = 40  # messages: the context of a chat, not a transcript archive
_ROLES = ("user", "assistant")


def state_file(environ: Mapping[str, str]) -> Path:
    state = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "rtc" / "last_exchange.json"


def load(path: Path) -> list[JSON]:
    """The kept messages, ``{"role", "text"}`` each; none when nothing was kept yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"-c: cannot read {path} ({exc}); delete it to start afresh") from None
    kept = [obj(m) for m in seq(obj(data).get("messages"))]
    return [
        {"role": text(m.get("role")), "text": text(m.get("text"))}
        for m in kept
        if text(m.get("role")) in _ROLES
    ]


def save(path: Path, messages: Sequence[JSON]) -> None:
    """Write the messages (the newest ``KEEP``) for the next ``-c``; never fails the run."""
    body = json.dumps({"messages": list(messages)[-KEEP:]}, ensure_ascii=False, indent=1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(body)
        os.replace(path.with_suffix(".tmp"), path)
    except OSError:
        pass  # a read-only home must not turn a good answer into a failure


def item_events(messages: Sequence[JSON]) -> list[JSON]:
    """``conversation.item.create`` for each kept message, in order."""
    created = []
    for message in messages:
        if message["role"] == "user":
            created.append(events.item_create(events.user_message(message["text"])))
        else:
            content = [{"type": "output_text", "text": message["text"]}]
            item = {"type": "message", "role": "assistant", "content": content}
            created.append(events.item_create(item))
    return created
