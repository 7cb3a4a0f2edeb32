#!/usr/bin/env python3
"""`make install`: installs the gemini-lsp server from this checkout for the current user.

With pipx on the PATH: `pipx install --force <checkout>` (pipx puts `gemini-lsp` in its bin
folder, usually ~/.local/bin). Without it: a virtual environment of its own under the data
folder ($XDG_DATA_HOME/gemini-lsp/venv, by default ~/.local/share/gemini-lsp/venv) and a
link to its `gemini-lsp` in $XDG_BIN_HOME (by default ~/.local/bin). Running it again
upgrades in place. Then it runs `gemini-lsp --version` and says how to point editors at it.

Standard library only: it runs with the system's Python before anything is installed.
Usage: python3 scripts/install_server.py [--venv] [--source PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "gemini-lsp"


def say(message: str) -> None:
    print(f"make install: {message}", flush=True)


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def bin_home() -> Path:
    return Path(os.environ.get("XDG_BIN_HOME") or Path.home() / ".local" / "bin")


def run(*command: str | Path) -> None:
    say("$ " + " ".join(str(part) for part in command))
    subprocess.run([str(part) for part in command], check=True)


def with_pipx(pipx: str, source: Path) -> Path:
    run(pipx, "install", "--force", source)
    found = subprocess.run(
        [pipx, "environment", "--value", "PIPX_BIN_DIR"], capture_output=True, text=True
    )
    folder = Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None
    return (folder or bin_home()) / NAME


def with_venv(source: Path) -> Path:
    environment = data_home() / NAME / "venv"
    python = environment / "bin" / "python"
    if not python.exists():
        say(f"creating a virtual environment in {environment}")
        venv.EnvBuilder(with_pip=True, clear=True).create(environment)
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", source)
    executable = environment / "bin" / NAME
    link = bin_home() / NAME
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or not link.exists():
        if link.is_symlink():
            link.unlink()
        link.symlink_to(executable)
        say(f"linked {link} -> {executable}")
        return link
    say(f"{link} exists and is not a link: left alone; the server is {executable}")
    return executable


def on_path(executable: Path) -> bool:
    found = shutil.which(NAME)
    return found is not None and Path(found).absolute() == executable.absolute()


def report(executable: Path) -> None:
    version = subprocess.run([str(executable), "--version"], capture_output=True, text=True)
    if version.returncode != 0:
        say(f"{executable} --version failed:\n{version.stderr}")
        raise SystemExit(1)
    say(f"installed {version.stdout.strip()} at {executable}")
    if on_path(executable):
        command = NAME
        say(f"`{NAME}` is on your PATH.")
    else:
        command = str(executable)
        say(
            f"{executable.parent} is not on your PATH: add it (for example in ~/.profile: "
            f'export PATH="{executable.parent}:$PATH"), or give editors the full path.'
        )
    print(
        f"""
Point your editor at the server:
  VS Code:  the extension installs its own copy; to use this one instead, set
            "geminiLsp.server.command": ["{command}"] in your User settings.
  Neovim:   require('gemini_lsp').setup({{ cmd = {{ '{command}' }} }})   (see editors/nvim)
  Emacs:    (setq gemini-lsp-server-command '("{command}"))   (see editors/emacs)
  Others:   run `{command}` (LSP over stdio); see docs/clients.md.
Then set GEMINI_API_KEY (or Vertex AI) where your editor starts. Try it without a key:
  {command} generate FILE --line 0 --prompt "..." --emulator
""",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", action="store_true", help="use a venv even if pipx exists")
    parser.add_argument("--source", type=Path, default=ROOT, help="what to install")
    args = parser.parse_args(argv)
    pipx = None if args.venv else shutil.which("pipx")
    try:
        if pipx:
            say(f"installing with pipx ({pipx})")
            executable = with_pipx(pipx, args.source)
        else:
            say("pipx is not installed: using a virtual environment of its own")
            executable = with_venv(args.source)
    except subprocess.CalledProcessError as error:
        say(f"failed: {error}")
        return 1
    report(executable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
