"""The token request (code -> tokens) and ID-token verification.

The code is POSTed exactly once: there is no retry here, because a retried
code is a reused code, which a provider must treat as an attack.
"""

from __future__ import annotations

import uuid

from scotaccount_django._internal import http, telemetry
from scotaccount_django._internal.client_auth import build_client_assertion
from scotaccount_django._internal.jwtkit import verify_and_decode
from scotaccount_django._internal.metadata import ProviderMetadata
from scotaccount_django._internal.statekit import matches_hash
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import InvalidIDToken, ProviderError
from scotaccount_django.tokens import IDTokenClaims, TokenSet

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: ScotAccount documents 15 minutes; used only when ``expires_in`` is absent.
DEFAULT_EXPIRES_IN = 900


def exchange_code(
    *, code: str, code_verifier: str, redirect_uri: str, metadata: ProviderMetadata
) -> TokenSet:
    """Swap an authorization code for tokens, authenticating with ``private_key_jwt``."""
    with telemetry.provider_call("token"):
        response = http.send(
            "POST",
            metadata.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": build_client_assertion(metadata.token_endpoint),
            },
            headers={"Accept": "application/json"},
        )
        http.raise_for_status(response, "token endpoint")
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


def verify_id_token(token: str, *, metadata: ProviderMetadata, nonce_hash: str) -> IDTokenClaims:
    """Verify an ID token completely, or raise ``InvalidIDToken``.

    Signature (configured algorithms only), ``iss`` exact, ``aud`` our client id
    (with ``azp`` when there are several audiences), ``exp``/``iat``/``nbf``
    within the leeway, the nonce of this flow (replay), and ``sub`` a UUID.
    """
    client_id = conf.CLIENT_ID or ""
    claims = verify_and_decode(
        token,
        jwks_url=metadata.jwks_uri,
        issuer=metadata.issuer,
        audience=client_id,
        algorithms=conf.ID_TOKEN_ALGORITHMS,
        leeway=conf.CLOCK_LEEWAY,
        required_claims=["iss", "sub", "aud", "exp", "iat", "nonce"],
        error=InvalidIDToken,
    )
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise InvalidIDToken("several audiences and azp is not our client id")
    nonce = claims["nonce"]
    if not isinstance(nonce, str) or not matches_hash(nonce, nonce_hash):
        raise InvalidIDToken("nonce does not match this flow")
    sid = claims.get("sid")
    return IDTokenClaims(
        sub=parse_sub(claims["sub"]),
        sid=sid if isinstance(sid, str) else None,
        claims=claims,
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
