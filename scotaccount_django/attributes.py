"""What a council's code asks about a person's verified attributes.

Every function takes a user (anonymous users simply hold nothing) and reads
only what is stored: no call here ever reaches ScotAccount. An attribute
counts only when its outcome is verified and it is younger than
``SCOTACCOUNT_ATTRIBUTE_MAX_AGE`` for its scope (counted from when this app
received it).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from scotaccount_django.conf import conf
from scotaccount_django.models import (
    FINAL_REASONS,
    AttributeRequest,
    AttributeScope,
    ScotAccountIdentity,
    VerificationOutcome,
    VerifiedAttribute,
)

__all__ = [
    "ADDRESS",
    "EMAIL",
    "IDENTITY",
    "AttributeStatus",
    "UnavailableAttributes",
    "VerifiedAddress",
    "VerifiedName",
    "attribute_status",
    "get_verified_attributes",
    "is_identity_verified",
    "missing_scopes",
    "unavailable_scopes",
    "verified_address",
    "verified_birth_date",
    "verified_email",
    "verified_name",
]

#: The scope of the verified name and date of birth.
IDENTITY = AttributeScope.IDENTITY.value
#: The scope of the verified address.
ADDRESS = AttributeScope.ADDRESS.value
#: The scope of the verified email address.
EMAIL = AttributeScope.EMAIL.value

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class AttributeStatus:
    """Where each wanted scope stands for one person.

    ``held``: usable verified attributes, by scope. ``missing``: scopes to
    request. ``unavailable``: scopes not to request again automatically, each
    with its ``AttributeRequest.Reason`` (declined, not available, failed).
    """

    held: dict[str, VerifiedAttribute] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnavailableAttributes:
    """What an "unavailable" handler is told: ``reasons`` (scope -> reason) and a retry link.

    ``retry_url`` starts a deliberate retry (``retry=1``) and comes back to
    the page that needed the attributes; offer it as a link, never follow it.
    """

    reasons: dict[str, str]
    retry_url: str


@dataclass(frozen=True)
class VerifiedName:
    given_name: str
    family_name: str

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True)
class VerifiedAddress:
    """A verified address: ``lines`` (without the postcode) in Royal Mail PAF order."""

    lines: tuple[str, ...]
    postcode: str
    uprn: str
    fields: dict[str, str] = field(repr=False)


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """``scopes`` de-duplicated in ScotAccount's order; ``ValueError`` for unknown ones."""
    wanted = list(scopes)
    unknown = sorted(set(wanted) - set(AttributeScope.values))
    if unknown:
        raise ValueError(f"Unknown ScotAccount attribute scopes: {', '.join(unknown)}")
    return [scope for scope in AttributeScope.values if scope in wanted]


def identity_for(user: User) -> ScotAccountIdentity | None:
    if not user.is_authenticated:
        return None
    return held_by(user).identity


class HeldAttributes:
    """What one signed-in person holds, read from the database once, when first asked.

    Like django-otp's lazy ``request.user.is_verified``: kept on the user object
    (which Django loads afresh for each request), so a page that calls every
    accessor costs one query for the stored attributes (at most one row per
    scope). The identity and past answers are read only when a scope is not held:
    newest first, a batch at a time and only as far as needed, never twice.
    """

    #: Past answers are read newest first, this many at a time.
    ANSWER_BATCH = 20

    def __init__(self, user: AbstractBaseUser) -> None:
        self.user_id = user.pk
        self._reasons: dict[str, str | None] = {}
        self._unread = self._answers()

    @cached_property
    def stored(self) -> dict[str, VerifiedAttribute]:
        attributes = VerifiedAttribute.objects.filter(identity__user_id=self.user_id)
        return {attribute.scope: attribute for attribute in attributes.select_related("identity")}

    @cached_property
    def identity(self) -> ScotAccountIdentity | None:
        for attribute in self.stored.values():
            return attribute.identity
        return ScotAccountIdentity.objects.filter(user_id=self.user_id).first()

    def _answers(self) -> Iterator[AttributeRequest]:
        if self.identity is None:
            return
        answers = self.identity.attribute_requests.filter(
            status=AttributeRequest.Status.COMPLETED
        ).only("identity", "requested_scopes", "missing_scopes")
        for start in itertools.count(0, self.ANSWER_BATCH):
            batch = list(answers[start : start + self.ANSWER_BATCH])
            yield from batch
            if len(batch) < self.ANSWER_BATCH:
                return

    def latest_reason(self, scope: str) -> str | None:
        """Why the newest completed request that asked for ``scope`` did not get it, if so."""
        for answer in self._unread:  # resumes where the previous call stopped
            for asked in answer.requested_scopes:
                self._reasons.setdefault(asked, answer.missing_scopes.get(asked))
            if scope in self._reasons:
                break
        return self._reasons.get(scope)


def held_by(user: AbstractBaseUser) -> HeldAttributes:
    """``user``'s ``HeldAttributes``, made on first use and kept for the request."""
    held: HeldAttributes | None = getattr(user, "_scotaccount_attributes", None)
    if held is None:
        held = HeldAttributes(user)
        setattr(user, "_scotaccount_attributes", held)  # noqa: B010 - a per-request cache
    return held


def attribute_status(user: User, scopes: Iterable[str], *, retry: bool = False) -> AttributeStatus:
    """Which of ``scopes`` are held, still to request, or not to request again.

    With ``retry`` (a person's deliberate retry), unavailable scopes count as
    missing again. Without an identity, every scope is missing.
    """
    wanted = check_scopes(scopes)
    if not user.is_authenticated:
        return AttributeStatus(missing=wanted)
    held = held_by(user)
    now = timezone.now()
    status = AttributeStatus()
    for scope in wanted:
        attribute = held.stored.get(scope)
        max_age = conf.ATTRIBUTE_MAX_AGE.get(scope)
        if attribute and max_age is not None and attribute.received_at + max_age <= now:
            attribute = None  # expired: to be requested again
        if attribute and attribute.is_verified:
            status.held[scope] = attribute
        elif retry:
            status.missing.append(scope)
        elif attribute and attribute.outcome == VerificationOutcome.VERIFICATION_FAILED:
            status.unavailable[scope] = AttributeRequest.Reason.VERIFICATION_FAILED
        elif (reason := held.latest_reason(scope)) in FINAL_REASONS:
            status.unavailable[scope] = str(reason)  # only the latest answer about it counts
        else:
            status.missing.append(scope)
    reads = values_read.get()
    if reads is not None:
        # ``held`` hands out the values (``.claims``): the page must not be cached (M8).
        reads.extend(status.held)
    return status


def missing_scopes(user: User, scopes: Iterable[str], *, retry: bool = False) -> list[str]:
    """The scopes a step-up should ask ScotAccount for (ScotAccount's order)."""
    return attribute_status(user, scopes, retry=retry).missing


def unavailable_scopes(user: User, scopes: Iterable[str]) -> dict[str, str]:
    """Scopes that could not be obtained, with the reason; asked again only on retry."""
    return attribute_status(user, scopes).unavailable


#: Per request: scopes whose values were read, so the page showing them is sent with
#: ``Cache-Control: no-store`` (L11). ``SessionLifetimeMiddleware`` sets a fresh list
#: at the start of each request (directly, so that requests which never read an
#: attribute run no code here). A list, not a flag, so a read in a copied context (a
#: sync view under ASGI) is still seen.
values_read: ContextVar[list[str] | None] = ContextVar("scotaccount_values_read", default=None)


def get_verified_attributes(user: User) -> dict[str, VerifiedAttribute]:
    """Every usable verified attribute of ``user``, by scope."""
    return attribute_status(user, AttributeScope.values).held


def _claims(user: User, scope: str) -> dict[str, Any] | None:
    attribute = get_verified_attributes(user).get(scope)
    return attribute.claims if attribute is not None else None


def verified_name(user: User) -> VerifiedName | None:
    """Given and family name, verified to GPG45 medium; None if not held."""
    claims = _claims(user, IDENTITY)
    return VerifiedName(claims["given_name"], claims["family_name"]) if claims else None


def verified_birth_date(user: User) -> datetime.date | None:
    """Date of birth, verified to GPG45 medium; None if not held."""
    claims = _claims(user, IDENTITY)
    return datetime.date.fromisoformat(claims["birth_date"]) if claims is not None else None


def verified_email(user: User) -> str | None:
    """The verified email address; None if not held."""
    claims = _claims(user, EMAIL)
    return str(claims["email"]) if claims is not None else None


def verified_address(user: User) -> VerifiedAddress | None:
    """The verified address, its lines in postal order; None if not held."""
    claims = _claims(user, ADDRESS)
    if claims is None:
        return None
    fields: dict[str, str] = claims["address"]
    return VerifiedAddress(
        lines=address_lines(fields),
        postcode=fields.get("postalCode", ""),
        uprn=fields.get("uprn", ""),
        fields=fields,
    )


def address_lines(fields: dict[str, str]) -> tuple[str, ...]:
    """PAF order; the building number goes with the first thoroughfare."""
    number = fields.get("buildingNumber", "")
    thoroughfares = [
        fields[name] for name in ("dependentStreetName", "streetName") if fields.get(name)
    ]
    if number and thoroughfares:
        thoroughfares[0] = f"{number} {thoroughfares[0]}"
    elif number:
        thoroughfares = [number]
    names = ("organisationName", "departmentName", "subBuildingName", "buildingName")
    localities = ("doubleDependentAddressLocality", "dependentAddressLocality", "addressLocality")
    return tuple(
        line
        for line in (
            *(fields.get(name, "") for name in names),
            *thoroughfares,
            *(fields.get(name, "") for name in localities),
        )
        if line
    )


def is_identity_verified(user: User) -> bool:
    """True when identity is held: ``VerifiedAttribute.is_verified`` holds the rule (L10)."""
    return IDENTITY in get_verified_attributes(user)
