"""Retries: only before the first token, exponential backoff with jitter, the server's own
delay honoured (RetryInfo or Retry-After), bounded by `retries`, interrupted by a cancel, and
said in progress."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx2

from gemini_lsp.emulator import Emulator, ErrorSpec, Reply
from gemini_lsp.gemini.retries import MAX_RETRY_WAIT, retry_delay, server_retry_delay
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


BUSY = ErrorSpec(code=503, message="busy")


async def test_backoff_without_a_hint_then_success(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(error=BUSY), Reply(error=BUSY), Reply(["backoff = True\n"]))
    async with session(tmp_path, emulator, retries=2) as s:
        doc = s.open("retry.py", "\n")
        result = await s.execute("gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        first, second, third = sorted(r.received_at for r in emulator.requests)
        assert 0.25 <= second - first <= 1.5
        assert 0.5 <= third - second <= 2.5
        retrying = [m for ms in s.progress_messages() for m in ms if "retrying in" in m]
        assert len(retrying) == 2 and retrying[0].startswith("HTTP 503: retrying in")


async def test_retries_are_bounded(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(*[Reply(error=ErrorSpec(code=503, message="busy", retry_delay="0.1s"))] * 3)
    async with session(tmp_path, emulator, retries=2) as s:
        doc = s.open("retry.py", "\n")
        error = await s.fails("gemini.generate", generate_args(doc, 0))
        assert error.code == REQUEST_FAILED and "503" in error.message
        assert len(emulator.requests) == 3  # the first try and two retries


async def test_retry_after_is_honoured(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(
        Reply(error=ErrorSpec(code=429, message="slow down", retry_after=1)),
        Reply(["after = True\n"]),
    )
    async with session(tmp_path, emulator, retries=2) as s:
        doc = s.open("retry.py", "\n")
        result = await s.execute("gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        refused, retried = sorted(r.received_at for r in emulator.requests)
        assert retried - refused >= 1.0
        assert any("retrying in 1.0 s" in m for ms in s.progress_messages() for m in ms)


async def test_a_cancel_interrupts_the_wait(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(error=ErrorSpec(code=503, message="busy", retry_delay="20s")))
    async with session(tmp_path, emulator, retries=2) as s:
        doc = s.open("retry.py", "\n")
        task = asyncio.ensure_future(s.execute("gemini.generate", generate_args(doc, 0)))
        await wait_for(
            lambda: any("retrying in 20.0 s" in m for ms in s.progress_messages() for m in ms)
        )
        asked = asyncio.get_running_loop().time()
        assert (await s.execute("gemini.cancel", {}))["cancelled"] == ["g1"]
        assert (await task)["status"] == "cancelled"
        assert asyncio.get_running_loop().time() - asked < 2
        # No retry after the cancel: nothing is left running to make one (a retry would
        # wait 20 s, which no short wait could show).
        assert (await s.stats())["running"] == 0
        assert len(emulator.requests) == 1


async def test_a_wait_too_long_fails_at_once(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(error=ErrorSpec(code=429, message="quota", retry_delay="120s")))
    async with session(tmp_path, emulator, retries=2) as s:
        doc = s.open("retry.py", "\n")
        error = await s.fails("gemini.generate", generate_args(doc, 0))
        assert "retry in 120 s" in error.message and len(emulator.requests) == 1


async def test_never_a_retry_after_the_first_token(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["first = 1\n", "second = 2\n"], disconnect_after=1))
    async with session(tmp_path, emulator, retries=2) as s:
        doc = s.open("retry.py", "\n")
        error = await s.fails("gemini.generate", generate_args(doc, 0))
        assert "broke mid-stream" in error.message and len(emulator.requests) == 1
