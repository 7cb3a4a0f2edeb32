"""Retries: only before the first token, exponential backoff with jitter, the server's own
delay honoured (RetryInfo or Retry-After), bounded by `retries`, interrupted by a cancel, and
said in progress."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx2

from gemini_lsp.emulator import Emulator, ErrorSpec, Reply
from gemini_lsp.gemini.backend import MAX_RETRY_WAIT, retry_delay, server_retry_delay
from tests.reliability.harness import REQUEST_FAILED, generate_args, session, wait_for


def test_backoff_is_exponential_with_jitter() -> None:
    error = httpx2.ConnectError("refused")
    for attempt in range(5):
        base = 0.5 * 2**attempt
        delays = [retry_delay(error, attempt) for _ in range(200)]
        assert all(d is not None and base / 2 <= d <= base for d in delays)
        assert len(set(delays)) > 100  # jittered, so clients do not retry in lockstep
    assert retry_delay(ValueError("not retryable"), 0) is None


def test_server_delay_wins_unless_too_long() -> None:
    class Response:
        headers = {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}  # in the past

    class Overloaded(Exception):
        code = 503
        details = {"error": {"details": [{"@type": "x/google.rpc.RetryInfo", "retryDelay": "3s"}]}}
        response = Response()

    assert server_retry_delay(Overloaded()) == 3.0
    assert retry_delay(Overloaded(), 7) == 3.0
    Overloaded.details = {}
    assert server_retry_delay(Overloaded()) == 0.0  # an HTTP date already past
    Response.headers = {"retry-after": f"{MAX_RETRY_WAIT + 1:g}"}
    assert retry_delay(Overloaded(), 0) is None  # fail now, saying how long to wait


async def test_retries(tmp_path: Path, emulator: Emulator) -> None:
    busy = ErrorSpec(code=503, message="busy")
    emulator.script(
        # 1. Backoff without a hint, then success.
        Reply(error=busy),
        Reply(error=busy),
        Reply(["backoff = True\n"]),
        # 2. Bounded by `retries`: three failures are the end.
        *[Reply(error=ErrorSpec(code=503, message="busy", retry_delay="0.1s"))] * 3,
        # 3. Retry-After honoured.
        Reply(error=ErrorSpec(code=429, message="slow down", retry_after=1)),
        Reply(["after = True\n"]),
        # 4. A wait that a cancel interrupts.
        Reply(error=ErrorSpec(code=503, message="busy", retry_delay="20s")),
        # 5. Longer than anyone should wait silently: failed at once.
        Reply(error=ErrorSpec(code=429, message="quota", retry_delay="120s")),
        # 6. Never after the first token.
        Reply(["first = 1\n", "second = 2\n"], disconnect_after=1),
    )
    async with session(tmp_path, emulator, retries=2) as s:
        doc = s.open("retry.py", "\n")
        result = await s.execute("gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        first, second, third = (r.received_at for r in emulator.requests[:3])
        assert 0.25 <= second - first <= 1.5
        assert 0.5 <= third - second <= 2.5
        retrying = [m for ms in s.progress_messages() for m in ms if "retrying in" in m]
        assert len(retrying) == 2 and retrying[0].startswith("HTTP 503: retrying in")

        error = await s.fails("gemini.generate", generate_args(doc, 0))
        assert error.code == REQUEST_FAILED and "503" in error.message
        assert len(emulator.requests) == 6

        result = await s.execute("gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        assert emulator.requests[7].received_at - emulator.requests[6].received_at >= 1.0
        assert any("retrying in 1.0 s" in m for ms in s.progress_messages() for m in ms)

        task = asyncio.ensure_future(s.execute("gemini.generate", generate_args(doc, 0)))
        await wait_for(lambda: any("retrying in 20.0 s" in m for m in s.progress_messages()[-1]))
        asked = asyncio.get_running_loop().time()
        assert (await s.execute("gemini.cancel", {}))["cancelled"] == ["g4"]
        assert (await task)["status"] == "cancelled"
        assert asyncio.get_running_loop().time() - asked < 2
        await asyncio.sleep(0.3)
        assert len(emulator.requests) == 9  # no retry after the cancel

        error = await s.fails("gemini.generate", generate_args(doc, 0))
        assert "retry in 120 s" in error.message and len(emulator.requests) == 10

        error = await s.fails("gemini.generate", generate_args(doc, 0))
        assert "broke mid-stream" in error.message and len(emulator.requests) == 11
