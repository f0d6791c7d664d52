"""Checks a deployment against ScotAccount before go-live, one result per check.

Does what ScotAccount's onboarding test does (fetch discovery from this
server, so a missing IP allow-listing shows) and what a council's first
sign-in would otherwise discover the hard way: the key, the issuer, the URIs,
the clock. Nothing is sent to the token endpoint and no secret is printed.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.http.request import validate_host

from scotaccount_django._internal import provider
from scotaccount_django._internal.jwtkit import parse_key_set
from scotaccount_django._internal.provider import (
    SigningKey,
    build_client_assertion,
    jwk_thumbprint,
    load_signing_key,
    public_jwk,
)
from scotaccount_django.conf import conf, is_https_or_loopback
from scotaccount_django.exceptions import ProviderError, ProviderUnavailable, ScotAccountError

#: What ScotAccount answers, or does not, while this server's address is not allow-listed.
ALLOW_LIST_STATUSES = (403, 503)
ALLOW_LIST_HINT = (
    "the IP allow-list symptom: ScotAccount has not allow-listed the address this server "
    "leaves from (see docs/onboarding.md)"
)

NETWORK_HINT = "check the URL and this server's outbound network, DNS and proxy settings"


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)
    #: Not run, because what it needs failed (``ok`` stays True: the failure is reported once).
    skipped: bool = False


def skipped(name: str, needs: str) -> Result:
    return Result(name, True, f"skipped: needs {needs}", skipped=True)


def run() -> list[Result]:
    """Every check, in order; later checks are skipped when what they need failed."""
    return list(_run())


def _run() -> Iterator[Result]:
    key: SigningKey | None = None
    try:
        key = load_signing_key()
    except ScotAccountError as exc:
        yield Result("key", False, str(exc))
    if key is not None:
        yield describe_key(key)
        jwk = {**public_jwk(key.private_key.public_key()), "kid": key.kid, "use": "sig"}
        yield Result("public_jwk", True, "register this public key", {"jwk": jwk})
    else:
        yield skipped("public_jwk", "a usable key")
    provider = yield from fetch_discovery()
    if provider is not None:
        issuer = check_issuer(provider.document)
        yield issuer
        if issuer.ok:  # keys from a provider that is not ours prove nothing, so not fetched
            yield from check_jwks(provider.document)
        else:
            yield skipped("jwks", "the issuer to match")
        yield check_clock(provider)
    else:
        yield from (skipped(name, "discovery") for name in ("issuer", "jwks", "clock"))
    yield check_uri("redirect_uri", conf.REDIRECT_URI)
    yield check_uri("post_logout_redirect_uri", conf.POST_LOGOUT_REDIRECT_URI)
    if key is not None:
        yield check_assertion(key, provider.document if provider else {})
    else:
        yield skipped("client_assertion", "a usable key")


def describe_key(key: SigningKey) -> Result:
    """Type, size, kid, thumbprint and file mode; a file others can read fails."""
    public = key.private_key.public_key()
    thumbprint = jwk_thumbprint(public_jwk(public))
    kind = "RSA" if key.algorithm == "RS256" else "EC P-256"
    data: dict[str, Any] = {
        "type": kind,
        "bits": key.private_key.key_size,
        "algorithm": key.algorithm,
        "kid": key.kid,
        "thumbprint": thumbprint,
    }
    detail = f"{kind} {key.private_key.key_size} bits ({key.algorithm}), kid {key.kid}"
    detail += " (its JWK thumbprint)" if key.kid == thumbprint else f", thumbprint {thumbprint}"
    path = conf.PRIVATE_KEY_FILE
    if not path:
        return Result("key", True, f"{detail}, from SCOTACCOUNT_PRIVATE_KEY", data)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    data["file_mode"] = f"{mode:04o}"
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return Result(
            "key", False, f"{detail}, file mode {mode:04o}: readable beyond its owner", data
        )
    return Result("key", True, f"{detail}, file mode {mode:04o}", data)


@dataclass(frozen=True)
class Provider:
    document: dict[str, Any]
    date: str
    sent_at: float
    received_at: float


def fetch_discovery() -> Generator[Result, None, Provider | None]:
    """Fetch discovery from this server: yields its result, returns what was fetched."""
    url = conf.DISCOVERY_URL
    if not url:
        yield Result("discovery", False, "SCOTACCOUNT_DISCOVERY_URL is not set")
        return None
    sent_at = time.time()
    try:
        response = provider.request("discovery", "GET", url)
    except ProviderUnavailable as exc:
        # Only silence is the allow-list symptom; a refused connection or an unknown host is
        # this server's network, DNS or proxy (or a wrong URL).
        timed_out = "timed out" in str(exc) or str(exc).startswith("no complete answer")
        hint = f"no answer in time is {ALLOW_LIST_HINT}" if timed_out else NETWORK_HINT
        yield Result("discovery", False, f"{exc}; {hint}")
        return None
    except ProviderError as exc:
        yield Result("discovery", False, str(exc))
        return None
    received_at = time.time()
    if response.status in ALLOW_LIST_STATUSES:
        yield Result(
            "discovery", False, f"{url} answered HTTP {response.status}: {ALLOW_LIST_HINT}"
        )
        return None
    try:
        provider.raise_for_status(response, url)
        document = response.json_object()
    except ProviderError as exc:
        yield Result("discovery", False, str(exc))
        return None
    yield Result("discovery", True, f"fetched {url}")
    return Provider(document, response.date, sent_at, received_at)


def check_issuer(document: dict[str, Any]) -> Result:
    found, expected = document.get("issuer"), conf.ISSUER
    if found == expected:
        return Result("issuer", True, f"{found}")
    return Result("issuer", False, f"discovery says {found!r:.200}, settings expect {expected!r}")


def check_jwks(document: dict[str, Any]) -> Iterator[Result]:
    url = document.get("jwks_uri")
    if not isinstance(url, str):
        yield Result("jwks", False, "discovery has no jwks_uri")
        return
    try:
        response = provider.request("jwks", "GET", url)
        provider.raise_for_status(response, url)
        keys = parse_key_set(response.json_object())
    except ProviderError as exc:
        yield Result("jwks", False, str(exc))
        return
    if not keys:
        yield Result("jwks", False, f"{url} has no usable signing key")
        return
    yield Result("jwks", True, f"{len(keys)} signing key(s) at {url}")


def check_clock(provider: Provider) -> Result:
    """Offset from the provider's ``Date`` (1 s resolution), taken mid-way through the call."""
    try:
        theirs = parsedate_to_datetime(provider.date).timestamp()
    except (TypeError, ValueError):
        return Result("clock", False, "the provider sent no usable Date header")
    ours = (provider.sent_at + provider.received_at) / 2
    offset = ours - theirs
    leeway = conf.CLOCK_LEEWAY.total_seconds()
    data = {"offset_seconds": round(offset, 1), "leeway_seconds": leeway}
    detail = f"this server is {abs(offset):.0f} s {'ahead of' if offset > 0 else 'behind'} it"
    if abs(offset) > leeway:
        return Result("clock", False, f"{detail}, beyond the {leeway:.0f} s leeway: fix NTP", data)
    return Result("clock", True, f"{detail} (leeway {leeway:.0f} s)", data)


def check_uri(name: str, uri: str | None) -> Result:
    """https (http only on loopback) and a host Django will serve."""
    if not uri and settings.DEBUG:  # the development set-up docs/installation.md recommends
        return Result(name, True, "not set: with DEBUG on it follows the browser's address")
    if not uri:
        return Result(name, False, f"SCOTACCOUNT_{name.upper()} is not set")
    host = urlsplit(uri).netloc
    if not is_https_or_loopback(uri):
        return Result(name, False, f"{uri} is not https")
    if not validate_host(host, settings.ALLOWED_HOSTS):
        return Result(name, False, f"{uri}: host {host} is not in ALLOWED_HOSTS")
    return Result(name, True, uri)


def check_assertion(key: SigningKey, document: dict[str, Any]) -> Result:
    """Sign a sample assertion as the token call would, and verify it with the public key."""
    audience = str(document.get("token_endpoint") or conf.ISSUER or "https://example.invalid")
    try:
        assertion = build_client_assertion(audience)
        jwt.decode(
            assertion,
            key.private_key.public_key(),
            algorithms=[key.algorithm],
            audience=audience,
            issuer=conf.CLIENT_ID,
        )
    except (ScotAccountError, jwt.InvalidTokenError) as exc:
        return Result("client_assertion", False, f"{type(exc).__name__}: {exc}")
    return Result("client_assertion", True, f"{key.algorithm} assertion for {audience} verifies")
