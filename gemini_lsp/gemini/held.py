"""Attachment bytes in memory: each file held while its generation runs, and a budget for all
generations together, after which the memory goes back to the system."""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Iterable
from typing import Any

import attrs

# What all running generations may hold at once (a batch of requests with large attachments
# is refused past this, rather than growing the server without bound).
MAX_HELD_BYTES = 64 * 1024 * 1024
# glibc's mallopt parameter, and the size from which a buffer gets its own mapping.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 256 * 1024


class BusyError(Exception):
    """The generations in progress already hold as much attachment data as allowed."""


@attrs.define
class HeldBytes:
    """Attachment bytes held by all generations together (taken from reader threads)."""

    limit: int
    bytes: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def take(self, size: int) -> None:
        with self._lock:
            if self.bytes + size > self.limit:
                raise BusyError(
                    f"the generations in progress hold {self.bytes / 2**20:.0f} MB of "
                    f"attachments; at most {self.limit // 2**20} MB are held at once — wait "
                    "for them to finish"
                )
            self.bytes += size

    def give_back(self, size: int) -> None:
        with self._lock:
            self.bytes = max(self.bytes - size, 0)


HELD = HeldBytes(MAX_HELD_BYTES)


@attrs.define(eq=False)
class Attachment:
    """A file read for one generation; its bytes are dropped once the generation ends."""

    uri: str
    relative: str
    mime_type: str
    data: bytes = attrs.field(repr=False)
    held: bool = attrs.field(default=False, repr=False)

    @property
    def released(self) -> bool:
        return not self.held and not self.data

    def part(self) -> Any:
        """The attachment as a google-genai part."""
        from google.genai import types

        if self.released:
            raise RuntimeError(f"{self.relative} was released; read it again")
        return types.Part.from_bytes(data=self.data, mime_type=self.mime_type)

    def release(self) -> None:
        if self.held:
            HELD.give_back(len(self.data))
            self.held = False
        self.data = b""


def release(parts: Iterable[object]) -> None:
    """Drop the bytes of every attachment among `parts` (or the turns of a conversation);
    once no generation holds any, give the memory back to the system."""
    held = HELD.bytes
    _release(parts)
    if held and not HELD.bytes:
        give_memory_back()


def _release(parts: Iterable[object]) -> None:
    for part in parts:
        if isinstance(part, Attachment):
            part.release()
        elif isinstance(part, dict) and isinstance(part.get("parts"), list):
            _release(part["parts"])


def give_memory_back() -> None:
    """Collect what a cancelled request left in reference cycles (the SDK's request, its
    encoded body: tens of megabytes with large attachments), and hand the freed memory to
    the system."""
    gc.collect()
    hand_back_freed()


def hand_back_freed() -> None:
    """Hand the memory already freed to the system: glibc keeps it otherwise."""
    with contextlib.suppress(Exception):
        _libc().malloc_trim(0)


@functools.cache
def _libc() -> Any:
    # Loaded once start-up is over, whose memory it gives back: not on the way to `initialize`.
    import ctypes

    # The process's own symbols, which include the C library's: `find_library` would run
    # `ldconfig` in a subprocess.
    return ctypes.CDLL(None)


@functools.cache
def keep_large_buffers_apart() -> None:
    """Large buffers get their own mappings, returned to the system when freed (glibc would
    otherwise raise its threshold after the first large free, and keep later ones). Once per
    process, before the first attachment is read."""
    with contextlib.suppress(Exception):
        _libc().mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
