"""One keyword-only function that verifies a JWT from ScotAccount and decodes it.

Algorithms come from our configuration, never from the token, so ``alg: none``
and HS256-signed-with-the-public-key are refused before any key is looked up.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
from jwt.exceptions import PyJWTError

from scotaccount_django._internal.jwks import find_verification_key
from scotaccount_django.exceptions import InvalidToken

#: Far beyond any real ScotAccount token; bigger input is refused unparsed.
MAX_TOKEN_LENGTH = 64 * 1024


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
    try:
        key = find_verification_key(jwks_url, header, algorithm)
    except InvalidToken as exc:
        raise error(str(exc)) from exc
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
    if "iss" in claims and claims["iss"] != issuer:
        raise error("iss is not the expected issuer")
    return claims
