"""The generation registry: the one owner of every generation, its task and its edit pump."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from lsprotocol import types

from gemini_lsp.config import Settings
from gemini_lsp.engine.anchor import Region
from gemini_lsp.engine.documents import Document
from gemini_lsp.engine.layout import insertion_layout
from gemini_lsp.engine.postprocess import insertion_pipeline
from gemini_lsp.engine.pump import EditPump
from gemini_lsp.engine.text import Loc, end_of_insert, range_json
from gemini_lsp.engine.writer import Writer
from gemini_lsp.gemini.attachments import Attachment, with_files
from gemini_lsp.gemini.backend import GeminiBackend, ModelCall
from gemini_lsp.gemini.prompts import build_prompt, context_from_lines, refinement
from gemini_lsp.generations.generation import Generation, Kind, Limiter, Status
from gemini_lsp.generations.link import ClientLink, Stop

log = logging.getLogger(__name__)

# Finished generations remembered per document, for revert and refine.
HISTORY_PER_DOCUMENT = 20


class RegistryError(Exception):
    """A request about generations that cannot be met; the message says why."""


@attrs.frozen
class Target:
    """Where a generation writes: `[start, end)` of a document (empty for an insertion)."""

    document: Document
    start: Loc
    end: Loc


class GenerationRegistry:
    def __init__(
        self,
        backend: GeminiBackend,
        settings: Callable[[], Settings],
        link: ClientLink | None = None,
    ) -> None:
        self.backend = backend
        self._settings = settings
        self.link = link
        self._ids = itertools.count(1)
        self._generations: dict[str, Generation] = {}
        self._pumps: dict[str, EditPump] = {}
        self._limiter = Limiter(settings().max_concurrent)

    # -- starting -----------------------------------------------------------------------------

    def generate(
        self,
        target: Target,
        name: str,
        instruction: str,
        model: str | None,
        files: Sequence[Attachment],
        token: types.ProgressToken | None,
    ) -> Generation:
        """Start a generation; RegistryError when it cannot start. The caller has checked
        that the document may be sent, found what the prompt calls it (`name`) and read its
        attachments, off the event loop (`attachments.check_document`, `load_async`)."""
        settings = self._settings()
        document = target.document
        context = context_from_lines(
            document.buffer.lines,
            target.start,
            target.end,
            settings.context_lines,
            document.language_id,
            name,
        )
        prompt = build_prompt(context, instruction, settings.system_instruction)
        text = prompt.text
        if files:
            text += "\n\nAttached files, in order: " + ", ".join(f.relative for f in files)
        # The backend makes parts of the files as it sends them: their bytes are dropped
        # when the generation ends.
        turn = {"role": "user", "parts": [{"text": text}, *files]}
        call = ModelCall(model or settings.model, [turn], prompt.system_instruction, settings)
        kind = Kind.GENERATE if target.start == target.end else Kind.EDIT
        original_text = document.buffer.slice(target.start, target.end)
        return self._start(kind, target, call, original_text, token)

    def refine(
        self,
        generation_id: str,
        instruction: str,
        token: types.ProgressToken | None,
        files: Sequence[Attachment] = (),
    ) -> Generation:
        """Continue a generation's conversation; `files`: its attachments, read again."""
        previous = self._generations.get(generation_id)
        if previous is None:
            raise RegistryError(f"No generation {generation_id!r} — it may have been forgotten")
        if previous.status is not Status.COMPLETED:
            raise RegistryError(
                f"Generation {generation_id} is {previous.status.value}; only a completed "
                "generation can be refined"
            )
        if previous.document.closed:
            raise RegistryError(f"The document of generation {generation_id} is closed")
        turns = [
            *with_files(previous.call.contents, files),
            {"role": "model", "parts": [{"text": previous.raw_text}]},
            {"role": "user", "parts": [{"text": refinement(instruction)}]},
        ]
        call = attrs.evolve(previous.call, contents=turns)
        region = previous.writer.region
        target = Target(previous.document, region.start, region.end)
        # The earlier text is what a revert of the refinement puts back.
        refined = self._start(Kind.REFINE, target, call, previous.writer.placed, token)
        self._forget(previous)
        return refined

    def _start(
        self,
        kind: Kind,
        target: Target,
        call: ModelCall,
        original_text: str,
        token: types.ProgressToken | None,
    ) -> Generation:
        link = self._require_link()
        settings = call.settings
        self._limiter.limit = settings.max_concurrent
        document = target.document
        pump = self._pump_for(document)
        pump.edit_timeout = settings.edit_timeout_seconds
        generation_id = f"g{next(self._ids)}"
        writer = Writer(Region(target.start, target.start), f"Gemini generation {generation_id}")
        pump.add_writer(writer)
        original = None
        if kind is not Kind.GENERATE:
            original = Region(target.start, target.end)
            pump.track(original)
        layout = insertion_layout(document.buffer.lines, target.start, target.end)
        transform = insertion_pipeline(
            layout.indent,
            layout.at_line_start,
            layout.drop_final_newline,
            layout.single_final_newline,
        )
        progress = link.progress(token)
        generation = Generation(
            id=generation_id,
            kind=kind,
            document=document,
            pump=pump,
            writer=writer,
            original=original,
            original_text=original_text,
            call=call,
            transform=transform,
            progress=progress,
            settings=settings,
        )
        self._generations[generation_id] = generation
        generation.task = asyncio.get_running_loop().create_task(
            generation.run(self.backend, self._limiter)
        )
        self._trim_history(document)
        return generation

    def _require_link(self) -> ClientLink:
        if self.link is None:
            raise RegistryError("The server is not initialized yet")
        return self.link

    def _pump_for(self, document: Document) -> EditPump:
        pump = self._pumps.get(document.uri)
        if pump is None or pump.document is not document:
            link = self._require_link()
            pump = EditPump(document, link.send_edit, link.versioned_edits)
            self._pumps[document.uri] = pump
        return pump

    # -- finding ------------------------------------------------------------------------------

    def get(self, generation_id: str) -> Generation | None:
        return self._generations.get(generation_id)

    def running(self) -> list[Generation]:
        return [g for g in self._generations.values() if g.status is Status.RUNNING]

    def by_progress_token(self, token: types.ProgressToken) -> Generation | None:
        for generation in self.running():
            if generation.progress.token == token:
                return generation
        return None

    def counts(self) -> dict[str, int]:
        """What the registry holds (the soak test checks it does not grow with use)."""
        return {
            "generations": len(self._generations),
            "running": len(self.running()),
            "pumps": len(self._pumps),
        }

    def latest(self, uri: str | None) -> Generation | None:
        candidates = [
            g
            for g in self._generations.values()
            if (uri is None or g.document.uri == uri) and not g.document.closed
        ]
        return candidates[-1] if candidates else None

    # -- stopping and undoing -----------------------------------------------------------------

    def cancel(self, generation_id: str | None, uri: str | None) -> list[Generation]:
        if generation_id is not None:
            chosen = [g for g in self.running() if g.id == generation_id]
        else:
            chosen = [g for g in self.running() if uri is None or g.document.uri == uri]
        for generation in chosen:
            generation.stop(Stop.CANCELLED)
        return chosen

    async def revert(self, generation: Generation) -> dict[str, Any]:
        """Put back exactly what was there before `generation`, in one edit."""
        if generation.status is Status.RUNNING:
            generation.stop(Stop.CANCELLED)
            await asyncio.shield(generation.outcome)
        writer = generation.writer
        if writer.placed == "" and generation.kind is Kind.GENERATE:
            raise RegistryError(f"Generation {generation.id} left nothing to revert")
        if generation.status is not Status.COMPLETED and generation.kind is not Kind.GENERATE:
            raise RegistryError(f"Generation {generation.id} already left the text as it was")
        # Its own label: editors group a generation's edits into one undo step by label, and
        # the revert must be a step of its own. What the user typed inside stays.
        applied = await generation.pump.remove_generated(
            writer, generation.original_text, f"Gemini revert {generation.id}"
        )
        if not applied:
            raise RegistryError(f"The editor did not accept the revert of {generation.id}")
        start = generation.pump.where(writer.region).start
        reverted = types.Range(start, start)
        if generation.original_text:
            buffer = generation.document.buffer
            end = end_of_insert(buffer.loc(start), generation.original_text)
            reverted = types.Range(start, buffer.position(buffer.clamp(end)))
        self._forget(generation)
        return {
            "id": generation.id,
            "range": range_json(reverted),
            "text": generation.original_text,
        }

    def document_closed(self, document: Document) -> None:
        for generation in list(self._generations.values()):
            if generation.document is document:
                generation.stop(Stop.CLOSED)
                # Forgotten at once, running or not: it winds down on its own (no edit goes to
                # a closed document) and nothing can refer to it any more.
                self._forget(generation)
        pump = self._pumps.pop(document.uri, None)
        if pump is not None and pump.document is document:
            pump.stop()

    def stop_all(self) -> None:
        for generation in self.running():
            generation.stop(Stop.CANCELLED)

    def _forget(self, generation: Generation) -> None:
        self._generations.pop(generation.id, None)
        generation.pump.forget(generation.writer)

    def _trim_history(self, document: Document) -> None:
        finished = [
            g
            for g in self._generations.values()
            if g.document is document and g.status is not Status.RUNNING
        ]
        for generation in finished[: max(len(finished) - HISTORY_PER_DOCUMENT, 0)]:
            self._forget(generation)
