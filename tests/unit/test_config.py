from __future__ import annotations

from gemini_lsp.config import SETTING_NAMES, Settings, resolve, section_of


def test_defaults_are_those_of_the_design() -> None:
    settings = resolve().settings
    assert settings == Settings()
    assert settings.model == "gemini-2.5-flash"
    assert settings.on_cancel == "keep"
    assert settings.api_key is None and settings.base_url is None


def test_later_sources_win_and_null_resets() -> None:
    resolution = resolve(
        {"model": "gemini-a", "temperature": 0.5, "retries": 3},
        {"model": "gemini-b"},
        {"temperature": None},
    )
    assert resolution.problems == ()
    assert resolution.settings.model == "gemini-b"
    assert resolution.settings.temperature is None
    assert resolution.settings.retries == 3


def test_invalid_values_fall_back_and_are_reported() -> None:
    resolution = resolve(
        {"retries": 3, "maxConcurrent": 2},
        {"retries": "many", "onCancel": "sometimes", "timeoutSeconds": 0, "bogus": 1},
    )
    settings = resolution.settings
    assert settings.retries == Settings().retries
    assert settings.on_cancel == "keep"
    assert settings.timeout_seconds == 60.0
    assert settings.max_concurrent == 2
    text = "\n".join(resolution.problems)
    for name in ("geminiLsp.retries", "geminiLsp.onCancel", "geminiLsp.timeoutSeconds"):
        assert name in text
    assert "Unknown setting geminiLsp.bogus" in text


def test_a_bad_key_value_is_never_echoed() -> None:
    resolution = resolve({"apiKey": 123456789})
    assert "123456789" not in "\n".join(resolution.problems)


def test_booleans_are_not_numbers() -> None:
    assert resolve({"retries": True}).settings.retries == Settings().retries


def test_section_of_finds_the_object() -> None:
    assert section_of({"geminiLsp": {"model": "m"}}) == {"model": "m"}
    assert section_of({"other": 1}) is None
    assert section_of(None) is None


def test_every_setting_has_a_spec() -> None:
    assert len(SETTING_NAMES) == len(set(SETTING_NAMES)) == 21
