"""How many of the app's modules a sign-in, a step-up and a logout pass through.

Not part of the suite (not named ``test_*``); run it to reproduce the figures in
``docs/design.md``::

    .venv/bin/python -m pytest -q -p no:xdist -s tests/module_trace.py

It follows the browser's requests to this app (not the fake ScotAccount's own
code, which runs in its server thread) with ``sys.setprofile``, after one
warm-up round so that imports are not counted. For each flow it prints the
modules touched, the stops (each time the call moves into another module) and
the returns (stops into a module already left earlier in the same flow).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.flow_helpers import return_to_app, start_flow

pytestmark = pytest.mark.django_db

PACKAGE = "scotaccount_django"
#: Not counted: the fake, and the metrics module, a side channel like ``logging``.
SKIPPED = (f"{PACKAGE}.testing", f"{PACKAGE}._internal.telemetry")
ATTRIBUTES = "/scotaccount/attributes/"
SCOPES = ["scotaccount.gpg45.medium", "scotaccount.address", "scotaccount.email"]


def traced(action: Callable[[], Any]) -> list[str]:
    """The app modules whose functions ``action`` calls, in call order."""
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            name = frame.f_globals.get("__name__", "")
            if name.startswith(PACKAGE) and not name.startswith(SKIPPED):
                calls.append(name)

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def summary(calls: list[str]) -> tuple[int, int, int]:
    stops = [name for i, name in enumerate(calls) if i == 0 or calls[i - 1] != name]
    returns = sum(1 for i, name in enumerate(stops) if name in stops[: max(i - 1, 0)])
    return len(set(calls)), len(stops), returns


def through_scotaccount(client, fake, path: str, **query: Any) -> list[str]:
    """Start a flow at ``path``, answer it at the fake, bring the answer back."""
    urls: list[str] = []
    calls = traced(lambda: urls.append(start_flow(client, path, **query)))
    location = fake.complete_authorization(urls[0], persona="morag")
    return calls + traced(lambda: return_to_app(client, location))


def sign_in(client, fake) -> list[str]:
    return through_scotaccount(client, fake, "/scotaccount/login/")


def step_up(client, fake) -> list[str]:
    from scotaccount_django.models import VerifiedAttribute

    VerifiedAttribute.objects.all().delete()  # so that every round asks again
    return through_scotaccount(client, fake, ATTRIBUTES, scope=SCOPES, next="/signed-in/")


def log_out(client, fake) -> list[str]:
    responses: list[Any] = []
    calls = traced(lambda: responses.append(client.post("/scotaccount/logout/")))
    state = parse_qs(urlsplit(responses[0]["Location"]).query)["state"][0]
    return calls + traced(lambda: client.get("/scotaccount/logged-out/", {"state": state}))


def test_print_module_counts(client, fake_scotaccount) -> None:
    flows = {"sign-in": sign_in, "step-up": step_up, "logout": log_out}
    for flow in flows.values():  # warm-up: imports happen here, not below
        flow(client, fake_scotaccount)
    print("\nflow (both requests)  modules  stops  returns")
    for name, flow in flows.items():
        calls = flow(client, fake_scotaccount)
        modules, stops, returns = summary(calls)
        print(f"{name:20} {modules:8}  {stops:5}  {returns:7}")
        print("    " + ", ".join(sorted({c.removeprefix(PACKAGE + ".") for c in calls})))
