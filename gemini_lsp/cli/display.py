"""What `gemini-lsp generate` shows in the terminal: the code as it arrives, complete lines
above a progress bar that is redrawn in place (only on a terminal; a pipe gets the lines)."""

from __future__ import annotations

import shutil
import time
from typing import TextIO


class Display:
    def __init__(self, out: TextIO, show_code: bool = True) -> None:
        self.out = out
        self.show_code = show_code
        self.live = out.isatty()
        self.partial = ""
        self.status = "waiting for Gemini…"
        self.started = time.monotonic()
        self.lines = 0

    def code(self, text: str) -> None:
        *complete, self.partial = (self.partial + text).split("\n")
        self.lines += len(complete)
        self._clear()
        if self.show_code:
            for line in complete:
                self.out.write(line + "\n")
        self._draw()

    def progress(self, message: str) -> None:
        self.status = message
        self._clear()
        self._draw()

    def done(self, summary: str) -> None:
        self._clear()
        if self.partial and self.show_code:
            self.out.write(self.partial + "\n")
        self.partial = ""
        self.out.write(f"── {summary}\n")
        self.out.flush()

    def _clear(self) -> None:
        if self.live:
            self.out.write("\r\x1b[K")

    def _draw(self) -> None:
        if self.live:
            width = shutil.get_terminal_size().columns
            elapsed = time.monotonic() - self.started
            filled = min(self.lines, 20)
            bar = "█" * filled + "░" * (20 - filled)
            line = f"▕{bar}▏ {self.lines} lines · {elapsed:.1f} s · {self.status}"
            self.out.write(line[: width - 1])
        self.out.flush()
