"""Everything that talks to ScotAccount: HTTP, discovery and key documents, our client
assertions, the token exchange and the attributes fetch (docs/security.md: C7, C8, L4, L8)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import http.client
import ipaddress
import itertools
import json
import logging
import os
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode, urlsplit

import certifi
import jwt
import jwt.utils
import urllib3
import urllib3.connection
import urllib3.connectionpool
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core import signing
from django.core.cache import caches

from scotaccount_django._internal import telemetry
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    AttributesUnavailable,
    ConfigurationError,
    ProviderError,
    ProviderRejectedClient,
    ProviderUnavailable,
    ScotAccountSessionEnded,
)

logger = logging.getLogger("scotaccount_django")

Endpoint = Literal["discovery", "jwks", "token", "attributes"]
Document = dict[str, Any]
T = TypeVar("T")

#: No legitimate ScotAccount answer is anywhere near this size (after decompression).
MAX_RESPONSE_BYTES = 512 * 1024
#: Bodies are decoded this much at a time, so a compressed bomb never inflates in one go.
READ_CHUNK_BYTES = 64 * 1024

try:
    USER_AGENT = f"scotaccount-django/{version('scotaccount-django')}"
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    USER_AGENT = "scotaccount-django"


@dataclass(frozen=True)
class TokenSet:
    """The token endpoint's answer; the raw tokens never appear in ``repr`` (nor in a log)."""

    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    expires_in: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class IDTokenClaims:
    sub: uuid.UUID
    sid: str | None
    claims: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ProviderResponse:
    status: int
    body: bytes
    date: str = ""  # the Date header: diagnostics measure clock offset from it

    def json_object(self) -> Document:
        """The body as a JSON object; anything else, however hostile, is a ``ProviderError``."""
        try:
            value = json.loads(self.body)
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting 100,000 deep (M6)
            raise ProviderError(f"the response (HTTP {self.status}) is not JSON") from exc
        if not isinstance(value, dict):
            raise ProviderError(f"the response (HTTP {self.status}) is not a JSON object")
        return value


def is_loopback_host(host: str) -> bool:
    """M7: this machine in any literal form (``127.1``, ``0x7f000001``); never a DNS name."""
    host = host.lower().strip("[]").rstrip(".")
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        if not host or not set(host) <= set("0123456789abcdefx."):
            return False
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def is_loopback_url(url: str) -> bool:
    """True for URLs on this machine."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return host is not None and is_loopback_host(host)


def is_https_or_loopback(url: str) -> bool:
    """The one rule for every ScotAccount URL: https, or http on loopback (the fake)."""
    scheme = url.split(":", 1)[0].lower()
    return scheme == "https" or (scheme == "http" and is_loopback_url(url))


def request(
    endpoint: Endpoint,
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
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    _local.ends_at, _local.watched = time.monotonic() + seconds, None
    try:
        response = _pool_manager(os.getpid(), conf.CA_BUNDLE).request(
            method,
            url,
            body=None if data is None else urlencode(data),
            headers=headers,
            redirect=False,
            retries=False,
            timeout=seconds,
            preload_content=False,
        )
        try:
            body = _read_body(response, url)
        except BaseException:
            response.close()  # never hand a half-read connection back to the pool
            raise
        finally:
            response.release_conn()
        if time.monotonic() >= _local.ends_at:  # a close-delimited body cut off looks complete
            raise ProviderUnavailable(too_late)
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
        # A socket timeout may fire just before the deadline; a refused connection is no timeout.
        timed_out = isinstance(exc, urllib3.exceptions.TimeoutError) and not isinstance(
            exc, urllib3.exceptions.NewConnectionError
        )
        if time.monotonic() >= _local.ends_at or timed_out:
            raise ProviderUnavailable(too_late) from exc
        if isinstance(exc, urllib3.exceptions.DecodeError):
            raise ProviderError(f"response from {url} could not be decoded") from exc
        raise ProviderUnavailable(f"could not reach {url}: {type(exc).__name__}") from exc
    finally:
        if _local.watched is not None:
            _local.watched[2] = None  # answered: the watchdog leaves this socket alone
    if 300 <= response.status < 400:
        raise ProviderError(f"{url} answered with a redirect (HTTP {response.status})")
    return ProviderResponse(response.status, body, response.headers.get("Date", ""))


def _read_body(response: urllib3.BaseHTTPResponse, url: str) -> bytes:
    """The decoded body, refused as soon as it (or its declared length) passes the cap."""
    too_large = ProviderError(f"response from {url} is larger than {MAX_RESPONSE_BYTES} bytes")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise too_large
    body = bytearray()
    # urllib3 >= 2.6 decodes at most READ_CHUNK_BYTES of output per step.
    for chunk in response.stream(READ_CHUNK_BYTES, decode_content=True):
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise too_large
    return bytes(body)


def raise_for_status(response: ProviderResponse, what: str) -> None:
    """Map a non-2xx answer to the exception that says whose problem it is."""
    if response.status < 300:
        return
    if response.status in (401, 403):
        raise ProviderRejectedClient(f"{what} refused our client (HTTP {response.status})")
    if response.status >= 500:
        raise ProviderUnavailable(f"{what} failed (HTTP {response.status})")
    answer = f"{what} answered HTTP {response.status}"
    with contextlib.suppress(ProviderError):  # the OAuth ``error`` code is safe to log
        error = response.json_object().get("error")
        answer += f" ({error!r:.60})" if isinstance(error, str) else ""
    if response.status == 402:  # ScotAccount's "session gone" (reference lines 576-581)
        raise ScotAccountSessionEnded(answer)
    raise ProviderError(answer)


_local = threading.local()


def _shut_down(sock: socket.socket) -> None:
    """Unlike closing, shutting a socket down wakes a read blocked on it, also for TLS."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread per process shuts down each socket still in use at its call's deadline (L4).

    A timer thread per call cost about 0.3 ms of CPU; watching a socket here is a heap push.
    Entries are ``[deadline, sequence, socket]``; a finished call sets its socket to None.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._wakeup = threading.Condition()
        self._heap: list[list[Any]] = []
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, ends_at: float, sock: socket.socket) -> list[Any]:
        entry = [ends_at, next(self._sequence), sock]
        with self._wakeup:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()
            while self._heap and self._heap[0][2] is None:  # answered calls, oldest first
                heapq.heappop(self._heap)
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:
                self._wakeup.notify()
        return entry

    def _run(self) -> None:
        with self._wakeup:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2] is None or self._heap[0][0] <= now):
                    sock = heapq.heappop(self._heap)[2]
                    if sock is not None:
                        _shut_down(sock)
                self._wakeup.wait(self._heap[0][0] - now if self._heap else None)


_watchdog = _Watchdog()
# A forked worker (gunicorn) inherits neither the thread nor, safely, its lock.
os.register_at_fork(after_in_child=_watchdog.reset)


class _WatchedConnection(urllib3.connection.HTTPConnection):
    """Watched from the moment its request is sent (urllib3 has no other hook, L4)."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        _local.watched = _watchdog.watch(_local.ends_at, self.sock)


class _WatchedHTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


@functools.lru_cache(maxsize=1)
def _pool_manager(pid: int, ca_bundle: str | None) -> urllib3.PoolManager:
    """One per process and CA bundle, with one ``SSLContext`` (C8; TLS 1.2 or later is
    Python's default since 3.10)."""
    try:
        context = ssl.create_default_context(cafile=ca_bundle or certifi.where())
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"SCOTACCOUNT_CA_BUNDLE {ca_bundle!r} is not a readable PEM file of CA certificates."
        ) from exc
    manager = urllib3.PoolManager(num_pools=4, maxsize=10, ssl_context=context)
    manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager


# Discovery and JWKS, through the shared cache -----------------------------------------------
# One worker refreshes a stale document while the others use it; a failed fetch backs off
# (L5). Entries are signed for their cache key and validated as on fetch (L9).

#: How long the last good copy is kept for use while ScotAccount is unreachable.
STALE_COPY_SECONDS = 7 * 24 * 3600
#: After a failed fetch, nobody fetches that document again for this long.
REFRESH_BACKOFF_SECONDS = 15
#: At most one forced refetch of a document per this many seconds, across workers (E3).
FORCED_REFETCH_INTERVAL_SECONDS = 30

_FAILED = "failed"

#: cache key -> (entry, parsed value, fetched at), so each entry is checked once per process.
_parsed: dict[str, tuple[str, Any, float]] = {}


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


def parse_metadata(document: Document, *, issuer: str) -> ProviderMetadata:
    """The endpoints, if ``document`` is ``issuer``'s (A6: mix-up) and each is https (A7)."""
    if document.get("issuer") != issuer:
        raise ProviderError(
            f"discovery issuer {document.get('issuer')!r:.200} is not the configured {issuer!r}"
        )
    urls: dict[str, Any] = {
        name: document.get(name) for name in ProviderMetadata.__dataclass_fields__
    }
    for name, url in urls.items():
        if url is None and name == "end_session_endpoint":
            continue  # optional: the documented URL is used instead
        if not isinstance(url, str) or not is_https_or_loopback(url):
            raise ProviderError(f"{name} is missing or not an https URL")
    return ProviderMetadata(**urls)


def get_metadata() -> ProviderMetadata:
    """The sign-in issuer's endpoints, from Django's cache when fresh."""
    url, issuer = conf.DISCOVERY_URL, conf.ISSUER
    if not url or not issuer:
        raise ConfigurationError("SCOTACCOUNT_DISCOVERY_URL is not set.")
    return load(
        url,
        kind="discovery",
        issuer=issuer,
        parse=functools.partial(parse_metadata, issuer=issuer),
    )


def load(
    url: str,
    *,
    kind: Literal["discovery", "jwks"],
    issuer: str,
    parse: Callable[[Document], T],
    force_refresh: bool = False,
) -> T:
    """``parse(document)``, the document fetched only when missing, stale or forced."""
    key = cache_key(kind, issuer, url)
    cached = _read(key, parse)
    if cached is not None:
        value, fetched_at = cached
        fresh = time.time() - fetched_at < conf.METADATA_CACHE_TIMEOUT.total_seconds()
        if (fresh and not force_refresh) or not _claim_refresh(key, forced=force_refresh):
            return value
        if kind == "jwks":
            telemetry.record_jwks_refetch("unknown_kid" if force_refresh else "expired")
    cache = caches[conf.CACHE_ALIAS]
    if cached is None and cache.get(f"{key}:fetch") == _FAILED:
        raise ProviderUnavailable(f"{url} failed moments ago; not retrying yet")
    try:
        with telemetry.provider_call(kind):
            response = request(kind, "GET", url)
            raise_for_status(response, url)
            document = response.json_object()
            value = parse(document)
            fetched_at = time.time()
            entry = signing.dumps({"fetched_at": fetched_at, "document": document}, salt=key)
            cache.set(key, entry, STALE_COPY_SECONDS)
    except Exception as exc:  # any failure backs off, not only the ones we foresaw (M6)
        cache.set(f"{key}:fetch", _FAILED, REFRESH_BACKOFF_SECONDS)
        if cached is None or not isinstance(exc, ProviderError):
            raise
        logger.warning("Using the cached copy of %s: %s", url, exc)
        return cached[0]
    _parsed[key] = (entry, value, fetched_at)
    cache.delete(f"{key}:fetch")  # a success ends any back-off
    return value


def cache_key(kind: str, issuer: str, url: str) -> str:
    digest = hashlib.sha256(f"{kind}\n{issuer}\n{url}".encode()).hexdigest()
    return f"scotaccount:{kind}:{digest}"


def _claim_refresh(key: str, *, forced: bool) -> bool:
    """True for the one caller that may refetch now (not while backing off)."""
    cache = caches[conf.CACHE_ALIAS]
    if forced:
        if cache.get(f"{key}:fetch") == _FAILED:
            return False
        return bool(cache.add(f"{key}:forced", True, FORCED_REFETCH_INTERVAL_SECONDS))
    # Held for at most one call's deadline, in case the claimant dies mid-fetch.
    return bool(cache.add(f"{key}:fetch", "refreshing", int(conf.TIMEOUT.total_seconds()) + 1))


def _read(key: str, parse: Callable[[Document], T]) -> tuple[T, float] | None:
    """The cached copy and when it was fetched, if this app signed it for ``key``."""
    entry = caches[conf.CACHE_ALIAS].get(key)
    if entry is None:
        return None
    if key in _parsed and _parsed[key][0] == entry:  # verified and parsed before
        return _parsed[key][1:]
    try:
        # Salted with the key, so only this app, for this key, can have signed it (L9).
        saved = signing.loads(entry, salt=key)
        value, fetched_at = parse(saved["document"]), float(saved["fetched_at"])
    except (signing.BadSignature, ProviderError, TypeError, KeyError, ValueError) as exc:
        logger.warning("Ignoring an unusable cache entry (%s): %s", key, type(exc).__name__)
        return None
    _parsed[key] = (entry, value, fetched_at)
    return value, fetched_at


# Our key and client assertions (RFC 7523 ``private_key_jwt``) -------------------------------

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

#: The one minimum for every RSA key, ours and ScotAccount's (checks, JWKS, the fake).
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    private_key: PrivateKey
    algorithm: str
    kid: str


def load_signing_key() -> SigningKey:
    """Our configured signing key, or a ``ConfigurationError`` saying what to do (E003)."""
    path, text = conf.PRIVATE_KEY_FILE, conf.PRIVATE_KEY_PEM
    try:
        if not path and not text:
            raise ConfigurationError("SCOTACCOUNT_PRIVATE_KEY is not set")
        # E7: a file operators replace is read at every use, parsed when it changes.
        return _signing_key(Path(path).read_bytes() if path else str(text).encode())
    except (OSError, ConfigurationError) as exc:
        problem = (
            f"file {path} cannot be read: {exc.strerror}" if isinstance(exc, OSError) else exc
        )
        raise ConfigurationError(
            f"The ScotAccount private key cannot be used: {str(problem).rstrip('.')}. Use an "
            "unencrypted PEM RSA key of at least 2048 bits (3072 recommended) or an EC P-256 "
            "key; `manage.py scotaccount_keygen PATH` makes one."
        ) from exc


@functools.lru_cache(maxsize=1)
def _signing_key(pem: bytes) -> SigningKey:
    """The key in ``pem``, if ScotAccount would accept it (C3); only the current one is kept."""
    # load_signing_key adds what to use instead.
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError("it is not an unencrypted PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigurationError("it is neither RSA nor EC")
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        raise ConfigurationError(f"it is RSA {key.key_size} bits")
    if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, ec.SECP256R1):
        raise ConfigurationError(f"it uses curve {key.curve.name}")
    kid = jwk_thumbprint(public_jwk(key.public_key()))
    return SigningKey(private_key=key, algorithm=algorithm_for(key), kid=kid)


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """RS256 for RSA keys, ES256 for P-256 keys: the two ScotAccount accepts."""
    return "RS256" if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) else "ES256"


_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


def public_jwk(public_key: PublicKey) -> dict[str, str]:
    """The public half as a JWK (no private members), without ``kid``/``use``."""
    jwk = jwt.get_algorithm_by_name(algorithm_for(public_key)).to_jwk(public_key, as_dict=True)
    return {name: str(jwk[name]) for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint: a ``kid`` both sides can compute from the key."""
    required = _THUMBPRINT_MEMBERS[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return jwt.utils.base64url_encode(digest).decode()


def build_client_assertion(audience: str) -> str:
    """A signed assertion that we are the registered client, for ``audience`` only (C1, C2:
    replay at another endpoint); short-lived, so useless if leaked."""
    client_id = conf.CLIENT_ID
    if not client_id:
        raise ConfigurationError("SCOTACCOUNT_CLIENT_ID is not set.")
    key = load_signing_key()
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(32),
    }
    return jwt.encode(
        claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": "JWT"}
    )


#: ScotAccount documents 15 minutes; used only when ``expires_in`` is absent.
DEFAULT_EXPIRES_IN = 900


def exchange_code(*, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
    """Swap an authorization code for tokens; never retried (C6: a reused code)."""
    token_endpoint = get_metadata().token_endpoint
    with telemetry.provider_call("token"):
        response = request(
            "token",
            "POST",
            token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": build_client_assertion(token_endpoint),
            },
        )
        raise_for_status(response, "token endpoint")
        body = response.json_object()
    for name in ("id_token", "access_token"):  # C5
        if not isinstance(body.get(name), str) or not body[name]:
            raise ProviderError(f"token response has no {name}")
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise ProviderError(f"token_type {token_type!r:.20} is not Bearer")
    expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        expires_in = DEFAULT_EXPIRES_IN
    scope = body.get("scope")
    return TokenSet(
        id_token=body["id_token"],
        access_token=body["access_token"],
        expires_in=expires_in,
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
    )


#: Never start an attempt this close to the access token's expiry (F7).
EXPIRY_MARGIN_SECONDS = 30
#: Seconds before each retry (5xx and transport faults only): long enough for a blip.
RETRY_BACKOFF = (0.25, 0.75)
sleep: Callable[[float], None] = time.sleep


def fetch_attributes(*, access_token: str, expires_in: int) -> str | None:
    """The ``claimsToken`` (unverified), or None when ScotAccount has no data (404)."""
    url = conf.ATTRIBUTES_URL
    if not url:
        raise ConfigurationError("SCOTACCOUNT_ATTRIBUTES_URL is not set.")
    expires_at = time.monotonic() + expires_in
    for attempt, pause in enumerate((*RETRY_BACKOFF, None), start=1):
        try:
            with telemetry.provider_call("attributes"):
                response = request(
                    "attributes",
                    "GET",
                    url,
                    headers={
                        "Authorization": f"Bearer {access_token}",
                        "DIS-Client-Assertion": build_client_assertion(url),
                    },
                )
                if response.status == 404:
                    return None
                raise_for_status(response, "attributes endpoint")
                claims_token = response.json_object().get("claimsToken")
                if not isinstance(claims_token, str) or not claims_token:
                    raise ProviderError("attributes response has no claimsToken")
                return claims_token
        except ProviderUnavailable as exc:
            if pause is None or time.monotonic() + pause > expires_at - EXPIRY_MARGIN_SECONDS:
                raise AttributesUnavailable(f"{exc} (after {attempt} attempts)") from exc
            logger.info("Attributes endpoint attempt %d failed, retrying: %s", attempt, exc)
            sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")
