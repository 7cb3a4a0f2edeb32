"""When a failed Gemini call is worth trying again, and after how long."""

from __future__ import annotations

import contextlib
import email.utils
import random
import re
import time

RETRYABLE_CODES = frozenset({408, 429, 500, 502, 503, 504})
# A server that asks for a longer wait than this gets a failure that says so, at once,
# rather than a generation that sits silently for minutes.
MAX_RETRY_WAIT = 30.0
# Exponential backoff: the first wait, and the longest, before jitter.
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 20.0


def error_code(error: Exception) -> int | None:
    """The HTTP status of an SDK error, if it has one."""
    code = getattr(error, "code", None)
    return code if isinstance(code, int) else None


def short_reason(error: Exception) -> str:
    """Why a call is retried, in a few words (for the progress message)."""
    code = error_code(error)
    return f"HTTP {code}" if code is not None else type(error).__name__


def retry_delay(error: Exception, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None when retrying cannot help."""
    import httpx2

    retryable = error_code(error) in RETRYABLE_CODES or isinstance(
        error, (httpx2.ConnectError, httpx2.ConnectTimeout)
    )
    if not retryable:
        return None
    hinted = server_retry_delay(error)
    if hinted is not None:
        return hinted if hinted <= MAX_RETRY_WAIT else None
    # Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … scaled by a random factor.
    return float(min(FIRST_BACKOFF * 2**attempt, MAX_BACKOFF) * (0.5 + random.random() / 2))


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
