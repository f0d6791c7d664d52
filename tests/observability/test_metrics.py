"""The app's metrics and spans, read through the OpenTelemetry SDK's in-memory readers.

Flows are driven as a browser would (test client + fake ScotAccount), so these
tests hold whatever the modules behind the views become.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from opentelemetry import trace
from opentelemetry.metrics import Instrument

from scotaccount_django._internal import telemetry as app_telemetry
from scotaccount_django.exceptions import ScotAccountError
from scotaccount_django.models import AttributeScope
from tests.attributes.helpers import ADDRESS, ALL_SCOPES, EMAIL, IDENTITY, step_up
from tests.flow_helpers import complete, return_to_app, sign_in, signed_in_client, start_flow
from tests.telemetry import labels

pytestmark = pytest.mark.django_db

DURATION = "scotaccount.provider.request.duration"
SUCCESS = labels(**{"scotaccount.outcome": "success"})


def call(endpoint: str, error: str | None = None):
    """The labels of one provider call's duration."""
    if error is None:
        return labels(**{"scotaccount.endpoint": endpoint, "scotaccount.outcome": "success"})
    return labels(
        **{"scotaccount.endpoint": endpoint, "scotaccount.outcome": "failure", "error.type": error}
    )


def failure(code: str):
    return labels(**{"scotaccount.outcome": "failure", "error.type": code})


def step(scope: str, outcome: str):
    return labels(**{"scotaccount.scope": scope, "scotaccount.outcome": outcome})


def test_a_first_sign_in_counts_once_and_times_each_provider_call(
    client, fake_scotaccount, telemetry
):
    assert sign_in(client, fake_scotaccount).status_code == 302
    assert telemetry.collect() == {
        "scotaccount.sign_ins.started": {frozenset(): 1},
        "scotaccount.sign_ins": {SUCCESS: 1},
        DURATION: {call("discovery"): 1, call("jwks"): 1, call("token"): 1},
    }


def test_a_second_sign_in_reads_discovery_and_jwks_from_the_cache(
    client, fake_scotaccount, telemetry
):
    sign_in(Client(), fake_scotaccount)
    telemetry.reset()
    assert sign_in(client, fake_scotaccount).status_code == 302
    assert telemetry.collect()[DURATION] == {call("token"): 1}


def test_a_forged_id_token_is_a_failure_keyed_by_its_code(client, fake_scotaccount, telemetry):
    fake_scotaccount.scenarios.add("id_token_bad_signature")
    assert sign_in(client, fake_scotaccount).status_code == 502
    figures = telemetry.collect()
    assert figures["scotaccount.sign_ins"] == {failure("invalid_id_token"): 1}
    assert figures[DURATION] == {call("discovery"): 1, call("jwks"): 1, call("token"): 1}
    assert "scotaccount.jwks.refetches" not in figures  # its kid is known


def test_an_unknown_kid_refetches_the_jwks_once(client, fake_scotaccount, telemetry):
    fake_scotaccount.scenarios.add("id_token_unknown_kid")
    sign_in(client, fake_scotaccount)
    figures = telemetry.collect()
    assert figures["scotaccount.jwks.refetches"] == {
        labels(**{"scotaccount.jwks.refetch_reason": "unknown_kid"}): 1
    }
    assert figures[DURATION][call("jwks")] == 2
    assert figures["scotaccount.sign_ins"] == {failure("invalid_id_token"): 1}


def test_a_stale_jwks_is_refetched_as_expired(client, fake_scotaccount, telemetry, frozen_clock):
    sign_in(Client(), fake_scotaccount)
    frozen_clock.shift(24 * 3600)  # past any cache lifetime
    telemetry.reset()
    sign_in(client, fake_scotaccount)
    assert telemetry.collect()["scotaccount.jwks.refetches"] == {
        labels(**{"scotaccount.jwks.refetch_reason": "expired"}): 1
    }


def test_cancelling_at_scotaccount_is_not_a_failure(client, fake_scotaccount, telemetry):
    complete(client, fake_scotaccount, start_flow(client), cancel=True)
    assert telemetry.collect()["scotaccount.sign_ins"] == {
        labels(**{"scotaccount.outcome": "cancelled"}): 1
    }


def test_scotaccount_answering_503_is_timed_and_counted(client, fake_scotaccount, telemetry):
    fake_scotaccount.scenarios.add("discovery_http_503")
    assert client.get("/scotaccount/login/").status_code == 503
    assert telemetry.collect() == {
        "scotaccount.sign_ins.started": {frozenset(): 1},
        "scotaccount.sign_ins": {failure("provider_unavailable"): 1},
        DURATION: {call("discovery", "provider_unavailable"): 1},
    }


def test_callbacks_refused_before_any_token_call_count_by_code(
    client, fake_scotaccount, telemetry
):
    location = fake_scotaccount.complete_authorization(start_flow(client))
    return_to_app(Client(), location)
    return_to_app(Client(), location + "&state=x")
    assert telemetry.collect()["scotaccount.sign_ins"] == {
        failure("browser_mismatch"): 1,
        failure("bad_request"): 1,
    }


def test_a_step_up_with_a_decline_counts_each_scope(client, fake_scotaccount, telemetry):
    person = signed_in_client(client, fake_scotaccount)
    telemetry.reset()
    assert step_up(person, fake_scotaccount, ALL_SCOPES, release=[ADDRESS]).status_code == 302
    figures = telemetry.collect()
    assert figures["scotaccount.step_ups"] == {
        step(ADDRESS, "received"): 1,
        step(IDENTITY, "declined"): 1,
        step(EMAIL, "declined"): 1,
    }
    assert "scotaccount.sign_ins" not in figures  # a step-up is not a sign-in
    assert figures[DURATION] == {call("token"): 1, call("attributes"): 1, call("jwks"): 1}


def test_a_step_up_cancelled_counts_every_scope_declined(client, fake_scotaccount, telemetry):
    person = signed_in_client(client, fake_scotaccount)
    telemetry.reset()
    step_up(person, fake_scotaccount, [ADDRESS, EMAIL], cancel=True)
    assert telemetry.collect()["scotaccount.step_ups"] == {
        step(ADDRESS, "declined"): 1,
        step(EMAIL, "declined"): 1,
    }


def test_a_scope_scotaccount_does_not_hold_counts_as_unavailable(fake_scotaccount, telemetry):
    person = signed_in_client(Client(), fake_scotaccount, "no-address")
    telemetry.reset()
    step_up(person, fake_scotaccount, [ADDRESS], "no-address")
    assert telemetry.collect()["scotaccount.step_ups"] == {step(ADDRESS, "unavailable"): 1}


def test_attributes_answering_503_times_every_attempt(client, fake_scotaccount, telemetry):
    person = signed_in_client(client, fake_scotaccount)
    fake_scotaccount.scenarios.add("attributes_http_503", times=None)
    telemetry.reset()
    assert step_up(person, fake_scotaccount, [ADDRESS]).status_code == 200
    figures = telemetry.collect()
    assert figures[DURATION] == {
        call("token"): 1,
        call("attributes", "provider_unavailable"): 3,  # RetryPolicy's three attempts
    }
    assert figures["scotaccount.step_ups"] == {step(ADDRESS, "failed"): 1}


def test_logouts_by_route(fake_scotaccount, telemetry, frozen_clock):
    signed_in_client(Client(), fake_scotaccount).post("/scotaccount/logout/")
    signed_in_client(Client(), fake_scotaccount)
    sid = fake_scotaccount.journal.last("token").issued["sid"]
    Client().get("/scotaccount/frontchannel-logout/", {"sid": sid})
    expiring = signed_in_client(Client(), fake_scotaccount)
    frozen_clock.shift(4 * 3600 + 1)
    expiring.get("/signed-in/")
    route = "scotaccount.logout.route"
    assert telemetry.collect()["scotaccount.logouts"] == {
        labels(**{route: "rp_initiated"}): 1,
        labels(**{route: "front_channel"}): 1,
        labels(**{route: "session_expired"}): 1,
    }


def test_rows_purged_by_table(client, fake_scotaccount, telemetry, frozen_clock):
    person = signed_in_client(client, fake_scotaccount)
    step_up(person, fake_scotaccount, ALL_SCOPES)
    frozen_clock.shift(2 * 24 * 3600)
    telemetry.reset()
    call_command("scotaccount_purge", "--attributes-older-than", "1", stdout=StringIO())
    assert telemetry.collect()["scotaccount.purged_rows"] == {
        labels(**{"scotaccount.table": "verifiedattribute"}): 3,
        labels(**{"scotaccount.table": "attributerequest"}): 1,
    }


def test_each_provider_call_is_a_client_span_under_the_request_span(
    client, fake_scotaccount, telemetry
):
    with trace.get_tracer("tests").start_as_current_span("GET /scotaccount/callback/") as parent:
        sign_in(client, fake_scotaccount)
    spans = {span.name: span for span in telemetry.spans()}
    provider_spans = [spans[f"ScotAccount {name}"] for name in ("discovery", "jwks", "token")]
    for span in provider_spans:
        assert span.kind == trace.SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
        assert span.status.is_ok
        assert span.events == ()  # no exception text, ever


def test_a_failed_provider_call_is_an_error_span_without_the_exception(
    client, fake_scotaccount, telemetry
):
    fake_scotaccount.scenarios.add("discovery_http_503")
    client.get("/scotaccount/login/")
    (span,) = telemetry.spans()
    assert span.status.status_code == trace.StatusCode.ERROR
    assert span.status.description is None
    assert span.events == ()
    assert dict(span.attributes) == {
        "scotaccount.endpoint": "discovery",
        "scotaccount.outcome": "failure",
        "error.type": "provider_unavailable",
    }


# The closed sets ----------------------------------------------------------------------------


def every_error_code(cls: type[ScotAccountError] = ScotAccountError) -> set[str]:
    codes = set()
    for subclass in cls.__subclasses__():
        codes |= {subclass.code} | every_error_code(subclass)
    return codes


def test_the_error_codes_are_the_app_s_stable_codes():
    documented = (Path(__file__).parents[2] / "docs" / "troubleshooting.md").read_text()
    assert every_error_code() == app_telemetry.ERROR_CODES
    for code in app_telemetry.ERROR_CODES:
        assert f"`{code}`" in documented


def test_the_scopes_are_scotaccount_s():
    assert set(AttributeScope.values) == app_telemetry.SCOPES


def test_a_value_outside_its_closed_set_is_recorded_as_other(telemetry):
    app_telemetry.record_step_up(["morag@example.org"], "received")
    app_telemetry.record_logout("a9d3c6f0-sub")
    assert telemetry.collect() == {
        "scotaccount.step_ups": {
            labels(**{"scotaccount.scope": "other", "scotaccount.outcome": "received"}): 1
        },
        "scotaccount.logouts": {labels(**{"scotaccount.logout.route": "other"}): 1},
    }


def test_no_metric_or_span_ever_carries_personal_data(fake_scotaccount, telemetry, frozen_clock):
    """Every instrument, driven through its paths: each attribute comes from its closed set."""
    personas = fake_scotaccount.personas
    secrets: set[str] = {"127.0.0.1"}
    for persona in ("morag", "no-address"):
        person = signed_in_client(Client(), fake_scotaccount, persona)
        step_up(person, fake_scotaccount, ALL_SCOPES, persona, release=[ADDRESS, IDENTITY])
        issued = fake_scotaccount.journal.last("token").issued
        secrets |= {
            issued["sid"],
            issued["nonce"],
            issued["access_token_jti"],
            person.cookies["sessionid"].value,
        }
        p = personas[persona]
        secrets |= {
            p.sub,
            p.given_name,
            p.family_name,
            p.birth_date,
            p.email or "",
            *(p.address or {}).values(),
        }
        person.post("/scotaccount/logout/")
    fake_scotaccount.scenarios.add("id_token_unknown_kid")
    sign_in(Client(), fake_scotaccount)
    fake_scotaccount.scenarios.add("attributes_http_503", times=None)
    seonaid = signed_in_client(Client(), fake_scotaccount, "seonaid")
    step_up(seonaid, fake_scotaccount, [EMAIL], "seonaid")
    Client().get("/scotaccount/frontchannel-logout/", {"sid": issued["sid"]})
    expiring = signed_in_client(Client(), fake_scotaccount)
    frozen_clock.shift(2 * 24 * 3600)
    expiring.get("/signed-in/")
    call_command("scotaccount_purge", "--attributes-older-than", "1", stdout=StringIO())
    figures = telemetry.collect()

    instruments = {
        # _name: the API's proxy instruments (no SDK at import time) keep it there.
        value._name
        for value in vars(app_telemetry).values()
        if isinstance(value, Instrument)
    }
    assert len(instruments) == 7
    assert set(figures) == instruments, "every instrument was exercised"
    seen = [attributes for points in figures.values() for attributes in points]
    seen += [frozenset(span.attributes.items()) for span in telemetry.spans()]
    secrets.discard("")
    for attributes in seen:
        for name, value in attributes:
            assert value in app_telemetry.ATTRIBUTE_VALUES[name], (name, value)
            # Short ones (a building number "5") only whole: "gpg45" is no house number.
            leaked = [s for s in secrets if s == value or (len(s) > 5 and s in str(value))]
            assert not leaked, (name, value)


def test_the_overhead_benchmark_times_the_helpers_and_strips_them():
    from tests.benchmarks import telemetry_overhead

    timings = telemetry_overhead.per_call_ns(app_telemetry, number=10)
    assert set(timings) == set(telemetry_overhead.CALLS_PER_SIGN_IN)
    assert all(ns > 0 for ns in timings.values())
    instrumented = app_telemetry.provider_call
    with telemetry_overhead.stripped():
        assert app_telemetry.provider_call is not instrumented
    assert app_telemetry.provider_call is instrumented
