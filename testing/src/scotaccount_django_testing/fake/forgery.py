"""Genuinely broken signatures, for the faults a relying party must refuse.

Each forgery is the real attack, not a label: an altered signature is a real
token with its signature bytes changed; ``alg: none`` has an empty signature;
the HS256 confusion token is an HMAC keyed with the issuer's public key PEM.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from scotaccount_django_testing.fake.keys import KeySet, SigningKey, sign_jwt


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signing_input(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"


def unsigned(claims: dict[str, Any], kid: str) -> str:
    """A token with ``alg: none`` and an empty signature."""
    return _signing_input({"alg": "none", "kid": kid}, claims) + "."


def hmac_with_public_key(claims: dict[str, Any], key: SigningKey) -> str:
    """HS256 keyed with the PEM of ``key``'s public half (algorithm confusion)."""
    signing_input = _signing_input({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims)
    digest = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(digest)}"


def alter_signature(token: str) -> str:
    """Flip one bit in the middle of the signature bytes."""
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{payload}.{b64url(bytes(raw))}"


def sign_as(
    claims: dict[str, Any],
    keys: KeySet,
    variant: str | None,
    *,
    typ: str | None = None,
    foreign: KeySet | None = None,
) -> str:
    """Sign with ``keys``' active key, or forge the signature as ``variant`` says.

    Variants: ``bad_signature``, ``alg_none``/``unsigned``, ``hs256_public_key``,
    ``unknown_kid``, ``no_kid_several_keys``, ``signed_by_sign_in_key`` (uses ``foreign``).
    """
    active = keys.active
    if variant in ("alg_none", "unsigned"):
        return unsigned(claims, active.kid)
    if variant == "hs256_public_key":
        return hmac_with_public_key(claims, active)
    if variant == "unknown_kid":
        return sign_jwt(claims, keys.spare(), typ=typ)
    if variant == "no_kid_several_keys":
        if len(keys.kids) < 2:
            keys.add()
        return sign_jwt(claims, active, typ=typ, include_kid=False)
    if variant == "signed_by_sign_in_key" and foreign is not None:
        return foreign.sign(claims, typ=typ)
    token = sign_jwt(claims, active, typ=typ)
    return alter_signature(token) if variant == "bad_signature" else token


def signing_variant(faults: list[str], prefix: str) -> str | None:
    """The signing forgery among ``faults`` (names like ``id_token_alg_none``), if any."""
    variants = {
        "bad_signature",
        "alg_none",
        "unsigned",
        "hs256_public_key",
        "unknown_kid",
        "no_kid_several_keys",
        "signed_by_sign_in_key",
    }
    return next(
        (name.removeprefix(prefix) for name in faults if name.removeprefix(prefix) in variants),
        None,
    )
