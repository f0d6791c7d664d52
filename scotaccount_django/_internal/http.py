"""Back-channel HTTP to ScotAccount: one pooled client per process, bounded in time and size.

Each rule stops a known attack or outage:
- Only https URLs are called (http on loopback, for the fake): the code and our
  client assertion never cross the network in clear.
- Redirects are never followed: a 302/307 from a token or attributes endpoint
  would carry the authorization code or our client assertion to another host.
- TLS is always verified, against one ``SSLContext`` built once per process
  (loading the CA bundle for every new connection costs ~18 ms of CPU).
- Every call has an overall deadline, ``SCOTACCOUNT_TIMEOUT``: a per-read timeout
  alone lets a server that trickles one byte at a time hold a worker indefinitely,
  so a watchdog shuts the socket down when the deadline passes.
- Bodies are capped after decompression, read in small pieces, so a gzip bomb
  is refused after at most ``MAX_RESPONSE_BYTES`` of output.
- The client holds nothing between people: a cookie jar that refuses every
  cookie, and ``trust_env`` off so environment proxies, CA bundles and netrc
  cannot change where calls go or what they carry.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import http.cookiejar
import itertools
import json
import logging
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import requests
import requests.adapters
import requests.utils
import urllib3
import urllib3.connection
import urllib3.connectionpool

from scotaccount_django.conf import conf, is_https_or_loopback
from scotaccount_django.exceptions import (
    ConfigurationError,
    ProviderError,
    ProviderRejectedClient,
    ProviderUnavailable,
    ScotAccountSessionEnded,
)

logger = logging.getLogger("scotaccount_django")

#: No legitimate ScotAccount answer is anywhere near this size (after decompression).
MAX_RESPONSE_BYTES = 512 * 1024
#: Bodies are decoded this much at a time, so a compressed bomb never inflates in one go.
READ_CHUNK_BYTES = 64 * 1024

try:
    USER_AGENT = f"scotaccount-django/{version('scotaccount-django')}"
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    USER_AGENT = "scotaccount-django"


@dataclass(frozen=True)
class ProviderResponse:
    status: int
    content_type: str
    body: bytes
    #: The ``Date`` header: diagnostics measure clock offset from it.
    date: str = ""

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or ``ProviderError``."""
        try:
            value = json.loads(self.body)
        except ValueError as exc:
            raise ProviderError(f"response is not JSON (HTTP {self.status})") from exc
        if not isinstance(value, dict):
            raise ProviderError(f"response is not a JSON object (HTTP {self.status})")
        return value


def send(
    method: str,
    url: str,
    *,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> ProviderResponse:
    """Make one request; raise for transport faults, redirects, oversized or late answers."""
    if not is_https_or_loopback(url):
        raise ProviderError(f"{url!r:.200} is not https (http is allowed on loopback only)")
    seconds = conf.TIMEOUT.total_seconds()
    too_late = f"no complete answer from {url} within {seconds:g} s"
    deadline = _watchdog.start(seconds)
    try:
        response = _session().request(
            method,
            url,
            data=data,
            headers=headers,
            timeout=seconds,
            allow_redirects=False,
            verify=True,
            stream=True,
        )
        with response:
            body = _read_body(response, url)
        if deadline.expired:  # a close-delimited body cut off by the watchdog looks complete
            raise ProviderUnavailable(too_late)
    except ProviderError:
        raise
    except (
        requests.RequestException,
        urllib3.exceptions.HTTPError,
        http.client.HTTPException,
        OSError,
    ) as exc:
        if deadline.expired:
            raise ProviderUnavailable(too_late) from exc
        if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError):
            raise ProviderUnavailable(f"timed out calling {url}") from exc
        if isinstance(exc, urllib3.exceptions.DecodeError):
            raise ProviderError(f"response from {url} could not be decoded") from exc
        raise ProviderUnavailable(f"could not reach {url}: {type(exc).__name__}") from exc
    finally:
        deadline.finish()
    if 300 <= response.status_code < 400:
        raise ProviderError(f"{url} answered with a redirect (HTTP {response.status_code})")
    return ProviderResponse(
        status=response.status_code,
        content_type=response.headers.get("Content-Type", ""),
        body=body,
        date=response.headers.get("Date", ""),
    )


def _read_body(response: requests.Response, url: str) -> bytes:
    """The decoded body, refused as soon as it (or its declared length) passes the cap."""
    too_large = ProviderError(f"response from {url} is larger than {MAX_RESPONSE_BYTES} bytes")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise too_large
    body = bytearray()
    # urllib3 >= 2.6 decodes at most READ_CHUNK_BYTES of output per step.
    for chunk in response.raw.stream(READ_CHUNK_BYTES, decode_content=True):
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise too_large
    return bytes(body)


def raise_for_status(response: ProviderResponse, what: str) -> None:
    """Map a non-2xx answer to the exception that says whose problem it is."""
    if response.status < 300:
        return
    if response.status == 402:
        # ScotAccount's own use of 402 (reference lines 576-581): the session is gone.
        raise ScotAccountSessionEnded(f"{what} answered HTTP 402{_error_code(response)}")
    if response.status in (401, 403):
        raise ProviderRejectedClient(f"{what} refused our client (HTTP {response.status})")
    if response.status >= 500:
        raise ProviderUnavailable(f"{what} failed (HTTP {response.status})")
    raise ProviderError(f"{what} answered HTTP {response.status}{_error_code(response)}")


def _error_code(response: ProviderResponse) -> str:
    """The OAuth ``error`` code, if the body has one: safe to log, unlike the description."""
    try:
        error = response.json_object().get("error")
    except ProviderError:
        return ""
    return f" ({error!r:.60})" if isinstance(error, str) else ""


# --- The overall deadline -------------------------------------------------------------


class _Deadline:
    """One call's time limit; when it passes, the call's socket is shut down."""

    def __init__(self, expires: float) -> None:
        self.expires = expires
        self.expired = False
        self._finished = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._socket = sock
            if self.expired:
                _shut_down(sock)

    def expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            _shut_down(self._socket)

    def finish(self) -> None:
        with self._lock:
            self._finished = True
            self._socket = None
        _local.deadline = None


def _shut_down(sock: socket.socket | None) -> None:
    """Wake a blocked read from another thread (closing alone would not interrupt it)."""
    if sock is None:
        return
    # The plain socket method, also for TLS: it acts on the descriptor without
    # touching the TLS object the reading thread is still using.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread per process that expires deadlines in time order."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, _Deadline]] = []
        self._counter = itertools.count()
        self._pid = 0

    def forget_after_fork(self) -> None:
        """In a forked child: the thread did not survive, and a lock may look held."""
        self._condition = threading.Condition()
        self._queue = []
        self._pid = 0

    def start(self, seconds: float) -> _Deadline:
        """A deadline ``seconds`` from now, for the calling thread's next request."""
        deadline = _Deadline(time.monotonic() + seconds)
        with self._condition:
            if self._pid != os.getpid():  # first use, or a forked worker: threads do not fork
                self._pid = os.getpid()
                self._queue.clear()
                threading.Thread(
                    target=self._run, name="scotaccount-deadlines", daemon=True
                ).start()
            heapq.heappush(self._queue, (deadline.expires, next(self._counter), deadline))
            if self._queue[0][2] is deadline:  # the watchdog sleeps until the earliest one
                self._condition.notify()
        _local.deadline = deadline
        return deadline

    def _run(self) -> None:
        pid = os.getpid()
        with self._condition:
            while self._pid == pid:
                if not self._queue:
                    self._condition.wait()
                    continue
                expires, _, deadline = self._queue[0]
                now = time.monotonic()
                if expires > now:
                    self._condition.wait(expires - now)
                    continue
                heapq.heappop(self._queue)
                deadline.expire()


_watchdog = _Watchdog()
_local = threading.local()
if hasattr(os, "register_at_fork"):  # pragma: no branch - absent only on Windows
    os.register_at_fork(after_in_child=_watchdog.forget_after_fork)


def _watch_current_call(sock: socket.socket | None) -> None:
    deadline: _Deadline | None = getattr(_local, "deadline", None)
    if deadline is not None:
        deadline.watch(sock)


class _WatchedConnection(urllib3.connection.HTTPConnection):
    """Hands its socket to the current call's deadline once the request is sent.

    Not earlier: connecting is bounded by the connect timeout (CPython bounds a
    whole TLS handshake by it too). Not later: a pooled connection was connected
    by an earlier call, and a response that will close takes the socket away.
    """

    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        _watch_current_call(self.sock)


class _WatchedHTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


# --- The client -------------------------------------------------------------------


class _RefuseAllCookies(http.cookiejar.DefaultCookiePolicy):
    """ScotAccount needs no cookies; a kept cookie would pass between people."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


class _Adapter(requests.adapters.HTTPAdapter):
    """Pooled keep-alive connections that all use the one shared TLS context."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self.ssl_context = ssl_context
        super().__init__(pool_connections=4, pool_maxsize=10, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self.ssl_context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # requests would point every pool at the CA bundle file, which urllib3 then
        # loads into the context again for each new connection; the shared context
        # already holds the CAs and requires a valid certificate and hostname.
        conn.cert_reqs = "CERT_REQUIRED"


def build_ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Certificates and hostnames always verified, TLS 1.2 or later."""
    try:
        context = ssl.create_default_context(
            cafile=ca_bundle or requests.utils.DEFAULT_CA_BUNDLE_PATH
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"SCOTACCOUNT_CA_BUNDLE {ca_bundle!r} is not a readable PEM file of CA certificates."
        ) from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@dataclass(frozen=True)
class _Client:
    pid: int
    ca_bundle: str | None
    adapter: _Adapter


_client_lock = threading.Lock()
_client: _Client | None = None


def _shared_adapter() -> _Adapter:
    """The process's adapter, rebuilt only after a fork or a change of CA bundle."""
    global _client
    client = _client
    ca_bundle = conf.CA_BUNDLE
    if client is None or client.pid != os.getpid() or client.ca_bundle != ca_bundle:
        with _client_lock:
            client = _client
            if client is None or client.pid != os.getpid() or client.ca_bundle != ca_bundle:
                client = _Client(os.getpid(), ca_bundle, _Adapter(build_ssl_context(ca_bundle)))
                _client = client
    return client.adapter


def _session() -> requests.Session:
    """A per-thread ``requests.Session`` (not thread-safe) over the shared pool."""
    adapter = _shared_adapter()
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None or session.get_adapter("https://") is not adapter:
        session = requests.Session()
        session.trust_env = False
        session.cookies.set_policy(_RefuseAllCookies())
        session.headers["User-Agent"] = USER_AGENT
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        _local.session = session
    return session
