"""A typist: a user who keeps editing around, at and inside the text being generated.

It types anywhere, but deletes only what the user typed or what was there at the start,
never generated text. Its actions are data, so hypothesis can draw and shrink them.
"""

from __future__ import annotations

import asyncio

import attrs
from hypothesis import strategies as st

from testkit.document import ClientDocument, anchor_offset, as_seen_in_full, is_generated
from testkit.editor import Editor

# Where an action happens, relative to the generation: before it, exactly at its start,
# strictly inside it, exactly at its end, or after it.
PLACES = ("before", "start", "inside", "end", "after")
# What the user types: nothing the generation writes (see tests/engine/strategies.py), line
# breaks only next to the user's own characters.
PIECES = ("Q", "WR", " ", "Q\n", "\nW", "ñ", "ア", "🎉", "u\u0303")


@attrs.frozen
class Action:
    place: str
    fraction: float  # where within the place's range
    text: str  # typed ("" for a deletion)
    delete: int  # characters deleted at the place
    delay: float  # seconds before the action, for a typist running against the clock


def actions(
    max_size: int = 12, delays: tuple[float, ...] = (0.0,)
) -> st.SearchStrategy[list[Action]]:
    typing = st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).map("".join)
    action = st.one_of(
        st.builds(
            Action,
            st.sampled_from(PLACES),
            st.floats(0, 1),
            typing,
            st.just(0),
            st.sampled_from(delays),
        ),
        st.builds(
            Action,
            st.sampled_from(PLACES),
            st.floats(0, 1),
            st.just(""),
            st.integers(1, 3),
            st.sampled_from(delays),
        ),
    )
    return st.lists(action, max_size=max_size)


def eol_of(text: str) -> str:
    for index, char in enumerate(text):
        if char == "\r":
            return "\r\n" if text[index + 1 : index + 2] == "\n" else "\r"
        if char == "\n":
            return "\n"
    return "\n"


def _inside_crlf(text: str, offset: int) -> bool:
    return 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n"


def perform(
    editor: Editor, document: ClientDocument, action: Action, origin: int, original_offset: int
) -> None:
    """Carry out one action on the document, around generation `origin`."""
    text = document.text
    span = document.span(origin)
    if span is None:
        at = anchor_offset(document, original_offset)
        span = (at, at)
    place = action.place
    if place == "inside" and span[1] - span[0] < 2:
        place = "end"
    low, high = {
        "before": (0, span[0]),
        "start": (span[0], span[0]),
        "inside": (span[0] + 1, span[1] - 1),
        "end": (span[1], span[1]),
        "after": (span[1], len(text)),
    }[place]
    offset = low + round(action.fraction * (high - low))
    if _inside_crlf(text, offset):
        offset -= 1
    if action.text:
        editor.type(document, offset, action.text.replace("\n", eol_of(document.original)))
        return
    end = offset
    while (
        end < len(text) and end - offset < action.delete and not is_generated(document.origins[end])
    ):
        end += 1
    if _inside_crlf(text, end):
        end -= 1
    if editor.style.full_sync:
        # Which of equal characters goes is the server's pick: it must not be a generated one.
        start, length, _ = as_seen_in_full(text, offset, end - offset, "")
        if any(is_generated(o) for o in document.origins[start : start + length]):
            return
    if end > offset:
        editor.type(document, offset, "", delete=end - offset)


async def type_along(
    editor: Editor,
    document: ClientDocument,
    plan: list[Action],
    origin: int,
    original_offset: int,
) -> None:
    """The typist at work: each action after its delay."""
    for action in plan:
        await asyncio.sleep(action.delay)
        if document.uri not in editor.documents:
            return
        perform(editor, document, action, origin, original_offset)
