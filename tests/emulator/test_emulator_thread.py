"""EmulatorThread: the emulator for synchronous callers, with the SDK's sync client."""

from __future__ import annotations

import threading

import httpx2
import pytest
from google import genai
from google.genai import types

from gemini_lsp.emulator import EmulatorThread, Reply

from .conftest import MODEL


def test_a_sync_client_streams_from_an_emulator_thread() -> None:
    with EmulatorThread(api_key="k", first_token_ms=0, chars_per_second=0) as emulator:
        assert emulator.base_url.startswith("http://127.0.0.1:")
        client = genai.Client(
            api_key="k", http_options=types.HttpOptions(base_url=emulator.base_url)
        )
        # Scripting from another thread is safe.
        scripter = threading.Thread(target=emulator.script, args=(Reply(["sync ", "stream"]),))
        scripter.start()
        scripter.join()
        texts = [r.text for r in client.models.generate_content_stream(model=MODEL, contents="hi")]
        assert texts == ["sync ", "stream"]
        record = emulator.wait_for_request(1, timeout=5)
        assert record.model == MODEL
        assert record.outcome == "completed"
        client.close()


def test_stop_ends_an_open_stream_and_the_thread() -> None:
    emulator = EmulatorThread(first_token_ms=0, chars_per_second=0)
    base_url = emulator.start()
    emulator.script(Reply(["a", "b"], stall_after=1))
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=base_url))
    stream = client.models.generate_content_stream(model=MODEL, contents="hi")
    assert next(stream).text == "a"
    thread = emulator._thread
    emulator.stop()
    with pytest.raises(httpx2.RemoteProtocolError):
        next(stream)
    assert thread is not None
    assert not thread.is_alive()
    (record,) = emulator.emulator.requests
    assert record.outcome == "aborted"
    client.close()


def test_a_port_in_use_fails_start() -> None:
    with EmulatorThread() as first:
        second = EmulatorThread(port=first.emulator.port)
        with pytest.raises(OSError, match="in use"):
            second.start()


@pytest.mark.parametrize("hold_after", [0, 1, 2, 5])
def test_a_held_stream_stays_open_until_released_then_goes_on(hold_after: int) -> None:
    with EmulatorThread(api_key="k", first_token_ms=0, chars_per_second=0) as emulator:
        emulator.script(Reply(["a", "b"], hold_after=hold_after))
        client = genai.Client(
            api_key="k", http_options=types.HttpOptions(base_url=emulator.base_url)
        )
        texts: list[str | None] = []

        def read() -> None:
            stream = client.models.generate_content_stream(model=MODEL, contents="hi")
            texts.extend(response.text for response in stream)

        reader = threading.Thread(target=read)
        reader.start()
        record = emulator.wait_for_request(1, timeout=5)
        # Long after the chunks it would have sent at once, the stream is still open.
        reader.join(0.3)
        assert reader.is_alive() and record.outcome == "pending"
        assert record.chunks_sent == min(hold_after, 2)
        emulator.release(record)
        reader.join(5)
        assert texts == ["a", "b"]
        client.close()
