"""The edit pump's shared state: the edits it has sent, the two views of the document, the
writers and queued replacements, and the bookkeeping every part of the pump uses.

The pump is one object whose jobs live in modules of their own, as mixins of `PumpState`:
planning (`plan.py`), what the client's answers and syncs prove (`reconcile.py`), repairs
(`repair.py`), and the queue, dispatch and watchdog (`pump.py`, which puts them together).
The abstract methods here are the calls one part makes into another.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import enum
import itertools
from collections.abc import Awaitable, Callable

import attrs
from lsprotocol import types

from gemini_lsp.engine.anchor import Change, Region
from gemini_lsp.engine.documents import Document
from gemini_lsp.engine.places import Places
from gemini_lsp.engine.writer import Owner, Replacement, Stage, Writer

SendEdit = Callable[[types.ApplyWorkspaceEditParams], Awaitable[types.ApplyWorkspaceEditResult]]

# A client that answers no edit, or refuses every edit, this long fails the generations.
EDIT_TIMEOUT_SECONDS = 10.0


class State(enum.Enum):
    OUT = "out"  # sent, not yet shown by a sync nor proven missing
    CONFIRMED = "confirmed"
    LOST = "lost"  # proven missing or misplaced: its text went again
    REFUSED = "refused"  # answered not applied; kept while it might still turn up
    ORPHAN = "orphan"  # sent after an edit of its writer that was lost: undone if it turns up


@attrs.define(eq=False)
class Planned:
    """An edit sent to the client, as planned against one view of the document."""

    owner: Owner
    raw: types.Range  # the positions sent: where an unversioned edit lands, stale or not
    text: str
    versioned: bool
    version: int = 0  # the version a versioned edit names
    seq: int = 0
    sent_version: int = 0  # the synced document's version when it was sent
    state: State = State.OUT
    answer: bool | None = None  # what the client said, once it did
    answer_sync: int = -1  # how many syncs had been handled when the answer was
    counted: bool = False  # its text is in its writer's `placed`
    doomed: bool = False  # versioned, and the sync showed another change first
    answered: asyncio.Event = attrs.field(factory=asyncio.Event)
    watchdog: asyncio.TimerHandle | None = None


class PumpState(abc.ABC):
    """What one document's pump knows; see the module docstring."""

    def __init__(self, document: Document, send: SendEdit, versioned: bool) -> None:
        self.document = document
        self._send_edit = send
        self.versioned = versioned
        self.edit_timeout = EDIT_TIMEOUT_SECONDS
        self._tracked: collections.Counter[Region] = collections.Counter()
        self._here = Places(document.buffer, {}, {})
        self._ahead: Places | None = None  # built when needed, dropped when stale
        self._writers: list[Writer] = []  # writers that may still have text to send
        self._replacements: collections.deque[Replacement] = collections.deque()
        self._owned: set[Region] = set()  # regions the pump tracks for its replacements
        self._log: list[Planned] = []  # edits sent and not yet settled, in order
        self._inflight: Planned | None = None
        self._seq = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._syncs = 0
        self._last_sync = asyncio.get_running_loop().time()
        self._sync = asyncio.Event()
        self._unversioned = False  # until the next sync, after a stale edit waited in vain
        self._refused_since: float | None = None
        self._stuck = False  # the failure is an unanswered edit
        self.failure: str | None = None  # why the client cannot take edits, once it is known
        self.edits_sent = 0

    # -- the calls one part of the pump makes into another ---------------------------------

    @abc.abstractmethod
    def _kick(self, now: bool = False) -> None:
        """Get the next edit out, if one can go."""

    @abc.abstractmethod
    def _next_after(self, planned: Planned) -> None:
        """`planned`, sent while the loop was not running, was answered: what comes next."""

    @abc.abstractmethod
    def _undo(self, landed: Change, label: str) -> None:
        """Queue the repair of a stray change."""

    @abc.abstractmethod
    def _salvage(self, repair: Replacement, actual: str) -> None:
        """Do a repair or removal whose text the user changed to what is left of it."""

    # -- tracked regions -------------------------------------------------------------------

    def track(self, region: Region) -> None:
        self._tracked[region] += 1
        self._here.regions[region] = region
        self._ahead = None

    def untrack(self, region: Region) -> None:
        if self._tracked[region] > 1:
            self._tracked[region] -= 1
            return
        self._tracked.pop(region, None)
        self._here.regions.pop(region, None)
        self._ahead = None

    @property
    def regions(self) -> list[Region]:
        return list(self._tracked)

    def _own(self, replacement: Replacement) -> None:
        self.track(replacement.region)
        self._owned.add(replacement.region)

    def _disown(self, replacement: Replacement) -> None:
        if replacement in self._replacements:
            self._replacements.remove(replacement)
        if replacement.region in self._owned:
            self._owned.discard(replacement.region)
            self.untrack(replacement.region)
        self._update_all_idle()

    # -- idleness --------------------------------------------------------------------------

    def _update_idle(self, writer: Writer) -> None:
        if self.failure is not None:
            writer.idle.set()
            return
        repairing = any(
            r.expected is not None and r.stage in (Stage.QUEUED, Stage.SENT)
            for r in self._replacements
        )
        inflight = self._inflight is not None and self._inflight.owner is writer
        if not writer.pending and not inflight and not repairing:
            writer.idle.set()
        else:
            writer.idle.clear()

    def _update_all_idle(self) -> None:
        for writer in self._writers:
            self._update_idle(writer)
