"""Work-done progress for one generation, tolerant of clients without it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from lsprotocol import types

log = logging.getLogger(__name__)

Notify = Callable[[str, object], None]
CreateToken = Callable[[types.WorkDoneProgressCreateParams], Awaitable[None]]

# Reports closer together than this are merged: the client's progress UI cannot show more.
REPORT_INTERVAL = 0.05


class Progress:
    """Begin → reports → end on the client's token, or on one the server creates."""

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
        self._ended = False

    async def begin(self, title: str, message: str) -> None:
        if self.token is None and self._create is not None:
            token = f"gemini-{uuid.uuid4().hex[:12]}"
            try:
                await self._create(types.WorkDoneProgressCreateParams(token=token))
                self.token = token
            except Exception as error:  # the client may refuse; the generation goes on
                log.info("progress token refused: %s", error)
        self._send(types.WorkDoneProgressBegin(title=title, message=message, cancellable=True))

    def due(self) -> bool:
        """Whether a report now would be sent: callers skip building one that would not."""
        return self._clock() - self._last_report >= REPORT_INTERVAL

    def report(self, message: str, force: bool = False) -> None:
        if force or self.due():
            self._last_report = self._clock()
            self._send(types.WorkDoneProgressReport(message=message, cancellable=True))

    def end(self, message: str) -> None:
        if not self._ended:
            self._send(types.WorkDoneProgressEnd(message=message))
            self._ended = True

    def _send(self, value: object) -> None:
        if self.token is not None and not self._ended:
            self._notify(types.PROGRESS, types.ProgressParams(token=self.token, value=value))
