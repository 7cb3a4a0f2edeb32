"""The streaming edit engine: a document's generated text, sent as `workspace/applyEdit`s.

Clients differ in when they tell the server what their document looks like: at once, after a
debounce, after the user is idle, only once a blocking request has been answered, and in
batches of many changes. The pump never waits for that. It keeps two views of a document:

- the *synced* one: the text the client last sent, with every tracked place in it;
- the *ahead* one: the synced text with every edit the client has not shown back yet
  applied, as the client will have it. The next edit is planned against it, so text keeps
  flowing while the client's sync is late or never comes until a request ends.

One edit is in flight (unanswered) at a time; what arrives meanwhile is merged into the next
one. An edit answered `applied: true` counts as placed at once, and is confirmed when a synced
document shows it. Changes are recognised as ours by their effect on the text, not by how the
client describes them (clients that diff buffers may report an insertion shifted). A synced
document proves an edit wrong in three ways, and only then is anything sent again:

- a client applies edits in the order they were sent, so an edit that shows up proves that
  every earlier one that has not shown up never applied;
- a client applies an edit before it answers, so a sync that comes after an `applied: true`
  answer shows the edit if it was applied at all (Neovim skips a stale versioned edit and
  answers `applied: true`);
- a versioned edit applies on the version it names or not at all, so if a change the
  server did not make comes before it in the sync, it never applied. Past the synced
  document the version is a guess, one more for each edit not yet shown: a client whose
  user typed meanwhile refuses it, and a wrong guess is refused too, which is safe.
  Version 0 is never sent: Neovim does not check it.

An unversioned edit applies at the raw position sent, which may have gone stale while the user
typed. When it lands somewhere other than its anchor it is undone there (a repair) and its
text goes again at the anchor, together with the text of the writer's later edits, which
landed after it: those are undone wherever they turn up. A repair removes only what is still
the stray text: if the user typed inside it, their typing stays. Text a stray edit removed goes
back where it was, and the anchors it swallowed get their places back.

A refused edit is not a failure: its text waits for the client's next sync (a stale versioned
edit) or a quiet moment (VS Code refuses an unversioned edit that races a keystroke), then goes
again. Only a client that refuses everything, or answers nothing, for `edit_timeout` seconds
fails the document's generations.

Each writer's generated characters are kept as pieces, so that removing a generation (revert,
discard) takes out what it wrote and leaves what the user typed inside or beside it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable

import attrs
from lsprotocol import types

from gemini_lsp.engine.anchor import Change, Gravity, Region, carve
from gemini_lsp.engine.documents import Document, common_prefix, joined
from gemini_lsp.engine.text import Loc, TextBuffer, end_of_insert

log = logging.getLogger(__name__)

SendEdit = Callable[[types.ApplyWorkspaceEditParams], Awaitable[types.ApplyWorkspaceEditResult]]

# A client that answers no edit, or refuses every edit, this long fails the generations.
EDIT_TIMEOUT_SECONDS = 10.0
# A refused unversioned edit is remembered only from this length on: the client most likely
# told the truth, and a user could type the same few characters at the same place.
GHOST_MIN_CHARS = 4
# Two descriptions of a change further apart than this many lines are never the same.
MATCH_WINDOW_LINES = 64
# A stale versioned edit waits this long for the client's next sync; past it the text goes
# unversioned, planned against what the server knows (a client may sync nothing until the
# request that makes the edits is answered).
REFUSAL_WAIT_SECONDS = 1.0
# An unversioned refusal with nothing new from the client waits for its next sync this long.
RETRY_WAIT_SECONDS = 0.2
# After a refusal the next try waits for the client to be quiet this long, RETRY_MAX_SECONDS
# at most: the sync that follows a refusal comes right after a keystroke.
RETRY_QUIET_SECONDS = 0.05
RETRY_MAX_SECONDS = 1.0
# Removing a generation's pieces waits this long for a sync that confirms its text.
SYNC_WAIT_SECONDS = 0.5
# A refinement waits this long for the editor to show the text it replaces.
REFINE_WAIT_SECONDS = 2.0


class Writer:
    """Generated text flowing into the end of one region of a document."""

    def __init__(self, region: Region, label: str) -> None:
        self.region = region
        self.label = label
        self.pending = ""  # produced but not sent yet
        self.placed = ""  # sent and applied (or confirmed), in order
        self.closed = False  # no more text will be accepted (cancelled or finished)
        self.idle = asyncio.Event()  # nothing of this writer's is pending, unanswered or astray
        self.idle.set()


@attrs.frozen
class Displaced:
    """An anchor edge a stray edit swallowed: `offset` characters into the text restored."""

    region: Region
    edge: str  # "start" or "end"
    offset: int


class Stage(enum.Enum):
    QUEUED = "queued"  # to be planned
    SENT = "sent"  # in flight
    APPLIED = "applied"  # answered applied, not yet shown by a sync
    CONFIRMED = "confirmed"  # shown by a sync
    DROPPED = "dropped"  # given up


class Replacement:
    """A one-off replacement of a region's text, settled through `done` once applied."""

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
        # The replacement only goes ahead while the region still holds this text, since a
        # repair or a removal must never remove what the user wrote.
        self.expected = expected
        self.displaced = displaced or []
        self.stage = Stage.QUEUED
        self.repair = False  # undoes a stray edit (queued by the pump itself)
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def settle(self, applied: bool) -> None:
        if not self.done.done():
            self.done.set_result(applied)


Owner = Writer | Replacement


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


class Places:
    """One view of a document: its text, the tracked regions and each writer's pieces."""

    def __init__(
        self,
        buffer: TextBuffer,
        regions: dict[Region, Region],
        pieces: dict[Writer, list[Region]],
    ) -> None:
        self.buffer = buffer
        self.regions = regions  # tracked region -> where it is in this view
        self.pieces = pieces  # writer -> where its generated characters are, in order

    def copy(self) -> Places:
        twins = {key: Region(r.start, r.end, r.empty_gravity) for key, r in self.regions.items()}
        pieces = {w: [Region(p.start, p.end) for p in spans] for w, spans in self.pieces.items()}
        return Places(self.buffer.copy(), twins, pieces)

    def anchor(self, owner: Owner) -> tuple[Loc, Loc] | None:
        """Where the owner's next edit belongs: the end of a writer, the whole of a replacement."""
        region = self.regions.get(owner.region)
        if region is None:
            return None
        if isinstance(owner, Writer):
            return region.end, region.end
        return region.start, region.end

    def foreign(self, change: Change, skip: Region | None = None) -> None:
        for key, region in self.regions.items():
            if key is not skip:
                region.map(change)
        for writer, spans in self.pieces.items():
            self.pieces[writer] = [part for span in spans for part in carve(span, change)]

    def place(self, owner: Owner, change: Change) -> None:
        """`change` is the owner's own edit, at its anchor."""
        # A place exactly at a writer's end is after its text, whatever its gravity says
        # about the user's typing: another generation there stays after this one.
        after = [
            r
            for key, r in self.regions.items()
            if isinstance(owner, Writer)
            and key is not owner.region
            and r.start == r.end
            and r.start == change.start
        ]
        self.foreign(change, skip=owner.region)
        for place in after:
            place.start = place.end = change.new_end
        region = self.regions[owner.region]
        region.end = change.new_end
        if isinstance(owner, Writer):
            spans = self.pieces.setdefault(owner, [])
            if spans and spans[-1].end == change.start:
                spans[-1].end = change.new_end
            elif change.text:
                spans.append(Region(change.start, change.new_end))
            return
        for edge in owner.displaced:
            twin = self.regions.get(edge.region)
            if twin is not None:
                setattr(twin, edge.edge, end_of_insert(region.start, owner.text[: edge.offset]))


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
        document.observer = self._observe
        document.on_synced = self._synced
        self.edits_sent = 0

    # -- what the generations ask for -------------------------------------------------------

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

    def add_writer(self, writer: Writer) -> None:
        self.track(writer.region)
        self._writers.append(writer)
        self._here.pieces[writer] = []

    def forget(self, writer: Writer) -> None:
        """Nothing will ask about the writer's text any more."""
        self.close_writer(writer)
        if writer.region in self._tracked:
            self.untrack(writer.region)
        self._here.pieces.pop(writer, None)
        self._ahead = None

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

    def replace(
        self, region: Region, text: str, label: str, expected: str | None = None
    ) -> asyncio.Future[bool]:
        replacement = Replacement(region, text, label, expected)
        self._own(replacement)
        self._replacements.append(replacement)
        self._kick()
        return replacement.done

    async def remove_generated(self, writer: Writer, text: str, label: str) -> bool:
        """Take out what `writer` wrote, putting `text` where its first piece was; what the
        user typed inside or beside it stays."""
        # The pieces are certain once the client has synced the writer's edits; a client
        # that syncs nothing meanwhile (a blocking request) cannot have typed either.
        if not await self.confirmed(writer, SYNC_WAIT_SECONDS):
            view = self._view()
            region = view.regions[writer.region]
            expected = view.buffer.slice(region.start, region.end)
            return await self.replace(writer.region, text, label, expected)
        buffer = self.document.buffer
        pieces = self._here.pieces.get(writer, [])
        if not pieces:
            at = writer.region.start
            return True if not text else await self.replace(Region(at, at), text, label)
        removals = []
        for index, piece in enumerate(pieces):
            region = Region(piece.start, piece.end)
            expected = buffer.slice(piece.start, piece.end)
            removals.append(self.replace(region, text if index == 0 else "", label, expected))
        return all(await asyncio.gather(*removals))

    async def confirmed(self, writer: Writer, seconds: float) -> bool:
        """Whether the client has shown all of the writer's text, waiting `seconds` at most
        for the syncs that would."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._unconfirmed(writer):
            remaining = deadline - loop.time()
            if remaining <= 0 or self.document.closed:
                return False
            self._sync.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._sync.wait(), remaining)
        return True

    def where(self, region: Region) -> types.Range:
        """Where a tracked region is, as the client will have it."""
        view = self._view()
        place = view.regions.get(region, region)
        return view.buffer.range(place.start, place.end)

    def stop(self) -> None:
        """The document is gone: settle everything at once."""
        if self._task is not None:
            self._task.cancel()
        for replacement in self._replacements:
            replacement.stage = Stage.DROPPED
            replacement.settle(False)
        self._replacements.clear()
        for entry in self._log:
            if entry.watchdog is not None:
                entry.watchdog.cancel()
            entry.answered.set()
        self._log.clear()
        self._inflight = None
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
        if self._inflight is not None:
            return  # its answer restarts the loop
        planned = None
        if now and not self._replacements:  # planning a replacement may queue repairs
            planned = self._send_next()
            if planned is None:
                return
        self._task = asyncio.get_running_loop().create_task(self._run(planned))

    def _send_next(self) -> Planned | None:
        if self.document.closed or self.failure is not None or self._inflight is not None:
            return None
        planned = self._plan()
        if planned is not None:
            self._dispatch(planned)
        return planned

    async def _run(self, planned: Planned | None) -> None:
        try:
            while planned is not None or (planned := self._send_next()) is not None:
                await planned.answered.wait()
                if planned.answer is False and planned.state is State.REFUSED:
                    await self._after_refusal(planned)
                planned = None
        finally:
            self._task = None
            self._update_all_idle()

    async def _after_refusal(self, planned: Planned) -> None:
        loop = asyncio.get_running_loop()
        if self._refused_since is not None and (
            loop.time() - self._refused_since >= self.edit_timeout
        ):
            self._give_up(
                f"The editor refused every edit to {self.document.uri} for "
                f"{self.edit_timeout:g} s — is the file read-only?"
            )
            return
        if self.document.version == planned.sent_version:
            # Nothing new from the client since it was sent. A stale versioned edit means the
            # client has changes it has not synced: wait for them, but not for ever.
            wait = REFUSAL_WAIT_SECONDS if planned.versioned else RETRY_WAIT_SECONDS
            try:
                await asyncio.wait_for(self._sync.wait(), wait)
            except asyncio.TimeoutError:
                if planned.versioned:
                    self._unversioned = True
        await self._quiet_spell()

    async def _quiet_spell(self) -> None:
        """Until the client has synced nothing for a moment (for a while at most): retrying
        right after a keystroke would race the next one."""
        loop = asyncio.get_running_loop()
        latest = loop.time() + RETRY_MAX_SECONDS
        while (now := loop.time()) < latest:
            wait = self._last_sync + RETRY_QUIET_SECONDS - now
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, latest - now))

    def _give_up(self, failure: str, stuck: bool = False) -> None:
        self.failure = failure
        self._stuck = stuck
        log.warning("%s", failure)
        for replacement in self._replacements:
            if replacement.stage in (Stage.QUEUED, Stage.SENT):
                replacement.settle(False)
        for writer in self._writers:
            self.close_writer(writer)

    def _unconfirmed(self, writer: Writer) -> bool:
        return any(e.owner is writer and e.state is State.OUT for e in self._log)

    def _view(self) -> Places:
        """The document as the client will have it once it applies what was sent."""
        replay = [e for e in self._log if self._ahead_of_sync(e)]
        if not replay:
            self._ahead = None
            return self._here
        if self._ahead is None:
            self._ahead = self._here.copy()
            for entry in replay:
                self._replay(self._ahead, entry)
        return self._ahead

    @staticmethod
    def _ahead_of_sync(entry: Planned) -> bool:
        # An orphan is most likely where it was sent, unless its version was stale.
        orphan = entry.state is State.ORPHAN and entry.answer is not False and not entry.doomed
        return entry.state is State.OUT or orphan

    def _replay(self, view: Places, entry: Planned) -> None:
        buffer = view.buffer
        raw = Change(buffer.loc(entry.raw.start), buffer.loc(entry.raw.end), entry.text)
        change = joined(buffer, raw)
        if entry.state is State.OUT and (raw.start, raw.end) == view.anchor(entry.owner):
            view.place(entry.owner, change)
        else:
            view.foreign(change)
        buffer.replace(change.start, change.end, change.text)

    def _plan(self) -> Planned | None:
        view = self._view()
        for replacement in list(self._replacements):
            if replacement.stage is not Stage.QUEUED:
                continue
            region = view.regions[replacement.region]
            if replacement.expected is not None:
                actual = view.buffer.slice(region.start, region.end)
                if actual != replacement.expected:
                    if view is not self._here:
                        continue  # the synced document will tell what happened
                    self._salvage(replacement, actual)
                    return self._plan()
                if (
                    replacement.repair
                    and not self.versioned
                    and not self._holds_either_way(view, region, replacement.expected)
                ):
                    # Nothing protects an unversioned removal planned on a guess: it goes only
                    # if the text is right whether or not the client applied what it has not
                    # shown yet; otherwise it waits for a sync.
                    continue
            return self._planned(replacement, region.start, region.end, replacement.text, view)
        for index, writer in enumerate(self._writers):
            if writer.pending:
                # Round-robin: the writer served goes to the back of the line.
                self._writers.append(self._writers.pop(index))
                text, writer.pending = writer.pending, ""
                end = view.regions[writer.region].end
                return self._planned(writer, end, end, text, view)
        self._update_all_idle()
        self._writers = [w for w in self._writers if not (w.closed and w.idle.is_set())]
        return None

    def _holds_either_way(self, view: Places, region: Region, expected: str) -> bool:
        if view is self._here:
            return True
        raw = view.buffer.range(region.start, region.end)
        synced = self.document.buffer
        return synced.slice(synced.loc(raw.start), synced.loc(raw.end)) == expected

    def _planned(self, owner: Owner, start: Loc, end: Loc, text: str, view: Places) -> Planned:
        # Past the synced document, the version is a guess: one more for each edit the
        # client has yet to show. A wrong guess is refused, which is safe.
        ahead = sum(1 for e in self._log if self._ahead_of_sync(e))
        version = self.document.version + ahead
        # Only insertions fall back to unversioned edits: a removal planned on a document
        # the client may since have changed could take the user's text with it.
        fallback = self._unversioned and isinstance(owner, Writer)
        versioned = self.versioned and not fallback and version > 0
        planned = Planned(owner, view.buffer.range(start, end), text, versioned)
        planned.version = version
        return planned

    def _dispatch(self, planned: Planned) -> None:
        """Send `planned`; it is in flight until answered."""
        self._inflight = planned
        self.edits_sent += 1
        planned.seq = next(self._seq)
        planned.sent_version = self.document.version
        if isinstance(planned.owner, Replacement):
            planned.owner.stage = Stage.SENT
        self._log.append(planned)
        if self._ahead is not None:
            self._replay(self._ahead, planned)
        self._sync.clear()
        answer = asyncio.ensure_future(self._send_edit(self._params(planned)))
        answer.add_done_callback(functools.partial(self._answered, planned))
        loop = asyncio.get_running_loop()
        planned.watchdog = loop.call_later(self.edit_timeout, self._overdue, planned)

    def _overdue(self, planned: Planned) -> None:
        if planned.answer is None and self.failure is None:
            self._give_up(
                f"The editor has not answered an edit to {self.document.uri} for "
                f"{self.edit_timeout:g} s (geminiLsp.editTimeoutSeconds) — is it waiting "
                "for a dialog, or hung?",
                stuck=True,
            )

    def _params(self, planned: Planned) -> types.ApplyWorkspaceEditParams:
        uri = self.document.uri
        text_edit = types.TextEdit(planned.raw, planned.text)
        if planned.versioned:
            identifier = types.OptionalVersionedTextDocumentIdentifier(
                uri=uri, version=planned.version
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
            log.info("the client failed an edit: %s", error)
        else:
            applied = future.result().applied
        # This runs a little after the answer arrived, so a sync counted here may have come
        # after it: that only makes the wait for the sync that shows the edit longer.
        planned.answer = applied
        planned.answer_sync = self._syncs
        if planned.watchdog is not None:
            planned.watchdog.cancel()
        if self._inflight is planned:
            self._inflight = None
        if self._stuck:  # the client answers again
            self._stuck = False
            self.failure = None
        if planned.state is State.OUT:
            if applied:
                self._refused_since = None
                self._count(planned)
                owner = planned.owner
                if isinstance(owner, Replacement) and owner.stage is Stage.SENT:
                    owner.stage = Stage.APPLIED
                    owner.settle(True)
            else:
                self._refuse(planned)
        elif planned.state is State.ORPHAN and not applied:
            self._settle_entry(planned)
        planned.answered.set()
        self._update_all_idle()
        if self._task is None:
            self._kick()

    def _refuse(self, planned: Planned) -> None:
        planned.state = State.REFUSED
        if planned.versioned or len(planned.text) < GHOST_MIN_CHARS:
            self._settle_entry(planned)
        self._ahead = None
        owner = planned.owner
        if isinstance(owner, Writer):
            if not owner.closed:
                owner.pending = planned.text + owner.pending
        elif owner.stage is Stage.SENT:
            owner.stage = Stage.QUEUED  # planned again on the new text
        if self._refused_since is None:
            self._refused_since = asyncio.get_running_loop().time()

    def _count(self, planned: Planned) -> None:
        if not planned.counted and isinstance(planned.owner, Writer):
            planned.counted = True
            planned.owner.placed += planned.text

    def _lose(self, planned: Planned, may_land: bool = False) -> None:
        """`planned` never applied, or applied off its anchor: its text goes again, and so
        does that of its writer's later edits, which must then not stay where they land.
        With `may_land` it is not certain yet: if it turns up, it is undone there."""
        owner = planned.owner
        later = [
            e
            for e in self._log
            if e.owner is owner and e.state is State.OUT and e.seq > planned.seq
        ]
        if may_land:
            planned.state = State.ORPHAN
        else:
            planned.state = State.LOST
            self._settle_entry(planned)
        self._ahead = None
        if isinstance(owner, Writer):
            chain = [planned, *later]
            counted = sum(len(e.text) for e in chain if e.counted)
            owner.placed = owner.placed[: len(owner.placed) - counted]
            for entry in chain:
                entry.counted = False
            for entry in later:
                entry.state = State.ORPHAN
            if not owner.closed:
                owner.pending = "".join(e.text for e in chain) + owner.pending
                owner.idle.clear()
        elif owner.stage in (Stage.SENT, Stage.APPLIED):
            owner.stage = Stage.QUEUED
        self._kick()

    def _settle_entry(self, planned: Planned) -> None:
        if planned in self._log:
            self._log.remove(planned)
        if planned.watchdog is not None:
            planned.watchdog.cancel()

    # -- what the client syncs back --------------------------------------------------------

    def _synced(self) -> None:
        self._syncs += 1
        self._last_sync = asyncio.get_running_loop().time()
        self._unversioned = False
        for entry in list(self._log):
            if entry.answer is None or entry.answer_sync >= self._syncs:
                continue  # this sync may have been sent before the client had it
            if entry.state is State.OUT and entry.answer:
                log.info("edit %s was answered applied but never applied", entry.seq)
                self._lose(entry)
            else:
                self._settle_entry(entry)  # past the last sync that could show it
        self._ahead = None
        self._sync.set()
        self._update_all_idle()
        self._kick()

    def _observe(self, change: Change) -> None:
        self._ahead = None
        # An edit the client said it applied is likelier than one it refused or one whose
        # text already went again: they are tried first.
        order = sorted(range(len(self._log)), key=lambda i: self._log[i].state is not State.OUT)
        for index in order:
            entry = self._log[index]
            landed = self._landed(entry, change)
            if landed is None:
                continue
            # Edits apply in the order they were sent: the ones before it never will.
            for earlier in self._log[:index]:
                if earlier.state is State.OUT:
                    self._lose(earlier)
                else:
                    self._settle_entry(earlier)
            self._arrive(entry, landed)
            return
        for entry in self._log:
            if entry.state is State.OUT and entry.versioned and not entry.doomed:
                # It could apply only on the version it named, which this change ended.
                entry.doomed = True
                if entry.answer is not False:
                    # Its text goes again now: the answer, whatever it says, changes nothing.
                    # (A guessed version may have met the user's own change: if the edit
                    # turns up all the same, it is undone.)
                    self._lose(entry, may_land=True)
                    if self._inflight is entry:
                        self._inflight = None
                        entry.answered.set()
        self._here.foreign(change)

    def _landed(self, planned: Planned, change: Change) -> Change | None:
        """`planned` as the change it makes to the synced document, if `change` is it."""
        buffer = self.document.buffer
        raw = Change(buffer.loc(planned.raw.start), buffer.loc(planned.raw.end), planned.text)
        ours = joined(buffer, raw)
        return ours if same_effect(buffer, ours, change) else None

    def _arrive(self, planned: Planned, ours: Change) -> None:
        buffer = self.document.buffer
        raw_at = (buffer.loc(planned.raw.start), buffer.loc(planned.raw.end))
        owner = planned.owner
        at_anchor = raw_at == self._here.anchor(owner)
        if planned.state is State.OUT:
            if at_anchor:  # a client that ignored a stale version applied it all the same
                planned.state = State.CONFIRMED
                self._settle_entry(planned)
                self._count(planned)
                self._accept(owner, ours)
                return
            log.info("edit landed off its anchor at %s, repairing", ours.start)
            self._lose(planned)
        else:
            self._settle_entry(planned)
            if isinstance(owner, Replacement) and owner.stage is Stage.QUEUED and at_anchor:
                self._accept(owner, ours)  # refused, yet applied: it is done
                return
        self._undo(ours, owner.label)

    def _accept(self, owner: Owner, ours: Change) -> None:
        self._here.place(owner, ours)
        if isinstance(owner, Replacement):
            owner.stage = Stage.CONFIRMED
            owner.settle(True)
            self._disown(owner)

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
            Displaced(key, edge, len(buffer.slice(landed.start, loc)))
            for key, region in self._here.regions.items()
            for edge, loc in (("start", region.start), ("end", region.end))
            if landed.start < landed.end and landed.start <= loc <= landed.end
        ]
        self._here.foreign(landed)
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
        repair.repair = True
        self._own(repair)
        self._replacements.appendleft(repair)
        for writer in self._writers:
            writer.idle.clear()
        self._kick()

    def _salvage(self, repair: Replacement, actual: str) -> None:
        """The user changed the text a repair or removal expected: do it to what is still
        as expected either side of the change.

        What they typed or removed stays as they left it; if nothing of the expected text is
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
        repair.stage = Stage.DROPPED
        self._disown(repair)
        for piece in pieces:
            piece.repair = repair.repair
            self._own(piece)
            self._replacements.appendleft(piece)
        # The original's caller learns the outcome from the pieces.
        if pieces:
            results = asyncio.gather(*(piece.done for piece in pieces))
            results.add_done_callback(
                lambda done: repair.settle(not done.cancelled() and all(done.result()))
            )
        else:
            repair.settle(False)

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
