"""Gemini through the google-genai SDK: streaming calls, retries, and errors a person can act on.

google-genai is imported lazily: it costs half a second, and `initialize` must not wait.
The SDK's async transport is pinned to an httpx2 client of our own (with aiohttp
importable the SDK would silently switch transport), whose read timeout is a per-read stall limit,
never a cap on a long generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gc
import importlib
import logging
import os
import random
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from gemini_lsp.config import Settings
from gemini_lsp.gemini.secrets import KEY_VARIABLES as KEY_VARIABLES
from gemini_lsp.gemini.secrets import KEYS, InvalidKeyError, environment_key, mask, usable_key

if TYPE_CHECKING:
    from google import genai
    from google.genai import types as genai_types

log = logging.getLogger(__name__)

RETRYABLE_CODES = frozenset({408, 429, 500, 502, 503, 504})
# A server that asks for a longer wait than this gets a failure that says so, at once,
# rather than a generation that sits silently for minutes.
MAX_RETRY_WAIT = 30.0
# Pieces further apart than this came one by one (as Gemini streams), not in a burst of
# buffered ones.
PAUSE_SECONDS = 0.001
# Pieces read ahead of a consumer that has not taken them: the reader waits at this many
# (and so does Gemini's stream, through TCP), rather than holding a fast answer in memory.
MAX_QUEUED_PIECES = 256


class GenerationFailedError(Exception):
    """A generation failed; the message says why and what to do."""


@attrs.frozen
class Usage:
    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


@attrs.frozen
class Piece:
    """One streamed response: its text and, on the last, the usage and finish reason."""

    text: str
    usage: Usage | None = None
    finish_reason: str | None = None


@attrs.frozen
class ModelCall:
    """Everything one call needs: the turns so far, the instruction and the options."""

    model: str
    # The conversation as genai content dicts (`{"role", "parts"}`); the last is the new
    # user turn.
    contents: list[dict[str, Any]]
    system_instruction: str
    settings: Settings


RetryNotice = Callable[[float, str], Awaitable[None]]


async def load_sdk() -> None:
    """Import the SDK the first time, in a worker thread so that the server keeps serving."""
    if "google.genai" not in sys.modules:
        await asyncio.get_running_loop().run_in_executor(
            None, importlib.import_module, "google.genai"
        )
        # What the server and the SDK imported lives as long as the process: out of the
        # collector's full scans, which would otherwise stall the event loop for tens of
        # milliseconds mid-stream.
        gc.freeze()


@attrs.define(eq=False)
class Connection:
    """An SDK client and the HTTP client under it, for one set of connection settings."""

    key: tuple[Any, ...]
    client: genai.Client
    http: Any  # httpx2.AsyncClient, imported lazily
    users: int = 0
    retired: bool = False


class GeminiBackend:
    """The SDK client for the current settings, rebuilt when they change.

    A client replaced by new settings is closed once the streams using it have ended, so
    that changing settings all day leaves no connection pools behind.
    """

    def __init__(self) -> None:
        self._current: Connection | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def client(self, settings: Settings) -> genai.Client:
        return self._connection(settings).client

    def _connection(self, settings: Settings) -> Connection:
        key = (
            settings.api_key,
            settings.vertexai,
            settings.project,
            settings.location,
            settings.base_url,
            settings.timeout_seconds,
        )
        current = self._current
        if current is not None and key == current.key:
            return current
        client, http = _make_client(settings)
        self._current = Connection(key, client, http)
        if current is not None:
            current.retired = True
            self._close_if_unused(current)
        return self._current

    def stream(self, call: ModelCall, on_retry: RetryNotice) -> ModelStream:
        return ModelStream(lambda: self._opened(call), call.settings.retries, on_retry)

    def _close_if_unused(self, connection: Connection) -> None:
        if connection.retired and connection.users == 0:
            with contextlib.suppress(Exception):
                connection.client.close()  # the SDK's own synchronous client
            task = asyncio.get_running_loop().create_task(connection.http.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Close every HTTP client (the server is stopping)."""
        if self._current is not None:
            self._current.retired = True
            self._current.users = 0
            self._close_if_unused(self._current)
            self._current = None
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=2)

    @contextlib.asynccontextmanager
    async def _opened(
        self, call: ModelCall
    ) -> AsyncIterator[AsyncIterator[genai_types.GenerateContentResponse]]:
        """The call's response stream, its connection counted as in use until it ends."""
        connection = self._connection(call.settings)
        connection.users += 1
        try:
            yield await self._open(connection.client, call)
        finally:
            connection.users -= 1
            self._close_if_unused(connection)

    async def _open(
        self, client: genai.Client, call: ModelCall
    ) -> AsyncIterator[genai_types.GenerateContentResponse]:
        config = _generation_config(call)
        contents = _on_the_wire(call.contents)
        if len(contents) > 1:
            # A refinement: the conversation so far continues as a Gemini chat.
            history: list[Any] = contents[:-1]
            chat = client.aio.chats.create(model=call.model, config=config, history=history)
            # Chats take Part objects only, not the dicts `generate_content` accepts.
            from google.genai import types as genai_types

            parts = [
                genai_types.Part.model_validate(part) if isinstance(part, dict) else part
                for part in contents[-1]["parts"]
            ]
            return await chat.send_message_stream(parts)
        return await client.aio.models.generate_content_stream(
            model=call.model, contents=contents, config=config
        )


def _on_the_wire(contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The turns with each attached file made a part: the call itself keeps the files, whose
    bytes are dropped when the generation ends, not parts that would keep them."""
    from gemini_lsp.gemini.attachments import Attachment

    return [
        {
            **turn,
            "parts": [
                part.part() if isinstance(part, Attachment) else part for part in turn["parts"]
            ],
        }
        for turn in contents
    ]


def _make_client(settings: Settings) -> tuple[genai.Client, Any]:
    import httpx2
    from google import genai
    from google.genai import types as genai_types

    class StallLimitedClient(httpx2.AsyncClient):
        """Keeps the client's timeouts: the SDK passes `timeout=None` with each request,
        which in httpx means no timeout at all (so a stalled stream would hang forever)."""

        def build_request(self, *args: Any, **kwargs: Any) -> httpx2.Request:
            if kwargs.get("timeout", httpx2.USE_CLIENT_DEFAULT) is None:
                kwargs["timeout"] = httpx2.USE_CLIENT_DEFAULT
            return super().build_request(*args, **kwargs)

    # Stall limit per read, generous connect limit, no total limit.
    timeout = httpx2.Timeout(settings.timeout_seconds, connect=min(settings.timeout_seconds, 15))
    http = StallLimitedClient(timeout=timeout)
    options = genai_types.HttpOptions(httpx_async_client=http)
    if settings.base_url:
        options.base_url = settings.base_url
    kwargs: dict[str, Any] = {"http_options": options}
    key = _checked_key(settings)
    if key is not None:
        kwargs["api_key"] = key
    if settings.vertexai is not None:
        kwargs["vertexai"] = settings.vertexai
    if settings.project:
        kwargs["project"] = settings.project
    if settings.location:
        kwargs["location"] = settings.location
    try:
        return genai.Client(**kwargs), http
    except ValueError as error:
        raise GenerationFailedError(
            "No Gemini API key — set GEMINI_API_KEY or geminiLsp.apiKey "
            f"(or configure Vertex AI). ({_redact(str(error), settings)})"
        ) from None


def _checked_key(settings: Settings) -> str | None:
    """The key of the settings, checked; the environment's is checked and left to the SDK.

    A key that cannot go into an HTTP header never reaches the HTTP library, whose error
    message would quote it.
    """
    try:
        if settings.api_key:
            KEYS.add(settings.api_key)
            return usable_key(settings.api_key, "geminiLsp.apiKey")
        found = environment_key()
        if found is not None:
            KEYS.add(found[1])
            usable_key(found[1], found[0])
    except InvalidKeyError as error:
        raise GenerationFailedError(str(error)) from None
    return None


def _generation_config(call: ModelCall) -> genai_types.GenerateContentConfig:
    from google.genai import types as genai_types

    settings = call.settings
    config = genai_types.GenerateContentConfig(
        system_instruction=call.system_instruction,
        # No tools are declared: the SDK's function-calling loop would only inspect and
        # keep every streamed chunk (and log a line per call).
        automatic_function_calling=genai_types.AutomaticFunctionCallingConfig(disable=True),
    )
    if settings.temperature is not None:
        config.temperature = settings.temperature
    if settings.max_output_tokens is not None:
        config.max_output_tokens = settings.max_output_tokens
    if settings.thinking_budget is not None:
        config.thinking_config = genai_types.ThinkingConfig(
            thinking_budget=settings.thinking_budget
        )
    return config


class ModelStream:
    """One streaming call, read by its own task; iterating it gives every piece that has
    arrived since the last step, so a consumer that falls behind a fast stream catches up
    in one step instead of one step per piece.

    Cancelling the task that is suspended inside the SDK's read is what closes the HTTP
    connection (breaking out of the loop or `aclose()` does not), so leaving this context
    cancels the reader.
    """

    def __init__(
        self,
        start: Callable[[], contextlib.AbstractAsyncContextManager[AsyncIterator[Any]]],
        retries: int,
        on_retry: RetryNotice,
    ) -> None:
        self._start = start
        self._retries = retries
        self._on_retry = on_retry
        self._arrived: list[Piece] = []
        self._ended = False
        self._error: BaseException | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None  # the reader, waiting for the consumer
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ModelStream:
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def __aiter__(self) -> ModelStream:
        return self

    async def __anext__(self) -> list[Piece]:
        while not self._arrived:
            if self._ended:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        pieces, self._arrived = self._arrived, []
        if self._room is not None and not self._room.done():
            self._room.set_result(None)
        return pieces

    @property
    def queued(self) -> int:
        """Pieces read and not yet taken."""
        return len(self._arrived)

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _end(self, error: BaseException | None = None) -> None:
        self._ended = True
        self._error = error
        self._wake()

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            started = False  # once text has arrived, a retry would write it twice
            try:
                async with self._start() as responses:
                    last = 0.0
                    async for response in responses:
                        piece = _piece(response)
                        started = started or bool(piece.text)
                        self._arrived.append(piece)
                        self._wake()
                        now = loop.time()
                        if len(self._arrived) >= MAX_QUEUED_PIECES:
                            await self._make_room()
                        elif now - last >= PAUSE_SECONDS or piece.finish_reason is not None:
                            # The piece came after a pause, not in a burst, or it is the last:
                            # let the consumer take it before this task goes back to reading
                            # (or to closing the stream).
                            await _hand_over()
                        last = now
                self._end()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                delay = retry_delay(error, attempt) if not started else None
                if delay is None or attempt >= self._retries:
                    self._end(error)
                    return
                attempt += 1
                await self._on_retry(delay, _short_reason(error))
                await asyncio.sleep(delay)

    async def _make_room(self) -> None:
        """Until the consumer has taken what is queued (backpressure, nothing dropped).

        As in `_hand_over`, a cancellation that arrives here is asked for again, so that it
        lands inside the SDK's next read, which is what closes the connection.
        """
        self._room = asyncio.get_running_loop().create_future()
        try:
            await self._room
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.cancel()
        finally:
            self._room = None


async def _hand_over() -> None:
    """One turn of the event loop for the others, without being stopped here.

    Only a cancellation that reaches the task inside the SDK's read closes the connection
    (breaking out of the loop leaves it open), so one that arrives now is asked for again:
    the next read, the first thing the task awaits, takes it.
    """
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.cancel()


def _piece(response: Any) -> Piece:
    text = ""
    finish_reason = None
    candidates = response.candidates or []
    if candidates:
        candidate = candidates[0]
        if candidate.content is not None and candidate.content.parts:
            text = "".join(
                part.text
                for part in candidate.content.parts
                if part.text and not getattr(part, "thought", False)
            )
        if candidate.finish_reason is not None:
            finish_reason = str(getattr(candidate.finish_reason, "value", candidate.finish_reason))
    elif response.prompt_feedback is not None and response.prompt_feedback.block_reason:
        finish_reason = "BLOCKED:" + str(
            getattr(response.prompt_feedback.block_reason, "value", "")
        )
    usage = None
    if response.usage_metadata is not None:
        meta = response.usage_metadata
        usage = Usage(
            prompt_tokens=meta.prompt_token_count or 0,
            output_tokens=meta.candidates_token_count or 0,
            total_tokens=meta.total_token_count or 0,
        )
    return Piece(text, usage, finish_reason)


def _error_code(error: Exception) -> int | None:
    code = getattr(error, "code", None)
    return code if isinstance(code, int) else None


def retry_delay(error: Exception, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None when retrying cannot help."""
    import httpx2

    code = _error_code(error)
    retryable = code in RETRYABLE_CODES or isinstance(
        error, (httpx2.ConnectError, httpx2.ConnectTimeout)
    )
    if not retryable:
        return None
    hinted = server_retry_delay(error)
    if hinted is not None:
        return hinted if hinted <= MAX_RETRY_WAIT else None
    # Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … scaled by a random factor.
    return float(min(0.5 * 2**attempt, 20.0) * (0.5 + random.random() / 2))


def server_retry_delay(error: Exception) -> float | None:
    """The delay the server asked for: RetryInfo in the error body, or Retry-After."""
    details = getattr(error, "details", None)
    if isinstance(details, dict):
        for detail in (details.get("error") or {}).get("details") or []:
            if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
                match = re.fullmatch(r"([\d.]+)s", str(detail.get("retryDelay", "")))
                if match:
                    return float(match.group(1))
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if isinstance(value, str):
        if re.fullmatch(r"\d+(\.\d+)?", value.strip()):
            return float(value)
        with contextlib.suppress(TypeError, ValueError):  # an HTTP date
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    return None


def _short_reason(error: Exception) -> str:
    code = _error_code(error)
    return f"HTTP {code}" if code is not None else type(error).__name__


def mask_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every key the process has seen (and `secrets`) masked, in any shape."""
    KEYS.update(secrets)
    return mask(text)


def _redact(text: str, settings: Settings) -> str:
    return mask_secrets(text, [settings.api_key, *(os.environ.get(name) for name in KEY_VARIABLES)])


def _endpoint(error: Exception) -> str:
    """Where the failed request went (scheme, host and port: no path, no query)."""
    with contextlib.suppress(Exception):
        url = error.request.url  # type: ignore[attr-defined]
        return f" at {url.scheme}://{url.netloc.decode()}"
    return ""


def explain(error: BaseException, settings: Settings, model: str | None = None) -> str:
    """A message a person can act on, never containing the key."""
    import httpx2
    from google.genai import errors

    if isinstance(error, GenerationFailedError):
        return _redact(str(error), settings)
    if isinstance(error, errors.APIError):
        return _redact(_explain_api_error(error, settings, model or settings.model), settings)
    if isinstance(error, httpx2.TimeoutException):
        if isinstance(error, (httpx2.ConnectTimeout, httpx2.PoolTimeout)):
            return (
                f"Cannot reach Gemini{_endpoint(error)} (connection timed out) — check your "
                "network, proxy or geminiLsp.baseUrl"
            )
        return (
            f"Gemini sent nothing for {settings.timeout_seconds:g} s — stopped "
            "(geminiLsp.timeoutSeconds)"
        )
    if isinstance(error, httpx2.ConnectError):
        return _redact(
            f"Cannot reach Gemini{_endpoint(error)} — check your network, proxy or "
            "geminiLsp.baseUrl",
            settings,
        )
    if isinstance(error, (httpx2.RemoteProtocolError, httpx2.NetworkError)):
        return "The connection to Gemini broke mid-stream — try again"
    if isinstance(error, errors.UnknownApiResponseError):
        return "Gemini sent a response that could not be read — try again"
    return _redact(f"Gemini request failed: {type(error).__name__}: {error}", settings)


def _explain_api_error(error: Any, settings: Settings, model: str) -> str:
    message = str(error.message or "")
    code, status = error.code, error.status
    if "API_KEY_INVALID" in str(error.details) or code == 401:
        return (
            "Gemini API key is not valid — set GEMINI_API_KEY or geminiLsp.apiKey "
            f"({code} {status})"
        )
    if code == 403:
        return (
            f"Gemini refused access ({code} {status}): {message} — check that the key's "
            "project may use the Gemini API here"
        )
    if code == 429:
        delay = server_retry_delay(error)
        wait = f" Gemini asks to retry in {delay:g} s." if delay is not None else ""
        return (
            "Gemini quota exceeded (429 RESOURCE_EXHAUSTED) — wait and try again, or check "
            f"your plan and quota.{wait} {message}".rstrip()
        )
    if code == 404:
        return (
            f"Model {model!r} not found — check geminiLsp.model (or the command's model) "
            f"({message})"
        )
    if code >= 500:
        return f"Gemini service error ({code} {status}): {message} — try again"
    return f"Gemini rejected the request ({code} {status}): {message}"
