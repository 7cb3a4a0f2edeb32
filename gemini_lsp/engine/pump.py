"""The streaming edit engine: a document's generated text, sent as `workspace/applyEdit`s.

Clients differ in when they tell the server what their document looks like: at once, after a
debounce, after the user is idle, only once a blocking request has been answered, and in
batches of many changes. The pump never waits for that. It keeps two views of a document:

- the *synced* one: the text the client last sent, with every tracked place in it;
- the *ahead* one: the synced text with every edit the client has not shown back yet
  applied, as the client will have it. The next edit is planned against it (`plan.py`), so
  text keeps flowing while the client's sync is late or never comes until a request ends.

One edit is in flight (unanswered) at a time; what arrives meanwhile is merged into the next
one. What the answers and syncs prove about the edits sent, and when their text goes again,
is `reconcile.py`. Past the synced document the version of a versioned edit is a guess, one
more for each edit not yet shown: a client whose user typed meanwhile refuses it, and a wrong
guess is refused too, which is safe. Version 0 is never sent: Neovim does not check it.

An unversioned edit applies at the raw position sent, which may have gone stale while the user
typed. When it lands somewhere other than its anchor it is undone there (a repair, `repair.py`)
and its text goes again at the anchor, together with the text of the writer's later edits,
which landed after it: those are undone wherever they turn up. A repair removes only what is
still the stray text: if the user typed inside it, their typing stays. Text a stray edit
removed goes back where it was, and the anchors it swallowed get their places back.

A refused edit is not a failure: its text waits for the client's next sync (a stale versioned
edit) or a quiet moment (VS Code refuses an unversioned edit that races a keystroke), then goes
again. Only a client that refuses everything, or answers nothing, for `edit_timeout` seconds
fails the document's generations (the watchdog).

Each writer's generated characters are kept as pieces (`places.py`), so that removing a
generation (revert, discard) takes out what it wrote and leaves what the user typed inside or
beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from lsprotocol import types

from gemini_lsp.engine.anchor import Region
from gemini_lsp.engine.documents import Document
from gemini_lsp.engine.ledger import Planned, SendEdit, State
from gemini_lsp.engine.plan import Planner
from gemini_lsp.engine.reconcile import Reconciler
from gemini_lsp.engine.repair import Repairer
from gemini_lsp.engine.writer import Replacement, Stage, Writer

log = logging.getLogger(__name__)

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


class EditPump(Reconciler, Repairer, Planner):
    """Sends one document's generated text as edits, one in flight at a time."""

    def __init__(self, document: Document, send: SendEdit, versioned: bool) -> None:
        super().__init__(document, send, versioned)
        document.observer = self._observe
        document.on_synced = self._synced

    # -- what the generations ask for -------------------------------------------------------

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
        writer.pending.append(text if eol == "\n" else text.replace("\n", eol))
        writer.idle.clear()
        self._kick(now=True)

    def close_writer(self, writer: Writer) -> None:
        """Accept no more text for `writer` and drop what was not sent."""
        writer.closed = True
        writer.pending.clear()
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

    def _unconfirmed(self, writer: Writer) -> bool:
        return any(e.owner is writer and e.state is State.OUT for e in self._log)

    # -- the loop --------------------------------------------------------------------------

    def _kick(self, now: bool = False) -> None:
        """Send the next edit if none is in flight. With `now` (the caller is not handling a
        client message, whose changes may still be landing) it goes at once, from the caller:
        a streamed chunk reaches the editor with no task to wake, ahead of the progress report
        it causes, and its answer sends the next (`_next_after`). Otherwise the loop starts,
        and sends it on its first step."""
        if self._task is not None or self.document.closed or self.failure is not None:
            return
        if self._inflight is not None:
            return  # its answer sends the next one
        if now and not self._replacements:  # planning a replacement may queue repairs
            self._send_next()
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    def _next_after(self, planned: Planned) -> None:
        if planned.answer is not False or planned.state is not State.REFUSED:
            self._kick(now=True)
        elif not self.document.closed and self.failure is None:
            # A refused edit is tried again after a wait, which the loop does.
            self._task = asyncio.get_running_loop().create_task(self._run(planned))

    def _send_next(self) -> Planned | None:
        if self.document.closed or self.failure is not None or self._inflight is not None:
            return None
        planned = self._plan()
        if planned is not None:
            self._dispatch(planned)
        return planned

    async def _run(self, refused: Planned | None = None) -> None:
        """Send edits one at a time, waiting after each refusal, until none is left."""
        try:
            if refused is not None:
                await self._after_refusal(refused)
            while (planned := self._send_next()) is not None:
                await planned.answered.wait()
                if planned.answer is False and planned.state is State.REFUSED:
                    await self._after_refusal(planned)
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

    # -- sending ---------------------------------------------------------------------------

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
