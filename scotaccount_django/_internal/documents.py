"""Discovery and JWKS documents, cached in Django's cache so every worker shares them.

A document is fresh for ``SCOTACCOUNT_METADATA_CACHE_TIMEOUT``; after that it
is refetched, but the last good copy is kept for a week and used whenever
ScotAccount cannot be reached, so an outage of its metadata endpoints does not
stop sign-in. Only documents that pass validation are ever cached.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import BaseCache, caches

from scotaccount_django._internal import http
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ProviderError

logger = logging.getLogger("scotaccount_django")

#: How long the last good copy is kept for use while ScotAccount is unreachable.
STALE_COPY_SECONDS = 7 * 24 * 3600
#: At most one forced refetch of a document per this many seconds (across workers).
FORCED_REFETCH_INTERVAL_SECONDS = 30

Document = dict[str, Any]


def _cache() -> BaseCache:
    return caches[conf.CACHE_ALIAS]


def _key(kind: str, url: str) -> str:
    return f"scotaccount:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def get_document(
    url: str, *, validate: Callable[[Document], None], force_refresh: bool = False
) -> tuple[Document, float]:
    """The document at ``url`` and when it was fetched; fetched only when needed."""
    cache_key = _key("doc", url)
    cached = _cache().get(cache_key)
    now = time.time()
    fresh_for = conf.METADATA_CACHE_TIMEOUT.total_seconds()
    if cached is not None and not force_refresh and now - cached["fetched_at"] < fresh_for:
        return cached["document"], cached["fetched_at"]
    try:
        document = fetch_document(url)
        validate(document)
    except ProviderError as exc:
        if cached is None:
            raise
        logger.warning("Using the cached copy of %s: %s", url, exc)
        return cached["document"], cached["fetched_at"]
    _cache().set(cache_key, {"fetched_at": now, "document": document}, STALE_COPY_SECONDS)
    return document, now


def fetch_document(url: str) -> Document:
    response = http.send("GET", url, headers={"Accept": "application/json"})
    http.raise_for_status(response, url)
    return response.json_object()


def claim_forced_refetch(url: str) -> bool:
    """True for the one caller per interval allowed to force a refetch (single-flight)."""
    return bool(_cache().add(_key("refetch", url), True, FORCED_REFETCH_INTERVAL_SECONDS))
