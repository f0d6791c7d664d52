"""With a real shared cache (Redis), workers share ScotAccount's metadata and refetch limits.

Skipped, with the reason, when no Redis answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from django.core.cache import caches

from scotaccount_django._internal.provider import _claim_refresh, get_metadata
from tests.flow_helpers import sign_in


def redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not redis_is_up(), reason="no Redis server on 127.0.0.1:6379"),
]


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "scotaccount": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        },
    }
    settings.SCOTACCOUNT_CACHE_ALIAS = "scotaccount"
    yield caches["scotaccount"]
    caches["scotaccount"].clear()


@pytest.mark.parametrize("forced", [True, False], ids=["e3_unknown_kid", "l5_stale_copy"])
def test_e3_only_one_of_many_workers_may_refetch(redis_cache, forced) -> None:
    key = "scotaccount:jwks:example"
    winners: list[bool] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        winners.append(_claim_refresh(key, forced=forced))  # each thread: its own connection

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert winners.count(True) == 1


@pytest.mark.django_db
def test_sign_in_with_metadata_in_redis_is_warm_for_other_workers(
    client, fake_scotaccount, redis_cache
) -> None:
    sign_in(client, fake_scotaccount)
    discovery_fetches = len(fake_scotaccount.journal.for_endpoint("discovery"))
    issuers: list[str] = []

    def other_worker() -> None:  # a new thread: its own Redis connection, no local memory
        issuers.append(get_metadata().issuer)

    thread = threading.Thread(target=other_worker)
    thread.start()
    thread.join()
    assert issuers == [fake_scotaccount.issuer]
    assert len(fake_scotaccount.journal.for_endpoint("discovery")) == discovery_fetches
