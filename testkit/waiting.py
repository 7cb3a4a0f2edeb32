"""Every wait on the server has a limit, so that a hung server fails one test with a message
naming what it was waiting for, instead of hanging the run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

# Generous: a loaded CI machine may take seconds to answer, never this long.
REQUEST_TIMEOUT = 30.0


async def within(awaitable: Awaitable[T], what: str, timeout: float = REQUEST_TIMEOUT) -> T:
    """`awaitable`'s result; TimeoutError naming `what` if it takes longer than `timeout`."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise TimeoutError(f"no answer to {what} in {timeout} s") from None
