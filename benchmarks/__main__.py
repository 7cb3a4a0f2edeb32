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
    print(
        f"\nload average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
        f"{time.monotonic() - started:.0f} s; JSON in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
