"""The official ``openai`` package as the oracle for what a server sends.

``assert_conforms(event)`` validates a raw server event (the dict decoded from the frame) against
``openai.types.realtime.RealtimeServerEvent`` in pydantic's strict mode, then walks the validated
model tree: openai models accept unknown fields (they land in ``model_extra``), so any extra
anywhere is a failure. The one exception is the session object's ``id``, ``object`` and
``expires_at``: the live service sends them in ``session.created``/``session.updated``
(protocol.md §2.2, §3.1) but the SDK's ``RealtimeSessionCreateRequest`` does not declare them.

``RealtimeClient`` drives a server with ``OpenAI(...).realtime.connect()`` and checks every
event it receives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from openai import AzureOpenAI, OpenAI
from openai.types.realtime import RealtimeServerEvent
from pydantic import BaseModel, TypeAdapter

from realtime_cli.protocol.events import Server, item_create, response_create, user_message

TIMEOUT_S = 5.0
_ADAPTER: TypeAdapter[Any] = TypeAdapter(RealtimeServerEvent)
# Fields the live service sends that the SDK's models do not declare, by position in the tree.
LIVE_EXTRAS = {"session": {"id", "object", "expires_at"}}


def _extras(value: Any, path: str) -> list[str]:
    found: list[str] = []
    if isinstance(value, BaseModel):
        allowed = LIVE_EXTRAS.get(path, set())
        found += [f"{path}.{k}" for k in (value.model_extra or {}) if k not in allowed]
        for name in type(value).model_fields:
            found += _extras(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _extras(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _extras(item, f"{path}.{key}")
    return found


def assert_conforms(event: dict[str, Any]) -> BaseModel:
    """Validate one server event strictly; return the parsed model."""
    model = _ADAPTER.validate_python(event, strict=True)
    assert isinstance(model, BaseModel)
    unknown = _extras(model, "")
    assert not unknown, f"{event['type']}: fields the SDK does not declare: {unknown}"
    assert isinstance(event.get("event_id"), str) and event["event_id"].startswith("event_")
    return model


class RealtimeClient:
    """A connection through the official SDK that checks every event it receives."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.received: list[dict[str, Any]] = []

    def send(self, event: dict[str, Any]) -> None:
        self.connection.send(event)

    def send_raw(self, data: str | bytes) -> None:
        self.connection.send_raw(data)

    def recv(self, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        # What recv_bytes() does, with a timeout so a missing event fails instead of hanging.
        raw = self.connection._connection.recv(timeout=timeout, decode=False)
        event: dict[str, Any] = json.loads(raw)
        assert_conforms(event)
        self.received.append(event)
        return event

    def until(self, type_: str, timeout: float = TIMEOUT_S) -> list[dict[str, Any]]:
        """Events up to and including the first of ``type_``."""
        events = [self.recv(timeout)]
        while events[-1]["type"] != type_:
            events.append(self.recv(timeout))
        return events

    def turn(self) -> list[dict[str, Any]]:
        """Every event of one response, through the ``rate_limits.updated`` after it."""
        return self.until(Server.rate_limits_updated)

    def expect(self, type_: str) -> dict[str, Any]:
        event = self.recv()
        assert event["type"] == type_, event
        return event

    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.expect("error")["error"]
        return error

    def quiet(self, seconds: float = 0.1) -> bool:
        """True when nothing arrives for ``seconds``."""
        try:
            event = self.recv(timeout=seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected event: {event}")


TEXT_ONLY: dict[str, Any] = {"output_modalities": ["text"]}


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def say(c: RealtimeClient, text: str) -> dict[str, Any]:
    """Add a user message; returns its ``conversation.item.done`` item."""
    c.send(item_create(user_message(text)))
    added, done = c.recv(), c.recv()
    assert types([added, done]) == [Server.conversation_item_added, Server.conversation_item_done]
    item: dict[str, Any] = done["item"]
    return item


def reply(c: RealtimeClient, **response: Any) -> list[dict[str, Any]]:
    """Send ``response.create`` and return every event of that turn."""
    c.send(response_create(response))
    return c.turn()


def done_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The response object of the one ``response.done`` among ``events``."""
    (done,) = [e for e in events if e["type"] == Server.response_done]
    response: dict[str, Any] = done["response"]
    return response


def deltas(
    events: list[dict[str, Any]], type_: str = Server.response_output_text_delta
) -> list[str]:
    return [e["delta"] for e in events if e["type"] == type_]


def base_url(url: str) -> str:
    """``ws://h:p/v1/realtime`` → ``ws://h:p/v1`` (the SDK appends ``/realtime``)."""
    return url.removesuffix("/realtime")


# openai 3.54.0 calls websockets.sync.client.connect() without a with-block, which websockets
# 17.1+ answers with a DeprecationWarning at the first recv(); legacy=True is its documented
# opt-out for exactly that call style.
_SYNC_OPTIONS: Any = {"legacy": True}


@contextmanager
def connect(url: str, model: str = "gpt-realtime", **kwargs: Any) -> Iterator[RealtimeClient]:
    client = OpenAI(api_key=kwargs.pop("api_key", "sk-test"), websocket_base_url=base_url(url))
    options = {**_SYNC_OPTIONS, **kwargs.pop("websocket_connection_options", {})}
    with client.realtime.connect(
        model=model, websocket_connection_options=options, **kwargs
    ) as connection:
        yield RealtimeClient(connection)


@contextmanager
def connect_azure(url: str, deployment: str, api_key: str = "az-key") -> Iterator[RealtimeClient]:
    root = url.removesuffix("/v1/realtime")
    client = AzureOpenAI(
        api_key=api_key,
        api_version="2025-04-01-preview",
        # The endpoint is required but unused: websocket_base_url replaces "<endpoint>/openai".
        azure_endpoint=root.replace("ws://", "http://", 1),
        websocket_base_url=root + "/openai",
    )
    with client.realtime.connect(
        model=deployment, websocket_connection_options=_SYNC_OPTIONS
    ) as connection:
        yield RealtimeClient(connection)
