"""What a council's code asks about a person's verified attributes: every function takes a
user (anonymous users hold nothing) and reads only what is stored, never ScotAccount."""

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
    """Each wanted scope is ``held`` (usable, by scope), ``missing`` (to request) or
    ``unavailable`` (not to request again automatically: scope -> reason)."""

    held: dict[str, VerifiedAttribute] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnavailableAttributes:
    """What an "unavailable" handler is told: ``reasons`` (scope -> reason) and ``retry_url``,
    a deliberate retry (``retry=1``) back to this page: offer it as a link, never follow it."""

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
    return held_by(user).identity if user.is_authenticated else None


class HeldAttributes:
    """What one person holds, read once per request when first asked (as django-otp's lazy
    ``is_verified``); past answers only when a scope is not held, a batch at a time."""

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
    held: HeldAttributes | None = getattr(user, "_scotaccount_attributes", None)
    if held is None:
        held = HeldAttributes(user)
        setattr(user, "_scotaccount_attributes", held)  # noqa: B010 - a per-request cache
    return held


def attribute_status(user: User, scopes: Iterable[str], *, retry: bool = False) -> AttributeStatus:
    """Where ``scopes`` stand; with ``retry`` (a person's deliberate retry) none is unavailable."""
    wanted = check_scopes(scopes)
    if not user.is_authenticated:
        return AttributeStatus(missing=wanted)
    held = held_by(user)
    now = timezone.now()
    max_ages = conf.ATTRIBUTE_MAX_AGE
    status = AttributeStatus()
    for scope in wanted:
        attribute = held.stored.get(scope)
        max_age = max_ages.get(scope)
        if attribute and max_age is not None and attribute.received_at + max_age <= now:
            attribute = None  # expired (its age counts from receipt): to be requested again
        if attribute and attribute.is_verified:
            status.held[scope] = attribute
        elif retry:
            status.missing.append(scope)
        elif attribute and attribute.outcome == VerificationOutcome.VERIFICATION_FAILED:
            status.unavailable[scope] = AttributeRequest.Reason.VERIFICATION_FAILED
        elif (reason := held.latest_reason(scope)) and reason != AttributeRequest.Reason.ERROR:
            status.unavailable[scope] = reason  # only the latest answer about it counts
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


#: Set per request by ``SessionLifetimeMiddleware``: values read mean ``no-store`` (L11). A
#: list, not a flag, so a read in a copied context (a sync view under ASGI) is still seen.
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
    """Royal Mail PAF order."""
    names = ("organisationName", "departmentName", "subBuildingName", "buildingName")
    streets = [fields[name] for name in ("dependentStreetName", "streetName") if fields.get(name)]
    localities = ("doubleDependentAddressLocality", "dependentAddressLocality", "addressLocality")
    # The building number goes with the first thoroughfare, or stands in its place.
    streets[:1] = [" ".join(filter(None, (fields.get("buildingNumber"), *streets[:1])))]
    lines = [*map(fields.get, names), *streets, *map(fields.get, localities)]
    return tuple(line for line in lines if line)


def is_identity_verified(user: User) -> bool:
    """True when identity is held: ``VerifiedAttribute.is_verified`` holds the rule (L10)."""
    return IDENTITY in get_verified_attributes(user)
