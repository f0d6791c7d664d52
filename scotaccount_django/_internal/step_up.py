"""The end of a step-up: fetch, verify and store the attributes, all or nothing.

The access token and the raw ``claimsToken`` are never stored, never logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from scotaccount_django._internal import provider
from scotaccount_django._internal.claims import read_claims_token
from scotaccount_django._internal.provider import TokenSet

if TYPE_CHECKING:
    from scotaccount_django._internal.flows import Flow
from scotaccount_django.exceptions import ScotAccountError
from scotaccount_django.models import (
    AttributeRequest,
    AttributeScope,
    ScotAccountIdentity,
    VerifiedAttribute,
)

Reason = AttributeRequest.Reason


def requested_scopes(flow: Flow) -> list[str]:
    """The attribute scopes a step-up flow asked for (``openid`` aside), in ScotAccount's order."""
    return [scope for scope in AttributeScope.values if scope in flow.scopes]


def receive_attributes(
    flow: Flow, tokens: TokenSet, identity: ScotAccountIdentity
) -> AttributeRequest:
    """Fetch, verify and store this step-up's attributes; record the outcome either way."""
    requested = requested_scopes(flow)
    declined = declined_scopes(requested, tokens.scopes)
    granted = [scope for scope in requested if scope not in declined]
    missing = dict.fromkeys(declined, Reason.DECLINED.value)
    entries: list[VerifiedAttribute] = []
    if granted:
        try:
            claims_token = provider.fetch_attributes(
                access_token=tokens.access_token, expires_in=tokens.expires_in
            )
            if claims_token is not None:
                entries = read_claims_token(claims_token, sub=identity.sub)
        except ScotAccountError:
            record_unanswered(flow, identity, Reason.ERROR.value)
            raise
    kept = {entry.scope: entry for entry in entries if entry.scope in granted}
    for scope in granted:
        if scope not in kept:
            missing[scope] = Reason.NOT_AVAILABLE.value
        elif not kept[scope].is_verified:
            missing[scope] = Reason.VERIFICATION_FAILED.value
    received = [scope for scope in granted if scope not in missing]
    now = timezone.now()
    with transaction.atomic():
        request = AttributeRequest.objects.create(
            identity=identity,
            requested_scopes=requested,
            received_scopes=received,
            missing_scopes=missing,
            status=AttributeRequest.Status.COMPLETED,
            created_at=flow.created_at,
            completed_at=now,
        )
        for entry in kept.values():
            entry.identity, entry.request, entry.received_at = identity, request, now
        # One row per (identity, scope): the newest answer replaces the older.
        VerifiedAttribute.objects.bulk_create(
            kept.values(),
            update_conflicts=True,
            unique_fields=["identity", "scope"],
            update_fields=[
                field.name
                for field in VerifiedAttribute._meta.concrete_fields
                if not field.primary_key and field.name not in ("identity", "scope")
            ],
        )
    return request


def record_unanswered(flow: Flow, identity: ScotAccountIdentity, reason: str) -> AttributeRequest:
    """A request that brought back no attributes: every scope missing for ``reason``."""
    requested = requested_scopes(flow)
    failed = reason == Reason.ERROR
    return AttributeRequest.objects.create(
        identity=identity,
        requested_scopes=requested,
        received_scopes=[],
        missing_scopes=dict.fromkeys(requested, reason),
        status=AttributeRequest.Status.FAILED if failed else AttributeRequest.Status.COMPLETED,
        created_at=flow.created_at,
    )


#: Older spellings in ScotAccount's pages (reference lines 694, 829) -> the current scope.
#: Other capitalisations (``ScotAccount.gpg45.medium``, line 636) match without regard to case.
OLD_SCOPE_NAMES = {"gpg-45-medium": AttributeScope.IDENTITY.value}


def declined_scopes(requested: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The requested scopes the token response's ``scope`` (``granted``) clearly refused.

    ScotAccount's example answer (reference lines 829, 2097) lists claim names, not
    scopes: so an empty ``scope``, or one with any word that is not a scope name or
    ``openid``, refuses nothing, and the ``claimsToken`` decides.
    """
    names = [OLD_SCOPE_NAMES.get(word.lower(), word.lower()) for word in granted]
    if not names or not set(names) <= {"openid", *AttributeScope.values}:
        return []
    return [scope for scope in requested if scope not in names]
