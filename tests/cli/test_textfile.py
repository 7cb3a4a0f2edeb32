"""The file's layout survives the round trip through the session's `\\n`-only text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gemini_lsp.cli import textfile
from gemini_lsp.cli.textfile import FileChangedError, Layout, TextFile

lines = st.lists(st.text(st.characters(blacklist_characters="\r\n"), max_size=8), max_size=6)


@given(lines, st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(), st.booleans())
def test_an_untouched_file_renders_back_byte_for_byte(
    body: list[str], newline: str, final: bool, bom: bool
) -> None:
    raw = newline.join(body) + (newline if final and body else "")
    raw = ("\ufeff" if bom else "") + raw
    layout = textfile.detect_layout(raw)
    assert textfile.render(textfile.to_lsp_text(raw), layout) == raw or raw in ("", "\ufeff")


@given(lines, lines, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_inserted_lines_take_the_files_line_ending_and_final_newline(
    before: list[str], inserted: list[str], newline: str, final: bool
) -> None:
    layout = Layout(newline, final, False)
    text = "".join(line + "\n" for line in [*before, *inserted])
    out = textfile.render(text, layout)
    assert "\n" not in out.replace(newline, "")
    assert out.replace(newline, "\n") == (text if final else text.removesuffix("\n"))


@pytest.mark.parametrize(
    ("text", "count"), [("", 0), ("a", 1), ("a\n", 1), ("a\nb", 2), ("a\nb\n", 2), ("\n", 1)]
)
def test_count_lines(text: str, count: int) -> None:
    assert textfile.count_lines(text) == count


def test_an_empty_file_gets_a_final_newline() -> None:
    assert textfile.render("x = 1\n", textfile.detect_layout("")) == "x = 1\n"


def test_save_refuses_a_file_that_changed_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text("a\n")
    file = TextFile.read(path)
    path.write_text("changed\n")
    with pytest.raises(FileChangedError):
        file.save("a\nb\n")
    assert path.read_text() == "changed\n"


def test_a_failed_write_leaves_the_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.py"
    path.write_text("a\n")

    def full(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="disk full"):
        textfile.atomic_write(path, b"new")
    assert path.read_text() == "a\n"
    assert os.listdir(tmp_path) == ["a.py"]
