"""`python -m benchmarks` (`make bench`): run the suite, print the table, write the JSON."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from .suite import GROUPS, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks it runs, not speed"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("bench-results/latest.json"), help="where the JSON goes"
    )
    parser.add_argument(
        "--only", nargs="+", choices=GROUPS, metavar="GROUP", help=f"some of: {', '.join(GROUPS)}"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    _, table_text = asyncio.run(run(args.quick, args.out, args.only or list(GROUPS)))
    print(table_text)
    load = os.getloadavg()
    print(
        f"\nload average {' '.join(f'{v:.2f}' for v in load)} on {os.cpu_count()} CPUs; "
        f"{time.monotonic() - started:.0f} s; JSON in {args.out}"
    )
    if load[1] > (os.cpu_count() or 1):
        # Ratios hold up on a busy machine; tails (p95, p99) and absolute times do not.
        print("warning: the machine was busy during this run; read the tails with care")
    return 0


if __name__ == "__main__":
    sys.exit(main())
