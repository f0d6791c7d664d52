"""``POST /token``: ``private_key_jwt`` client authentication and the code exchange.

Codes are single-use (a second use also revokes the tokens the first produced),
short-lived and bound to the client, the redirect URI and the PKCE challenge,
so a code intercepted on its way back to the relying party is worthless.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from typing import Any

import jwt

from scotaccount_django_testing.fake.assertions import (
    ASSERTION_TYPE,
    verify_client_assertion,
)
from scotaccount_django_testing.fake.forgery import sign_as, signing_variant
from scotaccount_django_testing.fake.journal import JournalEntry, Refusal
from scotaccount_django_testing.fake.messages import (
    Request,
    Response,
    json_response,
    oauth_error,
)
from scotaccount_django_testing.fake.state import AccessGrant, CodeGrant, ProviderState
from scotaccount_django_testing.fake.variants import documented_scope_words

VERIFIER_PATTERN = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CLIENT_AUTH_FAILED = (401, "access_denied", "Access_denied: Token not valid")


def _params(state: ProviderState, request: Request) -> dict[str, str]:
    """Form fields; lax mode also reads the query string and a JSON body (the docs' examples)."""
    params = {name: values[0] for name, values in request.form.items()}
    if state.strict:
        return params
    extra = {name: values[0] for name, values in request.query.items()}
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        extra |= (
            {name: str(value) for name, value in body.items()} if isinstance(body, dict) else {}
        )
    return extra | params


def s256(verifier: str) -> str:
    """The RFC 7636 S256 challenge for ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _refusal_response(refusal: Refusal) -> Response:
    if refusal.rule.startswith("assertion.") or refusal.rule == "token.assertion_type":
        return oauth_error(*CLIENT_AUTH_FAILED)
    if refusal.rule == "token.grant_type":
        return oauth_error(400, "unsupported_grant_type", refusal.detail)
    if refusal.rule.startswith("code."):
        return oauth_error(400, "invalid_grant", refusal.detail)
    return oauth_error(400, "invalid_request", refusal.detail)


def _check_request(params: dict[str, str], entry: JournalEntry) -> None:
    entry.check(
        "token.grant_type",
        params.get("grant_type") == "authorization_code",
        f"grant_type {params.get('grant_type')!r} is not authorization_code",
    )
    for name in ("code", "redirect_uri"):
        entry.check(f"token.{name}_present", bool(params.get(name)), f"Missing {name}")
    entry.check(
        "token.assertion_type",
        params.get("client_assertion_type") == ASSERTION_TYPE,
        f"client_assertion_type must be {ASSERTION_TYPE}",
    )


def _check_grant(state: ProviderState, params: dict[str, str], entry: JournalEntry) -> CodeGrant:
    grant, reused = state.redeem_code(params["code"])
    entry.check("code.known", grant is not None, "Unknown authorization code")
    assert grant is not None
    entry.check("code.unused", not reused, "Authorization code already used")
    age = state.clock.now() - grant.issued_at
    entry.check("code.not_expired", age <= state.lifetimes.code, f"Code is {age} s old")
    if state.strict:
        entry.check(
            "code.client",
            grant.request.client_id == state.registration.client_id,
            "Code was issued to another client",
        )
    entry.check(
        "code.redirect_uri",
        params["redirect_uri"] == grant.request.redirect_uri,
        "redirect_uri differs from the authorization request's",
    )
    verifier = params.get("code_verifier", "")
    entry.pkce = {
        "code_challenge": grant.request.code_challenge or "",
        "code_challenge_method": grant.request.code_challenge_method or "",
        "code_verifier": verifier,
        "computed_challenge": s256(verifier) if verifier else "",
    }
    if state.strict:
        entry.check(
            "code.verifier_format",
            bool(VERIFIER_PATTERN.match(verifier)),
            "code_verifier must be 43-128 unreserved characters",
        )
        entry.check(
            "code.pkce",
            s256(verifier) == grant.request.code_challenge,
            "code_verifier does not match the code_challenge",
        )
    else:
        entry.note("code.pkce", True, "lax mode: PKCE not checked")
    return grant


def _id_token_claims(state: ProviderState, grant: CodeGrant, faults: list[str]) -> dict[str, Any]:
    now = state.clock.now()
    claims: dict[str, Any] = {
        "sub": grant.persona.sub,
        "aud": state.registration.client_id,
        "iss": state.endpoints.issuer,
        "exp": now + state.lifetimes.id_token,
        "iat": now,
        "nonce": grant.request.nonce,
        "jti": secrets.token_urlsafe(8),
        "sid": grant.sid,
    }
    if grant.request.nonce is None:
        del claims["nonce"]
    mutations: dict[str, dict[str, Any]] = {
        "id_token_wrong_iss": {"iss": state.endpoints.issuer + "/"},
        "id_token_wrong_aud": {"aud": "another-client"},
        "id_token_aud_extra": {"aud": [state.registration.client_id, "another-client"]},
        "id_token_expired": {"iat": now - 4500, "exp": now - 3600},
        "id_token_iat_future": {"iat": now + 3600, "exp": now + 4500},
        "id_token_wrong_nonce": {"nonce": f"not-{grant.request.nonce}"},
        "id_token_sub_not_uuid": {"sub": f"{grant.persona.id}@example.com"},
        "id_token_sub_upper_case": {"sub": grant.persona.sub.upper()},
        "id_token_exp_string": {"exp": str(claims["exp"])},
        "id_token_iat_string": {"iat": str(now)},
        "id_token_nbf_future": {"nbf": now + 3600},
        "id_token_aud_list": {"aud": [state.registration.client_id]},
    }
    removals = {
        "id_token_missing_exp": "exp",
        "id_token_missing_nonce": "nonce",
        "id_token_missing_sub": "sub",
    }
    for fault in faults:
        claims |= mutations.get(fault, {})
        claims.pop(removals.get(fault, ""), None)
    return claims


def _issue(state: ProviderState, grant: CodeGrant, entry: JournalEntry) -> Response:
    faults = state.scenarios.take_all("id_token") + state.scenarios.take_all("token_response")
    entry.fault = ", ".join(faults) or None
    if "key_rotation_mid_flow" in faults:
        state.signing_keys.rotate()
    now = state.clock.now()
    scopes = ["openid", *grant.released]
    if "token_scope_as_documented" in state.variants:
        scopes = documented_scope_words(grant.released)
    access_jti = str(uuid.uuid4())
    access_token = state.signing_keys.sign(
        {
            "sub": grant.persona.sub,
            "scp": scopes,
            "iss": state.endpoints.issuer,
            "exp": now + state.lifetimes.access_token,
            "iat": now,
            "jti": access_jti,
            "cid": state.registration.client_id,
        },
        typ="at+jwt",
    )
    with state.lock:
        state.access[access_jti] = AccessGrant(
            state.registration.client_id,
            grant.persona,
            grant.released,
            now + state.lifetimes.access_token,
        )
        grant.access_jtis.append(access_jti)
    id_claims = _id_token_claims(state, grant, faults)
    id_token = sign_as(
        id_claims,
        state.signing_keys,
        signing_variant(faults, "id_token_"),
        typ="at+jwt" if "id_token_typ_at_jwt" in state.variants else None,
    )
    if "id_token_is_access_token" in faults:
        id_token = access_token
    body = {
        "access_token": access_token,
        "refresh_token": secrets.token_urlsafe(48),
        "scope": " ".join(scopes),
        "id_token": id_token,
        "token_type": "Bearer",
        "expires_in": state.lifetimes.access_token,
    }
    for field_name in ("id_token", "access_token"):
        if f"token_missing_{field_name}" in faults:
            del body[field_name]
    entry.issued = {
        "sub": id_claims.get("sub"),
        "sid": grant.sid,
        "nonce": id_claims.get("nonce"),
        "scope": body["scope"],
        "id_token_header": jwt.get_unverified_header(id_token),
        "access_token_jti": access_jti,
    }
    entry.outcome = "tokens issued"
    return json_response(200, body)


def token(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    """Exchange a code for tokens, or refuse with the documented status."""
    params = _params(state, request)
    try:
        _check_request(params, entry)
        verify_client_assertion(
            params.get("client_assertion"),
            audience=state.endpoints.token,
            policy=state.assertion_policy(),
            clock=state.clock,
            jtis=state.jtis,
            entry=entry,
        )
        grant = _check_grant(state, params, entry)
    except Refusal as refusal:
        response = _refusal_response(refusal)
        entry.outcome = f"refused: {refusal.rule}"
        return response
    return _issue(state, grant, entry)
