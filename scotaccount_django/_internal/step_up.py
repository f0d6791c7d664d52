"""The end of a step-up: fetch, verify and store the attributes, all or nothing.

The callback view has already exchanged the code, verified the ID token and
checked its ``sub`` is the person who started the step-up. What remains:
fetch the ``claimsToken``, verify it, keep only the scopes this flow asked for,
and write the attributes and the request's outcome in one transaction, so a
failure part-way leaves no half-stored answer. The access token and the raw
``claimsToken`` are local variables only: never stored, never logged.

The fetch is ``GET /attributes/values`` with the access token plus a fresh
``DIS-Client-Assertion``. The assertion's ``aud`` is the attributes URL, never
the token endpoint's, so one captured at either endpoint is useless at the
other; every attempt, retries included, signs a new one (new ``jti``). Only 5xx
and transport faults are retried, a few times, and never past the access
token's life.

The token response's ``scope`` is read without reading too much into it. RFC
6749 lets a provider say which scopes it granted; ScotAccount's own example
step-up answer (reference lines 829, 2097) instead lists claim names and the
old scope name: ``"given_name family_name birth_date uprn ... gpg-45-medium
openid"``. Taking every requested scope missing from such a string as declined
would record a person's identity and address as refused and never fetch them.
So a decline is read only from a string that speaks entirely in scope names;
anything else says nothing, and the ``claimsToken`` decides.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from scotaccount_django._internal import http, telemetry
from scotaccount_django._internal.claims import VerifiedClaims, read_claims_token
from scotaccount_django._internal.client_auth import build_client_assertion
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import (
    AttributesUnavailable,
    ConfigurationError,
    ProviderError,
    ProviderUnavailable,
    ScotAccountError,
)
from scotaccount_django.models import (
    AttributeRequest,
    AttributeScope,
    AuthorizationFlow,
    ScotAccountIdentity,
    VerifiedAttribute,
)
from scotaccount_django.tokens import TokenSet

logger = logging.getLogger("scotaccount_django")

Reason = AttributeRequest.Reason

#: Never start an attempt this close to the access token's expiry.
EXPIRY_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class RetryPolicy:
    """How the attributes fetch retries: ``backoff[n]`` seconds before attempt ``n + 2``.

    Long enough for a blip, short for a person waiting. ``sleep`` is injectable
    (tests replace ``RETRY`` so that no test waits).
    """

    backoff: tuple[float, ...] = (0.25, 0.75)
    sleep: Callable[[float], None] = time.sleep

    @property
    def attempts(self) -> int:
        return len(self.backoff) + 1


RETRY = RetryPolicy()


def fetch_claims_token(access_token: str, *, expires_at: float) -> str | None:
    """The ``claimsToken``, or None when ScotAccount has no data (404).

    ``expires_at`` is the access token's expiry on ``time.monotonic()``'s clock.
    Raises ``ProviderRejectedClient`` (401/403), ``AttributesUnavailable``
    (5xx or timeouts after retries) or ``ProviderError`` (anything else).
    """
    url = conf.ATTRIBUTES_URL
    if not url:
        raise ConfigurationError("SCOTACCOUNT_ATTRIBUTES_URL is not set.")
    retry = RETRY
    attempt = 1
    while True:
        try:
            with telemetry.provider_call("attributes"):
                return _attempt(url, access_token)
        except ProviderUnavailable as exc:
            if attempt >= retry.attempts:
                raise AttributesUnavailable(f"{exc} (after {attempt} attempts)") from exc
            pause = retry.backoff[attempt - 1]
            if time.monotonic() + pause > expires_at - EXPIRY_MARGIN_SECONDS:
                raise AttributesUnavailable(f"{exc} (after {attempt} attempts)") from exc
            logger.info("Attributes endpoint attempt %d failed, retrying: %s", attempt, exc)
            retry.sleep(pause)
            attempt += 1


def _attempt(url: str, access_token: str) -> str | None:
    response = http.send(
        "GET",
        url,
        headers={
            "Accept": "application/json",
            "Authorization": f"Bearer {access_token}",
            "DIS-Client-Assertion": build_client_assertion(url),
        },
    )
    if response.status == 404:
        return None
    http.raise_for_status(response, "attributes endpoint")
    claims_token = response.json_object().get("claimsToken")
    if not isinstance(claims_token, str) or not claims_token:
        raise ProviderError("attributes response has no claimsToken")
    return claims_token


def requested_scopes(flow: AuthorizationFlow) -> list[str]:
    """The attribute scopes a step-up flow asked for (``openid`` aside), in ScotAccount's order."""
    return [scope for scope in AttributeScope.values if scope in flow.scope_list]


def receive_attributes(
    flow: AuthorizationFlow, tokens: TokenSet, identity: ScotAccountIdentity
) -> AttributeRequest:
    """Fetch, verify and store this step-up's attributes; record the outcome either way.

    Scopes the token response's ``scope`` clearly refused were declined on
    ScotAccount's consent page; for every other requested scope the
    ``claimsToken`` decides (an entry, a failed verification, or nothing: not
    available). On error a failed request is recorded and the error re-raised.
    """
    expires_at = time.monotonic() + tokens.expires_in
    requested = requested_scopes(flow)
    # ScotAccount's documented ``scope`` lists claim names, not scopes: only a string
    # made of scope names can say "declined" (see ``declined_scopes``).
    declined = declined_scopes(requested, tokens.scopes)
    granted = [scope for scope in requested if scope not in declined]
    missing = dict.fromkeys(declined, Reason.DECLINED.value)
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


#: What a newer answer about the same scope replaces.
ANSWER_FIELDS = (
    "claims",
    "outcome",
    "trust_framework",
    "assurance_policy",
    "confidence_level",
    "validation_method",
    "verified_at",
    "verifier_organization",
    "txn",
    "received_at",
    "request",
)


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
    # One row per (identity, scope): the newest answer replaces the older, so the
    # same verification (txn) received twice stays one record. One statement.
    VerifiedAttribute.objects.bulk_create(
        [
            VerifiedAttribute(
                identity=identity,
                scope=entry.scope,
                claims=entry.claims,
                outcome=entry.verification.outcome,
                trust_framework=entry.verification.trust_framework,
                assurance_policy=entry.verification.assurance_policy,
                confidence_level=entry.verification.confidence_level,
                validation_method=entry.verification.validation_method,
                verified_at=entry.verification.verified_at,
                verifier_organization=entry.verification.organization,
                txn=entry.verification.txn,
                received_at=now,
                request=request,
            )
            for entry in entries
        ],
        update_conflicts=True,
        unique_fields=["identity", "scope"],
        update_fields=[*ANSWER_FIELDS],
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


# Reading the granted ``scope`` ------------------------------------------------------------

#: Older spellings in ScotAccount's pages -> the current scope (``gpg-45-medium``:
#: reference lines 694, 829). Other capitalisations, such as the pages'
#: ``ScotAccount.gpg45.medium`` (line 636), are matched without regard to case.
OLD_SCOPE_NAMES = {"gpg-45-medium": AttributeScope.IDENTITY.value}


def current_scope_name(word: str) -> str | None:
    """``word`` as a current attribute scope name, or ``None`` if it is not one."""
    lowered = word.lower()
    if lowered in AttributeScope.values:
        return lowered
    return OLD_SCOPE_NAMES.get(lowered)


def declined_scopes(requested: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The requested scopes the token response's ``scope`` clearly refused.

    ``granted`` is that ``scope`` split into words. Empty (absent, per RFC 6749
    "as requested"), or holding any word that is neither ``openid`` nor a scope
    name, it refuses nothing.
    """
    words = list(granted)
    names = [word if word == "openid" else current_scope_name(word) for word in words]
    if not words or None in names:
        return []
    return [scope for scope in requested if scope not in names]
