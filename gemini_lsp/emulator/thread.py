"""EmulatorThread: an Emulator on its own event loop, for synchronous callers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from gemini_lsp.emulator.record import RecordedRequest
from gemini_lsp.emulator.scenario import Reply
from gemini_lsp.emulator.server import (
    DEFAULT_CHARS_PER_SECOND,
    DEFAULT_FIRST_TOKEN_MS,
    DEFAULT_MODEL_VERSION,
    Emulator,
)

T = TypeVar("T")


class EmulatorThread:
    """Runs an Emulator in a daemon thread (CLI demos, editor tests, sync code).

    `emulator.requests` may be read from any thread; the wait helpers here
    block the calling thread.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        replies: Iterable[Reply] = (),
        first_token_ms: float | None = DEFAULT_FIRST_TOKEN_MS,
        chars_per_second: float | None = DEFAULT_CHARS_PER_SECOND,
        *,
        model_version: str = DEFAULT_MODEL_VERSION,
    ) -> None:
        self.emulator = Emulator(
            host,
            port,
            api_key,
            replies,
            first_token_ms,
            chars_per_second,
            model_version=model_version,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> str:
        """Starts the emulator; returns its base URL once it is listening."""
        if self._thread is not None:
            raise RuntimeError("already started")
        started: Future[str] = Future()
        self._thread = threading.Thread(
            target=self._main, args=(started,), name="gemini-lsp-emulator", daemon=True
        )
        self._thread.start()
        return started.result(timeout)

    def _main(self, started: Future[str]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            base_url = loop.run_until_complete(self.emulator.start())
        except BaseException as exc:
            started.set_exception(exc)
            loop.close()
            return
        self._loop = loop
        started.set_result(base_url)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the emulator thread is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the emulator (closing open streams) and its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._call(self.emulator.stop(), timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._loop = self._thread = None

    @property
    def base_url(self) -> str:
        return self.emulator.base_url

    def script(self, *replies: Reply) -> None:
        """Queues replies; safe from any thread."""
        self.emulator.script(*replies)

    def release(self, request: RecordedRequest) -> None:
        """Lets a held answer go on (see `Reply.hold_after`); safe from any thread."""
        if self._loop is None:
            raise RuntimeError("the emulator thread is not running")
        self._loop.call_soon_threadsafe(request.release)

    def wait_for_request(self, n: int = 1, timeout: float = 5.0) -> RecordedRequest:
        return self._call(self.emulator.wait_for_request(n, timeout), timeout + 1)

    def wait_for_disconnect(self, request: RecordedRequest, timeout: float = 5.0) -> float:
        return self._call(self.emulator.wait_for_disconnect(request, timeout), timeout + 1)

    def __enter__(self) -> EmulatorThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
