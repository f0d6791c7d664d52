"""HTTP plumbing: two loopback servers, routing, transport faults and the journal.

Endpoint modules never see sockets; they take a parsed :class:`Request` and
return a :class:`Response`. This module decides which handler runs, records the
request in the journal first (so even a stalled or dropped request is seen),
and applies the transport-level faults (status, stall, garbage, redirect, drop).
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from scotaccount_django_testing.fake import pages
from scotaccount_django_testing.fake.attributes import attributes
from scotaccount_django_testing.fake.authorize import (
    authorize,
    consent,
    consent_page,
    sign_in,
)
from scotaccount_django_testing.fake.control import ControlHandler
from scotaccount_django_testing.fake.discovery import metadata
from scotaccount_django_testing.fake.journal import JournalEntry
from scotaccount_django_testing.fake.logout import logout
from scotaccount_django_testing.fake.messages import (
    Request,
    Response,
    html_response,
    json_response,
    oauth_error,
    parse_pairs,
    redirect,
)
from scotaccount_django_testing.fake.scenarios import (
    FAULTS,
    TRANSPORT_KINDS,
    TRANSPORT_STATUSES,
    TRICKLE_INTERVAL,
)
from scotaccount_django_testing.fake.state import ProviderState
from scotaccount_django_testing.fake.token import token

Handler = Callable[[ProviderState, Request, JournalEntry], Response]
Routes = dict[tuple[str, str], tuple[str, Handler]]
MAX_BODY = 1_000_000


def _discovery(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    advertise = "discovery_without_end_session" not in state.variants
    return json_response(200, metadata(state.endpoints.issuer, advertise_end_session=advertise))


def _jwks(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    return json_response(200, state.signing_keys.jwks())


def _attributes_jwks(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    return json_response(200, state.attributes_keys.jwks())


def _captured(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    """Where ``*_redirect_other_host`` points: proof of what a redirect-following client leaked."""
    entry.outcome = "captured a redirected request"
    return json_response(200, {"captured": True})


def _not_found(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    return oauth_error(404, "not_found", "Not Found: Page not found")


SIGN_IN_ROUTES: Routes = {
    ("GET", "/.well-known/openid-configuration"): ("discovery", _discovery),
    ("GET", "/jwks.json"): ("jwks", _jwks),
    ("GET", "/authorize"): ("authorize", authorize),
    ("POST", "/authorize/sign-in"): ("sign_in", sign_in),
    ("GET", "/authorize/consent"): ("consent_page", consent_page),
    ("POST", "/authorize/consent"): ("consent", consent),
    ("POST", "/token"): ("token", token),
    ("GET", "/authorize/logout"): ("logout", logout),
}

ATTRIBUTES_ROUTES: Routes = {
    ("GET", "/attributes/values"): ("attributes", attributes),
    ("GET", "/jwks.json"): ("attributes_jwks", _attributes_jwks),
}


def _transport_fault(
    state: ProviderState,
    endpoint: str,
    entry: JournalEntry,
    other_origin: str,
    real_answer: Callable[[], Response],
) -> Response | None:
    suffixes = [f"http_{status}" for status in TRANSPORT_STATUSES] + list(TRANSPORT_KINDS)
    names = [f"{endpoint}_{suffix}" for suffix in suffixes if f"{endpoint}_{suffix}" in FAULTS]
    fault = state.scenarios.take_first(names)
    if fault is None:
        return None
    entry.fault = fault
    entry.outcome = f"fault: {fault}"
    kind = fault.removeprefix(f"{endpoint}_")
    if kind.startswith("http_"):
        status = int(kind.removeprefix("http_"))
        return oauth_error(status, *TRANSPORT_STATUSES[status])
    if kind == "timeout":
        stalled = oauth_error(504, "gateway_timeout", "The fake stalled on purpose")
        stalled.delay = state.scenarios.timeout_delay
        return stalled
    if kind == "malformed_json":
        return Response(200, b'{"access_token": "eyJ', [("Content-Type", "application/json")])
    if kind == "html_body":
        return html_response(200, pages.error_page("Service error", "Something went wrong."))
    if kind == "redirect_other_host":
        return redirect(f"{other_origin}/captured", status=307)
    if kind in ("truncated_body", "trickle"):
        cut_short = real_answer()
        cut_short.truncate = kind == "truncated_body"
        cut_short.trickle = TRICKLE_INTERVAL if kind == "trickle" else 0.0
        return cut_short
    return Response(0, drop=True)


def dispatch(
    state: ProviderState,
    routes: Routes,
    request: Request,
    other_origin: str,
    control: dict[tuple[str, str], ControlHandler] | None = None,
) -> Response:
    """Route one request, journaling it and applying any armed transport fault.

    ``control`` routes (``/config``, ``/journal``) answer first, unjournaled and never faulty.
    """
    control_handler = (control or {}).get((request.method, request.path))
    if control_handler is not None:
        return control_handler(state, request)
    route: tuple[str, Handler] = ("captured", _captured)
    if request.path != "/captured":
        route = routes.get((request.method, request.path), ("unknown", _not_found))
    endpoint, handler = route
    entry = JournalEntry(
        endpoint=endpoint,
        method=request.method,
        path=request.path,
        params=request.flat_params(),
        headers=dict(request.headers),
        timestamp=state.clock.now(),
    )
    state.journal.append(entry)
    try:
        response = _transport_fault(
            state, endpoint, entry, other_origin, lambda: handler(state, request, entry)
        ) or handler(state, request, entry)
    except Exception as error:  # a bug in the fake must show, not hang the client
        entry.outcome = f"fake provider bug: {error!r}"
        response = oauth_error(500, "internal_server_error", f"Fake provider bug: {error!r}")
    entry.status = response.status
    return response


class FakeHTTPServer(ThreadingHTTPServer):
    """One origin of the fake. Request threads never block shutdown."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        host: str,
        port: int,
        answer: Callable[[Request], Response],
        stopping: threading.Event,
        tls: ssl.SSLContext | None = None,
        keep_alive: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.answer = answer
        self.stopping = stopping
        self.tls = tls
        self.keep_alive = keep_alive
        self.clock = clock
        super().__init__((host, port), _RequestHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept; with TLS, wrap the socket (the handshake runs in the request's thread)."""
        connection, address = super().get_request()
        if self.tls is None:
            return connection, address
        return self.tls.wrap_socket(
            connection, server_side=True, do_handshake_on_connect=False
        ), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gives up on a TLS handshake is not news; anything else is."""
        if sys.exc_info()[0] in (ssl.SSLError, ConnectionError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: FakeHTTPServer
    server_version = "FakeScotAccount"
    # Persistent connections, as the real service allows; every response has a length.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the second waits for a
    # delayed ACK (~40 ms per response on Linux), which dwarfs everything being measured.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the journal is the log."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header follows the fake's clock, as ScotAccount's follows its own."""
        return super().date_time_string(self.server.clock() if timestamp is None else timestamp)

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        form = (
            parse_pairs(body.decode("utf-8", "replace"))
            if content_type.startswith("application/x-www-form-urlencoded")
            else {}
        )
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_pairs(parts.query),
            form=form,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        response = self.server.answer(request)
        if response.delay:
            self.server.stopping.wait(response.delay)
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if not self.server.keep_alive:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.truncate:
            self.wfile.write(response.body[: len(response.body) // 2])
            self.close_connection = True
        elif response.trickle:
            self._trickle(response.body, response.trickle)
        else:
            self.wfile.write(response.body)

    def _trickle(self, body: bytes, interval: float) -> None:
        self.close_connection = True
        for index in range(len(body)):
            if self.server.stopping.wait(interval):
                return
            try:
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
            except OSError:  # the client gave up: the point of the fault
                return
