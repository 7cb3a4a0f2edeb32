"""The environment a server under test starts with."""

from __future__ import annotations

import os

# Credentials and an endpoint from a developer's shell would win over the test's own.
_SHELL_ONLY = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL")


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Ours less the Gemini credentials and endpoint, plus `extra` (pytest-lsp replaces the
    environment rather than merging it)."""
    env = {k: v for k, v in os.environ.items() if k not in _SHELL_ONLY}
    env.update(extra or {})
    return env
