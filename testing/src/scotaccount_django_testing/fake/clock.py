"""A controllable clock: every ``iat``, ``exp`` and code expiry in the fake reads it."""

from __future__ import annotations

import threading
import time


class Clock:
    """Real time plus an offset a test can move, so expiry is tested without sleeping."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> int:
        """Seconds since the epoch, as JWT claims carry them."""
        with self._lock:
            return int(time.time() + self._offset)

    def advance(self, seconds: float) -> None:
        """Move time forwards (or backwards, with a negative number)."""
        with self._lock:
            self._offset += seconds

    def set(self, timestamp: float) -> None:
        """Jump to an absolute time; it keeps flowing from there."""
        with self._lock:
            self._offset = timestamp - time.time()
