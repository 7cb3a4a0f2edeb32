"""Work-done progress for one generation, tolerant of clients without it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from lsprotocol import types

log = logging.getLogger(__name__)

Notify = Callable[[str, object], None]
CreateToken = Callable[[types.WorkDoneProgressCreateParams], Awaitable[None]]
Value = types.WorkDoneProgressBegin | types.WorkDoneProgressReport | types.WorkDoneProgressEnd

# Reports closer together than this are merged: a person reads a changing count a few times
# a second, and a faster rate would cost the client and the server a message per chunk.
REPORT_INTERVAL = 0.2
# How long a request's answer waits for the client to answer the creation of its token.
CREATE_WAIT = 2.0


class Progress:
    """Begin → reports → end on the client's token, or on one the server creates: a
    generation's `Reporting` (generations/reporting.py).

    A created token is usable only once the client has answered, and the generation does
    not wait for that round trip: what is sent meanwhile is held (the latest report only)
    and goes out with the answer, or never if the client refuses the token.
    """

    def __init__(
        self,
        notify: Notify,
        create: CreateToken | None,
        client_token: types.ProgressToken | None,
        clock: Callable[[], float],
    ) -> None:
        self._notify = notify
        self._create = create
        self.token: types.ProgressToken | None = client_token
        self._clock = clock
        self._last_report = -1.0
        self._held: list[Value] | None = None  # while the client has not answered
        self._creating: asyncio.Future[None] | None = None
        self._ended = False

    def begin(self, title: str, message: str) -> None:
        if self.token is None and self._create is not None:
            # Known at once, so that a cancel on it finds this generation.
            self.token = f"gemini-{uuid.uuid4().hex[:12]}"
            self._held = []
            self._creating = asyncio.ensure_future(
                self._create(types.WorkDoneProgressCreateParams(token=self.token))
            )
            self._creating.add_done_callback(self._created)
        self._send(types.WorkDoneProgressBegin(title=title, message=message, cancellable=True))

    def _created(self, creating: asyncio.Future[None]) -> None:
        held, self._held = self._held or [], None
        error = None if creating.cancelled() else creating.exception()
        if creating.cancelled() or error is not None:
            # The client may refuse; the generation goes on without progress.
            log.info("progress token refused: %s", error or "cancelled")
            self.token = None
            return
        for value in held:
            self._deliver(value)

    async def delivered(self) -> None:
        """Until what was held has gone out (or never will): a request's answer comes after
        its progress ends."""
        if self._creating is not None and not self._creating.done():
            await asyncio.wait({self._creating}, timeout=CREATE_WAIT)

    def due(self) -> bool:
        """Whether a report now would be sent: callers skip building one that would not."""
        return self._clock() - self._last_report >= REPORT_INTERVAL

    def report(self, message: str, force: bool = False) -> None:
        if force or self.due():
            self._last_report = self._clock()
            self._send(types.WorkDoneProgressReport(message=message, cancellable=True))

    def end(self, message: str) -> None:
        self._send(types.WorkDoneProgressEnd(message=message))
        self._ended = True

    def _send(self, value: Value) -> None:
        if self._ended or self.token is None:
            return
        if self._held is None:
            self._deliver(value)
            return
        report = types.WorkDoneProgressReport
        if isinstance(value, report) and self._held and isinstance(self._held[-1], report):
            self._held[-1] = value  # only the latest report is worth showing
        else:
            self._held.append(value)

    def _deliver(self, value: Value) -> None:
        if self.token is not None:
            self._notify(types.PROGRESS, types.ProgressParams(token=self.token, value=value))
