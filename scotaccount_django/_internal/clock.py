"""The one clock for session times, so tests can move it with ``time_machine``."""

from __future__ import annotations

import time


def now() -> float:
    """Server time in POSIX seconds, as stored in the session."""
    return time.time()
