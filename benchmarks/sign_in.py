"""Benchmark: the cost of the callback's own work, and of a whole sign-in, warm.

Prints figures; it asserts nothing (speed is tracked by reading them, not by
timed tests). Run with `make bench`.

- verify_id_token: what our code spends per ID token with keys cached
  (signature, claims, nonce) - the app's per-sign-in CPU cost.
- full sign-in: login view + fake ScotAccount + callback through the Django
  test client, warm caches; includes the fake's own signing, so it is an
  upper bound for our share.
- memory: peak Python allocation across the sign-ins (tracemalloc).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives import serialization  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from scotaccount_django._internal.discovery import get_provider_metadata  # noqa: E402
from scotaccount_django._internal.statekit import hash_secret  # noqa: E402
from scotaccount_django._internal.tokens import verify_id_token  # noqa: E402
from scotaccount_django.testing import FakeScotAccount  # noqa: E402
from tests.flow_helpers import sign_in  # noqa: E402

ROUNDS = 200
SIGN_INS = 50


def timed(label: str, durations: list[float]) -> None:
    ms = [d * 1000 for d in durations]
    print(
        f"{label:<34} median {statistics.median(ms):7.2f} ms   "
        f"p95 {sorted(ms)[int(len(ms) * 0.95) - 1]:7.2f} ms   n={len(ms)}"
    )


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)
    public_pem = (
        serialization.load_pem_private_key(settings.SCOTACCOUNT_PRIVATE_KEY.encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with FakeScotAccount(
        client_id=settings.SCOTACCOUNT_CLIENT_ID,
        client_keys=[public_pem],
        redirect_uris=[settings.SCOTACCOUNT_REDIRECT_URI],
    ) as fake:
        settings.SCOTACCOUNT_DISCOVERY_URL = fake.discovery_url
        settings.SCOTACCOUNT_ISSUER = fake.issuer
        client = Client()
        sign_in(client, fake)  # warm the caches
        token = client.session["_scotaccount_id_token"]
        nonce = fake.journal.last("token").issued["nonce"]
        metadata = get_provider_metadata()
        durations = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            verify_id_token(token, metadata=metadata, nonce_hash=hash_secret(nonce))
            durations.append(time.perf_counter() - started)
        timed("verify_id_token (warm keys)", durations)

        tracemalloc.start()
        durations = []
        for _ in range(SIGN_INS):
            started = time.perf_counter()
            response = sign_in(Client(), fake)
            durations.append(time.perf_counter() - started)
            assert response.status_code == 302
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        timed("full sign-in via fake (warm)", durations)
        print(f"{'peak Python memory over sign-ins':<34} {peak / 1024:7.0f} KiB")


if __name__ == "__main__":
    main()
