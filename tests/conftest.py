"""Shared fixtures: a clean environment, and the local Realtime server on port 0 (no network)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The console harness's fixtures (``console``, ``console_factory``), for every test module.
from console_harness import console, console_factory  # noqa: F401

from realtime_cli.server.app import running

_ENV_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_VERSION",
    "RTC_URL",
    "RTC_MODEL",
    "RTC_API_KEY",
    "RTC_PROFILE",
)


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, endpoint or user config leaks in from the machine running the tests."""
    for name in list(os.environ):
        # Proxies too: the tests' sockets on 127.0.0.1 must not go through the machine's proxy.
        proxy = name.lower().endswith("_proxy")
        if name in _ENV_VARS or name.startswith("AZURE_OPENAI_") or proxy:
            monkeypatch.delenv(name, raising=False)
    for name, sub in (
        ("RTC_CONFIG_DIR", "rtc-config"),
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("XDG_STATE_HOME", "xdg-state"),
    ):
        path = tmp_path / sub
        path.mkdir()
        monkeypatch.setenv(name, str(path))


class ThreadServer:
    """``running()`` in a thread with its own event loop, for code that calls ``asyncio.run``."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.url = ""
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="local-realtime-server")

    def start(self) -> str:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the local server did not start within 10 s")
        if self._error is not None:
            raise self._error
        return self.url

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the local server did not stop within 10 s"
        if self._error is not None:
            raise self._error

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with running(**self.options) as server:
                self.url = server.url
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # reported by start()/stop() in the test's thread
            self._error = exc
        finally:
            self._ready.set()


@pytest.fixture
def local_server() -> Iterator[Callable[..., str]]:
    """A factory: ``local_server(token_delay_ms=50, api_key="sk-...")`` → the server's URL."""
    servers: list[ThreadServer] = []

    def start(token_delay_ms: float = 1, api_key: str | None = None) -> str:
        server = ThreadServer(token_delay_ms=token_delay_ms, api_key=api_key)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server_url(local_server: Callable[..., str]) -> str:
    """The URL of a fast local server (1 ms between tokens), e.g. ``ws://127.0.0.1:PORT/v1/realtime``."""
    return local_server(token_delay_ms=1)
