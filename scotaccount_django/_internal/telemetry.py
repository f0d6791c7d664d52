"""Metrics and traces through the OpenTelemetry API: a no-op until the project sets up an SDK.

Attribute values come from closed sets (else ``"other"``): no ``sub``, token or personal data.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version

from opentelemetry import metrics, trace

from scotaccount_django._internal.error_pages import DECLINING_ERRORS
from scotaccount_django.exceptions import AuthorizationDenied, ScotAccountError

SCOPES = frozenset({"scotaccount.gpg45.medium", "scotaccount.address", "scotaccount.email"})


def _codes(base: type[ScotAccountError]) -> frozenset[str]:
    """The ``code`` of every subclass of ``base``, however deep."""
    subclasses = base.__subclasses__()
    return frozenset(sub.code for sub in subclasses).union(*map(_codes, subclasses))


#: The stable codes of ``docs/troubleshooting.md``: every ``ScotAccountError`` subclass's.
ERROR_CODES = _codes(ScotAccountError)
#: ``AttributeRequest.Reason`` of a missing scope -> the step-up outcome it counts as.
STEP_UP_REASONS = {"declined": "declined", "not_available": "unavailable"}
#: Every attribute key -> the values it may carry; any other is recorded as ``"other"``.
ATTRIBUTE_VALUES: dict[str, frozenset[str]] = {
    "scotaccount.outcome": frozenset(
        {"success", "cancelled", "failure", "received", "declined", "unavailable", "failed"}
    ),
    "error.type": ERROR_CODES,
    "scotaccount.endpoint": frozenset({"discovery", "jwks", "token", "attributes"}),
    "scotaccount.scope": SCOPES,
    "scotaccount.logout.route": frozenset({"rp_initiated", "front_channel", "session_expired"}),
    "scotaccount.jwks.refetch_reason": frozenset({"unknown_kid", "expired"}),
    "scotaccount.table": frozenset(
        {"scotaccountsession", "verifiedattribute", "attributerequest"}
    ),
}

#: OpenTelemetry's HTTP client buckets (seconds): the SDK's default ones suit milliseconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)

try:
    VERSION = version("scotaccount-django")
except PackageNotFoundError:  # pragma: no cover - running from a source tree (make demo)
    VERSION = ""
_meter = metrics.get_meter("scotaccount_django", VERSION)
_tracer = trace.get_tracer("scotaccount_django", VERSION)

sign_ins_started = _meter.create_counter(
    "scotaccount.sign_ins.started", "{sign_in}", "Visits to the login view."
)
sign_ins = _meter.create_counter(
    "scotaccount.sign_ins", "{sign_in}", "Sign-ins finished, by outcome and error code."
)
step_ups = _meter.create_counter(
    "scotaccount.step_ups", "{scope}", "Scopes asked for in step-ups, by scope and outcome."
)
logouts = _meter.create_counter("scotaccount.logouts", "{session}", "Sessions ended, by route.")
provider_duration = _meter.create_histogram(
    "scotaccount.provider.request.duration",
    "s",
    "Duration of calls to ScotAccount, by endpoint and outcome.",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
)
jwks_refetches = _meter.create_counter(
    "scotaccount.jwks.refetches", "{refetch}", "JWKS fetched again while a copy was cached."
)
purged_rows = _meter.create_counter(
    "scotaccount.purged_rows", "{row}", "Rows deleted by scotaccount_purge, by table."
)


def _closed(attributes: Mapping[str, str | None]) -> dict[str, str]:
    return {
        name: value if value is not None and value in ATTRIBUTE_VALUES[name] else "other"
        for name, value in attributes.items()
    }


def record_sign_in_started() -> None:
    sign_ins_started.add(1)


def record_sign_in(error: ScotAccountError | None) -> None:
    """A sign-in finished: ``None`` for success; a person cancelling is not a failure."""
    if error is None:
        sign_ins.add(1, {"scotaccount.outcome": "success"})
    elif isinstance(error, AuthorizationDenied) and error.error in DECLINING_ERRORS:
        sign_ins.add(1, {"scotaccount.outcome": "cancelled"})
    else:
        sign_ins.add(1, _closed({"scotaccount.outcome": "failure", "error.type": error.code}))


def record_step_up(scopes: Iterable[str], outcome: str) -> None:
    for scope in scopes:
        step_ups.add(1, _closed({"scotaccount.scope": scope, "scotaccount.outcome": outcome}))


def record_attribute_request(received: Iterable[str], missing: Mapping[str, str]) -> None:
    """A step-up's answer: received scopes, and missing ones by their recorded reason."""
    record_step_up(received, "received")
    for scope, reason in missing.items():
        record_step_up([scope], STEP_UP_REASONS.get(reason, "failed"))


def record_logout(route: str, sessions: int = 1) -> None:
    logouts.add(sessions, _closed({"scotaccount.logout.route": route}))


def record_jwks_refetch(reason: str) -> None:
    jwks_refetches.add(1, _closed({"scotaccount.jwks.refetch_reason": reason}))


def record_purged(table: str, rows: int) -> None:
    purged_rows.add(rows, _closed({"scotaccount.table": table}))


@contextmanager
def provider_call(endpoint: str) -> Iterator[None]:
    """One call to ScotAccount: a client span and a duration, failed if an error escapes."""
    attributes = _closed({"scotaccount.endpoint": endpoint})
    with _tracer.start_as_current_span(
        f"ScotAccount {attributes['scotaccount.endpoint']}",
        kind=trace.SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,  # its message may hold a URL
        set_status_on_exception=False,
    ) as span:
        started = time.perf_counter()
        try:
            yield
            attributes["scotaccount.outcome"] = "success"
        except Exception as exc:
            code = exc.code if isinstance(exc, ScotAccountError) else None
            attributes.update(_closed({"scotaccount.outcome": "failure", "error.type": code}))
            span.set_status(trace.StatusCode.ERROR)
            raise
        finally:
            provider_duration.record(time.perf_counter() - started, attributes)
            span.set_attributes(attributes)
