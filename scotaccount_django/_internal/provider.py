"""Everything that talks to ScotAccount: HTTP, discovery and key documents, our client
assertions, the token exchange and the attributes fetch.

HTTP is urllib3 used directly: one thread-safe ``PoolManager`` per process, which
keeps connections alive and has neither a cookie jar nor environment proxies or
netrc to switch off. Each rule below stops a known attack or outage:
- Only https URLs are called (http on loopback, for the fake): the code and our
  client assertion never cross the network in clear.
- Redirects are never followed: a 302/307 from a token or attributes endpoint
  would carry the code or our client assertion to another host.
- TLS is always verified, against one ``SSLContext`` built once per process.
- Every call has an overall deadline, ``SCOTACCOUNT_TIMEOUT``: urllib3's timeouts
  bound each read, so a server trickling a byte at a time could otherwise hold a
  worker for ever.
- Bodies are capped after decompression, read in small pieces, so a gzip bomb
  is refused after at most ``MAX_RESPONSE_BYTES`` of output, and hostile JSON
  (deep nesting, huge numbers, not an object) is a ``ProviderError``.

Every call goes through ``request(endpoint, ...)``; ``endpoint`` names which of
ScotAccount's four (discovery, jwks, token, attributes), for metrics.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.client
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
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

import certifi
import jwt
import urllib3
import urllib3.connection
import urllib3.connectionpool
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.cache import BaseCache, caches
from django.utils.crypto import constant_time_compare, salted_hmac
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from scotaccount_django._internal import telemetry
from scotaccount_django.conf import conf, is_https_or_loopback
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


# HTTP ---------------------------------------------------------------------------------------


def parse_json_object(body: bytes | str, what: str) -> Document:
    """``body`` as a JSON object; anything else, however hostile, is a ``ProviderError``."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting 100,000 deep (M6)
        raise ProviderError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise ProviderError(f"{what} is not a JSON object")
    return value


@dataclass(frozen=True)
class TokenSet:
    """The token endpoint's answer: ``id_token``, ``access_token`` (15 minutes, used
    once for the attributes), ``expires_in`` seconds and the ``scopes`` granted. The
    raw tokens never appear in ``repr`` (so never in a log or a traceback)."""

    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    expires_in: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class IDTokenClaims:
    """A verified ID token: ``sub`` (ScotAccount's UUID for the person), ``sid``
    (its session id, if sent) and every verified claim (``iss``, ``aud``, ``exp``, ...)."""

    sub: uuid.UUID
    sid: str | None
    claims: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ProviderResponse:
    status: int
    body: bytes
    #: The ``Date`` header: diagnostics measure clock offset from it.
    date: str = ""

    def json_object(self) -> Document:
        """The body as a JSON object, or ``ProviderError``."""
        return parse_json_object(self.body, f"the response (HTTP {self.status})")


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
    deadline = _local.deadline = _Deadline(seconds)
    try:
        response = _pools().request(
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
        if deadline.expired:  # a close-delimited body cut off by the deadline looks complete
            raise ProviderUnavailable(too_late)
    except ProviderError:
        raise
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
        # A socket timeout may fire a moment before the deadline's timer: both mean "too late".
        # (urllib3 files a refused connection, NewConnectionError, under TimeoutError too.)
        timed_out = isinstance(exc, urllib3.exceptions.TimeoutError) and not isinstance(
            exc, urllib3.exceptions.NewConnectionError
        )
        if deadline.expired or timed_out:
            raise ProviderUnavailable(too_late) from exc
        if isinstance(exc, urllib3.exceptions.DecodeError):
            raise ProviderError(f"response from {url} could not be decoded") from exc
        raise ProviderUnavailable(f"could not reach {url}: {type(exc).__name__}") from exc
    finally:
        deadline.finish()
        _local.deadline = None
    if 300 <= response.status < 400:
        raise ProviderError(f"{url} answered with a redirect (HTTP {response.status})")
    return ProviderResponse(
        status=response.status,
        body=body,
        date=response.headers.get("Date", ""),
    )


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


class _Deadline:
    """One call's time limit: when it passes, the call's socket is shut down.

    Shutting the socket down (closing alone would not) wakes a read blocked in
    another thread; the plain socket method acts on the descriptor, also for TLS.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._socket = sock
            if self.expired:
                self._shut_down()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shut_down()

    def _shut_down(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def finish(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._socket = None


_local = threading.local()


class _WatchedConnection(urllib3.connection.HTTPConnection):
    """Hands its socket to the current call's deadline once the request is sent.

    Not earlier: connecting is bounded by the connect timeout (CPython bounds a
    whole TLS handshake by it too). urllib3 has no other hook between a pooled
    connection and the call using it, hence this subclass and the two pools.
    """

    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        deadline: _Deadline | None = getattr(_local, "deadline", None)
        if deadline is not None:
            deadline.watch(self.sock)


class _WatchedHTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def build_ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Certificates and hostnames always verified, TLS 1.2 or later."""
    try:
        context = ssl.create_default_context(cafile=ca_bundle or certifi.where())
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"SCOTACCOUNT_CA_BUNDLE {ca_bundle!r} is not a readable PEM file of CA certificates."
        ) from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _pools() -> urllib3.PoolManager:
    return _pool_manager(os.getpid(), conf.CA_BUNDLE)


@functools.lru_cache(maxsize=1)
def _pool_manager(pid: int, ca_bundle: str | None) -> urllib3.PoolManager:
    """One per process and CA bundle: rebuilt only in a forked child or for a new bundle."""
    manager = urllib3.PoolManager(
        num_pools=4, maxsize=10, ssl_context=build_ssl_context(ca_bundle)
    )
    manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager


# Discovery and JWKS, through the shared cache -----------------------------------------------
#
# - Discovery is trusted only when its ``issuer`` equals the configured issuer
#   exactly (mix-up defence) and every endpoint is https (or loopback http).
# - A document is fresh for ``conf.METADATA_CACHE_TIMEOUT``. Then one worker
#   refreshes it (single-flight through ``cache.add``) while the others use the stale
#   copy, kept for a week. A failed fetch of any kind backs off for
#   ``REFRESH_BACKOFF_SECONDS``: nobody retries meanwhile, instead of every request
#   waiting a full timeout on a provider that is down.
# - Entries are keyed by kind, issuer and URL and signed with ``SECRET_KEY``; every
#   read re-checks the signature and re-validates with the same ``parse``, so an entry
#   poisoned in a shared cache, or left by another issuer, is never used. Each body is
#   parsed once per process, so ``parse`` depends only on the document.

#: How long the last good copy is kept for use while ScotAccount is unreachable.
STALE_COPY_SECONDS = 7 * 24 * 3600
#: After a failed fetch, nobody fetches that document again for this long.
REFRESH_BACKOFF_SECONDS = 15
#: At most one forced refetch of a document per this many seconds (across workers).
FORCED_REFETCH_INTERVAL_SECONDS = 30

_REFRESHING = "refreshing"
_FAILED = "failed"


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


def parse_metadata(document: Document, *, issuer: str) -> ProviderMetadata:
    """The endpoints in ``document``, if it is ``issuer``'s and every endpoint is allowed."""
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
        if not isinstance(url, str) or not url:
            raise ProviderError(f"{name} is missing")
        if not is_https_or_loopback(url):
            raise ProviderError(f"{name} is not an https URL")
    return ProviderMetadata(**urls)


def get_metadata() -> ProviderMetadata:
    """The sign-in issuer's endpoints, from Django's cache when fresh."""
    url, issuer = conf.DISCOVERY_URL, conf.ISSUER
    if not url or not issuer:
        raise ConfigurationError("SCOTACCOUNT_DISCOVERY_URL is not set.")
    return load(url, kind="discovery", issuer=issuer, parse=partial(parse_metadata, issuer=issuer))


def load(
    url: str,
    *,
    kind: Literal["discovery", "jwks"],
    issuer: str,
    parse: Callable[[Document], T],
    force_refresh: bool = False,
) -> T:
    """The parsed document at ``url``, fetched only when missing, stale or forced.

    ``parse`` validates and converts a document, raising ``ProviderError`` if it
    is unusable. ``force_refresh`` refetches a fresh copy, at most once per
    ``FORCED_REFETCH_INTERVAL_SECONDS`` across all workers.
    """
    key = cache_key(kind, issuer, url)
    cached = _read(key, parse)
    holds_refresh_lock = False
    if cached is not None:
        value, fetched_at = cached
        fresh = time.time() - fetched_at < conf.METADATA_CACHE_TIMEOUT.total_seconds()
        if (fresh and not force_refresh) or not _claim_refresh(key, forced=force_refresh):
            return value
        holds_refresh_lock = not force_refresh
    elif _cache().get(f"{key}:fetch") == _FAILED:
        raise ProviderUnavailable(f"{url} failed moments ago; not retrying yet")
    if kind == "jwks" and cached is not None:
        telemetry.record_jwks_refetch("unknown_kid" if force_refresh else "expired")
    try:
        with telemetry.provider_call(kind):
            value = _fetch(key, url, kind, parse)
    except Exception as exc:  # any failure backs off, not only the ones we foresaw (M6)
        _cache().set(f"{key}:fetch", _FAILED, REFRESH_BACKOFF_SECONDS)
        if cached is None or not isinstance(exc, ProviderError):
            raise
        logger.warning("Using the cached copy of %s: %s", url, exc)
        return cached[0]
    if holds_refresh_lock:
        _cache().delete(f"{key}:fetch")
    return value


def cache_key(kind: str, issuer: str, url: str) -> str:
    """Where a document lives in the cache: one entry per kind, issuer and URL."""
    digest = hashlib.sha256(f"{kind}\n{issuer}\n{url}".encode()).hexdigest()
    return f"scotaccount:{kind}:{digest}"


def _cache() -> BaseCache:
    return caches[conf.CACHE_ALIAS]


def _claim_refresh(key: str, *, forced: bool) -> bool:
    """True for the one caller that may refetch now (not while backing off)."""
    if forced:
        if _cache().get(f"{key}:fetch") == _FAILED:
            return False
        return bool(_cache().add(f"{key}:forced", True, FORCED_REFETCH_INTERVAL_SECONDS))
    # Held for at most one call's deadline, in case the claimant dies mid-fetch.
    hold = int(conf.TIMEOUT.total_seconds()) + 1
    return bool(_cache().add(f"{key}:fetch", _REFRESHING, hold))


def _fetch(key: str, url: str, kind: Endpoint, parse: Callable[[Document], T]) -> T:
    response = request(kind, "GET", url)
    raise_for_status(response, url)
    document = response.json_object()
    value = parse(document)
    body = json.dumps(document, separators=(",", ":"))
    fetched_at = time.time()
    entry = {"fetched_at": fetched_at, "body": body, "mac": _mac(key, fetched_at, body)}
    _cache().set(key, entry, STALE_COPY_SECONDS)
    _parsed[key] = (body, value)
    return value


def _read(key: str, parse: Callable[[Document], T]) -> tuple[T, float] | None:
    """The cached copy, if it is ours, intact and still valid; None otherwise."""
    entry = _cache().get(key)
    if entry is None:
        return None
    try:
        fetched_at, body, mac = entry["fetched_at"], entry["body"], entry["mac"]
        # Only this app, holding SECRET_KEY, can have written a matching mac.
        intact = constant_time_compare(mac, _mac(key, fetched_at, body))
    except (TypeError, KeyError):
        intact = False
    if not intact:
        logger.warning("Ignoring a cache entry this app did not write (%s)", key)
        return None
    try:
        return _parse_once(key, body, parse), fetched_at
    except ProviderError as exc:
        logger.warning("Ignoring a cached document that is no longer valid (%s): %s", key, exc)
        return None


def _mac(key: str, fetched_at: float, body: str) -> str:
    return salted_hmac(
        "scotaccount_django.documents", f"{key}\n{fetched_at!r}\n{body}", algorithm="sha256"
    ).hexdigest()


#: cache key -> (body, parsed value), so each body is parsed once per process.
_parsed: dict[str, tuple[str, Any]] = {}


def _parse_once(key: str, body: str, parse: Callable[[Document], T]) -> T:
    held = _parsed.get(key)
    if held is not None and held[0] == body:
        value: T = held[1]
        return value
    value = parse(parse_json_object(body, "the cached document"))
    _parsed[key] = (body, value)
    return value


# Our key and client assertions --------------------------------------------------------------
#
# The key is loaded from a file or a setting, checked, and reloaded when rotated:
# ScotAccount asks for it on a tmpfs file that operators replace, so the cache is
# keyed on the file's mtime and size. Assertions (RFC 7523 ``private_key_jwt``) get a
# fresh ``jti`` every call (retries included), a short life, and ``aud`` naming exactly
# the endpoint they are sent to, so one captured at one endpoint is useless at the other.

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

#: The one minimum for every RSA key, ours and ScotAccount's (checks, JWKS, the fake).
MIN_RSA_BITS = 2048
#: Long enough for clock skew and a slow network, short enough to be useless if leaked.
ASSERTION_LIFETIME_SECONDS = 120
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

#: Said wherever the key is refused: by ``check --deploy`` (scotaccount.E003) and in
#: the log line when a sign-in first needs the key.
KEY_HINT = (
    "Use an unencrypted PEM RSA key of at least 2048 bits (3072 recommended) or an "
    "EC P-256 key; `manage.py scotaccount_keygen PATH` makes one."
)


@dataclass(frozen=True)
class SigningKey:
    """A private key ready to sign client assertions."""

    private_key: PrivateKey
    algorithm: str
    kid: str


def load_signing_key() -> SigningKey:
    """Our configured signing key; ``ConfigurationError`` says what is wrong and what to do."""
    try:
        return _load_signing_key()
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"The ScotAccount private key cannot be used: {str(exc).rstrip('.')}. {KEY_HINT}"
        ) from exc


def _load_signing_key() -> SigningKey:
    path, text = conf.PRIVATE_KEY_FILE, conf.PRIVATE_KEY_PEM
    if not path:
        if not text:
            raise ConfigurationError("SCOTACCOUNT_PRIVATE_KEY is not set.")
        return _signing_key(text.encode())
    try:
        stat = os.stat(path)
        return _signing_key_file(path, stat.st_mtime_ns, stat.st_size)
    except OSError as exc:
        raise ConfigurationError(
            f"SCOTACCOUNT_PRIVATE_KEY file {path} cannot be read: {exc.strerror}."
        ) from exc


@functools.lru_cache(maxsize=1)
def _signing_key_file(path: str, mtime_ns: int, size: int) -> SigningKey:
    """Keyed on the file's mtime and size, so a replaced file is read again."""
    with open(path, "rb") as handle:
        return _signing_key(handle.read())


@functools.lru_cache(maxsize=1)
def _signing_key(pem: bytes) -> SigningKey:
    """Only the current key is kept."""
    private_key = parse_private_key(pem)
    return SigningKey(
        private_key=private_key,
        algorithm=algorithm_for(private_key),
        kid=jwk_thumbprint(public_jwk(private_key.public_key())),
    )


def parse_private_key(pem: bytes) -> PrivateKey:
    """Parse a PEM private key and refuse anything ScotAccount would not accept."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            "The ScotAccount private key is not an unencrypted PEM private key."
        ) from exc
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise ConfigurationError(
                f"The ScotAccount private key is RSA {key.key_size} bits; "
                f"at least {MIN_RSA_BITS} are required (3072 recommended)."
            )
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ConfigurationError(
                f"The ScotAccount private key uses curve {key.curve.name}; only P-256 is accepted."
            )
        return key
    raise ConfigurationError("The ScotAccount private key must be RSA or EC P-256.")


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """RS256 for RSA keys, ES256 for P-256 keys: the two ScotAccount accepts."""
    return "RS256" if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) else "ES256"


_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


def public_jwk(public_key: PublicKey) -> dict[str, str]:
    """The public half as a JWK (no private members), without ``kid``/``use``."""
    if isinstance(public_key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    return {name: str(jwk[name]) for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint: a ``kid`` both sides can compute from the key."""
    required = _THUMBPRINT_MEMBERS[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_client_assertion(audience: str) -> str:
    """A signed assertion that we are the registered client, for ``audience`` only."""
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
        "exp": now + ASSERTION_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(32),
    }
    return jwt.encode(
        claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": "JWT"}
    )


# The token exchange -------------------------------------------------------------------------

#: ScotAccount documents 15 minutes; used only when ``expires_in`` is absent.
DEFAULT_EXPIRES_IN = 900


def exchange_code(*, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
    """Swap an authorization code for tokens, authenticating with ``private_key_jwt``.

    The code is POSTed exactly once: a retried code is a reused code, which a
    provider must treat as an attack.
    """
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
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": build_client_assertion(token_endpoint),
            },
        )
        raise_for_status(response, "token endpoint")
        body = response.json_object()
    id_token, access_token = body.get("id_token"), body.get("access_token")
    if not isinstance(id_token, str) or not id_token:
        raise ProviderError("token response has no id_token")
    if not isinstance(access_token, str) or not access_token:
        raise ProviderError("token response has no access_token")
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise ProviderError(f"token_type {token_type!r:.20} is not Bearer")
    expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        expires_in = DEFAULT_EXPIRES_IN
    scope = body.get("scope")
    return TokenSet(
        id_token=id_token,
        access_token=access_token,
        expires_in=expires_in,
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
    )


# The attributes fetch -----------------------------------------------------------------------
#
# ``GET /attributes/values`` with the access token and a fresh ``DIS-Client-Assertion``
# whose ``aud`` is the attributes URL. Only 5xx and transport faults are retried, a
# few times, and never past the access token's life.

#: Never start an attempt this close to the access token's expiry.
EXPIRY_MARGIN_SECONDS = 30


#: Seconds before each retry: long enough for a blip, short for a person waiting.
RETRY_BACKOFF = (0.25, 0.75)
#: Injectable, so no test waits.
sleep: Callable[[float], None] = time.sleep


def fetch_attributes(*, access_token: str, expires_in: int) -> str | None:
    """The ``claimsToken`` (unverified), or None when ScotAccount has no data (404).

    Raises ``ProviderRejectedClient`` (401/403), ``AttributesUnavailable``
    (5xx or timeouts after retries) or ``ProviderError`` (anything else).
    """
    url = conf.ATTRIBUTES_URL
    if not url:
        raise ConfigurationError("SCOTACCOUNT_ATTRIBUTES_URL is not set.")
    expires_at = time.monotonic() + expires_in
    attempt = 1
    while True:
        try:
            with telemetry.provider_call("attributes"):
                return _fetch_claims_token(url, access_token)
        except ProviderUnavailable as exc:
            pause = RETRY_BACKOFF[attempt - 1] if attempt <= len(RETRY_BACKOFF) else None
            if pause is None or time.monotonic() + pause > expires_at - EXPIRY_MARGIN_SECONDS:
                raise AttributesUnavailable(f"{exc} (after {attempt} attempts)") from exc
            logger.info("Attributes endpoint attempt %d failed, retrying: %s", attempt, exc)
            sleep(pause)
            attempt += 1


def _fetch_claims_token(url: str, access_token: str) -> str | None:
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
