"""How the command line is read: an editor's plain launch gets what the parser would give it."""

from __future__ import annotations

import pytest

from gemini_lsp import __main__ as launcher


@pytest.mark.parametrize("arguments", launcher.PLAIN_LAUNCHES)
def test_a_plain_launch_has_the_parsers_options(arguments: list[str]) -> None:
    parsed = launcher._parser(None).parse_args(arguments)
    assert vars(launcher._arguments(list(arguments))) == vars(parsed)


def test_any_other_launch_is_parsed() -> None:
    options = launcher._arguments(["--stdio", "--log-level", "debug"])
    assert options.log_level == "DEBUG"
    assert options.stdio
