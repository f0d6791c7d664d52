"""One relying party under measurement, driven over stdin/stdout by ``run.py``.

Each line in is a JSON command, each line out its JSON answer. Timings are the
process CPU time (``time.process_time``) of the relying party's own requests
only: the hop through the fake's authorize endpoint happens in between, with
the clock stopped. The fake runs in its own process, so none of its work is
counted here.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.benchmarks.settings")
django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tests.benchmarks import LOGIN_PATHS, counting  # noqa: E402

counting.install()
APP = settings.APP
LOGIN_PATH = LOGIN_PATHS[APP]
STEP_UP_PATH = "/scotaccount/attributes/?scope=scotaccount.email&next=/signed-in/"
_browser = requests.Session()


class Clock:
    """Accumulates CPU time only while running a relying-party request."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall: list[float] = []
        self.cpus: list[float] = []

    def run(self, call: Callable[[], Any]) -> Any:
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        result = call()
        self.wall.append(time.perf_counter() - started_wall)
        self.cpus.append(time.process_time() - started_cpu)
        self.cpu += self.cpus[-1]
        return result


def authorize(location: str) -> str:
    """The browser's trip through the fake (auto-approve): the callback's path and query."""
    outbound = counting.OUTBOUND.copy()
    response = _browser.get(
        location, allow_redirects=False, timeout=10, verify=settings.CA_FILE or True
    )
    counting.OUTBOUND.clear()
    counting.OUTBOUND.update(outbound)  # the browser's request is not the relying party's
    back = urlsplit(response.headers["Location"])
    return f"{back.path}?{back.query}"


def check_signed_in(response: Any, what: str) -> None:
    if response.status_code != 302 or not response["Location"].endswith("/signed-in/"):
        body = getattr(response, "content", b"")[:300]
        raise RuntimeError(f"{APP} {what} failed: {response.status_code} {body!r}")


def sign_in(client: Client, clock: Clock, start: str = LOGIN_PATH) -> None:
    response = clock.run(lambda: client.get(start))
    callback = authorize(response["Location"])
    check_signed_in(clock.run(lambda: client.get(callback)), "sign-in")


def queries(call: Callable[[], Any]) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, len(captured.captured_queries)


def fresh_step_up_needed() -> None:
    """Forget attributes so the next step-up really goes to ScotAccount (not timed)."""
    from scotaccount_django.models import AttributeRequest, VerifiedAttribute

    VerifiedAttribute.objects.all().delete()
    AttributeRequest.objects.all().delete()


# Commands ----------------------------------------------------------------------------------


def cmd_signin(n: int) -> dict[str, Any]:
    clock = Clock()
    for _ in range(n):
        sign_in(Client(), clock)
    return {"cpu_ms": clock.cpu * 1000 / n}


def cmd_stepup(n: int) -> dict[str, Any]:
    client = Client()
    sign_in(client, Clock())
    clock = Clock()
    for _ in range(n):
        fresh_step_up_needed()
        sign_in(client, clock, STEP_UP_PATH)
    return {"cpu_ms": clock.cpu * 1000 / n}


def _counted_flow(client: Client, start: str) -> dict[str, Any]:
    counting.reset()
    response, start_queries = queries(lambda: client.get(start))
    callback = authorize(response["Location"])
    response, callback_queries = queries(lambda: client.get(callback))
    check_signed_in(response, start)
    return {
        "start_queries": start_queries,
        "callback_queries": callback_queries,
        "outbound": sum(counting.OUTBOUND.values()),
        "outbound_detail": dict(counting.OUTBOUND),
        "cache_ops": sum(counting.CACHE_OPERATIONS.values()),
        "cache_detail": dict(counting.CACHE_OPERATIONS),
    }


def cmd_counts() -> dict[str, Any]:
    result: dict[str, Any] = {}
    cache.clear()
    result["cold"] = _counted_flow(Client(), LOGIN_PATH)
    client = Client()
    result["warm"] = _counted_flow(client, LOGIN_PATH)
    _, result["protected_queries"] = queries(lambda: client.get("/protected/"))
    if APP == "ours":
        fresh_step_up_needed()
        cache.clear()
        result["stepup_cold"] = _counted_flow(client, STEP_UP_PATH)
        fresh_step_up_needed()
        result["stepup_warm"] = _counted_flow(client, STEP_UP_PATH)
    return result


def cmd_middleware(n: int) -> dict[str, Any]:
    """CPU and queries per request, with and without SessionLifetimeMiddleware, interleaved."""
    with_ours = Client()
    sign_in(with_ours, Clock())
    without = [m for m in settings.MIDDLEWARE if not m.endswith("SessionLifetimeMiddleware")]
    with override_settings(MIDDLEWARE=without):
        bare = Client()
        bare.cookies = with_ours.cookies
        bare.get("/untouched/")  # loads its middleware chain while the override holds
    result: dict[str, Any] = {}
    for path in ("/untouched/", "/reads-user/"):
        for name, client in (("with", with_ours), ("without", bare)):
            _, result[f"{path} {name} queries"] = queries(lambda c=client, p=path: c.get(p))
        rounds: dict[str, list[float]] = {"with": [], "without": []}
        pairs = [("with", with_ours), ("without", bare)]
        for number in range(15):
            for name, client in pairs[number % 2 :] + pairs[: number % 2]:
                started = time.process_time()
                for _ in range(n):
                    client.get(path)
                rounds[name].append((time.process_time() - started) * 1e6 / n)
        for name, values in rounds.items():
            result[f"{path} {name} cpu_us"] = statistics.median(values)
    return result


def cmd_latency(n: int) -> dict[str, Any]:
    """Wall-clock latency of the callback and of a protected page (median, ms)."""
    clock = Clock()
    client = Client()
    for _ in range(n):
        sign_in(client, clock)
    pages = Clock()
    for _ in range(n * 5):
        pages.run(lambda: client.get("/protected/"))
    return {
        "callback_ms": statistics.median(clock.wall[1::2]) * 1000,
        "callback_cpu_ms": statistics.median(clock.cpus[1::2]) * 1000,
        "protected_ms": statistics.median(pages.wall) * 1000,
        "protected_cpu_ms": statistics.median(pages.cpus) * 1000,
    }


def cmd_commit_latency(n: int) -> dict[str, Any]:
    """Wall time of one committed write: what bounds the throughput figures here."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    durations = []
    for number in range(n):
        started = time.perf_counter()
        Session.objects.create(
            session_key=f"commit-probe-{number}", session_data="", expire_date=timezone.now()
        )
        durations.append(time.perf_counter() - started)
    Session.objects.filter(session_key__startswith="commit-probe-").delete()
    return {"ms": statistics.median(durations) * 1000}


def cmd_memory(n: int) -> dict[str, Any]:
    """Peak Python allocation during one sign-in (tracemalloc; never during timings)."""
    sign_in(Client(), Clock())
    peaks = []
    tracemalloc.start()
    try:
        for _ in range(n):
            client = Client()
            baseline = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            sign_in(client, Clock())
            peaks.append(tracemalloc.get_traced_memory()[1] - baseline)
    finally:
        tracemalloc.stop()
    return {"peak_kib": statistics.median(peaks) / 1024}


def cmd_profile(n: int) -> dict[str, Any]:
    """Where a warm sign-in's CPU goes (cProfile, a pass of its own): the top functions."""
    import cProfile
    import io
    import pstats

    clock = Clock()
    sign_in(Client(), clock)
    profile = cProfile.Profile()
    for _ in range(n):
        client = Client()
        response = profile.runcall(client.get, LOGIN_PATH)
        callback = authorize(response["Location"])
        profile.runcall(client.get, callback)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(
        r"scotaccount_django|django/contrib|requests|jwt", 25
    )
    return {"text": out.getvalue()}


def cmd_fill(first: int, last: int) -> dict[str, Any]:
    from tests.benchmarks.fill import fill

    started = time.perf_counter()
    fill(first, last)
    return {"seconds": time.perf_counter() - started}


COMMANDS: dict[str, Callable[..., dict[str, Any]]] = {
    "fill": cmd_fill,
    "profile": cmd_profile,
    "commit_latency": cmd_commit_latency,
    "signin": cmd_signin,
    "stepup": cmd_stepup,
    "counts": cmd_counts,
    "middleware": cmd_middleware,
    "latency": cmd_latency,
    "memory": cmd_memory,
}


def main() -> None:
    print(json.dumps({"ready": APP}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            return
        try:
            answer = COMMANDS[command["cmd"]](*command.get("args", []))
        except Exception as error:  # report it to the driver rather than hang it
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
