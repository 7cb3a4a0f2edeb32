"""What a usable key looks like, and the masking every output goes through."""

from __future__ import annotations

import io
import json

import pytest

from gemini_lsp.config import is_model_name, resolve
from gemini_lsp.gemini.secrets import MAX_KEYS, MaskedStream, Secrets, key_problem, usable_key

KEY = "AIzaUnitTest-0a1b2c3d4e5f6a7b8c9d0e1f"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("AIzaFirst\nSecond-0123456789", "control character"),
        ("AIzaFirst\x00Second-0123456789", "control character"),
        ("AIzaFirst Second-0123456789", "whitespace"),
        ("AIzaFirstÄSecond-0123456789", "not ASCII"),
        ("tiny-1", "shorter than 8"),
    ],
)
def test_unusable_keys_say_why_without_the_key(key: str, problem: str) -> None:
    assert problem in (key_problem(key) or "")
    with pytest.raises(ValueError, match=problem) as raised:
        usable_key(key, "GEMINI_API_KEY")
    assert "GEMINI_API_KEY" in str(raised.value)
    for piece in ("First", "Second", "tiny-1"):
        assert piece not in str(raised.value)


def test_surrounding_whitespace_is_dropped_as_the_sdk_drops_it() -> None:
    assert usable_key(f"  {KEY}\n", "geminiLsp.apiKey") == KEY


def test_a_key_setting_that_cannot_be_used_is_reported_without_the_key() -> None:
    resolution = resolve({"apiKey": "AIzaFirst\nSecond-0123456789"})
    assert resolution.settings.api_key is None
    (problem,) = resolution.problems
    assert "control character" in problem and "First" not in problem
    assert resolve({"apiKey": f" {KEY} "}).settings.api_key == KEY


@pytest.mark.parametrize(
    "printed",
    [
        KEY,
        repr(KEY),
        json.dumps({"apiKey": KEY}),
        json.dumps(json.dumps(KEY)),
        repr(json.dumps(KEY)),
    ],
)
def test_masked_as_printed(printed: str) -> None:
    assert "0a1b2c3d" not in Secrets([KEY]).mask(f"<{printed}>")


def test_a_key_with_a_backslash_is_masked_in_its_repr() -> None:
    key = "AIza\\Back-slash\\0123"
    masked = Secrets([key]).mask(f"params { ({'apiKey': key})!r}")
    assert "Back-slash" not in masked and "***" in masked


def test_a_key_with_surrounding_whitespace_is_masked_stripped() -> None:
    masked = Secrets([f"  {KEY}\n"]).mask(f"the key is {KEY}.")
    assert masked == "the key is ***."


def test_a_clean_message_is_left_as_it_is() -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"text": "nothing secret"}})
    assert Secrets([KEY]).mask_json(body) is body
    dirty = {"jsonrpc": "2.0", "method": "window/showMessage", "params": {"message": KEY}}
    masked = json.loads(Secrets([KEY]).mask_json(json.dumps(dirty)))
    assert masked == {**dirty, "params": {"message": "***"}}


def test_short_values_are_not_masked() -> None:
    assert Secrets(["key"]).mask("a key") == "a key"


def test_the_keys_remembered_are_bounded() -> None:
    secrets = Secrets(f"AIzaKey-{index:08d}-abcdef" for index in range(MAX_KEYS + 10))
    assert len(secrets) == MAX_KEYS
    assert f"AIzaKey-{MAX_KEYS + 9:08d}-abcdef" in secrets


def test_a_masked_stream_masks_what_is_written() -> None:
    out = io.StringIO()
    MaskedStream(out, Secrets([KEY])).write(f"Traceback … {KEY!r}\n")
    assert KEY not in out.getvalue() and "***" in out.getvalue()


@pytest.mark.parametrize(
    "name",
    [
        "gemini-2.5-flash",
        "gemini-2.0-flash-001",
        "models/gemini-2.5-pro",
        "tunedModels/my-model-7",
        "publishers/google/models/gemini-2.5-flash",
    ],
)
def test_model_names_of_gemini(name: str) -> None:
    assert is_model_name(name)


@pytest.mark.parametrize(
    "name",
    ["../../x", "models/../x", "a/b", "gemini pro", "Gemini-X", "", ".hidden", "x" * 201],
)
def test_what_is_not_a_model_name(name: str) -> None:
    assert not is_model_name(name)


def test_the_environments_key_is_never_forgotten() -> None:
    secrets = Secrets()
    secrets.add_environment({"GEMINI_API_KEY": KEY})
    for index in range(MAX_KEYS * 2):
        secrets.add(f"AIzaKey-{index:08d}-abcdef")
    assert secrets.mask(KEY) == "***"
