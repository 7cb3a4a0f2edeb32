"""Streaming through the real server over stdio, in each client style, while a typist types.

The property test draws the document, the model's chunks and their timing, and the typist's
actions and pauses: 6 examples per style (5 styles), one server per style. The other tests
hammer one long stream per style, run generations side by side, and go through the text
edge cases (CRLF, no final newline, empty document, the very end, UTF-32).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini_lsp.emulator import Emulator
from tests.clients import STYLES
from tests.engine.serving import Session, Stream, session
from tests.engine.strategies import chunks
from tests.engine.typist import actions

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
    async with session(STYLES[request.param], tmp_path, emulator) as started:
        yield started


@pytest.mark.parametrize("live", sorted(STYLES), indirect=True)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_streams_land_exactly_once_in_place(live: Session, data: st.DataObject) -> None:
    text, offset = data.draw(documents_with_a_blank_line(), label="document")
    pieces = data.draw(chunks(6), label="chunks")
    delays = data.draw(
        st.lists(st.sampled_from([0, 5, 20]), min_size=len(pieces), max_size=len(pieces))
    )
    plan = data.draw(actions(8, delays=(0.0, 0.01, 0.04, 0.1)), label="typist")
    stream = Stream(live.open(text), offset, pieces, delays, plan)
    await live.run(stream)
    live.check(stream)
    live.client.close(stream.document)
