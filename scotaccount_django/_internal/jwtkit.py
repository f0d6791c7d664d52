"""Verify a JWT from ScotAccount: one keyword-only function per token kind. Algorithms come
from our configuration (D3, D4), keys from the JWKS URL the caller trusts (E6); every library
error is an ``InvalidToken`` whose message never contains the token (M6)."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from functools import partial
from typing import Any

import jwt
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from scotaccount_django._internal import provider
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    ConfigurationError,
    InvalidClaimsToken,
    InvalidIDToken,
    InvalidToken,
    ProviderError,
)

#: Far beyond any real ScotAccount token; bigger input is refused unparsed.
MAX_TOKEN_LENGTH = 64 * 1024
#: Which key type can verify which signature algorithm.
KEY_TYPE_FOR_ALGORITHM = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RSA"),
    "ES256": "EC",
}


def verify_id_token(token: object, *, nonce_hash: str) -> provider.IDTokenClaims:
    """The verified claims of an ID token, or ``InvalidIDToken`` (D6: mix-up, D8: a token
    issued to another client, D12/D13: replay)."""
    metadata = provider.get_metadata()
    client_id = conf.CLIENT_ID or ""
    claims = _decode(
        token,
        jwks_url=metadata.jwks_uri,
        issuer=metadata.issuer,
        audience=client_id,
        algorithms=conf.ID_TOKEN_ALGORITHMS,
        error=InvalidIDToken,
        required=("iss", "sub", "aud", "exp", "iat", "nonce"),
    )
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise InvalidIDToken("azp is not our client id (or missing with several audiences)")
    nonce = claims["nonce"]
    digest = hashlib.sha256(nonce.encode()).hexdigest() if isinstance(nonce, str) else ""
    if not hmac.compare_digest(digest, nonce_hash):  # the flow keeps only the nonce's hash
        raise InvalidIDToken("nonce does not match this flow")
    sid = claims.get("sid")
    return provider.IDTokenClaims(
        sub=parse_sub(claims["sub"]), sid=sid if isinstance(sid, str) else None, claims=claims
    )


def parse_sub(value: object) -> uuid.UUID:
    """ScotAccount's ``sub`` is a UUID in canonical form; anything else is refused."""
    if not isinstance(value, str):
        raise InvalidIDToken("sub is not a string")
    try:
        sub = uuid.UUID(value)
    except ValueError as exc:
        raise InvalidIDToken("sub is not a UUID") from exc
    # Exact, lower-case form only (L14): one person, one spelling, one identity.
    if str(sub) != value:
        raise InvalidIDToken("sub is not a canonical UUID")
    return sub


def verify_claims_token(token: object, *, sub: uuid.UUID) -> dict[str, Any]:
    """A claimsToken's payload, if the attributes issuer signed it about ``sub`` (F4) recently.
    The legacy layout (reference lines 922, 2244) has no ``sub``: ``claims.uuid`` binds it."""
    issuer = conf.ATTRIBUTES_ISSUER
    if not issuer:
        raise ConfigurationError("SCOTACCOUNT_ATTRIBUTES_URL is not set (no attributes issuer).")
    payload = _decode(
        token,
        jwks_url=conf.ATTRIBUTES_JWKS_URL or provider.get_metadata().jwks_uri,
        issuer=issuer,
        algorithms=["RS256", "ES256"],  # ScotAccount's (reference line 1116), not the setting
        error=InvalidClaimsToken,
    )
    legacy = isinstance(payload.get("verified_claims"), dict)
    missing = [name for name in ("iss", "sub", "iat") if name not in payload]
    if missing and not legacy:  # the current layout's schema requires them
        raise InvalidClaimsToken(f"the claimsToken has no {', '.join(missing)}")
    named = [payload.get("sub")]
    if legacy and isinstance(payload.get("claims"), dict):
        named.append(payload["claims"].get("uuid"))
    present = [value for value in named if value is not None]
    if not present:  # a token naming nobody could be anyone's
        raise InvalidClaimsToken("the claimsToken names nobody (no sub, no claims.uuid)")
    if any(value != str(sub) for value in present):  # exact, no case folding
        raise InvalidClaimsToken("the claimsToken is about a different person")
    # L12: replay (fetched moments before use); PyJWT checks ``exp`` if there is one.
    if "iat" in payload:
        age = time.time() - payload["iat"]
        if age > (conf.CLAIMS_TOKEN_MAX_AGE + conf.CLOCK_LEEWAY).total_seconds():
            raise InvalidClaimsToken(f"the claimsToken was issued {int(age)} s ago")
    return payload


def _decode(
    token: object,
    *,
    jwks_url: str,
    issuer: str,
    algorithms: list[str],
    error: type[InvalidToken],
    audience: str | None = None,
    required: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The signature-checked claims of ``token``, ``iss`` exact when present; else ``error``."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise error("token is missing or too large")
    try:
        header = jwt.get_unverified_header(token)  # PyJWT checks that a ``kid`` is a string
    except (PyJWTError, RecursionError) as exc:
        raise error(f"token is malformed: {type(exc).__name__}") from exc
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in algorithms:
        raise error(f"algorithm {algorithm!r:.20} is not allowed")
    key = pick_key(jwks_url, issuer=issuer, kid=kid, algorithm=algorithm)
    if key is None:  # no kid is only fine with exactly one key (E1)
        raise error(f"no trusted key for this token (kid {kid!r:.80})")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=audience,
            leeway=conf.CLOCK_LEEWAY,
            options={"require": list(required), "verify_aud": audience is not None},
        )
    except PyJWTError as exc:
        raise error(f"{type(exc).__name__}: {exc}") from exc
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        # At PyJWT 2.12 (our floor) int() fails on a null, list or 1e400 exp/iat/nbf (M6).
        raise error(f"the payload is not usable: {type(exc).__name__}") from exc
    if "iss" in claims and claims["iss"] != issuer:
        raise error("iss is not the expected issuer")
    for name in {"exp", "iat", "nbf"}.intersection(claims):
        # PyJWT converts with int(), so "1700000000" would pass (L14): RFC 7519 says number.
        if isinstance(claims[name], bool) or not isinstance(claims[name], int | float):
            raise error(f"{name} is not a number")
    return claims


def pick_key(jwks_url: str, *, issuer: str, kid: str | None, algorithm: str) -> PyJWK | None:
    """The trusted key for this header, refetching once if the ``kid`` is new to us (E2)."""
    load = partial(provider.load, jwks_url, kind="jwks", issuer=issuer, parse=parse_key_set)
    key = select_key(load(), kid, algorithm)
    if key is None and kid is not None:
        key = select_key(load(force_refresh=True), kid, algorithm)
    return key


def select_key(keys: tuple[PyJWK, ...], kid: str | None, algorithm: str) -> PyJWK | None:
    """The key with this ``kid`` fitting ``algorithm`` (D5); no ``kid``: the only key (E1)."""
    if kid is None and len(keys) != 1:
        return None
    for key in keys:
        fits = key.key_type == KEY_TYPE_FOR_ALGORITHM.get(algorithm)
        if fits and kid in (None, key.key_id) and key._jwk_data.get("alg") in (None, algorithm):
            return key
    return None


def parse_key_set(document: provider.Document) -> tuple[PyJWK, ...]:
    """The usable signing keys in a JWKS document; ``ProviderError`` if there are none."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ProviderError("JWKS has no 'keys' list")
    usable = tuple(key for entry in entries if (key := _usable_key(entry)) is not None)
    if not usable:
        raise ProviderError("JWKS has no usable signing keys")
    return usable


def _usable_key(entry: Any) -> PyJWK | None:
    """``entry`` as a key, unless it is for encryption, weak, not P-256 or unparseable (E5)."""
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    if entry.get("kty") not in ("RSA", "EC") or not isinstance(entry.get("kid", ""), str):
        return None
    try:
        key = PyJWK(entry)
    except (PyJWTError, ValueError, OverflowError):  # some PyJWT versions let these escape
        return None
    if key.key_type == "RSA":
        return key if key.key.key_size >= provider.MIN_RSA_BITS else None
    return key if entry.get("crv") == "P-256" else None
