"""How many of the app's modules a sign-in, a step-up and a logout pass through, and how.

Run it to reproduce the figures in ``docs/design.md``::

    .venv/bin/python -m pytest -q -p no:xdist -s tests/module_trace.py

``tests/project/test_module_trace.py`` holds the sign-in to the same figures in the suite.

It follows the browser's requests to this app (not the fake ScotAccount, which runs in
its own server thread) with ``sys.setprofile``, after one warm-up round so that imports
and first reads of the settings are not counted. For each flow it prints:

- modules: the app's modules whose functions ran;
- stops: each time the call sequence moves into another module; returns: stops into a
  module already left earlier in the flow (the older figure, kept for comparison);
- entries: calls into a module from a function of another app module (or from Django);
- upward: calls from a module into one that is above it, that is, into a module that
  (directly or through others) called it in the same flow. A flow that reads top to
  bottom has none: each module is entered only from above.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.flow_helpers import return_to_app, start_flow

pytestmark = pytest.mark.django_db

PACKAGE = "scotaccount_django"
#: Not counted: side channels, as ``logging`` itself is: the log filter and error-report
#: scrubbing (``reporting``) and the metrics (``_internal.telemetry``).
SKIPPED = (f"{PACKAGE}.reporting", f"{PACKAGE}._internal.telemetry")
#: The caller of the first app module of a request.
DJANGO = "<django>"
ATTRIBUTES = "/scotaccount/attributes/"
SCOPES = ["scotaccount.gpg45.medium", "scotaccount.address", "scotaccount.email"]


@dataclass
class Trace:
    """The app modules called, in order, and who called each (the nearest app module)."""

    calls: list[str] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def __add__(self, other: Trace) -> Trace:
        return Trace(self.calls + other.calls, self.edges + other.edges)

    @property
    def modules(self) -> set[str]:
        return set(self.calls)

    def stops_and_returns(self) -> tuple[int, int]:
        calls = self.calls
        stops = [name for i, name in enumerate(calls) if i == 0 or calls[i - 1] != name]
        returns = sum(1 for i, name in enumerate(stops) if name in stops[: max(i - 1, 0)])
        return len(stops), returns

    def callers(self, module: str) -> set[str]:
        return {caller for caller, callee in self.edges if callee == module}

    def upward(self) -> set[tuple[str, str]]:
        """Edges whose callee reaches their caller through other edges: a call back up."""
        graph: dict[str, set[str]] = {}
        for caller, callee in self.edges:
            graph.setdefault(caller, set()).add(callee)

        def reaches(start: str, goal: str) -> bool:
            seen, todo = set(), [start]
            while todo:
                node = todo.pop()
                if node == goal:
                    return True
                if node not in seen:
                    seen.add(node)
                    todo.extend(graph.get(node, ()))
            return False

        return {(caller, callee) for caller, callee in set(self.edges) if reaches(callee, caller)}


def _app_module(frame: Any) -> str | None:
    name = frame.f_globals.get("__name__", "")
    if name.startswith(PACKAGE) and not name.startswith(SKIPPED):
        return str(name).removeprefix(PACKAGE + ".")
    return None


def traced(action: Callable[[], Any]) -> Trace:
    """The app modules whose functions ``action`` calls, and from which module each call came."""
    trace = Trace()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event != "call" or (module := _app_module(frame)) is None:
            return
        trace.calls.append(module)
        caller = frame.f_back
        while caller is not None and _app_module(caller) is None:
            caller = caller.f_back
        caller_module = DJANGO if caller is None else _app_module(caller)
        if caller_module != module:
            trace.edges.append((caller_module or DJANGO, module))

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return trace


def through_scotaccount(client, fake, path: str, **query: Any) -> Trace:
    """Start a flow at ``path``, answer it at the fake, bring the answer back."""
    urls: list[str] = []
    trace = traced(lambda: urls.append(start_flow(client, path, **query)))
    location = fake.complete_authorization(urls[0], persona="morag")
    return trace + traced(lambda: return_to_app(client, location))


def sign_in(client, fake) -> Trace:
    return through_scotaccount(client, fake, "/scotaccount/login/")


def step_up(client, fake) -> Trace:
    from scotaccount_django.models import VerifiedAttribute

    VerifiedAttribute.objects.all().delete()  # so that every round asks again
    return through_scotaccount(client, fake, ATTRIBUTES, scope=SCOPES, next="/signed-in/")


def log_out(client, fake) -> Trace:
    responses: list[Any] = []
    trace = traced(lambda: responses.append(client.post("/scotaccount/logout/")))
    state = parse_qs(urlsplit(responses[0]["Location"]).query)["state"][0]
    return trace + traced(lambda: client.get("/scotaccount/logged-out/", {"state": state}))


FLOWS = {"sign-in": sign_in, "step-up": step_up, "logout": log_out}


def traces(client, fake) -> dict[str, Trace]:
    """Each flow traced once, after a warm-up round of all of them."""
    for flow in FLOWS.values():
        flow(client, fake)
    return {name: flow(client, fake) for name, flow in FLOWS.items()}


def test_print_module_counts(client, fake_scotaccount) -> None:
    print("\nflow (both requests)  modules  stops  returns  entries  upward")
    for name, trace in traces(client, fake_scotaccount).items():
        stops, returns = trace.stops_and_returns()
        print(
            f"{name:20} {len(trace.modules):8}  {stops:5}  {returns:7}  "
            f"{len(trace.edges):7}  {len(trace.upward()):6}"
        )
        for module in sorted(trace.modules):
            print(f"    {module:22} from {', '.join(sorted(trace.callers(module)))}")
        for caller, callee in sorted(trace.upward()):
            print(f"    upward: {caller} -> {callee}")
