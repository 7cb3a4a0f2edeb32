"""Which Gemini actions fit a place in a document: pure functions of its lines.

Each action is a `gemini.generate` (an insertion) or `gemini.edit` (a rewrite) call ready to
run; one that needs an instruction from the user carries the question to ask instead of a
prompt, and the editor plugin asks before running it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from gemini_lsp.contract.command_ids import EDIT, GENERATE
from gemini_lsp.engine.text import Loc, content

QUICKFIX = "quickfix"
REWRITE = "refactor.rewrite"

# A definition starts here, per language family: the word after it is its name.
_DEFINITION = re.compile(
    r"^\s*(?:export\s+)?(?:pub(?:\(\w+\))?\s+)?(?:async\s+)?(?:local\s+)?"
    r"(?P<kind>def|class|function|func|fn|interface|struct)\s+\(?(?P<name>[\w.:]+)"
)
_TODO = re.compile(r"\b(?P<tag>TODO|FIXME)\b[:\s]*(?P<text>.*)")


@attrs.frozen
class Problem:
    """A diagnostic, as the prompt needs it."""

    line: int
    message: str
    source: str | None = None


@attrs.frozen
class Action:
    title: str
    kind: str
    start: Loc
    end: Loc | None  # None: an insertion at `start`
    prompt: str | None = None
    prompt_request: str | None = None  # the question to ask the user for the prompt

    @property
    def command(self) -> str:
        return GENERATE if self.end is None else EDIT


def _whole_lines(lines: Sequence[str], first: int, last: int) -> tuple[Loc, Loc]:
    """From the start of `first` to the start of the line after `last` (or the end)."""
    if last + 1 < len(lines):
        return Loc(first, 0), Loc(last + 1, 0)
    return Loc(first, 0), Loc(last, len(content(lines[last])))


def fix_problems(lines: Sequence[str], problems: list[Problem]) -> Action | None:
    if not problems:
        return None
    first = min(p.line for p in problems)
    last = max(p.line for p in problems)
    listed = "\n".join(
        f"- line {p.line + 1}: {p.message}" + (f" ({p.source})" if p.source else "")
        for p in sorted(problems, key=lambda p: p.line)
    )
    start, end = _whole_lines(lines, first, last)
    title = problems[0].message if len(problems) == 1 else f"{len(problems)} problems"
    return Action(
        f"Gemini: Fix {_shorten(title)}",
        QUICKFIX,
        start,
        end,
        prompt="Fix these problems reported by the editor in the marked code, changing "
        f"nothing else:\n{listed}",
    )


def document_definition(lines: Sequence[str], line: int, language_id: str) -> Action | None:
    match = _DEFINITION.match(content(lines[line]))
    if match is None:
        return None
    kind = "class" if match["kind"] in ("class", "interface", "struct") else "function"
    name = match["name"].rstrip(":")
    if language_id == "python":
        # A docstring goes first in the body: after the signature, however many lines it has.
        body = next(
            (i + 1 for i in range(line, len(lines)) if content(lines[i]).rstrip().endswith(":")),
            line + 1,
        )
        at, where = Loc(min(body, len(lines) - 1), 0), "the docstring"
        if body >= len(lines):
            at = Loc(len(lines) - 1, len(content(lines[-1])))
    else:
        at, where = Loc(line, 0), "the documentation comment that goes just above it"
    return Action(
        f"Gemini: Document {kind} {name}",
        REWRITE,
        at,
        None,
        prompt=f"Write {where} for the {kind} {name}, in this language's own "
        "documentation convention. Reply with only that documentation.",
    )


def implement_todo(lines: Sequence[str], line: int) -> Action | None:
    match = _TODO.search(content(lines[line]))
    if match is None:
        return None
    what = match["text"].strip().rstrip("*/ -").strip() or "what the comment asks"
    start, end = _whole_lines(lines, line, line)
    return Action(
        f"Gemini: Implement {match['tag']}: {_shorten(what)}",
        REWRITE,
        start,
        end,
        prompt=f"Replace this {match['tag']} comment with code that implements it: {what}",
    )


def rewrite_selection(start: Loc, end: Loc) -> Action | None:
    if start == end:
        return None
    return Action(
        "Gemini: Rewrite selection…",
        REWRITE,
        start,
        end,
        prompt_request="How should Gemini rewrite the selection?",
    )


def generate_here(at: Loc) -> Action:
    return Action(
        "Gemini: Generate here…",
        REWRITE,
        at,
        None,
        prompt_request="What should Gemini write here?",
    )


def actions_at(
    lines: Sequence[str],
    start: Loc,
    end: Loc,
    problems: list[Problem],
    language_id: str,
) -> list[Action]:
    """Every action that fits `[start, end)`, the most specific first."""
    found = [
        fix_problems(lines, problems),
        implement_todo(lines, start.line),
        document_definition(lines, start.line, language_id),
        rewrite_selection(start, end),
    ]
    actions = [action for action in found if action is not None]
    if start == end:
        actions.append(generate_here(start))
    return actions


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
