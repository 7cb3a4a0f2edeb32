"""Where `generate` sends its requests, read from the environment like the SDK reads it."""

from __future__ import annotations

import pytest

from gemini_lsp.cli.source import choose


@pytest.mark.parametrize(
    ("env", "emulator", "kind"),
    [
        ({}, False, "none"),
        ({"GEMINI_API_KEY": ""}, False, "none"),
        ({}, True, "emulator"),
        ({"GEMINI_API_KEY": "k"}, True, "emulator"),
        ({"GEMINI_API_KEY": "k"}, False, "gemini"),
        ({"GOOGLE_API_KEY": "k"}, False, "gemini"),
        ({"GOOGLE_GEMINI_BASE_URL": "http://proxy"}, False, "endpoint"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "true"}, False, "vertex"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "1", "GOOGLE_CLOUD_PROJECT": "p"}, False, "vertex"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "false"}, False, "none"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "TRUE", "GOOGLE_API_KEY": "k"}, False, "vertex"),
        # As in the SDK, GOOGLE_GENAI_USE_ENTERPRISE wins when both are set.
        (
            {"GOOGLE_GENAI_USE_ENTERPRISE": "false", "GOOGLE_GENAI_USE_VERTEXAI": "true"},
            False,
            "none",
        ),
    ],
)
def test_the_source_follows_the_environment(env: dict[str, str], emulator: bool, kind: str) -> None:
    assert choose(env, emulator).kind == kind


def test_the_refusal_says_how_to_go_on() -> None:
    text = choose({}, False).description
    for hint in ("GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "--emulator"):
        assert hint in text


def test_the_description_never_shows_the_key() -> None:
    assert "secret" not in choose({"GEMINI_API_KEY": "secret"}, False).description
