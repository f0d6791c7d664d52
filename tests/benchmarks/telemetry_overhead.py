"""What the OpenTelemetry instrumentation costs with no SDK configured (docs/performance.md).

    .venv/bin/python -m tests.benchmarks.telemetry_overhead [--sign-ins N]

Prints two figures, each against a build whose recording helpers are bare
no-ops (``stripped``), the stand-in for "no instrumentation":

1. Per call: each helper a sign-in calls, timed with ``timeit`` without an SDK
   (the API's no-op path), then with the SDK and an in-memory reader.
2. End to end: warm sign-ins (discovery and JWKS cached, as in production)
   through Django's test client against the fake ScotAccount, in alternating
   rounds of instrumented and stripped, medians per sign-in. This part runs
   under pytest (for the fixtures) and without an SDK.

Small enough for a shared machine: about a minute with the defaults.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest

#: The helpers one warm sign-in calls: login view, token call, callback outcome.
CALLS_PER_SIGN_IN = ("record_sign_in_started", "provider_call", "record_sign_in")


def _stripped() -> dict[str, Callable[..., Any]]:
    """Bare no-ops with the helpers' signatures: a build without instrumentation."""
    return {
        "record_sign_in_started": lambda: None,
        "record_sign_in": lambda error: None,
        "provider_call": lambda endpoint: nullcontext(),
    }


@contextmanager
def stripped() -> Iterator[None]:
    from scotaccount_django._internal import telemetry

    saved = {name: getattr(telemetry, name) for name in _stripped()}
    for name, function in _stripped().items():
        setattr(telemetry, name, function)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(telemetry, name, function)


def per_call_ns(telemetry: Any, number: int = 50_000) -> dict[str, float]:
    """Nanoseconds per call of each helper a sign-in calls, best of five runs."""

    def provider_call() -> None:
        with telemetry.provider_call("token"):
            pass

    calls = {
        "record_sign_in_started": telemetry.record_sign_in_started,
        "provider_call": provider_call,
        "record_sign_in": lambda: telemetry.record_sign_in(None),
    }
    return {
        name: min(timeit.repeat(call, number=number, repeat=5)) / number * 1e9
        for name, call in calls.items()
    }


def report_per_call() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from scotaccount_django._internal import telemetry

    bare = _stripped()
    bare_ns = per_call_ns(
        type("Bare", (), {n: staticmethod(f) for n, f in bare.items()})  # same call shapes
    )
    api_ns = per_call_ns(telemetry)
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider

    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    trace.set_tracer_provider(TracerProvider())
    sdk_ns = per_call_ns(telemetry, number=10_000)
    print("Per call, nanoseconds (best of 5):")
    print(f"  {'helper':24} {'stripped':>9} {'no SDK':>9} {'SDK':>9}")
    for name in CALLS_PER_SIGN_IN:
        print(f"  {name:24} {bare_ns[name]:9.0f} {api_ns[name]:9.0f} {sdk_ns[name]:9.0f}")
    added = sum(api_ns.values()) - sum(bare_ns.values())
    with_sdk = sum(sdk_ns.values()) - sum(bare_ns.values())
    print(f"  per warm sign-in ({len(CALLS_PER_SIGN_IN)} calls): +{added / 1000:.1f} us without")
    print(f"  an SDK, +{with_sdk / 1000:.1f} us with the SDK and an in-memory reader")


# End to end, under pytest ---------------------------------------------------------------


@pytest.mark.django_db
def test_warm_sign_ins(client: Any, fake_scotaccount: Any) -> None:
    from tests.flow_helpers import sign_in

    sign_ins = int(os.environ.get("TELEMETRY_BENCH_SIGN_INS", "200"))
    rounds = 10
    assert sign_in(client, fake_scotaccount).status_code == 302  # warm the caches

    addresses = iter(range(1, 1 << 24))

    def one_round() -> float:
        started = time.perf_counter()
        for _ in range(sign_ins // rounds):
            client.cookies.clear()
            # A new address each time, or the per-address flow rate limit stops the run.
            client.defaults["REMOTE_ADDR"] = "10.{}.{}.{}".format(*next(addresses).to_bytes(3))
            assert sign_in(client, fake_scotaccount).status_code == 302
        return (time.perf_counter() - started) / (sign_ins // rounds)

    timings: dict[str, list[float]] = {"instrumented": [], "stripped": []}
    for _ in range(rounds):
        timings["instrumented"].append(one_round())
        with stripped():
            timings["stripped"].append(one_round())
    ours, bare = (statistics.median(timings[k]) for k in ("instrumented", "stripped"))
    spread = statistics.pstdev(timings["stripped"]) / bare
    print(f"\nWarm sign-in through the test client, median of {rounds} rounds x "
          f"{sign_ins // rounds} sign-ins, no SDK:")  # fmt: skip
    print(f"  instrumented {ours * 1000:.2f} ms, stripped {bare * 1000:.2f} ms, "
          f"ratio {ours / bare:.3f} (rounds' spread: {spread:.1%})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sign-ins", type=int, default=200, help="end-to-end sign-ins per mode")
    args = parser.parse_args()
    os.environ["TELEMETRY_BENCH_SIGN_INS"] = str(args.sign_ins)
    # pytest first: the per-call part then installs an SDK, which cannot be undone.
    code = pytest.main(
        [__file__, "-q", "-s", "-p", "no:cacheprovider", "--no-cov",
         "-o", "python_files=telemetry_overhead.py", "-W", "ignore::pytest.PytestConfigWarning"]
    )  # fmt: skip
    if code:
        sys.exit(code)
    report_per_call()


if __name__ == "__main__":
    main()
