"""The streaming post-processing transforms: fences stripped even when split across chunks,
indentation of the insertion point, nothing held back longer than needed.

Examples pin each rule down. The properties compare the module with reference
implementations written here from the rules alone (their own regexes, no helper of the
module), which the examples pin down too: any chunking of a stream, and the module's own
whole-text functions, must give the reference result, and what a transform holds back is
only the truly ambiguous tail.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemini_lsp.engine.postprocess import (
    FenceStripper,
    FinalNewlineTrimmer,
    Pipeline,
    Reindenter,
    Transform,
    insertion_pipeline,
    reindent,
    strip_fences,
    trim_final_newline,
)

EXAMPLES = 300


# --- References, from the rules -------------------------------------------------------------

# An opening fence line: any indentation, then three or more backticks and an info string
# without a backtick (CommonMark: ```a``` is inline code), or three or more tildes and any
# info string.
OPENING_FENCE = re.compile(r"(?P<indent>[ \t]*)(?P<marker>`{3,}(?=[^`]*$)|~{3,})")
BLANK = re.compile(r"[ \t]*")


def reference_strip_fences(text: str) -> str:
    """CR LF and a lone CR become LF. If the first line that is not blank opens a fence, the
    result is the lines after it up to the first closing line (or the end); otherwise the
    text. A closing line is a run of the opener's character at least as long as the
    opener's, with only spaces and tabs after it, indented by a prefix of the opener's
    indentation."""
    lines = re.sub(r"\r\n|\r", "\n", text).split("\n")  # the last one is unfinished
    first = 0
    while first < len(lines) - 1 and BLANK.fullmatch(lines[first]):
        first += 1
    opener = OPENING_FENCE.match(lines[first])
    if opener is None:
        return "\n".join(lines)
    marker = opener["marker"]
    closing = re.compile(rf"(?P<indent>[ \t]*){re.escape(marker[0])}{{{len(marker)},}}[ \t]*")
    body: list[str] = []
    for line in lines[first + 1 :]:
        closer = closing.fullmatch(line)
        if closer and opener["indent"].startswith(closer["indent"]):
            return "\n".join(body) + "\n" if body else ""
        body.append(line)
    return "\n".join(body)


def reference_reindent(text: str, indent: str, at_line_start: bool) -> str:
    """Every line with code has the model's base indentation (its first such line's)
    replaced by `indent`, and one indented less gives up as many characters of `indent`
    as it lacks of the base; the first line keeps no indentation unless `at_line_start`;
    blank lines come out empty."""
    lines = [
        (line[: len(line) - len(code)], code)
        for line in text.split("\n")
        for code in [line.lstrip(" \t")]
    ]
    base = next((lead for lead, code in lines if code), "")
    out = []
    for number, (lead, code) in enumerate(lines):
        if not code or (number == 0 and not at_line_start):
            out.append(code)
            continue
        shared = next(
            (i for i, (a, b) in enumerate(zip(lead, base, strict=False)) if a != b),
            min(len(lead), len(base)),
        )
        kept = max(0, len(indent) - (len(base) - shared))
        out.append(indent[:kept] + lead[shared:] + code)
    return "\n".join(out)


def reference_trim(text: str, drop_final_newline: bool, single: bool = False) -> str:
    """`single`: exactly one final newline after any text; `drop_final_newline`: the
    final newline dropped (one only)."""
    if single:
        return re.sub(r"\n*$", "", text) + "\n" if text.strip("\n") else ""
    return text[:-1] if drop_final_newline and text[-1:] == "\n" else text


def reference_pipeline(indent: str, at_line_start: bool, drop: bool) -> Callable[[str], str]:
    """The whole-text result of `insertion_pipeline`: fences off, reindented, trimmed."""
    return lambda text: reference_trim(
        reference_reindent(reference_strip_fences(text), indent, at_line_start), drop
    )


def stream(transform: Transform, chunks: Iterable[str]) -> str:
    """Everything the transform emits for the chunks, the flush at the end included."""
    return "".join(transform.feed(chunk) for chunk in chunks) + transform.finish()


def feeds(transform: Transform, chunks: Iterable[str]) -> list[str]:
    """What each `feed` returns, in order (no `finish`)."""
    return [transform.feed(chunk) for chunk in chunks]


# --- FenceStripper: examples ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "```python\ndef f():\n    return 1\n```\n",
            "def f():\n    return 1\n",
            id="fenced-python",
        ),
        pytest.param("~~~\nx = 1\n~~~\n", "x = 1\n", id="tilde-fence"),
        pytest.param("~~~py\na\n```\nb\n~~~", "a\n```\nb\n", id="backticks-inside-tildes"),
        pytest.param("````md\n```\ncode\n```\n````\n", "```\ncode\n```\n", id="nested-fence"),
        pytest.param("```\na\n```python\nb\n```", "a\n```python\nb\n", id="closer-has-no-info"),
        pytest.param("```\nx\n```  \t\nprose", "x\n", id="closer-trailing-whitespace"),
        pytest.param(
            "```python\nx = 1\n```\n\nThis sets `x` to 1.\n```\ny\n```\n",
            "x = 1\n",
            id="prose-after-closer",
        ),
        pytest.param("\n  \n```py\nx\n```", "x\n", id="blank-lines-before-fence"),
        pytest.param("  ```py\n  x\n```\nbye", "  x\n", id="indented-opener-closed-at-col-0"),
        pytest.param(
            '```\ndef f():\n    """\n    ```\n    """\n```\n',
            'def f():\n    """\n    ```\n    """\n',
            id="indented-backticks-in-unindented-block",
        ),
        pytest.param("```python\nx = 1", "x = 1", id="unclosed"),
        pytest.param("```python", "", id="opener-only"),
        pytest.param("```python\n```", "", id="empty-block"),
    ],
)
def test_fenced_block_is_unwrapped(text: str, expected: str) -> None:
    assert reference_strip_fences(text) == expected
    assert strip_fences(text) == expected
    assert stream(FenceStripper(), [text]) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("def f():\n    pass\n", id="code"),
        pytest.param("x = 1\n```\ny\n", id="fence-not-first"),
        pytest.param("\n\nx\n", id="blank-lines-kept"),
        pytest.param("```print(1)```\nx\n", id="inline-triple-backticks"),
        pytest.param("`x` is 1\n", id="inline-backticks"),
        pytest.param("``\nx", id="two-backticks"),
        pytest.param("``", id="two-backticks-at-end"),
        pytest.param("   \n", id="blank-only"),
        pytest.param("", id="empty"),
    ],
)
def test_unfenced_text_is_unchanged(text: str) -> None:
    assert reference_strip_fences(text) == text
    assert strip_fences(text) == text
    assert stream(FenceStripper(), [text]) == text


def test_fence_marker_not_alone_on_its_line_is_code() -> None:
    text = "```\nx = '```'\n``` # not a closer\n```\n"
    expected = "x = '```'\n``` # not a closer\n"
    assert reference_strip_fences(text) == expected
    assert stream(FenceStripper(), [text]) == expected


def test_fence_opener_split_one_char_at_a_time() -> None:
    text = "```python\nx = 1\n```\nThat's it."
    outputs = feeds(FenceStripper(), text)
    assert "".join(outputs) == "x = 1\n"
    # Nothing of the opener leaks; the code comes out as it arrives, "x" at once.
    assert outputs[: len("```python\n")] == [""] * len("```python\n")
    assert outputs[len("```python\n")] == "x"


def test_first_line_is_held_only_while_it_may_open_a_fence() -> None:
    stripper = FenceStripper()
    assert stripper.feed("``") == ""
    assert stripper.feed("x = 1") == "``x = 1"
    assert stripper.feed("\n```") == "\n```"  # undecided no more: everything passes
    assert FenceStripper().feed("import os") == "import os"


def test_info_string_backtick_releases_the_first_line() -> None:
    stripper = FenceStripper()
    assert stripper.feed("```py") == ""
    assert stripper.feed("`") == "```py`"


def test_line_in_block_is_held_only_while_it_may_close() -> None:
    stripper = FenceStripper()
    assert stripper.feed("```\n") == ""
    assert stripper.feed("``") == ""
    assert stripper.feed("`x") == "```x"
    assert stripper.feed(" = 1\n  ") == " = 1\n  "  # whitespace cannot start an unindented closer
    assert stripper.feed("``") == "``"
    assert stripper.feed("\n```") == "\n"
    assert stripper.feed(" \n") == ""
    assert stripper.feed("trailing prose") == ""
    assert stripper.finish() == ""


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        pytest.param(["```python\r", "\nx = 1\r", "\n```\r\n"], "x = 1\n", id="fenced"),
        pytest.param(["a\r", "\nb\r\n"], "a\nb\n", id="unfenced"),
        pytest.param(["a\r", "\r", "\n"], "a\n\n", id="cr-then-crlf"),
        pytest.param(["a\r"], "a\n", id="cr-at-end"),
        pytest.param(["```\r", "\r\nx"], "\nx", id="cr-ends-opener"),
    ],
)
def test_line_breaks_split_between_chunks_become_newlines(chunks: list[str], expected: str) -> None:
    assert stream(FenceStripper(), chunks) == expected
    assert strip_fences("".join(chunks)) == expected
    assert reference_strip_fences("".join(chunks)) == expected


# --- Reindenter: examples -------------------------------------------------------------------


METHOD = "def area(self):\n    return self.w * self.h\n"


def test_into_a_method_body_at_line_start() -> None:
    expected = "    def area(self):\n        return self.w * self.h\n"
    assert reference_reindent(METHOD, "    ", at_line_start=True) == expected
    assert reindent(METHOD, "    ", at_line_start=True) == expected
    assert stream(Reindenter("    ", at_line_start=True), [METHOD]) == expected


def test_into_a_method_body_after_the_cursor_indentation() -> None:
    indented = "        def area(self):\n            return self.w * self.h\n"
    expected = "def area(self):\n        return self.w * self.h\n"
    assert reference_reindent(indented, "    ", at_line_start=False) == expected
    assert reindent(indented, "    ", at_line_start=False) == expected
    assert stream(Reindenter("    ", at_line_start=False), [indented]) == expected


def test_model_base_indentation_is_replaced() -> None:
    text = "    x = 1\n    if x:\n        y()\n"
    expected = "  x = 1\n  if x:\n      y()\n"
    assert reference_reindent(text, "  ", at_line_start=True) == expected
    assert reindent(text, "  ", at_line_start=True) == expected


def test_blank_lines_stay_empty() -> None:
    text = "a\n   \n\n  b\n\t\nc\n    "
    expected = "    a\n\n\n      b\n\n    c\n"
    assert reference_reindent(text, "    ", at_line_start=True) == expected
    assert reindent(text, "    ", at_line_start=True) == expected
    assert stream(Reindenter("    ", at_line_start=True), text) == expected


def test_leading_blank_line_then_indented_code_mid_line() -> None:
    # Cursor after "x = ": the model starts with a newline; its base is the next line's.
    text = "\n    foo(\n        1)\n"
    assert reference_reindent(text, "  ", at_line_start=False) == "\n  foo(\n      1)\n"
    assert reindent(text, "  ", at_line_start=False) == "\n  foo(\n      1)\n"


def test_line_less_indented_than_the_base_keeps_its_difference() -> None:
    text = "        a\n    b\nc\n"
    for function in (reference_reindent, reindent):
        assert function(text, "      ", at_line_start=True) == "      a\n  b\nc\n"
        assert function(text, "", at_line_start=True) == "a\nb\nc\n"


def test_tabs_are_a_string_prefix() -> None:
    text = "\tdef f():\n\t\treturn 1\n"
    for function in (reference_reindent, reindent):
        assert function(text, "    ", at_line_start=True) == "    def f():\n    \treturn 1\n"
        assert function(text, "\t\t", at_line_start=True) == "\t\tdef f():\n\t\t\treturn 1\n"


def test_leading_whitespace_is_held_until_the_line_shows_itself() -> None:
    reindenter = Reindenter("  ", at_line_start=True)
    assert reindenter.feed("    ") == ""
    assert reindenter.feed("  ") == ""
    assert reindenter.feed("x") == "  x"  # the base is six spaces
    assert reindenter.feed(" = 1\n        ") == " = 1\n"
    assert reindenter.feed("\n") == "\n"
    assert reindenter.feed("      y\n") == "  y\n"
    assert reindenter.feed("   ") == ""
    assert reindenter.finish() == ""


# --- FinalNewlineTrimmer and Pipeline: examples ---------------------------------------------


def test_trailing_newlines_are_held_and_the_final_one_dropped() -> None:
    trimmer = FinalNewlineTrimmer(drop_final_newline=True)
    assert feeds(trimmer, ["a\n", "b\n\n", "\n", "c"]) == ["a", "\nb", "", "\n\n\nc"]
    trimmer = FinalNewlineTrimmer(drop_final_newline=True)
    assert feeds(trimmer, ["x\n", "\n"]) == ["x", ""]
    assert trimmer.finish() == "\n"


@pytest.mark.parametrize(
    ("text", "drop", "expected"),
    [("a\n\n", True, "a\n"), ("a", True, "a"), ("\n", True, ""), ("a\n", False, "a\n")],
)
def test_only_the_final_newline_is_dropped(text: str, drop: bool, expected: str) -> None:
    assert reference_trim(text, drop) == expected
    assert trim_final_newline(text, drop) == expected


def test_nothing_is_held_when_the_final_newline_stays() -> None:
    trimmer = FinalNewlineTrimmer(drop_final_newline=False)
    assert feeds(trimmer, ["a\n", "\n"]) == ["a\n", "\n"]
    assert trimmer.finish() == ""


def test_insertion_pipeline_into_a_method() -> None:
    chunks = ["```py", "thon\r\ndef area(self):\r", "\n    return 1\r\n``", "`\n\nDone."]
    expected = "    def area(self):\n        return 1"
    pipeline = insertion_pipeline("    ", at_line_start=True, drop_final_newline=True)
    assert stream(pipeline, chunks) == expected
    assert reference_pipeline("    ", True, True)("".join(chunks)) == expected


def test_pipeline_passes_each_stage_output_to_the_next() -> None:
    pipeline = Pipeline(FinalNewlineTrimmer(drop_final_newline=True), Reindenter("> ", True))
    assert feeds(pipeline, ["a\n", "\n", "b\n"]) == ["> a", "", "\n\n> b"]
    assert pipeline.finish() == ""


# --- Properties -----------------------------------------------------------------------------

# Fragments that make fences, near-fences, indentation and line breaks likely.
FRAGMENTS = [
    "```", "````", "~~~", "`", "``", "~", "python", "py`", " ", "  ", "    ", "\t",
    "\n", "\n", "\n", "\r\n", "\r", "x = 1", "def f():", "é", "😀", "# ```", "return",
]  # fmt: skip
# A line that opens or closes a fence, or nearly does: indentation, a run of fence
# characters (too short included), then an info string or whitespace, some with backticks
# (which only a tilde fence's info string may hold).
fence_line = st.builds(
    lambda indent, char, length, tail: indent + char * length + tail,
    st.sampled_from(["", " ", "  ", "\t", "    "]),
    st.sampled_from("`~"),
    st.integers(2, 5),
    st.sampled_from(["", "", "python", " {.py}", "py`", " `x`", "~", " \t", "` "]),
)
fragment_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), fence_line.map("\n".__add__)), max_size=40
).map("".join)
fenced_text = st.builds(
    lambda blanks, opener, body: blanks + opener + "\n" + body,
    st.sampled_from(["", "\n", " \n\t\n"]),
    fence_line,
    fragment_text,
)
model_text = st.one_of(fragment_text, fenced_text, st.text(max_size=60))
indents = st.sampled_from(["", "    ", "\t", "  \t", "        "])


@st.composite
def chunked(draw: st.DrawFn, texts: st.SearchStrategy[str] = model_text) -> list[str]:
    """A text cut at arbitrary points (empty chunks included)."""
    text = draw(texts)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=15)))
    return [text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])]


@settings(max_examples=EXAMPLES)
@given(chunked())
def test_fence_stripping_follows_the_rules(chunks: list[str]) -> None:
    expected = reference_strip_fences("".join(chunks))
    assert strip_fences("".join(chunks)) == expected
    assert stream(FenceStripper(), chunks) == expected


@settings(max_examples=EXAMPLES)
@given(chunked(), indents, st.booleans())
def test_reindenting_follows_the_rules(chunks: list[str], indent: str, at_line_start: bool) -> None:
    expected = reference_reindent("".join(chunks), indent, at_line_start)
    assert reindent("".join(chunks), indent, at_line_start) == expected
    assert stream(Reindenter(indent, at_line_start), chunks) == expected


@settings(max_examples=EXAMPLES)
@given(chunked(), st.booleans(), st.booleans())
def test_trimming_follows_the_rules(chunks: list[str], drop: bool, single: bool) -> None:
    expected = reference_trim("".join(chunks), drop, single)
    assert trim_final_newline("".join(chunks), drop, single) == expected
    assert stream(FinalNewlineTrimmer(drop, single), chunks) == expected


@settings(max_examples=EXAMPLES)
@given(chunked(), indents, st.booleans(), st.booleans())
def test_pipeline_follows_the_rules(
    chunks: list[str], indent: str, at_line_start: bool, drop: bool
) -> None:
    pipeline = insertion_pipeline(indent, at_line_start, drop)
    assert stream(pipeline, chunks) == reference_pipeline(indent, at_line_start, drop)(
        "".join(chunks)
    )


# What the fence stripper may hold: blank lines and a line that may still open or close a
# fence (fence characters, perhaps an info string, whitespace), then perhaps a "\r".
FENCE_MATERIAL = re.compile(r"(?:[ \t]*\n)*[ \t]*(?:`*|~*|`{3,}[^`\n]*|~{3,}[^\n]*)\r?")
UNDECIDED = re.compile(r"(?:[ \t]*\n)*[^\n]*")  # blank lines and an unfinished first line


@settings(max_examples=EXAMPLES)
@given(chunked())
def test_fence_stripper_holds_back_only_fence_material(chunks: list[str]) -> None:
    stripper = FenceStripper()
    seen = out = ""
    for chunk in chunks:
        seen += chunk
        out += stripper.feed(chunk)
        expected = reference_strip_fences(seen.removesuffix("\r")) + "\r" * seen.endswith("\r")
        assert expected.startswith(out)
        held = expected[len(out) :]
        assert FENCE_MATERIAL.fullmatch(held), held
        # Blank lines are held only until the first line decides.
        normalized = re.sub(r"\r\n?", "\n", seen.removesuffix("\r"))
        assert "\n" not in held or UNDECIDED.fullmatch(normalized)


plain_first_line = st.from_regex(r"[a-z#(][^\n\r]{0,20}\n", fullmatch=True)
no_cr_text = st.text(st.characters(exclude_characters="\r"), max_size=60)


@settings(max_examples=EXAMPLES)
@given(plain_first_line, chunked(no_cr_text))
def test_unfenced_stream_passes_at_once(first_line: str, chunks: list[str]) -> None:
    stripper = FenceStripper()
    assert stripper.feed(first_line) == first_line
    assert feeds(stripper, chunks) == chunks
    assert stripper.finish() == ""


@settings(max_examples=EXAMPLES)
@given(chunked(), indents, st.booleans())
def test_reindenter_is_never_behind_the_whole_text_function(
    chunks: list[str], indent: str, at_line_start: bool
) -> None:
    # A held whitespace-only line counts as blank in `reindent`, so nothing else may lag.
    reindenter = Reindenter(indent, at_line_start)
    seen = out = ""
    for chunk in chunks:
        seen += chunk
        out += reindenter.feed(chunk)
        assert out == reference_reindent(seen, indent, at_line_start)


@settings(max_examples=EXAMPLES)
@given(chunked(), st.booleans())
def test_trimmer_holds_back_only_trailing_newlines(chunks: list[str], drop: bool) -> None:
    trimmer = FinalNewlineTrimmer(drop)
    seen = out = ""
    for chunk in chunks:
        seen += chunk
        out += trimmer.feed(chunk)
        assert out == (seen.rstrip("\n") if drop else seen)


# Code without fence characters or "\r": nothing in it is ambiguous for the fence stripper.
unambiguous_code = st.lists(
    st.sampled_from(["x = 1", "def f():", "    ", "\t", " ", "\n", "\n", "é", "pass"]),
    max_size=30,
).map("".join)


@settings(max_examples=EXAMPLES)
@given(
    chunked(
        st.builds(
            str.__add__,
            st.sampled_from(["```python\n", "~~~\n", "\n```\n", "import os\n"]),
            unambiguous_code,
        )
    ),
    indents,
    st.booleans(),
)
def test_pipeline_lags_only_by_indentation_and_trailing_newlines(
    chunks: list[str], indent: str, at_line_start: bool
) -> None:
    # Once the first line is decided, the output so far is the whole-text result of the
    # input so far with its trailing newlines held.
    pipeline = insertion_pipeline(indent, at_line_start, drop_final_newline=True)
    expected_of = reference_pipeline(indent, at_line_start, drop=False)
    seen = out = ""
    for chunk in chunks:
        seen += chunk
        out += pipeline.feed(chunk)
        if re.match(r"\n*[^\n]+\n", seen):
            assert out == expected_of(seen).rstrip("\n")


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (["a\n", "\n", "\n"], "a\n"),
        (["a"], "a\n"),
        (["a\nb", "\n"], "a\nb\n"),
        (["\n", "\n"], ""),
    ],
)
def test_single_final_newline_for_whole_line_rewrites(chunks: list[str], expected: str) -> None:
    trimmer = FinalNewlineTrimmer(drop_final_newline=False, single=True)
    assert "".join(trimmer.feed(c) for c in chunks) + trimmer.finish() == expected
    assert trim_final_newline("".join(chunks), False, single=True) == expected
    assert reference_trim("".join(chunks), False, single=True) == expected
