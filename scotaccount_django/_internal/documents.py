"""Discovery and JWKS documents, shared through Django's cache by every worker.

- A document is fresh for ``SCOTACCOUNT_METADATA_CACHE_TIMEOUT``. After that one
  worker refreshes it (single-flight through ``cache.add``) while the others
  go on using the stale copy, which is kept for a week. A failed fetch backs
  off for ``REFRESH_BACKOFF_SECONDS``: nobody retries meanwhile, the stale copy
  is served at once, and with no copy at all callers fail at once, instead of
  every request waiting a full timeout on a provider that is down.
- Only documents that ``parse`` accepts are stored. Entries are keyed by kind,
  issuer and URL and signed with ``SECRET_KEY``; every read re-checks the
  signature and re-validates the document with the same ``parse``, so an entry
  poisoned in a shared cache, or left by another issuer, is never used.
- Each stored body is parsed once per process: the parsed value (endpoints,
  keys) is held in memory against the exact body it came from. ``parse`` must
  therefore depend only on the document and the issuer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.cache import BaseCache, caches
from django.utils.crypto import constant_time_compare, salted_hmac

from scotaccount_django._internal import http
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ProviderError, ProviderUnavailable

logger = logging.getLogger("scotaccount_django")

#: How long the last good copy is kept for use while ScotAccount is unreachable.
STALE_COPY_SECONDS = 7 * 24 * 3600
#: After a failed fetch, nobody fetches that document again for this long.
REFRESH_BACKOFF_SECONDS = 15
#: At most one forced refetch of a document per this many seconds (across workers).
FORCED_REFETCH_INTERVAL_SECONDS = 30

Document = dict[str, Any]
T = TypeVar("T")

_REFRESHING = "refreshing"
_FAILED = "failed"


@dataclass(frozen=True)
class _Copy(Generic[T]):
    value: T
    fetched_at: float

    def is_fresh(self) -> bool:
        return time.time() - self.fetched_at < conf.METADATA_CACHE_TIMEOUT.total_seconds()


def load(
    url: str,
    *,
    kind: str,
    issuer: str,
    parse: Callable[[Document], T],
    force_refresh: bool = False,
) -> T:
    """The parsed document at ``url``, fetched only when missing, stale or forced.

    ``parse`` validates and converts a document, raising ``ProviderError`` if it
    is unusable. ``force_refresh`` refetches a fresh copy, at most once per
    ``FORCED_REFETCH_INTERVAL_SECONDS`` across all workers.
    """
    key = cache_key(kind, issuer, url)
    cached = _read(key, parse)
    holds_refresh_lock = False
    if cached is not None:
        if cached.is_fresh() and not force_refresh:
            return cached.value
        if not _claim_refresh(key, forced=force_refresh):
            return cached.value
        holds_refresh_lock = not force_refresh
    elif _cache().get(f"{key}:fetch") == _FAILED:
        raise ProviderUnavailable(f"{url} failed moments ago; not retrying yet")
    try:
        value = _fetch(key, url, parse)
    except ProviderError as exc:
        _cache().set(f"{key}:fetch", _FAILED, REFRESH_BACKOFF_SECONDS)
        if cached is None:
            raise
        logger.warning("Using the cached copy of %s: %s", url, exc)
        return cached.value
    if holds_refresh_lock:
        _cache().delete(f"{key}:fetch")
    return value


def cache_key(kind: str, issuer: str, url: str) -> str:
    """Where a document lives in the cache: one entry per kind, issuer and URL."""
    digest = hashlib.sha256(f"{kind}\n{issuer}\n{url}".encode()).hexdigest()
    return f"scotaccount:{kind}:{digest}"


def _cache() -> BaseCache:
    return caches[conf.CACHE_ALIAS]


def _claim_refresh(key: str, *, forced: bool) -> bool:
    """True for the one caller that may refetch now (not while backing off)."""
    if forced:
        if _cache().get(f"{key}:fetch") == _FAILED:
            return False
        return bool(_cache().add(f"{key}:forced", True, FORCED_REFETCH_INTERVAL_SECONDS))
    # Held for at most one call's deadline, in case the claimant dies mid-fetch.
    hold = int(conf.CONNECT_TIMEOUT + conf.READ_TIMEOUT) + 1
    return bool(_cache().add(f"{key}:fetch", _REFRESHING, hold))


def _fetch(key: str, url: str, parse: Callable[[Document], T]) -> T:
    response = http.send("GET", url, headers={"Accept": "application/json"})
    http.raise_for_status(response, url)
    document = response.json_object()
    value = parse(document)
    body = json.dumps(document, separators=(",", ":"))
    fetched_at = time.time()
    entry = {"fetched_at": fetched_at, "body": body, "mac": _mac(key, fetched_at, body)}
    _cache().set(key, entry, STALE_COPY_SECONDS)
    _parsed[key] = (body, value)
    return value


def _read(key: str, parse: Callable[[Document], T]) -> _Copy[T] | None:
    """The cached copy, if it is ours, intact and still valid; None otherwise."""
    entry = _cache().get(key)
    if entry is None:
        return None
    try:
        fetched_at, body, mac = entry["fetched_at"], entry["body"], entry["mac"]
        intact = (
            isinstance(fetched_at, float)
            and isinstance(body, str)
            and isinstance(mac, str)
            and constant_time_compare(mac, _mac(key, fetched_at, body))
        )
    except (TypeError, KeyError):
        intact = False
    if not intact:
        logger.warning("Ignoring a cache entry this app did not write (%s)", key)
        return None
    try:
        return _Copy(_parse_once(key, body, parse), fetched_at)
    except ProviderError as exc:
        logger.warning("Ignoring a cached document that is no longer valid (%s): %s", key, exc)
        return None


def _mac(key: str, fetched_at: float, body: str) -> str:
    return salted_hmac(
        "scotaccount_django.documents", f"{key}\n{fetched_at!r}\n{body}", algorithm="sha256"
    ).hexdigest()


#: cache key -> (body, parsed value), so each body is parsed once per process.
_parsed: dict[str, tuple[str, Any]] = {}


def _parse_once(key: str, body: str, parse: Callable[[Document], T]) -> T:
    held = _parsed.get(key)
    if held is not None and held[0] == body:
        value: T = held[1]
        return value
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ProviderError("cached document is not a JSON object")
    value = parse(document)
    _parsed[key] = (body, value)
    return value
