"""`make install` with HOME in a temporary folder: the server lands where the user's tools
look, works, and the output says where it is and how to point editors at it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, generate_with, quiet_env


def make_install(home: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in quiet_env().items() if not k.startswith(("XDG_", "PIPX_"))}
    env.update(HOME=str(home), PATH=path)
    return subprocess.run(
        ["make", "-s", "-C", str(ROOT), "install", f"PYTHON={sys.executable}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.timeout(2100)
def test_without_pipx_it_makes_a_venv_under_the_data_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = make_install(home, "/usr/bin:/bin")
    assert run.returncode == 0, run.stdout + run.stderr
    link = home / ".local" / "bin" / "gemini-lsp"
    venv = home / ".local" / "share" / "gemini-lsp" / "venv"
    assert link.is_symlink()
    assert link.resolve() == (venv / "bin" / "gemini-lsp").resolve()
    assert "pipx is not installed" in run.stdout
    assert "installed gemini-lsp " in run.stdout
    assert "is not on your PATH" in run.stdout
    assert f'"geminiLsp.server.command": ["{link}"]' in run.stdout
    assert generate_with(link, tmp_path).returncode == 0
    # Again: an upgrade in place, the link kept.
    again = make_install(home, "/usr/bin:/bin")
    assert again.returncode == 0, again.stdout + again.stderr
    assert link.is_symlink()


@pytest.mark.timeout(1200)
def test_with_pipx_it_uses_pipx(tmp_path: Path) -> None:
    pipx = Path(sys.executable).parent / "pipx"
    if not pipx.exists():
        pytest.skip("pipx is not installed")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "pipx").symlink_to(pipx)
    home = tmp_path / "home"
    bin_dir = home / ".local" / "bin"
    run = make_install(home, f"{tools}:{bin_dir}:/usr/bin:/bin")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "installing with pipx" in run.stdout
    executable = bin_dir / "gemini-lsp"
    assert os.access(executable, os.X_OK)
    assert "`gemini-lsp` is on your PATH" in run.stdout
    assert generate_with(executable, tmp_path).returncode == 0
