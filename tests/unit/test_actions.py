from __future__ import annotations

from gemini_lsp.engine.text import Loc, split_lines
from gemini_lsp.lsp.actions import QUICKFIX, REWRITE, Problem, actions_at


def titles(text: str, line: int, language: str = "python", **kw: object) -> list[str]:
    lines = split_lines(text)
    at = Loc(line, 0)
    return [a.title for a in actions_at(lines, at, at, [], language)]


def test_definitions_per_language() -> None:
    assert "Gemini: Document function f" in titles("def f(x):\n    pass\n", 0)
    assert "Gemini: Document class Point" in titles("class Point:\n    x = 1\n", 0)
    assert "Gemini: Document function add" in titles("export function add(a, b) {}\n", 0, "js")
    assert "Gemini: Document function M.setup" in titles("function M.setup()\nend\n", 0, "lua")
    assert "Gemini: Document function parse" in titles("pub fn parse() {}\n", 0, "rust")
    assert not any("Document" in t for t in titles("x = 1\n", 0))


def test_python_docstring_goes_after_a_multiline_signature() -> None:
    lines = split_lines("def f(\n    a,\n    b,\n):\n    return a\n")
    (doc,) = [a for a in actions_at(lines, Loc(0, 0), Loc(0, 0), [], "python") if "Doc" in a.title]
    assert doc.start == Loc(4, 0) and doc.end is None
    lua = split_lines("local x = 1\nfunction f()\nend\n")
    (other,) = [a for a in actions_at(lua, Loc(1, 0), Loc(1, 0), [], "lua") if "Doc" in a.title]
    assert other.start == Loc(1, 0)


def test_todo_and_fixme() -> None:
    lines = split_lines("x = 1\n    # TODO: handle the empty case\n")
    (todo,) = [
        a for a in actions_at(lines, Loc(1, 3), Loc(1, 3), [], "python") if "TODO" in a.title
    ]
    assert todo.kind == REWRITE and todo.start == Loc(1, 0) and todo.end == Loc(2, 0)
    assert todo.prompt is not None and "handle the empty case" in todo.prompt
    assert "Gemini: Implement FIXME: leak" in titles("// FIXME leak\n", 0, "c")


def test_quickfix_spans_the_problem_lines() -> None:
    lines = split_lines("a\nb\nc\nd\n")
    problems = [Problem(2, "bad c"), Problem(1, "bad b", "lint")]
    (fix, *_) = actions_at(lines, Loc(1, 0), Loc(1, 0), problems, "python")
    assert fix.kind == QUICKFIX and fix.title == "Gemini: Fix 2 problems"
    assert (fix.start, fix.end) == (Loc(1, 0), Loc(3, 0))
    assert fix.prompt is not None and fix.prompt.index("line 2") < fix.prompt.index("line 3")


def test_selection_asks_for_an_instruction() -> None:
    lines = split_lines("a = 1\n")
    found = actions_at(lines, Loc(0, 0), Loc(0, 5), [], "python")
    (rewrite,) = [a for a in found if a.end is not None]
    assert rewrite.prompt is None and rewrite.prompt_request
    assert rewrite.command == "gemini.edit"
    assert not any(a.title == "Gemini: Generate here…" for a in found)
