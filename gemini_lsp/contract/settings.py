"""The `geminiLsp` settings: name, JSON type, default, bounds, description and scope of each.

`gemini_lsp.config` validates against these and its `Settings` holds the same defaults; the
description is what VS Code's settings editor and the README's table show.
"""

from __future__ import annotations

from typing import Literal

import attrs

SECTION = "geminiLsp"

JsonType = Literal["string", "number", "integer", "boolean", "null"]
# VS Code's scopes: "machine" settings come only from User or Remote settings, never from a
# workspace (they name where the key goes); "window" ones apply to the whole window.
Scope = Literal["resource", "window", "machine"]
# Values that a plain type cannot describe, checked by `gemini_lsp.config`.
Format = Literal["model", "apiKey"]


@attrs.frozen
class Setting:
    name: str  # camelCase as clients send it; "<group>.<name>" inside a group object
    attribute: str  # on `gemini_lsp.config.Settings`
    types: tuple[JsonType, ...]
    default: str | int | float | bool | None
    description: str  # Markdown
    expected: str  # ends "Invalid setting …: expected <this>"
    scope: Scope = "resource"
    minimum: float | None = None
    maximum: float | None = None
    # Allowed values with what each means.
    choices: tuple[tuple[str, str], ...] = ()
    pattern: str | None = None  # a regular expression the value must start with
    format: Format | None = None
    # What an untrusted workspace may not set: where requests go and what they ask.
    restricted: bool = False
    # VS Code keeps the key in its secret storage, never in settings.json.
    in_vscode: bool = True


MODEL_EXPECTED = (
    "a model name such as gemini-2.5-flash (lowercase letters, digits, '.', '-' and '_', "
    "optionally after models/ or tunedModels/)"
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "model",
        "model",
        ("string",),
        "gemini-2.5-flash",
        "The Gemini model that writes the code, for example `gemini-2.5-flash` or "
        "`gemini-2.5-pro`. A request's `model` overrides it.",
        MODEL_EXPECTED,
        format="model",
    ),
    Setting(
        "temperature",
        "temperature",
        ("number", "null"),
        None,
        "Sampling temperature from 0 to 2. `null` uses the model's default.",
        "a number from 0 to 2",
        minimum=0,
        maximum=2,
    ),
    Setting(
        "maxOutputTokens",
        "max_output_tokens",
        ("integer", "null"),
        None,
        "The most tokens one generation may write. `null` uses the model's limit.",
        "a positive whole number",
        minimum=1,
        maximum=1_000_000,
    ),
    Setting(
        "thinkingBudget",
        "thinking_budget",
        ("integer", "null"),
        0,
        "Tokens the model may spend thinking before it writes: `0` disables thinking (the "
        "first token comes sooner), `-1` lets the model decide, `null` uses the model's "
        "default. Models that cannot turn thinking off need `-1` or a budget.",
        "a whole number of tokens (0 disables thinking, -1 lets the model decide)",
        minimum=-1,
        maximum=100_000,
    ),
    Setting(
        "systemInstruction",
        "system_instruction",
        ("string", "null"),
        None,
        "Extra instruction sent with every request, for example the house style, appended "
        "to the server's own. `null` uses the server's built-in instruction only.",
        "a string",
        restricted=True,
    ),
    Setting(
        "contextLines",
        "context_lines",
        ("integer",),
        200,
        "How many lines before and after the cursor are sent to Gemini as context.",
        "a whole number ≥ 0",
        minimum=0,
        maximum=100_000,
    ),
    Setting(
        "onCancel",
        "on_cancel",
        ("string",),
        "keep",
        "What happens to the partial text of a generation that is cancelled or fails "
        "mid-stream. A cancelled rewrite always restores the original; a blocked answer is "
        "never kept.",
        '"keep" or "discard"',
        choices=(
            ("keep", "Keep the text that arrived before the cancel."),
            ("discard", "Remove the partial text, restoring the document."),
        ),
    ),
    Setting(
        "apiKey",
        "api_key",
        ("string", "null"),
        None,
        "The Gemini API key, when the environment has none.",
        "an API key (printable ASCII, no spaces or control characters)",
        format="apiKey",
        in_vscode=False,
    ),
    Setting(
        "vertexai",
        "vertexai",
        ("boolean", "null"),
        None,
        "Use Vertex AI instead of the Gemini Developer API. `null` follows "
        "`GOOGLE_GENAI_USE_VERTEXAI`.",
        "true or false",
        scope="window",
        restricted=True,
    ),
    Setting(
        "project",
        "project",
        ("string", "null"),
        None,
        "Google Cloud project for Vertex AI. `null` follows `GOOGLE_CLOUD_PROJECT`.",
        "a string",
        scope="window",
        restricted=True,
    ),
    Setting(
        "location",
        "location",
        ("string", "null"),
        None,
        "Google Cloud location for Vertex AI, for example `us-central1`. `null` follows "
        "`GOOGLE_CLOUD_LOCATION`.",
        "a string",
        scope="window",
        restricted=True,
    ),
    Setting(
        "baseUrl",
        "base_url",
        ("string", "null"),
        None,
        "Base URL of the Gemini API, for a proxy or the bundled emulator. `null` follows "
        "`GOOGLE_GEMINI_BASE_URL`, else the SDK's default. Your API key goes there, so only "
        "User (or Remote) settings can set it, never a workspace.",
        "an http:// or https:// URL",
        scope="machine",
        pattern="https?://",
        restricted=True,
    ),
    Setting(
        "maxConcurrent",
        "max_concurrent",
        ("integer",),
        4,
        "How many generations may talk to Gemini at once; the rest wait, and say so.",
        "a whole number from 1 to 256",
        scope="window",
        minimum=1,
        maximum=256,
    ),
    Setting(
        "timeoutSeconds",
        "timeout_seconds",
        ("number",),
        60.0,
        "Seconds a stream may stay silent before the generation fails (a limit per read, "
        "not a total).",
        "seconds from 1 to 3600",
        minimum=1,
        maximum=3600,
    ),
    Setting(
        "retries",
        "retries",
        ("integer",),
        2,
        "Retries before the first token (never after), with exponential backoff and jitter; "
        "Gemini's own retry delay is honoured up to 30 s, and a longer one fails at once "
        "saying how long to wait.",
        "a whole number from 0 to 10",
        minimum=0,
        maximum=10,
    ),
    Setting(
        "editTimeoutSeconds",
        "edit_timeout_seconds",
        ("number",),
        10.0,
        "Seconds the editor may leave an edit unanswered (or refuse every edit) before the "
        "generation fails; other documents keep streaming.",
        "seconds from 0.5 to 3600",
        minimum=0.5,
        maximum=3600,
    ),
    Setting(
        "inlineCompletion.enabled",
        "inline_enabled",
        ("boolean",),
        True,
        "Suggest code as ghost text while you type (LSP inline completions).",
        "true or false",
    ),
    Setting(
        "inlineCompletion.model",
        "inline_model",
        ("string",),
        "gemini-2.5-flash-lite",
        "The model for inline suggestions: a fast one, since you wait for it on every pause.",
        "a model name",
        format="model",
    ),
    Setting(
        "inlineCompletion.debounceMs",
        "inline_debounce_ms",
        ("integer",),
        100,
        "Quiet time after a keystroke before Gemini is asked (longer while you type "
        "steadily). An explicit trigger skips it.",
        "milliseconds from 0 to 5000",
        minimum=0,
        maximum=5000,
    ),
    Setting(
        "inlineCompletion.maxLines",
        "inline_max_lines",
        ("integer",),
        6,
        "At most this many lines per suggestion.",
        "lines from 1 to 200",
        minimum=1,
        maximum=200,
    ),
    Setting(
        "inlineCompletion.contextChars",
        "inline_context_chars",
        ("integer",),
        4000,
        "Characters of code sent around the cursor (three quarters before it, a quarter after).",
        "characters from 100 to 200000",
        minimum=100,
        maximum=200_000,
    ),
)

# Settings that clients send as one nested object (`{"inlineCompletion": {"enabled": …}}`).
GROUPS: tuple[str, ...] = ("inlineCompletion",)
