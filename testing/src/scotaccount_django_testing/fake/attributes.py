"""``GET /attributes/values`` on the attributes issuer: the signed ``claimsToken``.

Two credentials, both required: the access token (which person, which
consented scopes, not expired) and a ``DIS-Client-Assertion`` proving the
caller is the client the token was issued to (``aud`` = this URL, so a token
endpoint assertion cannot be replayed here). Only consented scopes with data
are released; nothing to release is a 404, as ScotAccount documents.
"""

from __future__ import annotations

from typing import Any

import jwt

from scotaccount_django_testing.fake.assertions import verify_client_assertion
from scotaccount_django_testing.fake.forgery import sign_as, signing_variant
from scotaccount_django_testing.fake.journal import JournalEntry, Refusal
from scotaccount_django_testing.fake.messages import (
    Request,
    Response,
    json_response,
    oauth_error,
)
from scotaccount_django_testing.fake.personas import (
    SCOPE_ADDRESS,
    SCOPE_IDENTITY,
    VERIFICATION_FAILED,
    Persona,
)
from scotaccount_django_testing.fake.state import AccessGrant, ProviderState

SCHEMA_ID = "https://schema.scotaccount.service.gov.scot/external/v2/scotaccount-verified-claims"
#: Missing credentials are "malformed" (401); wrong ones are 403, per ScotAccount's table.
MALFORMED_RULES = {"attributes.bearer_present", "assertion.present"}


def _check_access_token(
    state: ProviderState, request: Request, entry: JournalEntry
) -> AccessGrant:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    entry.check("attributes.bearer_present", scheme.lower() == "bearer" and bool(token))
    try:
        claims = state.signing_keys.verify(token)
    except jwt.PyJWTError as error:
        entry.fail("access_token.signature", str(error))
    entry.note("access_token.signature", True)
    with state.lock:
        grant = state.access.get(str(claims.get("jti")))
    entry.check("access_token.issued_here", grant is not None)
    assert grant is not None
    entry.check("access_token.not_revoked", not grant.revoked, "its code was reused")
    now = state.clock.now()
    entry.check(
        "access_token.not_expired", grant.expires_at > now, f"exp {grant.expires_at}, now {now}"
    )
    return grant


def _legacy_payload(persona: Persona, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The older single-object layout printed in ScotAccount's example response."""
    claims: dict[str, Any] = {"uuid": persona.sub}
    for entry in entries:
        claims |= entry.get("claims", {})
    main = next((e for e in entries if e["scope"] == SCOPE_IDENTITY), entries[0])
    verification = main["verification"]
    outcome = verification["outcome"].replace("_", " ")
    return {
        "verified_claims": {
            "verification": {
                "outcome": f"{persona.sub} {outcome}",
                "trust_framework": verification["trust_framework"],
                "assurance_level": "GPG45-Medium",
                "time": verification["time"],
                "verifier": verification["verifier"],
            }
        },
        "claims": claims,
    }


def _payload(state: ProviderState, grant: AccessGrant, faults: list[str]) -> dict[str, Any] | None:
    entries = grant.persona.verified_claims(list(grant.released))
    if "claims_verification_failed" in faults:
        entries = [
            {**entry, "verification": {**entry["verification"], "outcome": VERIFICATION_FAILED}}
            for entry in entries
        ]
        for entry in entries:
            entry.pop("claims", None)
    weakened = {
        "claims_identity_low": (SCOPE_IDENTITY, {"confidence_level": "low"}),
        "claims_address_self_certified": (SCOPE_ADDRESS, {"validation_method": "self_certified"}),
    }
    for fault in faults:
        scope, change = weakened.get(fault, ("", {}))
        entries = [
            {**entry, "verification": {**entry["verification"], **change}}
            if entry["scope"] == scope
            else entry
            for entry in entries
        ]
    if "claims_empty_list" not in faults and not entries:
        return None
    documented_legacy = "legacy_claims_token" in state.variants
    body: dict[str, Any] = (
        _legacy_payload(grant.persona, entries)
        if (state.legacy_claims_layout or documented_legacy) and entries
        else {
            "$schema": SCHEMA_ID,
            "verified_claims": entries if "claims_empty_list" not in faults else [],
        }
    )
    header = {
        "iss": state.endpoints.issuer
        if "claims_wrong_iss" in faults
        else state.endpoints.attributes_issuer,
        "sub": "00000000-0000-4000-8000-000000000000"
        if "claims_wrong_sub" in faults
        else grant.persona.sub,
        "iat": state.clock.now() - (2 * 365 * 24 * 3600 if "claims_old" in faults else 0),
    }
    if "claims_sub_upper_case" in faults:
        header["sub"] = grant.persona.sub.upper()
    if "claims_iat_string" in faults:
        header["iat"] = str(header["iat"])
    if "claims_expired" in faults:
        header["exp"] = state.clock.now() - 3600
    if documented_legacy and entries:
        # The docs' example (line 922) has none of the three: only claims.uuid binds it.
        if "claims_wrong_sub" in faults:
            body["claims"]["uuid"] = header["sub"]
        if "claims_wrong_iss" not in faults:
            return body
        return {"iss": header["iss"]} | body
    return header | body


def attributes(state: ProviderState, request: Request, entry: JournalEntry) -> Response:
    """Release the consented verified attributes as a signed ``claimsToken``."""
    try:
        grant = _check_access_token(state, request, entry)
        verify_client_assertion(
            request.headers.get("dis-client-assertion"),
            audience=state.endpoints.attributes_url,
            policy=state.assertion_policy(),
            clock=state.clock,
            jtis=state.jtis,
            entry=entry,
        )
        if state.strict:
            entry.check(
                "attributes.client_matches",
                grant.client_id == state.registration.client_id,
                "access token issued to another client",
            )
    except Refusal as refusal:
        entry.outcome = f"refused: {refusal.rule}"
        if refusal.rule in MALFORMED_RULES:
            return oauth_error(401, "access_denied", "The request is malformed")
        return oauth_error(403, "access_denied", "Access_denied: Token not valid")
    faults = state.scenarios.take_all("claims_token")
    entry.fault = ", ".join(faults) or None
    if "attributes_key_rotation_mid_flow" in faults:
        state.attributes_keys.rotate()
    payload = _payload(state, grant, faults)
    if payload is None:
        entry.outcome = "nothing to release"
        return oauth_error(404, "not_found", "Not Found: no data for that user")
    claims_token = sign_as(
        payload,
        state.attributes_keys,
        signing_variant(faults, "claims_"),
        foreign=state.signing_keys,
    )
    entry.issued = {
        "sub": payload.get("sub", payload.get("claims", {}).get("uuid")),
        "released": list(grant.released),
    }
    entry.outcome = "claimsToken issued"
    return json_response(200, {"claimsToken": claims_token})
