"""Past one machine: a Locust user that runs ``rtc bench``'s turn with rtc's client.

Locust (``pip install 'realtime-cli[load]'``) spreads users over ``locust --master`` and
``--worker`` processes on many machines; each ``RealtimeUser`` holds one real Realtime session
and reports every turn to Locust's statistics as three requests of type ``realtime``:
``first delta`` and ``done`` (milliseconds from the ``response.create``), and ``turn`` failures
by reason (an ``error`` event's code, a lost connection). A locustfile subclasses it::

    from realtime_cli.tools.locust_user import RealtimeUser

    class Voice(RealtimeUser):
        host = "ws://127.0.0.1:8765/v1/realtime"   # or --host; the key from OPENAI_API_KEY
        prompt = "Say hello"

Locust runs users as gevent greenlets; rtc's client is asyncio, and asyncio allows one running
loop per OS thread. So one loop serves every user of a worker process, run forever by its own
greenlet (gevent's patched ``selectors`` make its wait for sockets yield to the users); a user
hands its turn to that loop and waits on a gevent ``AsyncResult``, which yields too. This
module is the only one that imports locust (and gevent); no rtc command imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any, ClassVar

import gevent  # type: ignore[import-untyped,import-not-found,unused-ignore]
from gevent.event import AsyncResult  # type: ignore[import-untyped,import-not-found,unused-ignore]
from locust import User, task  # type: ignore[import-not-found,unused-ignore]

from realtime_cli.endpoint.select import select_endpoint
from realtime_cli.errors import RtcError
from realtime_cli.protocol import events
from realtime_cli.session.client import Session, open_session

REQUEST_TYPE = "realtime"


_loop: asyncio.AbstractEventLoop | None = None


def shared_loop() -> asyncio.AbstractEventLoop:
    """The worker's one asyncio loop, started (in its own greenlet) on first use."""
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
        gevent.spawn(_loop.run_forever)
    return _loop


def run(coroutine: Any) -> Any:
    """Run ``coroutine`` on the shared loop; this greenlet waits, the others go on."""
    result = AsyncResult()

    def done(future: Any) -> None:
        error = future.exception()
        if error is not None:
            result.set_exception(error)
        else:
            result.set(future.result())

    asyncio.run_coroutine_threadsafe(coroutine, shared_loop()).add_done_callback(done)
    return result.get()


class TurnFailed(Exception):
    """A turn that did not end in a completed response; the message is the reason."""


class RealtimeUser(User):  # type: ignore[misc,unused-ignore]
    """One Realtime session per simulated user; each task is one turn."""

    abstract = True
    prompt: ClassVar[str] = "Say hello"
    model: ClassVar[str | None] = None
    modalities: ClassVar[tuple[str, ...]] = ("text",)
    turn_timeout: ClassVar[float] = 120.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stack = contextlib.AsyncExitStack()
        self._session: Session | None = None

    def _run(self, coroutine: Any) -> Any:
        return run(coroutine)

    def _fire(
        self, name: str, started: float, ms: float, length: int, exc: Exception | None
    ) -> None:
        self.environment.events.request.fire(
            request_type=REQUEST_TYPE,
            name=name,
            response_time=ms,
            response_length=length,
            exception=exc,
            context={},
            start_time=started,
            url=self.host,
        )

    def on_start(self) -> None:
        self._connect()

    def _connect(self) -> None:
        """Open the session (again, after a lost one), reported as a ``connect`` request."""
        self._stack = contextlib.AsyncExitStack()
        started = time.time()
        began = time.monotonic()
        try:
            endpoint = select_endpoint(
                url=self.host, api_key=None, model=self.model, local=False, environ=os.environ
            )
            self._session = self._run(self._stack.enter_async_context(open_session(endpoint)))
        except RtcError as exc:
            self._session = None
            self._fire("connect", started, (time.monotonic() - began) * 1000, 0, exc)
            return
        self._fire("connect", started, (time.monotonic() - began) * 1000, 0, None)

    def on_stop(self) -> None:
        self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self._stack.aclose())
        self._session = None

    @task
    def turn(self) -> None:
        if self._session is None:
            self._connect()
            if self._session is None:
                return
        started = time.time()
        try:
            first, done, tokens = self._run(self._turn(self._session))
        except (RtcError, TurnFailed, TimeoutError) as exc:
            self._fire("turn", started, 0, 0, exc)
            if isinstance(exc, RtcError):  # the session is gone: a new one next turn
                self._close()
            return
        self._fire("first delta", started, first, 0, None)
        self._fire("done", started, done, tokens, None)

    async def _turn(self, session: Session) -> tuple[float, float, int]:
        await session.send(events.item_create(events.user_message(self.prompt)))
        body = {"output_modalities": list(self.modalities)}
        request = str((await session.send(events.response_create(body, None)))["event_id"])
        async with asyncio.timeout(self.turn_timeout):
            while True:
                received = await session.receive()
                error = received.update.error
                if error is not None and error.event_id == request:
                    raise TurnFailed(error.code or "error")
                response = received.update.response
                if received.update.finished and response and response.request_event_id == request:
                    break
        session.tracker.responses.pop(response.id, None)
        session.tracker.items.clear()
        if response.status != "completed":
            raise TurnFailed(f"{response.status} ({response.reason or 'no reason'})")
        start = response.t_request if response.t_request is not None else response.t_created
        first = (response.t_first_delta or response.t_done or start) - start
        assert response.t_done is not None
        return first * 1000, (response.t_done - start) * 1000, response.output_tokens
