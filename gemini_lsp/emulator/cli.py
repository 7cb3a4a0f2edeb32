"""`gemini-lsp emulator`: serve the Gemini emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from gemini_lsp.emulator.scenario import Scenario, load_scenario
from gemini_lsp.emulator.server import DEFAULT_CHARS_PER_SECOND, DEFAULT_FIRST_TOKEN_MS, Emulator

# The emulator's modules log under its package's logger, configured here for a run.
PACKAGE_LOGGER = "gemini_lsp.emulator"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on (0: any free port, printed)"
    )
    parser.add_argument("--scenario", metavar="FILE", help="JSON file of scripted replies")
    parser.add_argument(
        "--api-key", default=None, help="the only API key to accept (default: any non-empty key)"
    )
    parser.add_argument(
        "--first-token-ms",
        type=float,
        default=None,
        help=f"delay before the first chunk (default: the scenario's, else "
        f"{DEFAULT_FIRST_TOKEN_MS:g}; 0: none)",
    )
    parser.add_argument(
        "--chars-per-second",
        type=float,
        default=None,
        help=f"streaming pace (default: the scenario's, else {DEFAULT_CHARS_PER_SECOND:g}; "
        "0: as fast as possible)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests on stderr")


def run(args: argparse.Namespace) -> int:
    """Serves until SIGINT or SIGTERM. Prints `GOOGLE_GEMINI_BASE_URL=...` on stdout."""
    scenario = Scenario()
    if args.scenario:
        try:
            scenario = load_scenario(args.scenario)
        except (OSError, ValueError) as exc:
            print(f"gemini-lsp emulator: cannot load scenario: {exc}", file=sys.stderr)
            return 2
    _configure_logging(args.quiet)
    emulator = Emulator(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        replies=scenario.replies,
        first_token_ms=_pick(args.first_token_ms, scenario.first_token_ms, DEFAULT_FIRST_TOKEN_MS),
        chars_per_second=_pick(
            args.chars_per_second, scenario.chars_per_second, DEFAULT_CHARS_PER_SECOND
        ),
        fim=scenario.fim,
    )
    try:
        return asyncio.run(_serve(emulator))
    except KeyboardInterrupt:  # where signal handlers are not available
        return 0


def _configure_logging(quiet: bool) -> None:
    """Requests logged on stderr unless `quiet`."""
    log = logging.getLogger(PACKAGE_LOGGER)
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    if not quiet and not log.handlers and not logging.getLogger().handlers:
        # Run on its own (python -m gemini_lsp.emulator): nobody configured logging.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("emulator: %(message)s"))
        log.addHandler(handler)


def _pick(*values: float | None) -> float:
    return next(v for v in values if v is not None)


async def _serve(emulator: Emulator) -> int:
    try:
        base_url = await emulator.start()
    except OSError as exc:
        print(f"gemini-lsp emulator: cannot listen: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    # The one line on stdout, for scripts: eval it, or read it from a pipe.
    print(f"GOOGLE_GEMINI_BASE_URL={base_url}", flush=True)
    print(
        "gemini-lsp emulator: answers come from a local emulator, not from Gemini. Ctrl-C to stop.",
        file=sys.stderr,
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await emulator.stop()
    return 0
