"""The end of a step-up: fetch, verify and store the attributes, all or nothing.

The callback view has already exchanged the code, verified the ID token and
checked its ``sub`` is the person who started the step-up. What remains:
fetch the ``claimsToken``, verify it, keep only the scopes this flow asked for,
and write the attributes and the request's outcome in one transaction, so a
failure part-way leaves no half-stored answer. The access token and the raw
``claimsToken`` are local variables only: never stored, never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from scotaccount_django._internal.attributes_client import fetch_claims_token
from scotaccount_django._internal.claims import VerifiedClaims, read_claims_token
from scotaccount_django._internal.tokens import TokenSet
from scotaccount_django.attributes import check_scopes
from scotaccount_django.exceptions import ScotAccountError
from scotaccount_django.models import (
    AttributeRequest,
    AuthorizationFlow,
    ScotAccountIdentity,
    VerifiedAttribute,
)

logger = logging.getLogger("scotaccount_django")

Reason = AttributeRequest.Reason


def requested_scopes(flow: AuthorizationFlow) -> list[str]:
    """The attribute scopes a step-up flow asked for (``openid`` aside)."""
    return check_scopes(scope for scope in flow.scope_list if scope != "openid")


def receive_attributes(
    flow: AuthorizationFlow, tokens: TokenSet, identity: ScotAccountIdentity
) -> AttributeRequest:
    """Fetch, verify and store this step-up's attributes; record the outcome either way.

    Scopes missing from the token response's ``scope`` were declined on
    ScotAccount's consent page; granted scopes without an entry were not
    available. On error a failed request is recorded and the error re-raised.
    """
    expires_at = time.monotonic() + tokens.expires_in
    requested = requested_scopes(flow)
    # No ``scope`` in the token response means everything asked for was granted (RFC 6749).
    granted = [s for s in requested if not tokens.scopes or s in tokens.scopes]
    missing = {scope: Reason.DECLINED.value for scope in requested if scope not in granted}
    entries: list[VerifiedClaims] = []
    if granted:
        try:
            claims_token = fetch_claims_token(tokens.access_token, expires_at=expires_at)
            if claims_token is not None:
                entries = read_claims_token(claims_token, sub=identity.sub)
        except ScotAccountError:
            record_unanswered(
                flow,
                identity,
                requested,
                reason=Reason.ERROR.value,
                status=AttributeRequest.Status.FAILED,
            )
            raise
    kept = {entry.scope: entry for entry in entries if entry.scope in granted}
    for scope in granted:
        if scope not in kept:
            missing[scope] = Reason.NOT_AVAILABLE.value
        elif not kept[scope].is_verified:
            missing[scope] = Reason.VERIFICATION_FAILED.value
    received = [scope for scope in granted if scope not in missing]
    request = _store(flow, identity, requested, received, missing, list(kept.values()))
    logger.info(
        "Attribute request %s for identity %s: received %s, missing %s",
        request.pk,
        identity.pk,
        received,
        missing,
    )
    return request


@transaction.atomic
def _store(
    flow: AuthorizationFlow,
    identity: ScotAccountIdentity,
    requested: list[str],
    received: list[str],
    missing: dict[str, str],
    entries: Sequence[VerifiedClaims],
) -> AttributeRequest:
    now = timezone.now()
    request = AttributeRequest.objects.create(
        identity=identity,
        requested_scopes=requested,
        received_scopes=received,
        missing_scopes=missing,
        status=AttributeRequest.Status.COMPLETED,
        created_at=flow.created_at,
        completed_at=now,
    )
    for entry in entries:
        # One row per (identity, scope): the newest answer replaces the older,
        # so the same verification (txn) received twice stays one record.
        VerifiedAttribute.objects.update_or_create(
            identity=identity,
            scope=entry.scope,
            defaults={
                "claims": entry.claims,
                "outcome": entry.verification.outcome,
                "trust_framework": entry.verification.trust_framework,
                "assurance_policy": entry.verification.assurance_policy,
                "confidence_level": entry.verification.confidence_level,
                "validation_method": entry.verification.validation_method,
                "verified_at": entry.verification.verified_at,
                "verifier_organization": entry.verification.organization,
                "txn": entry.verification.txn,
                "received_at": now,
                "request": request,
            },
        )
    return request


def record_unanswered(
    flow: AuthorizationFlow,
    identity: ScotAccountIdentity,
    requested: list[str],
    *,
    reason: str,
    status: str,
) -> AttributeRequest:
    """A request that brought back no attributes: every scope missing for ``reason``.

    Declined (the person cancelled) blocks automatic re-requests; an error does not.
    """
    return AttributeRequest.objects.create(
        identity=identity,
        requested_scopes=requested,
        received_scopes=[],
        missing_scopes=dict.fromkeys(requested, reason),
        status=status,
        created_at=flow.created_at,
    )
