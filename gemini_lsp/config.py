"""Settings: one `geminiLsp` object, merged from the client's three sources and validated.

What each setting accepts is defined in `gemini_lsp.contract.settings`. Invalid values never
stop the server: each is reported and falls back to its default.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from gemini_lsp.contract.settings import (
    GROUPS,
    SECTION,
    SETTINGS,
    JsonType,
    Setting,
)
from gemini_lsp.gemini.secrets import key_problem

# SECTION is the contract's, used by the server as `config.SECTION`.
__all__ = [
    "MODEL_NAME",
    "MODEL_NAME_CHARS",
    "SECTION",
    "SETTING_NAMES",
    "OnCancel",
    "Resolution",
    "Settings",
    "accepts",
    "is_model_name",
    "resolve",
    "section_of",
]

OnCancel = Literal["keep", "discard"]


# Gemini's model ids ("gemini-2.5-flash"), optionally as a resource name: "models/…",
# "tunedModels/…", or Vertex AI's "publishers/google/models/…". The name becomes part of the
# request's path: no other slash, no "..", no space.
_MODEL_ID = r"[a-z0-9][a-z0-9._-]*"
MODEL_NAME = re.compile(
    rf"(?:models/|tunedModels/|publishers/{_MODEL_ID}/models/)?{_MODEL_ID}", re.ASCII
)
MODEL_NAME_CHARS = 200


def is_model_name(value: object) -> bool:
    """Whether `value` is a Gemini model name (the pattern of Gemini's model ids)."""
    return (
        isinstance(value, str)
        and len(value) <= MODEL_NAME_CHARS
        and MODEL_NAME.fullmatch(value) is not None
    )


def _has_type(kind: JsonType, value: object) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return value is None


def accepts(setting: Setting, value: object) -> bool:
    """Whether `value` (never null: null resets) is valid for `setting`."""
    if not any(_has_type(kind, value) for kind in setting.types):
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Written as `not (within)` so that NaN, which compares false, is refused.
        low = -math.inf if setting.minimum is None else setting.minimum
        high = math.inf if setting.maximum is None else setting.maximum
        if not low <= float(value) <= high:
            return False
    if setting.choices and value not in {choice for choice, _ in setting.choices}:
        return False
    if setting.pattern is not None and not re.match(setting.pattern, str(value)):
        return False
    if setting.format == "model":
        return is_model_name(value)
    if setting.format == "apiKey":
        return isinstance(value, str) and key_problem(value) is None
    return True


@attrs.frozen
class Settings:
    """The effective `geminiLsp` settings, with the defaults of `gemini_lsp.contract.settings`
    (tests/test_contract.py compares the two)."""

    model: str = "gemini-2.5-flash"
    temperature: float | None = None
    max_output_tokens: int | None = None
    # Thinking delays the first token by seconds; code completion rarely needs it.
    thinking_budget: int | None = 0
    system_instruction: str | None = None
    context_lines: int = 200
    on_cancel: OnCancel = "keep"
    api_key: str | None = attrs.field(default=None, repr=False)
    vertexai: bool | None = None
    project: str | None = None
    location: str | None = None
    base_url: str | None = None
    max_concurrent: int = 4
    timeout_seconds: float = 60.0
    retries: int = 2
    # An editor that answers no edit (or refuses every one) this long fails the generation.
    edit_timeout_seconds: float = 10.0
    # Inline completions (`inlineCompletion.*`): the fastest model, thinking off, a short answer.
    inline_enabled: bool = True
    inline_model: str = "gemini-2.5-flash-lite"
    inline_debounce_ms: int = 100
    inline_max_lines: int = 6
    inline_context_chars: int = 4000


SETTING_NAMES: tuple[str, ...] = tuple(setting.name for setting in SETTINGS)
_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


@attrs.frozen
class Resolution:
    settings: Settings
    problems: tuple[str, ...]


def resolve(*sources: Mapping[str, Any] | None) -> Resolution:
    """Merge `geminiLsp` objects, later sources winning, and validate every value.

    `null` resets a setting to its default, so a client can unset what an earlier
    source set.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for source in sources:
        if source is None:
            continue
        if not isinstance(source, Mapping):
            problems.append(f"{SECTION} settings must be an object, got {type(source).__name__}")
            continue
        for name, value in _flattened(source, problems):
            spec = _BY_NAME.get(name)
            if spec is None:
                problems.append(f"Unknown setting {SECTION}.{name} (ignored)")
            elif value is None:
                values.pop(spec.attribute, None)
            elif accepts(spec, value):
                values[spec.attribute] = value
            else:
                problems.append(
                    f"Invalid setting {SECTION}.{name}: expected {spec.expected}, "
                    f"got {_describe(name, value)}; using the default"
                )
                values.pop(spec.attribute, None)
    if "api_key" in values:
        values["api_key"] = values["api_key"].strip()  # as the SDK sends it
    for seconds in ("timeout_seconds", "edit_timeout_seconds"):
        if seconds in values:
            values[seconds] = float(values[seconds])
    return Resolution(Settings(**values), tuple(problems))


def _flattened(source: Mapping[str, Any], problems: list[str]) -> list[tuple[str, Any]]:
    """The source's settings with each group's object spread into "<group>.<name>" entries;
    `null` for a whole group resets every setting in it."""
    flat: list[tuple[str, Any]] = []
    for name, value in source.items():
        if name not in GROUPS:
            flat.append((name, value))
        elif value is None:
            flat += [(s.name, None) for s in SETTINGS if s.name.startswith(name + ".")]
        elif isinstance(value, Mapping):
            flat += [(f"{name}.{inner}", item) for inner, item in value.items()]
        else:
            problems.append(f"Invalid setting {SECTION}.{name}: expected an object; ignored")
    return flat


def section_of(payload: object) -> Mapping[str, Any] | None:
    """The `geminiLsp` object inside `initializationOptions` or a didChangeConfiguration."""
    if isinstance(payload, Mapping):
        inner = payload.get(SECTION)
        if isinstance(inner, Mapping):
            return inner
    return None


def _describe(name: str, value: object) -> str:
    # Never echo a key back: messages reach logs and the user's screen.
    if name == "apiKey":
        problem = key_problem(value) if isinstance(value, str) else None
        return f"a string that {problem}" if problem else f"a {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
