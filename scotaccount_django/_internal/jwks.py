"""Choosing the key that may verify a JWT, from a JWKS that rotates.

ScotAccount rotates keys (newest first, old ones kept a while). An unknown
``kid`` triggers at most one refetch per short window across all workers, so a
flood of forged ``kid`` values cannot turn us into a JWKS hammer; after that
we fail closed. Encryption keys, weak keys and keys whose ``alg`` disagrees
with the token header are never used.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWTError

from scotaccount_django._internal.documents import (
    Document,
    claim_forced_refetch,
    get_document,
)
from scotaccount_django.exceptions import InvalidToken, ProviderError

MIN_RSA_BITS = 2048

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


@dataclass(frozen=True)
class KeySet:
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


def _key_fits_algorithm(key: PyJWK, algorithm: str) -> bool:
    declared = key._jwk_data.get("alg")
    if declared is not None and declared != algorithm:
        return False
    return KEY_TYPE_FOR_ALGORITHM.get(algorithm) == key.key_type


def parse_key_set(document: Document) -> KeySet:
    """The usable signing keys in a JWKS document (the rest are skipped)."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ProviderError("JWKS has no 'keys' list")
    usable = [key for entry in entries if (key := _usable_key(entry)) is not None]
    return KeySet(keys=tuple(usable))


def _usable_key(entry: Any) -> PyJWK | None:
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    if entry.get("kty") not in ("RSA", "EC") or not isinstance(entry.get("kid", ""), str):
        return None
    try:
        key = PyJWK(entry)
    except (
        PyJWTError,
        ValueError,
    ):  # at the floor versions, ValueError (impossible numbers) escapes PyJWT
        return None
    public = key.key
    if key.key_type == "RSA" and public.key_size < MIN_RSA_BITS:
        return None
    if key.key_type == "EC" and entry.get("crv") != "P-256":
        return None
    return key


def _validate(document: Document) -> None:
    if not parse_key_set(document).keys:
        raise ProviderError("JWKS has no usable signing keys")


_parsed: dict[tuple[str, float], KeySet] = {}
_parsed_lock = threading.Lock()


def _key_set(jwks_url: str, *, force_refresh: bool = False) -> KeySet:
    """Parsed keys, memoised per fetched copy so warm requests do no key parsing."""
    document, fetched_at = get_document(jwks_url, validate=_validate, force_refresh=force_refresh)
    memo_key = (jwks_url, fetched_at)
    with _parsed_lock:
        key_set = _parsed.get(memo_key)
    if key_set is None:
        key_set = parse_key_set(document)
        with _parsed_lock:
            for stale in [k for k in _parsed if k[0] == jwks_url]:
                del _parsed[stale]
            _parsed[memo_key] = key_set
    return key_set


def find_verification_key(jwks_url: str, header: dict[str, Any], algorithm: str) -> PyJWK:
    """The trusted key for a token header, refetching once if the ``kid`` is new to us."""
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidToken("kid header is not a string")
    key = _key_set(jwks_url).select(kid, algorithm)
    if key is None and kid is not None and claim_forced_refetch(jwks_url):
        key = _key_set(jwks_url, force_refresh=True).select(kid, algorithm)
    if key is None:
        raise InvalidToken(
            "no trusted key for this token"
            + (f" (kid {kid!r:.80})" if kid else " (no kid, and not exactly one key)")
        )
    return key
