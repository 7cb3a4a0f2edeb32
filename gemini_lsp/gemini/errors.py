"""Failures of a Gemini call as messages a person can act on, never containing a key.

The SDK and httpx2 are imported only once an error is explained: by then a call was made.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from gemini_lsp.config import Settings
from gemini_lsp.gemini.retries import server_retry_delay
from gemini_lsp.gemini.secrets import KEY_VARIABLES, KEYS, mask


class GenerationFailedError(Exception):
    """A generation failed; the message says why and what to do."""


def redact(text: str, settings: Settings) -> str:
    """`text` with every key the process has seen, the settings' and the environment's
    included, masked in any shape."""
    KEYS.update([settings.api_key, *(os.environ.get(name) for name in KEY_VARIABLES)])
    return mask(text)


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
        return redact(str(error), settings)
    if isinstance(error, errors.APIError):
        return redact(_explain_api_error(error, settings, model or settings.model), settings)
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
        return redact(
            f"Cannot reach Gemini{_endpoint(error)} — check your network, proxy or "
            "geminiLsp.baseUrl",
            settings,
        )
    if isinstance(error, (httpx2.RemoteProtocolError, httpx2.NetworkError)):
        return "The connection to Gemini broke mid-stream — try again"
    if isinstance(error, errors.UnknownApiResponseError):
        return "Gemini sent a response that could not be read — try again"
    return redact(f"Gemini request failed: {type(error).__name__}: {error}", settings)


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
