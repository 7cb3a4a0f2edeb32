"""Hypothesis strategies for documents and generated text that stress positions and EOLs."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

# Characters of 1 to 4 bytes in UTF-8, 1 or 2 units in UTF-16, and combining marks. The
# original text, the generated text and the typist use disjoint characters (line breaks
# aside): a user who types exactly what the server inserts, where it inserts it, makes the
# two indistinguishable in any client's sync, so no oracle could judge the outcome.
CHARACTERS = ("a", "b", "\t", "é", "中", "😀", "e\u0301")
GENERATED = ("x", "yz", "\n", "ж", "ü", "🙂", "o\u0308", "-")
# A second generation writes with other characters again, for the same reason.
GENERATED_TOO = ("k", "mn", "\n", "д", "ë", "🌟", "i\u0304", "+")


def lines(eol: str, max_lines: int = 6) -> st.SearchStrategy[str]:
    line = st.lists(st.sampled_from(CHARACTERS), max_size=6).map("".join)
    return st.tuples(st.lists(line, max_size=max_lines), st.booleans()).map(
        lambda parts: eol.join(parts[0]) + (eol if parts[1] and parts[0] else "")
    )


def documents(max_lines: int = 6) -> st.SearchStrategy[str]:
    """LF, CRLF, or single-line texts, with or without a final line break, or empty."""
    return st.sampled_from(["\n", "\r\n"]).flatmap(lambda eol: lines(eol, max_lines))


def any_text() -> st.SearchStrategy[str]:
    """Any mix of line breaks, lone CRs included."""
    return st.lists(st.sampled_from([*CHARACTERS, "\n", "\r", "\r\n"]), max_size=16).map("".join)


def offsets(text: str) -> st.SearchStrategy[int]:
    """Offsets that are not between the CR and the LF of a CRLF."""
    valid = [
        i for i in range(len(text) + 1) if not (0 < i < len(text) and text[i - 1 : i + 1] == "\r\n")
    ]
    return st.sampled_from(valid)


def chunks(
    max_size: int = 8, alphabet: tuple[str, ...] = GENERATED
) -> st.SearchStrategy[list[str]]:
    """Generated text in pieces, with line breaks ("\\n": the engine converts them)."""
    piece = st.lists(st.sampled_from(alphabet), min_size=1, max_size=4).map("".join)
    return st.lists(piece, min_size=1, max_size=max_size)


def examples(count: int) -> settings:
    """`count` examples: times GEMINI_LSP_SOAK for a long hunt, and without shrinking when
    GEMINI_LSP_NO_SHRINK is set (to see quickly which tests a planted regression fails)."""
    phases = [
        p for p in Phase if p is not Phase.shrink or not os.environ.get("GEMINI_LSP_NO_SHRINK")
    ]
    return settings(
        max_examples=count * int(os.environ.get("GEMINI_LSP_SOAK", "1")),
        deadline=None,
        phases=phases,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
