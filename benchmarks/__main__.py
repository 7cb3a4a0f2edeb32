"""`python -m benchmarks` (`make bench`): run the suite, print the table, write the JSON."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from .sizes import DEFAULT, FULL, QUICK
from .suite import GROUPS, Options, run

# Two runs of every figure take about two minutes on a quiet 2-CPU machine; three took three.
DEFAULT_REPEATS = 2


def _options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs, not speed")
    mode.add_argument(
        "--full",
        action="store_true",
        help="the sizes the targets are stated for: 1,000 generations, a 50 MB document",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        metavar="N",
        help=f"runs of every figure (default {DEFAULT_REPEATS}, 1 with --quick)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("bench-results/latest.json"), help="where the JSON goes"
    )
    parser.add_argument(
        "--only", nargs="+", choices=GROUPS, metavar="GROUP", help=f"some of: {', '.join(GROUPS)}"
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    name, sizes = (
        ("quick", QUICK) if args.quick else ("full", FULL) if args.full else ("default", DEFAULT)
    )
    repeats = args.repeats or (1 if args.quick else DEFAULT_REPEATS)
    groups = [g for g in GROUPS if g in (args.only or GROUPS)]
    return Options(sizes, name, repeats, groups, args.out)


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    started = time.monotonic()
    _, table_text = asyncio.run(run(options))
    print(table_text)
    print(f"\n{options.mode} run, {time.monotonic() - started:.0f} s; JSON in {options.out}")
    if os.getloadavg()[1] > (os.cpu_count() or 1):
        # Ratios hold up on a busy machine; worst runs, tails and absolute times do not.
        print("warning: the machine was busy during this run; read the worst runs with care")
    return 0


if __name__ == "__main__":
    sys.exit(main())
