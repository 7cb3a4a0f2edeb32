"""The google-genai client built from the settings and the environment.

The SDK's async transport is pinned to an httpx2 client of our own (with aiohttp importable
the SDK would silently switch transport), whose read timeout is a per-read stall limit, never
a cap on a long generation. The SDK and httpx2 are imported here only when a client is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gemini_lsp.config import Settings
from gemini_lsp.gemini.errors import GenerationFailedError, redact
from gemini_lsp.gemini.secrets import KEYS, InvalidKeyError, environment_key, usable_key

if TYPE_CHECKING:
    from google import genai

# Connecting may take this long at most, even with a longer stall limit.
MAX_CONNECT_SECONDS = 15


def make_client(settings: Settings) -> tuple[genai.Client, Any]:
    """An SDK client for the settings, and the httpx2.AsyncClient under it (to close)."""
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
    timeout = httpx2.Timeout(
        settings.timeout_seconds, connect=min(settings.timeout_seconds, MAX_CONNECT_SECONDS)
    )
    # One TLS context (each loads the CA bundle: tens of milliseconds at the first
    # generation) for our client and for those the SDK builds but the server never uses: a
    # sync client, and the Live API's websockets (which take it from `async_client_args`).
    tls = httpx2.create_ssl_context()
    http = StallLimitedClient(timeout=timeout, verify=tls)
    options = genai_types.HttpOptions(
        httpx_async_client=http,
        httpx_client=httpx2.Client(timeout=timeout, verify=tls),
        async_client_args={"ssl": tls},
    )
    if settings.base_url:
        options.base_url = settings.base_url
    try:
        return genai.Client(http_options=options, **_client_options(settings)), http
    except ValueError as error:
        raise GenerationFailedError(
            "No Gemini API key — set GEMINI_API_KEY or geminiLsp.apiKey "
            f"(or configure Vertex AI). ({redact(str(error), settings)})"
        ) from None


def _client_options(settings: Settings) -> dict[str, Any]:
    """The key and Vertex AI options the settings give (the SDK reads the rest from the
    environment)."""
    options: dict[str, Any] = {}
    key = _checked_key(settings)
    if key is not None:
        options["api_key"] = key
    if settings.vertexai is not None:
        options["vertexai"] = settings.vertexai
    if settings.project:
        options["project"] = settings.project
    if settings.location:
        options["location"] = settings.location
    return options


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
