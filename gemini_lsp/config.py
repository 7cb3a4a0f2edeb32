"""Settings: one `geminiLsp` object, merged from the client's three sources and validated.

Invalid values never stop the server: each is reported and falls back to its default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from gemini_lsp.gemini.secrets import key_problem

SECTION = "geminiLsp"

OnCancel = Literal["keep", "discard"]


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_int(low: int, high: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    return check


def _is_number(low: float, high: float) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        return (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and low <= float(value) <= high
        )

    return check


def _is_optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


# Gemini's model ids ("gemini-2.5-flash"), optionally as a resource name: "models/…",
# "tunedModels/…", or Vertex AI's "publishers/google/models/…". The name becomes part of the
# request's path: no other slash, no "..", no space.
_MODEL_ID = r"[a-z0-9][a-z0-9._-]*"
MODEL_NAME = re.compile(
    rf"(?:models/|tunedModels/|publishers/{_MODEL_ID}/models/)?{_MODEL_ID}", re.ASCII
)
MODEL_NAME_CHARS = 200
MODEL_EXPECTED = (
    "a model name such as gemini-2.5-flash (lowercase letters, digits, '.', '-' and '_', "
    "optionally after models/ or tunedModels/)"
)


def is_model_name(value: object) -> bool:
    """Whether `value` is a Gemini model name (the pattern of Gemini's model ids)."""
    return (
        isinstance(value, str)
        and len(value) <= MODEL_NAME_CHARS
        and MODEL_NAME.fullmatch(value) is not None
    )


def _is_model(value: object) -> bool:
    return is_model_name(value)


def _is_api_key(value: object) -> bool:
    return value is None or (isinstance(value, str) and key_problem(value) is None)


def _is_optional_number(low: float, high: float) -> Callable[[object], bool]:
    number = _is_number(low, high)
    return lambda value: value is None or number(value)


def _is_optional_int(low: int, high: int) -> Callable[[object], bool]:
    integer = _is_int(low, high)
    return lambda value: value is None or integer(value)


@attrs.frozen
class SettingSpec:
    """What one setting accepts, for validation and for the editors' settings schemas."""

    name: str  # camelCase, as clients send it
    attribute: str  # snake_case, on `Settings`
    check: Callable[[object], bool]
    expected: str  # for the error message a person reads


@attrs.frozen
class Settings:
    """The effective `geminiLsp` settings; the README's settings table lists the same defaults."""

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


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("model", "model", _is_model, MODEL_EXPECTED),
    SettingSpec(
        "temperature", "temperature", _is_optional_number(0.0, 2.0), "a number from 0 to 2"
    ),
    SettingSpec(
        "maxOutputTokens",
        "max_output_tokens",
        _is_optional_int(1, 1_000_000),
        "a positive whole number",
    ),
    SettingSpec(
        "thinkingBudget",
        "thinking_budget",
        _is_optional_int(-1, 100_000),
        "a whole number of tokens (0 disables thinking, -1 lets the model decide)",
    ),
    SettingSpec("systemInstruction", "system_instruction", _is_optional_str, "a string"),
    SettingSpec("contextLines", "context_lines", _is_int(0, 100_000), "a whole number ≥ 0"),
    SettingSpec("onCancel", "on_cancel", lambda v: v in ("keep", "discard"), '"keep" or "discard"'),
    SettingSpec(
        "apiKey",
        "api_key",
        _is_api_key,
        "an API key (printable ASCII, no spaces or control characters)",
    ),
    SettingSpec("vertexai", "vertexai", lambda v: v is None or _is_bool(v), "true or false"),
    SettingSpec("project", "project", _is_optional_str, "a string"),
    SettingSpec("location", "location", _is_optional_str, "a string"),
    SettingSpec(
        "baseUrl",
        "base_url",
        lambda v: v is None or (isinstance(v, str) and re.match(r"https?://", v) is not None),
        "an http:// or https:// URL",
    ),
    SettingSpec("maxConcurrent", "max_concurrent", _is_int(1, 64), "a whole number from 1 to 64"),
    SettingSpec(
        "timeoutSeconds", "timeout_seconds", _is_number(1.0, 3600.0), "seconds from 1 to 3600"
    ),
    SettingSpec("retries", "retries", _is_int(0, 10), "a whole number from 0 to 10"),
    SettingSpec(
        "editTimeoutSeconds",
        "edit_timeout_seconds",
        _is_number(0.5, 3600.0),
        "seconds from 0.5 to 3600",
    ),
    SettingSpec("inlineCompletion.enabled", "inline_enabled", _is_bool, "true or false"),
    SettingSpec("inlineCompletion.model", "inline_model", _is_model, "a model name"),
    SettingSpec(
        "inlineCompletion.debounceMs",
        "inline_debounce_ms",
        _is_int(0, 5000),
        "milliseconds from 0 to 5000",
    ),
    SettingSpec(
        "inlineCompletion.maxLines", "inline_max_lines", _is_int(1, 200), "lines from 1 to 200"
    ),
    SettingSpec(
        "inlineCompletion.contextChars",
        "inline_context_chars",
        _is_int(100, 200_000),
        "characters from 100 to 200000",
    ),
)

# Settings that clients send as one nested object (`{"inlineCompletion": {"enabled": …}}`);
# their specs are named "<group>.<name>".
GROUPS: tuple[str, ...] = ("inlineCompletion",)

SETTING_NAMES: tuple[str, ...] = tuple(spec.name for spec in SPECS)
_BY_NAME: dict[str, SettingSpec] = {spec.name: spec for spec in SPECS}


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
            elif spec.check(value):
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
            flat += [(spec.name, None) for spec in SPECS if spec.name.startswith(name + ".")]
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
