"""Verify a JWT from ScotAccount: fetch the keys, pick one, verify. One file, top to bottom.

- Algorithms come from our configuration, never from the token, so ``alg: none``
  and HS256-signed-with-the-public-key are refused before any key is looked up.
- Keys come only from the JWKS URL the caller trusts (discovery's ``jwks_uri``
  or the configured attributes JWKS), through the shared document cache, and
  are parsed once per fetch. Encryption keys, weak keys, curves other than
  P-256 and unparseable entries are dropped when the set is parsed.
- A key is picked by ``kid`` (no ``kid`` only with exactly one key) and must fit
  the header's algorithm. ScotAccount rotates keys, so an unknown ``kid``
  triggers one refetch, at most once per short window across all workers: a
  flood of forged ``kid`` values cannot turn us into a JWKS hammer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from scotaccount_django._internal import documents
from scotaccount_django._internal.documents import Document
from scotaccount_django._internal.keys import MIN_RSA_BITS
from scotaccount_django.exceptions import InvalidToken, ProviderError

#: Far beyond any real ScotAccount token; bigger input is refused unparsed.
MAX_TOKEN_LENGTH = 64 * 1024

#: Which key type can verify which signature algorithm.
KEY_TYPE_FOR_ALGORITHM = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
}


def verify_and_decode(
    token: object,
    *,
    jwks_url: str,
    issuer: str,
    audience: str | None,
    algorithms: list[str],
    leeway: timedelta,
    required_claims: list[str],
    error: type[InvalidToken] = InvalidToken,
    issuer_required: bool = True,
) -> dict[str, Any]:
    """The verified claims of ``token``; ``error`` (an ``InvalidToken``) otherwise.

    ``iss`` must equal ``issuer``. With ``issuer_required=False`` a token without
    ``iss`` passes (an ``iss`` present must still match): only the
    ``claimsToken``, whose documented legacy layout has none, asks for that.
    """
    if not isinstance(token, str) or not token:
        raise error("token is missing")
    if len(token) > MAX_TOKEN_LENGTH:
        raise error("token is too large")
    try:
        header = jwt.get_unverified_header(token)
    except PyJWTError as exc:
        raise error(f"token is malformed: {exc}") from exc
    algorithm = header.get("alg")
    if algorithm not in algorithms:
        raise error(f"algorithm {algorithm!r:.20} is not allowed")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise error("kid header is not a string")
    key = pick_key(jwks_url, issuer=issuer, kid=kid, algorithm=algorithm)
    if key is None:
        raise error(
            "no trusted key for this token"
            + (f" (kid {kid!r:.80})" if kid else " (no kid, and not exactly one key)")
        )
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            # PyJWT treats a given issuer as required; an optional one is checked below.
            issuer=issuer if issuer_required else None,
            audience=audience,
            leeway=leeway,
            options={"require": required_claims, "verify_aud": audience is not None},
        )
    except PyJWTError as exc:
        raise error(f"{type(exc).__name__}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        # PyJWT 2.12 (our floor) lets int() fail on a null or list exp/iat/nbf.
        raise error(f"a date claim is not a number: {type(exc).__name__}") from exc
    if "iss" in claims and claims["iss"] != issuer:
        raise error("iss is not the expected issuer")
    for name in NUMERIC_DATE_CLAIMS.intersection(claims):
        # PyJWT converts with int(), so "1700000000" would pass (L14): RFC 7519 says number.
        if isinstance(claims[name], bool) or not isinstance(claims[name], int | float):
            raise error(f"{name} is not a number")
    return claims


def pick_key(jwks_url: str, *, issuer: str, kid: str | None, algorithm: str) -> PyJWK | None:
    """The trusted key for this header, refetching once if the ``kid`` is new to us."""
    key = _key_set(jwks_url, issuer).select(kid, algorithm)
    if key is None and kid is not None:
        key = _key_set(jwks_url, issuer, force_refresh=True).select(kid, algorithm)
    return key


def _key_set(jwks_url: str, issuer: str, *, force_refresh: bool = False) -> KeySet:
    return documents.load(
        jwks_url, kind="jwks", issuer=issuer, parse=parse_key_set, force_refresh=force_refresh
    )


@dataclass(frozen=True)
class KeySet:
    """The usable signing keys of one JWKS, parsed once."""

    keys: tuple[PyJWK, ...]

    def select(self, kid: str | None, algorithm: str) -> PyJWK | None:
        """The key for this header, or None; no ``kid`` is only fine with one key."""
        candidates: tuple[PyJWK, ...]
        if kid is None:
            candidates = self.keys if len(self.keys) == 1 else ()
        else:
            candidates = tuple(key for key in self.keys if key.key_id == kid)
        for key in candidates:
            if _key_fits_algorithm(key, algorithm):
                return key
        return None


def parse_key_set(document: Document) -> KeySet:
    """The usable signing keys in a JWKS document; ``ProviderError`` if there are none."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ProviderError("JWKS has no 'keys' list")
    usable = tuple(key for entry in entries if (key := _usable_key(entry)) is not None)
    if not usable:
        raise ProviderError("JWKS has no usable signing keys")
    return KeySet(keys=usable)


def _usable_key(entry: Any) -> PyJWK | None:
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    if entry.get("kty") not in ("RSA", "EC") or not isinstance(entry.get("kid", ""), str):
        return None
    try:
        key = PyJWK(entry)
    except (PyJWTError, ValueError):  # some PyJWT versions let ValueError escape
        return None
    if key.key_type == "RSA" and key.key.key_size < MIN_RSA_BITS:
        return None
    if key.key_type == "EC" and entry.get("crv") != "P-256":
        return None
    return key


def _key_fits_algorithm(key: PyJWK, algorithm: str) -> bool:
    declared = key._jwk_data.get("alg")
    if declared is not None and declared != algorithm:
        return False
    return KEY_TYPE_FOR_ALGORITHM.get(algorithm) == key.key_type


#: RFC 7519's NumericDate claims.
NUMERIC_DATE_CLAIMS = frozenset({"exp", "iat", "nbf"})
