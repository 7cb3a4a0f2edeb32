"""The package as users get it: built with `python -m build` from this checkout, into a
temporary folder (nothing is written into the tree), once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]


@attrs.frozen
class Built:
    wheel: Path
    sdist: Path
    log: str


def quiet_env() -> dict[str, str]:
    """This machine's shell sets PYTHONDONTWRITEBYTECODE, which makes setuptools warn that it
    skips byte-compiling: a user's shell does not, so neither does the build here."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        env=quiet_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Built(wheel, sdist, run.stdout + run.stderr)


def fresh_venv(where: Path) -> Path:
    """A new virtual environment with nothing but pip; returns its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    return where / "bin"


DEMO_PROMPT = (
    "Write a function that returns the n-th Fibonacci number iteratively, with a docstring"
)


def generate_with(executable: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """One generation on the emulator through an installed console script."""
    target = folder / "fib.py"
    target.write_text("\n\nprint(fibonacci(10))\n")
    env = {k: v for k, v in quiet_env().items() if not k.startswith(("GEMINI_", "GOOGLE_"))}
    return subprocess.run(
        [
            str(executable),
            "generate",
            str(target),
            "--line",
            "0",
            "--emulator",
            "--prompt",
            DEMO_PROMPT,
        ],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
