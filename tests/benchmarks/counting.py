"""Counters the benchmark reads: Django cache operations and outbound HTTP requests."""

from __future__ import annotations

from collections import Counter
from typing import Any

import urllib3.connectionpool
from django.core.cache.backends.locmem import LocMemCache

#: Operations since the last reset, by name (``get``, ``set``, ``add``, ...).
CACHE_OPERATIONS: Counter[str] = Counter()
#: Outbound HTTP requests since the last reset, by method and path.
OUTBOUND: Counter[str] = Counter()


class CountingLocMemCache(LocMemCache):
    """LocMemCache that counts each public operation once (not the ones it makes itself)."""

    def __init__(self, name: str, params: dict[str, Any]) -> None:
        super().__init__(name, params)
        self._inside = False
        for operation in ("get", "set", "add", "delete", "get_many", "set_many", "touch", "incr"):
            setattr(self, operation, self._counted(operation, getattr(self, operation)))

    def _counted(self, operation: str, method: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            if self._inside:  # get_many calling get, for example
                return method(*args, **kwargs)
            CACHE_OPERATIONS[operation] += 1
            self._inside = True
            try:
                return method(*args, **kwargs)
            finally:
                self._inside = False

        return counted


_urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen


def _counting_urlopen(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
    OUTBOUND[f"{method} {url.split('?')[0]}"] += 1
    return _urlopen(self, method, url, *args, **kwargs)


def install() -> None:
    """Count every request urllib3 sends: ours (urllib3 directly), MDO's and the floor's
    (``requests``, on urllib3)."""
    urllib3.connectionpool.HTTPConnectionPool.urlopen = _counting_urlopen  # type: ignore[method-assign]


def reset() -> None:
    CACHE_OPERATIONS.clear()
    OUTBOUND.clear()
