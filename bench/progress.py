"""The progress line: what the bench is running now, on stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """On a terminal one line rewritten in place; elsewhere one line per phase, to keep logs short."""

    def __init__(self, stream=None, enabled: bool = True) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled
        self._tty = self._stream.isatty()
        self._started = time.monotonic()
        self._phase = None
        self._width = 0

    def show(self, phase: str, detail: str = "") -> None:
        """``phase`` (e.g. "warm 1MiB") is what a log keeps; ``detail`` only the live line."""
        if not self._enabled:
            return
        line = "[%5.1fs] %s" % (time.monotonic() - self._started, phase)
        if self._tty:
            line += "  " + detail if detail else ""
            self._stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            if phase == self._phase:
                return
            self._phase = phase
            self._stream.write(line + "\n")
        self._stream.flush()

    def note(self, text: str) -> None:
        """A message that stays (a build step, a warning)."""
        if self._enabled:
            self._stream.write(("\r" + " " * self._width + "\r" if self._tty else "") + text + "\n")
            self._width = 0
            self._stream.flush()

    def done(self) -> None:
        if self._enabled and self._tty:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
