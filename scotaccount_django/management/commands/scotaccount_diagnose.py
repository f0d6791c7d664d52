"""Check this deployment against ScotAccount before go-live, from this server (so a missing
IP allow-listing shows). Nothing is sent to the token endpoint and no secret is printed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http.request import validate_host

from scotaccount_django._internal import provider
from scotaccount_django._internal.jwtkit import parse_key_set
from scotaccount_django._internal.provider import SigningKey, jwk_thumbprint, public_jwk
from scotaccount_django.checks import NOT_OWNER, key_file_mode
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ProviderError, ProviderUnavailable, ScotAccountError

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


def run() -> Iterator[Result]:
    """Every check, in order; later checks are skipped when what they need failed."""
    key: SigningKey | None = None
    try:
        key = provider.load_signing_key()
    except ScotAccountError as exc:
        yield Result("key", False, str(exc))
    if key is not None:
        yield from describe_key(key)
    else:
        yield skipped("public_jwk", "a usable key")
    discovery, document, clock = fetch_discovery()
    yield discovery
    if document is not None:
        found, expected = document.get("issuer"), conf.ISSUER
        issuer_ok = found == expected
        detail = f"discovery says {found!r:.200}, settings expect {expected!r}"
        yield Result("issuer", issuer_ok, f"{found}" if issuer_ok else detail)
        # Keys from a provider that is not ours prove nothing, so they are not fetched.
        yield check_jwks(document) if issuer_ok else skipped("jwks", "the issuer to match")
        yield clock
    else:
        yield from (skipped(name, "discovery") for name in ("issuer", "jwks", "clock"))
    yield check_uri("redirect_uri", conf.REDIRECT_URI)
    yield check_uri("post_logout_redirect_uri", conf.POST_LOGOUT_REDIRECT_URI)
    if key is None:
        yield skipped("client_assertion", "a usable key")
    else:
        yield check_assertion(key, document or {})


def describe_key(key: SigningKey) -> Iterator[Result]:
    """Type, size, kid, thumbprint and file mode (others may not read it); the JWK to register."""
    jwk = public_jwk(key.private_key.public_key())
    bits, thumbprint = key.private_key.key_size, jwk_thumbprint(jwk)
    kind = "RSA" if key.algorithm == "RS256" else "EC P-256"
    data = {"type": kind, "bits": bits, "algorithm": key.algorithm, "kid": key.kid}
    data["thumbprint"] = thumbprint
    detail = f"{kind} {bits} bits ({key.algorithm}), kid {key.kid}"
    detail += " (its JWK thumbprint)" if key.kid == thumbprint else f", thumbprint {thumbprint}"
    mode = key_file_mode()
    shared = mode is not None and bool(mode & NOT_OWNER)
    if mode is not None:
        data["file_mode"] = f"{mode:04o}"
    detail += ", from SCOTACCOUNT_PRIVATE_KEY" if mode is None else f", file mode {mode:04o}"
    yield Result(
        "key", not shared, detail + (": readable beyond its owner" if shared else ""), data
    )
    jwk = {**jwk, "kid": key.kid, "use": "sig"}
    yield Result("public_jwk", True, "register this public key", {"jwk": jwk})


def fetch_discovery() -> tuple[Result, dict[str, Any] | None, Result]:
    """Fetch discovery from this server: its result, the document, and the clock's result."""
    url, clock = conf.DISCOVERY_URL, skipped("clock", "discovery")
    if not url:
        return Result("discovery", False, "SCOTACCOUNT_DISCOVERY_URL is not set"), None, clock
    sent_at = time.time()
    try:
        response = provider.request("discovery", "GET", url)
        if response.status in (403, 503):  # while this server is not allow-listed
            detail = f"{url} answered HTTP {response.status}: {ALLOW_LIST_HINT}"
            return Result("discovery", False, detail), None, clock
        provider.raise_for_status(response, url)
        document = response.json_object()
    except ProviderUnavailable as exc:
        # Only silence is the allow-list symptom; a refused connection or an unknown host is
        # this server's network, DNS or proxy (or a wrong URL).
        timed_out = "timed out" in str(exc) or str(exc).startswith("no complete answer")
        hint = f"no answer in time is {ALLOW_LIST_HINT}" if timed_out else NETWORK_HINT
        return Result("discovery", False, f"{exc}; {hint}"), None, clock
    except ProviderError as exc:
        return Result("discovery", False, str(exc)), None, clock
    clock = check_clock(response.date, (sent_at + time.time()) / 2)
    return Result("discovery", True, f"fetched {url}"), document, clock


def check_jwks(document: dict[str, Any]) -> Result:
    url = document.get("jwks_uri")
    if not isinstance(url, str):
        return Result("jwks", False, "discovery has no jwks_uri")
    try:
        response = provider.request("jwks", "GET", url)
        provider.raise_for_status(response, url)
        keys = parse_key_set(response.json_object())  # raises when none is usable
    except ProviderError as exc:
        return Result("jwks", False, str(exc))
    return Result("jwks", True, f"{len(keys)} signing key(s) at {url}")


def check_clock(date: str, midpoint: float) -> Result:
    """Offset from the provider's ``Date`` (1 s resolution), taken mid-way through the call."""
    try:
        theirs = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return Result("clock", False, "the provider sent no usable Date header")
    offset = midpoint - theirs
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
    if not provider.is_https_or_loopback(uri):
        return Result(name, False, f"{uri} is not https")
    if not validate_host(host, settings.ALLOWED_HOSTS):
        return Result(name, False, f"{uri}: host {host} is not in ALLOWED_HOSTS")
    return Result(name, True, uri)


def check_assertion(key: SigningKey, document: dict[str, Any]) -> Result:
    """Sign a sample assertion as the token call would, and verify it with the public key."""
    audience = str(document.get("token_endpoint") or conf.ISSUER or "https://example.invalid")
    try:
        assertion = provider.build_client_assertion(audience)
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


class Command(BaseCommand):
    help = "Check this deployment against ScotAccount, one line per check; exit 1 if any fails."
    requires_system_checks: list[str] = []  # diagnose even what the checks would refuse

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        results = list(run())
        failed = [result.name for result in results if not result.ok]
        if options["json"]:
            document = {"ok": not failed, "checks": [asdict(result) for result in results]}
            self.stdout.write(json.dumps(document, indent=2))
        else:
            for result in results:
                if result.skipped:
                    status = self.style.WARNING("SKIP")
                else:
                    status = self.style.SUCCESS("PASS") if result.ok else self.style.ERROR("FAIL")
                self.stdout.write(f"{status} {result.name}: {result.detail}")
                if "jwk" in result.data:
                    self.stdout.write(json.dumps(result.data["jwk"], indent=2))
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}")
