"""Streaming through the real server over stdio, in each client style, while a typist types.

The property test draws the document, the model's chunks and their timing, and the typist's
actions and pauses: 10 examples per style (5 styles), one server per style. ("emacs" is a
plain client with Emacs' capabilities: UTF-32.) The other tests
hammer one long stream per style, run generations side by side, and go through the text
edge cases (CRLF, no final newline, empty document, the very end, UTF-32).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gemini_lsp.emulator import Emulator
from testkit.styles import STYLES
from testkit.typist import PIECES, PLACES, Action, actions
from tests.engine.serving import Session, Stream, session
from tests.engine.strategies import chunks, examples

WORDS = ("a", "b", "é", "中", "😀", "e\u0301")


@st.composite
def documents_with_a_blank_line(draw: st.DrawFn) -> tuple[str, int]:
    """A text and the offset of a blank line in it, where code at column 0 belongs."""
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    line = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map("".join)
    before = draw(st.lists(line, max_size=3))
    after = draw(st.lists(line, max_size=3))
    final = draw(st.booleans())
    head = "".join(text + eol for text in before)
    tail = eol.join(["", *after]) + (eol if final and after else "")
    return head + tail, len(head)


@pytest.fixture
async def live(
    request: pytest.FixtureRequest, tmp_path: Path, emulator: Emulator
) -> AsyncIterator[Session]:
    """One server for the whole test function, whatever hypothesis runs in it."""
    style = STYLES.get(request.param, request.param)
    async with session(style, tmp_path, emulator) as started:
        yield started


@pytest.mark.parametrize("live", sorted(STYLES), indirect=True)
@examples(10)
@given(data=st.data())
async def test_streams_land_exactly_once_in_place(live: Session, data: st.DataObject) -> None:
    text, offset = data.draw(documents_with_a_blank_line(), label="document")
    pieces = data.draw(chunks(6), label="chunks")
    delays = data.draw(
        st.lists(st.sampled_from([0.0, 5.0, 20.0]), min_size=len(pieces), max_size=len(pieces))
    )
    plan = data.draw(actions(8, delays=(0.0, 0.01, 0.04, 0.1)), label="typist")
    stream = Stream(live.open(text), offset, pieces, delays, plan)
    await live.run(stream)
    live.check(stream)
    live.client.close(stream.document)


def hammering(seed: int, count: int) -> list[Action]:
    """A typist who never stops: before, at, inside and after the generation, in turn."""
    rng = random.Random(seed)
    return [
        Action(
            PLACES[index % len(PLACES)],
            rng.random(),
            "" if index % 4 == 3 else rng.choice(PIECES),
            rng.randint(1, 3),
            rng.choice([0.0, 0.005, 0.02, 0.05]),
        )
        for index in range(count)
    ]


CODE = [f"line{n}-{'жü🙂'[n % 3]}x\n" for n in range(30)]


@pytest.mark.parametrize("live", sorted(STYLES), indirect=True)
async def test_a_typist_hammering_around_the_stream(live: Session) -> None:
    text = "aé\nb中\n\n😀a\nbb\n"
    stream = Stream(
        live.open(text), text.index("\n\n") + 1, CODE, [15.0] * len(CODE), hammering(7, 60)
    )
    await live.run(stream)
    live.check(stream)
    assert live.client.applied, "nothing streamed"


@pytest.mark.parametrize("live", ["vscode", "neovim"], indirect=True)
async def test_concurrent_generations_in_one_document_and_across_documents(
    live: Session,
) -> None:
    text = "a\n\nb\n\nc\n\n"
    first, second = live.open(text), live.open("é\n\n")
    streams = [
        Stream(first, 2, [f"{name}{n}\n" for n in range(12)], [10.0] * 12, hammering(seed, 12))
        for name, seed in (("x", 1), ("yz", 2))
    ]
    streams[1].offset = 5
    streams.append(Stream(first, 8, ["ж\n"] * 10, [5.0] * 10))
    streams.append(Stream(second, 2, ["ü🙂\n"] * 10, [5.0] * 10, hammering(3, 10)))
    await live.run(*streams)
    for stream in streams:
        live.check(stream)


EDGE_CASES = {
    "crlf": ("a\r\n\r\nb\r\n", 3),
    "no final newline": ("a\n\nb", 2),
    "empty": ("", 0),
    "at the very end": ("a\nb\n", 4),
    "end without newline": ("a\n", 2),
    "end of a last line without newline": ("a\nb", 3),
}


@pytest.mark.parametrize("live", ["vscode", "neovim", "emacs"], indirect=True)
async def test_text_edge_cases(live: Session) -> None:
    for case, (text, offset) in EDGE_CASES.items():
        chunks = ["x😀\n", "e\u0301中\n", "yz"]
        stream = Stream(live.open(text), offset, chunks, [5.0] * 3, hammering(11, 4))
        await live.run(stream)
        try:
            live.check(stream)
        except AssertionError as error:
            raise AssertionError(f"{case}: {error}") from None
