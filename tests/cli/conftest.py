"""The `gemini-lsp generate` command as a user runs it: the installed console script in a
subprocess, against the emulator (built in with `--emulator`, or one scripted here and named
by `GOOGLE_GEMINI_BASE_URL`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gemini_lsp.emulator import EmulatorThread

SCRIPT = Path(sys.executable).parent / "gemini-lsp"
KEY = "cli-test-key"
# What the SDK and the CLI read: a developer's shell must not change what the tests see.
SDK_VARIABLES = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_VERTEX_BASE_URL",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_ENTERPRISE",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SDK_VARIABLES}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def generate(
    *args: str | Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "generate", *map(str, args)],
        env=clean_env() if env is None else env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    """A fast emulator that only takes KEY."""
    with EmulatorThread(api_key=KEY, first_token_ms=0, chars_per_second=0) as thread:
        yield thread


@pytest.fixture
def gemini_env(emulator: EmulatorThread) -> dict[str, str]:
    """The environment of a user with a key and an endpoint (the scripted emulator)."""
    return clean_env(GEMINI_API_KEY=KEY, GOOGLE_GEMINI_BASE_URL=emulator.emulator.base_url)
