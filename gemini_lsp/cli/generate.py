"""`gemini-lsp generate`: a headless LSP client that streams a generation into a file.

It starts the server over stdio like any editor would, applies its edits to the file's text,
shows the code arriving line by line under a progress bar, and saves the file at the end —
atomically, in the file's own line endings. It never writes code from a source the user did
not choose: with no credentials it refuses, unless `--emulator` asks for placeholder code.
The session with the server is `session.py`; this module is the command around it: its
arguments, the file, and what is written where.

Exit codes: 0 done, 1 the generation failed (nothing written), 2 bad usage or an unreadable
file, 3 no credentials, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import os
import signal
import sys
from pathlib import Path
from typing import Any

from gemini_lsp.cli import source as sources
from gemini_lsp.cli.display import Display
from gemini_lsp.cli.session import CANCELLED, FAILED, Interrupt, Outcome, generate
from gemini_lsp.cli.textfile import FileChangedError, TextFile, count_lines
from gemini_lsp.gemini.secrets import KEY_VARIABLES

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_CREDENTIALS = 3
EXIT_INTERRUPTED = 130
# The key the server is given for the emulator: no word of it is one the server should mask
# (it masks its key wherever it prints).
EMULATOR_KEY = "emu-key-not-secret"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="the file to write into (saved at the end)")
    parser.add_argument(
        "--prompt", required=True, help="what to ask Gemini for ('-': read it from stdin)"
    )
    parser.add_argument("--line", type=int, default=0, help="insertion line (0-based)")
    parser.add_argument("--character", type=int, default=0, help="insertion column (0-based)")
    parser.add_argument(
        "--range",
        metavar="L:C-L:C",
        help="rewrite this range instead of inserting (0-based, end exclusive)",
    )
    parser.add_argument("--model", help="the Gemini model (default: the server's setting)")
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="use the built-in emulator (canned code, not a model) instead of Gemini",
    )
    parser.add_argument(
        "--on-cancel",
        choices=("keep", "discard"),
        help="on Ctrl-C, keep the partial text or discard it (default: the server's, keep)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--stdout", action="store_true", help="print the new file on stdout, leave the file"
    )
    output.add_argument(
        "--diff", action="store_true", help="print a unified diff on stdout, leave the file"
    )
    output.add_argument(
        "--dry-run", action="store_true", help="show the generation, leave the file"
    )


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        # Before the stream started or while saving: the save is atomic, so the file is
        # either as it was or complete.
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        print("gemini-lsp generate: the prompt is empty", file=sys.stderr)
        return EXIT_USAGE
    path: Path = args.path.absolute()
    try:
        file = TextFile.read(path)
    except FileNotFoundError:
        print(f"gemini-lsp generate: no such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeDecodeError:
        print(f"gemini-lsp generate: not a UTF-8 text file: {path}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"gemini-lsp generate: cannot read {path}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    source = sources.choose(os.environ, args.emulator)
    if source.kind == "none":
        print(source.description, file=sys.stderr)
        return EXIT_NO_CREDENTIALS
    print(f"Generating with {source.description}.", file=sys.stderr)

    writes_stdout = args.stdout or args.diff
    display = Display(sys.stderr if writes_stdout else sys.stdout, show_code=not writes_stdout)
    outcome = asyncio.run(_session(args, prompt, file, source, display))
    if outcome is None:
        display.done("interrupted: nothing written")
        return EXIT_INTERRUPTED
    interrupted = outcome.status == CANCELLED
    if source.kind == "emulator":
        outcome.result["model"] = "the emulator"
    if outcome.status == FAILED:
        display.done(f"failed: {outcome.message} (nothing written)")
        return EXIT_FAILED
    return _deliver(args, file, outcome, display, interrupted)


def _deliver(
    args: argparse.Namespace, file: TextFile, outcome: Outcome, display: Display, interrupted: bool
) -> int:
    result = outcome.result
    timings = result.get("timings") or {}
    lines = count_lines(outcome.generated)
    summary = (
        f"{outcome.status}: {lines} line{'' if lines == 1 else 's'} in "
        f"{timings.get('totalMs') or 0:.0f} ms (first token {timings.get('firstTokenMs') or 0:.0f}"
        f" ms, {result.get('model') or 'unknown model'})"
    )
    code = EXIT_INTERRUPTED if interrupted else EXIT_OK
    if args.stdout:
        display.done(summary)
        sys.stdout.buffer.write(file.render(outcome.text).encode("utf-8"))
        sys.stdout.flush()
        return code
    if args.diff:
        display.done(summary)
        sys.stdout.write(_unified_diff(file, outcome.text))
        sys.stdout.flush()
        return code
    if args.dry_run:
        display.done(f"{summary}; not saved (--dry-run)")
        return code
    try:
        saved = file.save(outcome.text)
    except FileChangedError:
        display.done(f"{summary}; NOT saved: {file.path} changed on disk meanwhile")
        return EXIT_FAILED
    except OSError as error:
        display.done(f"{summary}; NOT saved: {error}")
        return EXIT_FAILED
    display.done(f"{summary}, saved {file.path}" if saved else f"{summary}; file unchanged")
    return code


def _unified_diff(file: TextFile, text: str) -> str:
    before = file.render(file.text).splitlines(keepends=True)
    after = file.render(text).splitlines(keepends=True)
    name = str(file.path)
    return "".join(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))


def _server_environment(source: sources.Source, emulator_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if emulator_url is not None:
        # Only the emulator: no real key travels to it, and Vertex settings do not apply.
        for name in (
            *KEY_VARIABLES,
            *sources.VERTEX_VARIABLES,
            sources.VERTEX_BASE_URL_VARIABLE,
        ):
            env.pop(name, None)
        env[sources.BASE_URL_VARIABLE] = emulator_url
        env[KEY_VARIABLES[0]] = EMULATOR_KEY
    return env


async def _session(
    args: argparse.Namespace,
    prompt: str,
    file: TextFile,
    source: sources.Source,
    display: Display,
) -> Outcome | None:
    """Streams the generation into a copy of the file's text; None when given up."""
    loop = asyncio.get_running_loop()
    interrupt = Interrupt()
    loop.add_signal_handler(signal.SIGINT, interrupt)
    emulator = None
    try:
        if source.kind == "emulator":
            from gemini_lsp.emulator import Emulator

            emulator = Emulator()
            emulator_url: str | None = await emulator.start()
        else:
            emulator_url = None
        work = asyncio.ensure_future(
            generate(
                args, prompt, file, _server_environment(source, emulator_url), display, interrupt
            )
        )
        give_up = asyncio.ensure_future(asyncio.shield(interrupt.give_up))
        either: set[asyncio.Future[Any]] = {work, give_up}
        done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if work in done:
            give_up.cancel()
            try:
                return work.result()
            except Exception as error:  # the server did not start, or went away
                return Outcome(FAILED, file.text, message=str(error) or type(error).__name__)
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work
        return None
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if emulator is not None:
            await emulator.stop()
