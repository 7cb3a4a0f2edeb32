"""The suggestion cache: typing an answer's own characters, or going back, asks nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gemini_lsp.engine.text import split_lines
from gemini_lsp.inline.cache import KEY_AFTER, KEY_BEFORE, SuggestionCache, continuation
from gemini_lsp.inline.context import around


def windows(text: str, offset: int, longest: int = 200) -> tuple[str, str]:
    lines = split_lines(text[:offset] + "\x01" + text[offset:])
    line = next(i for i, x in enumerate(lines) if "\x01" in x)
    col = lines[line].index("\x01")
    clean = split_lines(text)
    got = around(clean, line, col, KEY_BEFORE + longest, KEY_AFTER)
    return got.before, got.after


CODE = "import os\n\ndef add(a, b):\n    \n\nprint(add(1, 2))\n"
AT = CODE.index("    \n") + 4


def test_typing_the_suggestion_leaves_the_rest() -> None:
    cache = SuggestionCache()
    cache.put("u", *windows(CODE, AT), "return a + b")
    for typed in range(len("return a + b")):
        text = CODE[:AT] + "return a + b"[:typed] + CODE[AT:]
        assert cache.get("u", *windows(text, AT + typed)) == "return a + b"[typed:]


def test_other_typing_other_documents_and_a_finished_suggestion_miss() -> None:
    cache = SuggestionCache()
    cache.put("u", *windows(CODE, AT), "return a + b")
    assert cache.get("v", *windows(CODE, AT)) is None
    text = CODE[:AT] + "print" + CODE[AT:]
    assert cache.get("u", *windows(text, AT + 5)) is None
    text = CODE[:AT] + "return a + b" + CODE[AT:]
    assert cache.get("u", *windows(text, AT + 12)) is None
    # The code after the cursor changed: the answer was made for other surroundings.
    text = CODE[:AT] + CODE[AT:].replace("print", "debug")
    assert cache.get("u", *windows(text, AT)) is None


def test_an_answer_at_the_start_of_the_file_only_matches_there() -> None:
    cache = SuggestionCache()
    cache.put("u", *windows("\n", 0), "import os")
    assert cache.get("u", *windows("imp\n", 3)) == "ort os"
    assert cache.get("u", *windows("x = 1\nimp\n", 9)) is None


def test_the_oldest_entries_go_first() -> None:
    cache = SuggestionCache(size=2)
    for word in ("alpha", "beta", "gamma"):
        cache.put("u", f"{word} = ", "\n", "1")
    assert len(cache) == 2
    assert cache.get("u", "alpha = ", "\n") is None
    assert cache.get("u", "gamma = ", "\n") == "1"
    cache.forget("u")
    assert len(cache) == 0


@given(
    st.text(alphabet="ab \n(", max_size=30),
    st.text(alphabet="ab \n)", max_size=30),
    st.text(alphabet="ab (", min_size=1, max_size=12),
    st.data(),
)
def test_continuation_is_what_remains_after_the_typed_part(
    before: str, after: str, text: str, data: st.DataObject
) -> None:
    typed = data.draw(st.integers(0, len(text) - 1))
    rest = continuation("\x00" + before, after, text, "\x00" + before + text[:typed], after)
    assert rest == text[typed:]
    # Typing something the answer does not start with never gives a suggestion that would
    # be wrong: what it gives, typed after what was typed, is still the answer's end.
    other = data.draw(st.text(alphabet="xyz", min_size=1, max_size=3))
    assert continuation("\x00" + before, after, text, "\x00" + before + other, after) is None
