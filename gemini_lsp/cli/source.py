"""Where `gemini-lsp generate` sends its requests, read from the environment as the
google-genai SDK reads it.

A real file is only ever written with text from a source the user chose: Gemini with a key,
Vertex AI, an endpoint named by `GOOGLE_GEMINI_BASE_URL`, or the emulator asked for with
`--emulator`. With none of them, the answer is a refusal that says how to set one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from gemini_lsp.gemini.secrets import KEY_VARIABLES

BASE_URL_VARIABLE = "GOOGLE_GEMINI_BASE_URL"
VERTEX_BASE_URL_VARIABLE = "GOOGLE_VERTEX_BASE_URL"
VERTEX_VARIABLES = ("GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_USE_VERTEXAI")

NO_CREDENTIALS = (
    "No Gemini API key, so nothing was written. Set one:\n"
    "    export GEMINI_API_KEY=...   (a key from Google AI Studio)\n"
    "or use Vertex AI:\n"
    "    export GOOGLE_GENAI_USE_VERTEXAI=true GOOGLE_CLOUD_PROJECT=... "
    "GOOGLE_CLOUD_LOCATION=...\n"
    "or try it with the built-in emulator, which writes canned code, not Gemini's:\n"
    "    gemini-lsp generate ... --emulator"
)

Kind = Literal["emulator", "vertex", "gemini", "endpoint", "none"]


@attrs.frozen
class Source:
    kind: Kind
    description: str  # for the line that says where the code comes from


def _flag(value: str | None) -> bool | None:
    """The SDK's reading of a boolean variable: "true" or "1" (any case) is true."""
    return None if value is None else value.lower() in ("true", "1")


def uses_vertex(env: Mapping[str, str]) -> bool:
    # The SDK lets GOOGLE_GENAI_USE_ENTERPRISE win over GOOGLE_GENAI_USE_VERTEXAI.
    for name in VERTEX_VARIABLES:
        flag = _flag(env.get(name))
        if flag is not None:
            return flag
    return False


def choose(env: Mapping[str, str], emulator: bool) -> Source:
    if emulator:
        return Source("emulator", "the built-in Gemini emulator (canned answers, not a real model)")
    key = next((name for name in KEY_VARIABLES if env.get(name)), None)
    if uses_vertex(env):
        project = env.get("GOOGLE_CLOUD_PROJECT") or "(project from your credentials)"
        location = env.get("GOOGLE_CLOUD_LOCATION") or "(default location)"
        how = f"API key from {key}" if key else "Google Cloud credentials"
        return Source("vertex", f"Vertex AI, project {project}, {location} ({how})")
    base_url = env.get(BASE_URL_VARIABLE)
    if key:
        where = f"Gemini at {base_url}" if base_url else "Gemini"
        return Source("gemini", f"{where} (API key from {key})")
    if base_url:
        return Source("endpoint", f"the Gemini endpoint at {base_url} (no API key set)")
    return Source("none", NO_CREDENTIALS)
