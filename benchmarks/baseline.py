"""The baseline: the raw google-genai SDK consuming a stream and printing it.

This is the SDK's own streaming example (`async for chunk in await
client.aio.models.generate_content_stream(...): print(chunk.text, end="")`), time-stamped
as each chunk is yielded. It prints to /dev/null so that the terminal's speed is not timed.
"""

from __future__ import annotations

import os
import time
from typing import Any, TextIO

import attrs

MODEL = "gemini-2.5-flash"


@attrs.define
class Stream:
    started_at: float  # the call was made
    chunk_times: list[float] = attrs.field(factory=list)  # each chunk yielded
    texts: list[str] = attrs.field(factory=list)

    @property
    def ended_at(self) -> float:
        return self.chunk_times[-1]


class RawSdk:
    def __init__(self, base_url: str, api_key: str) -> None:
        from google import genai
        from google.genai import types

        # One client for every run, as an application keeps one (and its connection pool).
        self._client = genai.Client(
            api_key=api_key, http_options=types.HttpOptions(base_url=base_url)
        )
        self._sink: TextIO = open(os.devnull, "w")  # noqa: SIM115 - lives as long as self

    async def stream(self, prompt: str) -> Stream:
        run = Stream(time.monotonic())
        chunks: Any = await self._client.aio.models.generate_content_stream(
            model=MODEL, contents=prompt
        )
        async for chunk in chunks:
            run.chunk_times.append(time.monotonic())
            text = chunk.text or ""
            run.texts.append(text)
            print(text, end="", file=self._sink, flush=True)
        return run

    async def close(self) -> None:
        await self._client.aio.aclose()
        self._sink.close()
