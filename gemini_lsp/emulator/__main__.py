"""`python -m gemini_lsp.emulator`: the emulator without the rest of gemini-lsp."""

import argparse
import sys

from gemini_lsp.emulator.cli import add_arguments, run


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gemini_lsp.emulator", description="Run the Gemini API emulator."
    )
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
