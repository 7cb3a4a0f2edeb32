"""The streaming edit engine: one `workspace/applyEdit` in flight per document.

Text for a document queues here and goes out as soon as the previous edit is settled, all
that queued meanwhile merged into one edit. An edit counts as settled only when the document
the client syncs back shows it (or shows that it cannot have been applied) — never on the
client's word alone:

- a versioned edit can only apply on the version it names, so if the first change synced
  after it was sent is not that edit, it was rejected or skipped, whatever the answer said
  (Neovim skips a stale one and answers `applied: true`). Version 0 is never sent: Neovim
  does not check it, so an edit on version 0 goes unversioned;
- a client applies an edit before it answers, so the first sync that follows an
  `applied: true` answer shows the edit if it was applied at all (Neovim delays its sync,
  but the sync carries every change up to then); if it does not, the edit is lost and its
  text goes again;
- an unversioned edit applies at the raw position sent, which may have gone stale while the
  user typed; when it lands somewhere other than its anchor it is undone there and its text
  goes again at the anchor. The undoing (a repair) removes only what is still the stray
  text: if the user typed inside it, the pieces either side go and their typing stays. Text
  a stray edit removed goes back where it was, on the side of anything typed there since
  that keeps regions whole, and the anchors it swallowed get their places back;
- an edit that may still turn up after it was taken as lost (refused although unversioned,
  never answered, or answered and followed by no sync for a long while) is remembered as a
  ghost until the first sync after its answer: if it turns up, that copy is removed;
- after a refusal the next try waits for a quiet moment: the sync that follows a refusal
  comes right after a keystroke, and a retry then would race the next one.

Changes are recognised as ours by their effect on the text, not by how the client describes
them, since clients that diff buffers (Neovim, full-text sync) may report an insertion shifted.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import functools
import logging
from collections.abc import Awaitable, Callable

import attrs
from lsprotocol import types

from .anchor import Change, Gravity, Region
from .documents import Document, common_prefix, joined
from .text import Loc, TextBuffer, end_of_insert

log = logging.getLogger(__name__)

SendEdit = Callable[[types.ApplyWorkspaceEditParams], Awaitable[types.ApplyWorkspaceEditResult]]

# An edit answered `applied: true` and followed by no sync for this long is taken as lost.
QUIET_SECONDS = 5.0
# A client that never answers an edit is given up on after this long.
ANSWER_SECONDS = 30.0
# A refused unversioned edit is remembered only from this length on: the client most likely
# told the truth, and a user could type the same few characters at the same place.
GHOST_MIN_CHARS = 4
GHOST_LIMIT = 8
# Two descriptions of a change further apart than this many lines are never the same.
MATCH_WINDOW_LINES = 64
# After a rejection with nothing new from the client, the next try waits for its next sync,
# or this long; after any rejection it waits for the client to be quiet this long, or at most
# RETRY_MAX_SECONDS.
RETRY_WAIT_SECONDS = 0.2
RETRY_QUIET_SECONDS = 0.05
RETRY_MAX_SECONDS = 1.0
# A client that refuses this many edits in a row, the text unchanged, will not take any.
MAX_REJECTIONS = 25


class Writer:
    """Generated text flowing into the end of one region of a document."""

    def __init__(self, region: Region, label: str) -> None:
        self.region = region
        self.label = label
        self.pending = ""  # produced but not in the document yet
        self.placed = ""  # confirmed in the document, in order
        self.closed = False  # no more text will be accepted (cancelled or finished)
        self.idle = asyncio.Event()  # nothing of this writer's is pending, in flight or astray
        self.idle.set()


@attrs.frozen
class Displaced:
    """An anchor edge a stray edit swallowed: `offset` characters into the text restored."""

    region: Region
    edge: str  # "start" or "end"
    offset: int


class Replacement:
    """A one-off replacement of a region's text, settled through `done`."""

    def __init__(
        self,
        region: Region,
        text: str,
        label: str,
        expected: str | None = None,
        displaced: list[Displaced] | None = None,
    ) -> None:
        self.region = region
        self.text = text
        self.label = label
        # Set for repairs: the replacement only goes ahead while the region still holds this
        # text, since a repair must never remove what the user wrote.
        self.expected = expected
        self.displaced = displaced or []
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def settle(self, applied: bool) -> None:
        if not self.done.done():
            self.done.set_result(applied)


Owner = Writer | Replacement


class Outcome(enum.Enum):
    APPLIED = "applied"  # it showed up in the document (at its anchor or not)
    REJECTED = "rejected"  # it did not, and will not (or, for a ghost, may still)


@attrs.define(eq=False)
class Planned:
    """An edit sent to the client, as planned against the server's copy."""

    owner: Owner
    raw: types.Range  # the positions sent: where an unversioned edit lands, stale or not
    text: str
    versioned: bool
    sent_version: int = 0  # the document's version when it was sent
    sent_at: float = 0.0
    answer: bool | None = None  # what the client said, once it did
    answer_sync: int = -1  # how many syncs had been handled when the answer was
    answered_at: float = 0.0
    outcome: Outcome | None = None
    settled: asyncio.Event = attrs.field(factory=asyncio.Event)
    watchdog: asyncio.TimerHandle | None = None  # takes it as lost when overdue


def same_effect(buffer: TextBuffer, a: Change, b: Change) -> bool:
    """Whether two changes turn the buffer's text into the same text."""
    first = min(a.start.line, b.start.line)
    last = max(a.end.line, b.end.line)
    if last - first > MATCH_WINDOW_LINES:
        return False
    window = buffer.window(first, last)

    def applied(change: Change) -> str:
        start = buffer.offset_in_window(first, change.start)
        end = buffer.offset_in_window(first, change.end)
        return window[:start] + change.text + window[end:]

    return applied(a) == applied(b)


class EditPump:
    """Sends one document's generated text as edits, one in flight at a time."""

    def __init__(self, document: Document, send: SendEdit, versioned: bool) -> None:
        self.document = document
        self._send_edit = send
        self.versioned = versioned
        self.regions: list[Region] = []  # every region whose place must survive changes
        self._writers: list[Writer] = []
        self._replacements: collections.deque[Replacement] = collections.deque()
        self._inflight: Planned | None = None
        self._ghosts: collections.deque[Planned] = collections.deque(maxlen=GHOST_LIMIT)
        self._task: asyncio.Task[None] | None = None
        self._syncs = 0
        self._last_sync = asyncio.get_running_loop().time()
        self._sync = asyncio.Event()
        self._rejections = 0
        self.failure: str | None = None  # why the client cannot take edits, once it is known
        document.observer = self._observe
        document.on_synced = self._synced
        self.edits_sent = 0

    # -- what the generations ask for -------------------------------------------------------

    def track(self, region: Region) -> None:
        self.regions.append(region)

    def untrack(self, region: Region) -> None:
        if region in self.regions:
            self.regions.remove(region)

    def add_writer(self, writer: Writer) -> None:
        self.track(writer.region)
        self._writers.append(writer)

    def append(self, writer: Writer, text: str) -> None:
        if not text or writer.closed:
            return
        eol = self.document.buffer.eol
        writer.pending += text if eol == "\n" else text.replace("\n", eol)
        writer.idle.clear()
        self._kick(now=True)

    def close_writer(self, writer: Writer) -> None:
        """Accept no more text for `writer` and drop what was not sent."""
        writer.closed = True
        writer.pending = ""
        self._update_idle(writer)

    def replace(self, region: Region, text: str, label: str) -> asyncio.Future[bool]:
        replacement = Replacement(region, text, label)
        self._replacements.append(replacement)
        self._kick()
        return replacement.done

    def inflight_for(self, owner: Owner) -> bool:
        return self._inflight is not None and self._inflight.owner is owner

    def stop(self) -> None:
        """The document is gone: settle everything at once."""
        if self._task is not None:
            self._task.cancel()
        for replacement in self._replacements:
            replacement.settle(False)
        self._replacements.clear()
        if self._inflight is not None:
            self._settle(self._inflight, Outcome.REJECTED)
            self._inflight = None  # the loop may never have taken its first step
        for writer in self._writers:
            self.close_writer(writer)

    # -- the loop --------------------------------------------------------------------------

    def _kick(self, now: bool = False) -> None:
        """Start the loop if it is not running. With `now` (the caller is not handling a
        client message, whose changes may still be landing), the first edit goes out at
        once rather than on the loop's first step: a streamed chunk reaches the editor an
        event-loop iteration sooner, ahead of the progress report it causes."""
        if self._task is not None or self.document.closed or self.failure is not None:
            return
        planned = None
        if now and not self._replacements:  # planning a replacement may queue repairs
            planned = self._send_next()
            if planned is None:
                return
        self._task = asyncio.get_running_loop().create_task(self._run(planned))

    def _send_next(self) -> Planned | None:
        """Plan the next edit and send it, if there is one to send."""
        if self.document.closed or self.failure is not None:
            return None
        planned = self._plan()
        if planned is not None:
            self._dispatch(planned)
        return planned

    async def _run(self, planned: Planned | None) -> None:
        try:
            while planned is not None or (planned := self._send_next()) is not None:
                await self._settled(planned)
                if planned.outcome is not Outcome.APPLIED:
                    if self.document.version == planned.sent_version:
                        # Refused with nothing new from the client: a moment, not a flood.
                        self._rejections += 1
                        if self._rejections >= MAX_REJECTIONS:
                            self._give_up()
                            break
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(self._sync.wait(), RETRY_WAIT_SECONDS)
                    await self._quiet_spell()
                else:
                    self._rejections = 0
                planned = None
        finally:
            self._task = None

    async def _quiet_spell(self) -> None:
        """Until the client has synced nothing for a moment (for a while at most).

        A refused edit was most likely overtaken by typing, and the next sync comes right
        after a keystroke: retrying then would race the next keystroke (VS Code refuses an
        unversioned edit that does).
        """
        loop = asyncio.get_running_loop()
        latest = loop.time() + RETRY_MAX_SECONDS
        while (now := loop.time()) < latest:
            wait = self._last_sync + RETRY_QUIET_SECONDS - now
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, latest - now))

    def _give_up(self) -> None:
        self.failure = (
            f"The editor refused {MAX_REJECTIONS} edits in a row for {self.document.uri} — "
            "is the file read-only?"
        )
        log.warning("%s", self.failure)
        for replacement in self._replacements:
            replacement.settle(False)
        self._replacements.clear()
        for writer in self._writers:
            self.close_writer(writer)

    def _plan(self) -> Planned | None:
        buffer = self.document.buffer
        while self._replacements:
            replacement = self._replacements[0]
            region = replacement.region
            if replacement.expected is not None:
                actual = buffer.slice(region.start, region.end)
                if actual != replacement.expected:
                    self._replacements.popleft()
                    self._salvage(replacement, actual)
                    continue
            return self._planned(replacement, region.start, region.end, replacement.text)
        for index, writer in enumerate(self._writers):
            if writer.pending:
                # Round-robin: the writer served goes to the back of the line.
                self._writers.append(self._writers.pop(index))
                text, writer.pending = writer.pending, ""
                return self._planned(writer, writer.region.end, writer.region.end, text)
        for writer in self._writers:
            self._update_idle(writer)
        self._writers = [writer for writer in self._writers if not writer.closed]
        return None

    def _planned(self, owner: Owner, start: Loc, end: Loc, text: str) -> Planned:
        versioned = self.versioned and self.document.version > 0
        return Planned(owner, self.document.buffer.range(start, end), text, versioned)

    def _dispatch(self, planned: Planned) -> None:
        """Send `planned`; it is in flight until settled."""
        self._inflight = planned
        self.edits_sent += 1
        planned.sent_version = self.document.version
        planned.sent_at = asyncio.get_running_loop().time()
        self._sync.clear()
        answer = asyncio.ensure_future(self._send_edit(self._params(planned)))
        answer.add_done_callback(functools.partial(self._answered, planned))
        self._watch(planned)

    def _watch(self, planned: Planned) -> None:
        """Take the edit as lost once it is overdue: unanswered for ANSWER_SECONDS, or
        answered and then followed by no sync for QUIET_SECONDS."""
        if planned.outcome is not None:
            return
        loop = asyncio.get_running_loop()
        if planned.answer is None:
            deadline = planned.sent_at + ANSWER_SECONDS
        else:
            deadline = max(self._last_sync, planned.answered_at) + QUIET_SECONDS
        if loop.time() >= deadline:
            log.warning("edit %s never showed up in the document", planned.owner)
            self._settle(planned, Outcome.REJECTED, ghost=True)
            return
        planned.watchdog = loop.call_at(deadline, self._watch, planned)

    async def _settled(self, planned: Planned) -> None:
        """Until the edit in flight is settled, or taken as lost."""
        try:
            await planned.settled.wait()
        finally:
            self._inflight = None
            self._update_all_idle()

    def _params(self, planned: Planned) -> types.ApplyWorkspaceEditParams:
        uri = self.document.uri
        text_edit = types.TextEdit(planned.raw, planned.text)
        if planned.versioned:
            identifier = types.OptionalVersionedTextDocumentIdentifier(
                uri=uri, version=self.document.version
            )
            edit = types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(identifier, [text_edit])]
            )
        else:
            edit = types.WorkspaceEdit(changes={uri: [text_edit]})
        return types.ApplyWorkspaceEditParams(edit=edit, label=planned.owner.label)

    def _answered(
        self, planned: Planned, future: asyncio.Future[types.ApplyWorkspaceEditResult]
    ) -> None:
        applied = False
        if future.cancelled():
            pass
        elif (error := future.exception()) is not None:
            log.warning("the client failed an edit: %s", error)
        else:
            applied = future.result().applied
        # This runs a little after the answer arrived, so a sync counted here may have come
        # after it: that only makes the wait for the sync that shows the edit longer.
        planned.answer = applied
        planned.answer_sync = self._syncs
        planned.answered_at = asyncio.get_running_loop().time()
        if not applied:
            maybe_applied = not planned.versioned and len(planned.text) >= GHOST_MIN_CHARS
            self._settle(planned, Outcome.REJECTED, ghost=maybe_applied)
        # Applied: it settles when the synced document shows it.

    def _settle(self, planned: Planned, outcome: Outcome, ghost: bool = False) -> None:
        if planned.outcome is not None:
            return
        planned.outcome = outcome
        planned.settled.set()
        if planned.watchdog is not None:
            planned.watchdog.cancel()
        if outcome is Outcome.APPLIED:
            return
        if ghost:
            self._ghosts.append(planned)
        owner = planned.owner
        if isinstance(owner, Writer) and not owner.closed:
            owner.pending = planned.text + owner.pending
        # A rejected replacement stays queued and is planned again on the new text.

    # -- what the client syncs back --------------------------------------------------------

    def _synced(self) -> None:
        self._syncs += 1
        self._last_sync = asyncio.get_running_loop().time()
        planned = self._inflight
        if (
            planned is not None
            and planned.outcome is None
            and planned.answer
            and planned.answer_sync < self._syncs
        ):
            # Sent after the client applied the edit, this sync would have shown it.
            log.info("edit %s was answered applied but never applied", planned.owner)
            self._settle(planned, Outcome.REJECTED)
        for ghost in list(self._ghosts):
            if ghost.answer is not None and ghost.answer_sync < self._syncs:
                self._ghosts.remove(ghost)  # past the last sync that could show it
        self._sync.set()

    def _observe(self, change: Change) -> None:
        planned = self._inflight
        if planned is not None and planned.outcome is None:
            if self._landed(planned, change):
                return
            if planned.versioned:
                # A versioned edit applies on its version or not at all: the first change
                # after it was sent is either that edit or proof that it never applied.
                self._settle(planned, Outcome.REJECTED)
        for ghost in list(self._ghosts):
            if self._landed(ghost, change):
                return
        self._map_all(change)

    def _landed(self, planned: Planned, change: Change) -> bool:
        """If `change` is `planned` arriving, account for it and say so."""
        buffer = self.document.buffer
        raw = Change(buffer.loc(planned.raw.start), buffer.loc(planned.raw.end), planned.text)
        ours = joined(buffer, raw)
        if not same_effect(buffer, ours, change):
            return False
        owner = planned.owner
        lost = planned.outcome is Outcome.REJECTED
        if lost:
            self._ghosts.remove(planned)
        # A lost writer edit's text was queued again, a finished replacement was redone:
        # such a copy is a duplicate wherever it landed.
        duplicate = (lost and isinstance(owner, Writer)) or (
            isinstance(owner, Replacement) and owner.done.done()
        )
        if not duplicate and (raw.start, raw.end) == _anchor(owner):
            self._accept(owner, ours, planned.text)
        else:
            log.info("edit landed off its anchor at %s, repairing", ours.start)
            if not lost and isinstance(owner, Writer) and not owner.closed:
                owner.pending = planned.text + owner.pending
            self._undo(ours, owner.label)
        if not lost:
            self._settle(planned, Outcome.APPLIED)
        return True

    def _accept(self, owner: Owner, ours: Change, text: str) -> None:
        self._map_all(ours, skip=owner.region)
        if isinstance(owner, Writer):
            owner.region.end = ours.new_end
            owner.placed += text
            return
        start = owner.region.start
        owner.region.end = ours.new_end
        for edge in owner.displaced:
            if edge.region in self.regions:
                loc = end_of_insert(start, owner.text[: edge.offset])
                setattr(edge.region, edge.edge, loc)
        self._replacements.remove(owner)
        owner.settle(True)

    def _undo(self, landed: Change, label: str) -> None:
        """Queue the repair of a stray change: put back what it replaced.

        The repair carries the stray edit's label, so that an editor grouping edits by label
        keeps a generation, repairs included, one undo step.
        """
        buffer = self.document.buffer
        replaced = buffer.slice(landed.start, landed.end)
        # Anchors in or at the edges of the text it replaced collapse onto one place; the
        # repair puts each back where it was in that text. (A stray insertion needs none:
        # removing it maps every anchor back by itself.)
        displaced = [
            Displaced(region, edge, len(buffer.slice(landed.start, loc)))
            for region in self.regions
            for edge, loc in (("start", region.start), ("end", region.end))
            if landed.start < landed.end and landed.start <= loc <= landed.end
        ]
        self._map_all(landed)
        if landed.text:
            region = Region(landed.start, landed.new_end)
            self._queue_repair(Replacement(region, replaced, label, landed.text, displaced))
            return
        # A stray deletion. What the user types at its place before the text is back must
        # not end up inside a region: the text goes back in two pieces, the part before the
        # first region it holds staying before such typing, the rest going after it.
        cut = self._cut(displaced, len(replaced))
        head = [e for e in displaced if e.offset < cut or (e.offset == cut and e.edge == "end")]
        tail = [attrs.evolve(e, offset=e.offset - cut) for e in displaced if e not in head]
        pieces = [(replaced[:cut], Gravity.LEFT, head), (replaced[cut:], Gravity.RIGHT, tail)]
        if not pieces[0][0]:
            pieces = [(replaced, Gravity.RIGHT, displaced)]
        elif not pieces[1][0]:
            pieces = [(replaced, Gravity.LEFT, displaced)]
        for text, gravity, edges in reversed(pieces):  # queued at the front, so in reverse
            region = Region(landed.start, landed.start, gravity)
            self._queue_repair(Replacement(region, text, label, "", edges))

    def _cut(self, displaced: list[Displaced], length: int) -> int:
        """Where put-back text divides: at the first region that starts in it, else after
        the last one that ends in it, else at its end (repairs' own regions aside)."""
        strays = [r.region for r in self._replacements if r.expected is not None]
        kept = [e for e in displaced if not any(e.region is stray for stray in strays)]
        starts = [e.offset for e in kept if e.edge == "start"]
        ends = [e.offset for e in kept if e.edge == "end"]
        return min(starts) if starts else max(ends) if ends else length

    def _queue_repair(self, repair: Replacement) -> None:
        self.track(repair.region)
        region = repair.region

        def finished(_: asyncio.Future[bool]) -> None:
            self.untrack(region)
            self._update_all_idle()

        repair.done.add_done_callback(finished)
        self._replacements.appendleft(repair)
        self._kick()

    def _salvage(self, repair: Replacement, actual: str) -> None:
        """The user changed stray text: repair what is still ours either side of the change.

        What they typed or removed stays as they left it; if nothing of the stray text is
        left at either edge, it is theirs now.
        """
        expected, start = repair.expected or "", repair.region.start
        prefix = common_prefix(actual, expected)
        suffix = common_prefix(actual[prefix:][::-1], expected[prefix:][::-1])
        pieces: list[Replacement] = []
        if suffix:
            tail = Region(end_of_insert(start, actual[: len(actual) - suffix]), repair.region.end)
            pieces.append(Replacement(tail, "", repair.label, expected[len(expected) - suffix :]))
        if prefix:
            head = Region(start, end_of_insert(start, actual[:prefix]))
            pieces.append(Replacement(head, "", repair.label, expected[:prefix]))
        if pieces:
            # What the stray edit replaced goes back at its first piece.
            pieces[-1].text, pieces[-1].displaced = repair.text, repair.displaced
        repair.settle(False)
        for piece in pieces:
            self._queue_repair(piece)

    def _map_all(self, change: Change, skip: Region | None = None) -> None:
        for region in self.regions:
            if region is not skip:
                region.map(change)

    def _update_idle(self, writer: Writer) -> None:
        repairing = any(r.expected is not None for r in self._replacements)
        if not writer.pending and not self.inflight_for(writer) and not repairing:
            writer.idle.set()

    def _update_all_idle(self) -> None:
        for writer in self._writers:
            self._update_idle(writer)


def _anchor(owner: Owner) -> tuple[Loc, Loc]:
    """Where the owner's next edit belongs: the end of a writer, the whole of a replacement."""
    if isinstance(owner, Writer):
        return owner.region.end, owner.region.end
    return owner.region.start, owner.region.end
