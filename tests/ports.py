"""Loopback ports for tests that start real servers, safe when runs sit side by side.

Tox runs environments in parallel and several checkouts may test on one machine, so a test
chooses free ports from a random start and holds a machine-wide lock from choosing them until
its servers listen on them.
"""

from __future__ import annotations

import fcntl
import random
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def is_free(port: int) -> bool:
    with socket.socket() as probe:
        # As servers bind: connections of an earlier run in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def ports_held() -> Iterator[None]:
    """Held from choosing ports until the servers listen on them; other runs take turns."""
    with (Path(tempfile.gettempdir()) / "scotaccount-test-ports.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def free_ports(count: int, candidates: range) -> list[int]:
    """``count`` consecutive ports from ``candidates`` that nothing listens on now.

    The search starts at a random place, so runs side by side do not all pick the first free
    ports at once.
    """
    firsts = list(candidates[: len(candidates) - count + 1])
    start = random.randrange(len(firsts))  # spreads ports, not a secret
    for first in firsts[start:] + firsts[:start]:
        ports = list(range(first, first + count))
        if all(is_free(port) for port in ports):
            return ports
    pytest.skip(f"no {count} consecutive free ports in {candidates}")
