"""ScotAccount's metadata: the discovery and JWKS documents, fetched, cached, checked.

- Discovery is trusted only when its ``issuer`` equals the configured issuer
  exactly (mix-up defence) and every endpoint is https (http is tolerated on
  loopback, for the fake). The JWKS is parsed by ``jwtkit``, through ``load``.
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
from functools import partial
from typing import Any, Generic, TypeVar

from django.core.cache import BaseCache, caches
from django.utils.crypto import constant_time_compare, salted_hmac

from scotaccount_django._internal import http, telemetry
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ConfigurationError, ProviderError, ProviderUnavailable

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


# Discovery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


def check_endpoint_url(url: object, name: str) -> str:
    """``url`` if it is an https URL, or http on loopback; ``ProviderError`` otherwise."""
    if not isinstance(url, str) or not url:
        raise ProviderError(f"{name} is missing")
    if http.is_https_or_loopback(url):
        return url
    raise ProviderError(f"{name} is not an https URL")


def parse_metadata(document: Document, *, issuer: str) -> ProviderMetadata:
    """The endpoints in ``document``, if it is ``issuer``'s and every endpoint is allowed."""
    if document.get("issuer") != issuer:
        raise ProviderError(
            f"discovery issuer {document.get('issuer')!r:.200} is not the configured {issuer!r}"
        )
    end_session = document.get("end_session_endpoint")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=check_endpoint_url(
            document.get("authorization_endpoint"), "authorization_endpoint"
        ),
        token_endpoint=check_endpoint_url(document.get("token_endpoint"), "token_endpoint"),
        jwks_uri=check_endpoint_url(document.get("jwks_uri"), "jwks_uri"),
        end_session_endpoint=(
            None
            if end_session is None
            else check_endpoint_url(end_session, "end_session_endpoint")
        ),
    )


def get_provider_metadata() -> ProviderMetadata:
    """The sign-in issuer's endpoints, from Django's cache when fresh."""
    url, issuer = conf.DISCOVERY_URL, conf.ISSUER
    if not url or not issuer:
        raise ConfigurationError("SCOTACCOUNT_DISCOVERY_URL (or SCOTACCOUNT_ISSUER) is not set.")
    parse = partial(parse_metadata, issuer=issuer)
    return load(url, kind="discovery", issuer=issuer, parse=parse)


# Any document, through the shared cache ----------------------------------------------------


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
    if kind == "jwks" and cached is not None:
        telemetry.record_jwks_refetch("unknown_kid" if force_refresh else "expired")
    try:
        with telemetry.provider_call(kind):
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
