"""The ``claimsToken``'s payload, once ``jwtkit.verify_claims_token`` has proven it ours:
one unsaved ``VerifiedAttribute`` per scope, each validated against ScotAccount's schema.

Two layouts exist: the current list of per-scope entries, and an older single
object printed in ScotAccount's docs (reference lines 922, 2244). Both become the
same entries. The schema (``schema/verified-claims.schema.json``) is ScotAccount's
published one (https://schema.scotaccount.service.gov.scot/external/v2/
scotaccount-verified-claims), copied verbatim and applied by ``jsonschema``. Its
``verified_claims.items`` lists ``scope``/``verification``/``claims`` outside
``properties``, so applied literally it constrains nothing; each entry is
validated against the ``$defs`` it names instead. Claims that pass keep only the
properties the schema declares, so nothing unexpected is ever stored.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable, Iterator
from functools import cache, partial
from importlib.resources import files
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from scotaccount_django._internal.jwtkit import verify_claims_token
from scotaccount_django.exceptions import InvalidClaimsToken
from scotaccount_django.models import (
    VERIFIED_OUTCOMES,
    AttributeScope,
    VerificationOutcome,
    VerifiedAttribute,
    meets_scope_minimum,
)

#: The ``$defs`` entry each scope's claims must match.
CLAIMS_DEFINITION = {
    AttributeScope.IDENTITY: "gpg45MediumClaimsType",
    AttributeScope.ADDRESS: "addressClaimsType",
    AttributeScope.EMAIL: "emailClaimsType",
}
#: Legacy layout: which top-level claims belong to which scope.
LEGACY_CLAIMS = {
    AttributeScope.IDENTITY: ("given_name", "family_name", "birth_date"),
    AttributeScope.ADDRESS: ("address",),
    AttributeScope.EMAIL: ("email",),
}
_LEGACY_ASSURANCE = re.compile(r"GPG45-(Low|Medium|High|Very_High)", re.IGNORECASE)
_LEGACY_MINUTES = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})")


def read_claims_token(token: object, *, sub: uuid.UUID) -> list[VerifiedAttribute]:
    """The entries of a ``claimsToken`` about ``sub`` (unsaved, one per scope: the model
    holds the verification rule); ``InvalidClaimsToken`` otherwise."""
    return parse_payload(verify_claims_token(token, sub=sub), sub=sub)


def parse_payload(payload: dict[str, Any], *, sub: uuid.UUID) -> list[VerifiedAttribute]:
    """Both layouts -> validated entries, one per scope; ``InvalidClaimsToken`` otherwise."""
    verified_claims = payload.get("verified_claims")
    try:
        if isinstance(verified_claims, list):
            entries = [_entry(raw, index) for index, raw in enumerate(verified_claims)]
        elif isinstance(verified_claims, dict):
            entries = _legacy_entries(verified_claims, payload.get("claims", {}), sub)
        else:
            raise SchemaViolation("verified_claims is neither a list nor an object")
    except SchemaViolation as exc:
        raise InvalidClaimsToken(f"the claimsToken does not match the schema: {exc}") from exc
    scopes = [entry.scope for entry in entries]
    if len(set(scopes)) != len(scopes):
        raise InvalidClaimsToken("the claimsToken has two entries for the same scope")
    return entries


def _entry(raw: Any, index: int) -> VerifiedAttribute:
    path = f"verified_claims[{index}]"
    if not isinstance(raw, dict):
        raise SchemaViolation(f"{path} is not an object")
    for name in ("scope", "verification"):
        if name not in raw:
            raise SchemaViolation(f"{path}.{name} is required")
    scope = validate(raw["scope"], "scopeType")
    evidence = validate(raw["verification"], "verificationType")
    claims: dict[str, Any] = {}
    if evidence["outcome"] in VERIFIED_OUTCOMES:
        # Verified but without claims would be a verified nothing: refuse it.
        if "claims" not in raw:
            raise SchemaViolation(f"{path}.claims is required for a verified outcome")
        claims = validate(raw["claims"], CLAIMS_DEFINITION[scope])
    verified_at = parse_date_time(evidence["time"])
    assert verified_at is not None  # the schema's date-time format already held
    entry = VerifiedAttribute(
        scope=scope,
        claims=claims,
        outcome=evidence["outcome"],
        trust_framework=evidence["trust_framework"],
        assurance_policy=evidence.get("assurance_policy", ""),
        confidence_level=evidence.get("confidence_level", ""),
        validation_method=evidence.get("validation_method", ""),
        verified_at=verified_at,
        verifier_organization=evidence["verifier"]["organization"],
        txn=uuid.UUID(evidence["verifier"]["txn"]),
    )
    level, method = entry.confidence_level, entry.validation_method
    if not meets_scope_minimum(scope, confidence_level=level, validation_method=method):
        entry.claims = {}  # too weak for this scope (L10): unverified personal data, dropped
    return entry


def _legacy_entries(
    verified_claims: dict[str, Any], claims: Any, sub: uuid.UUID
) -> list[VerifiedAttribute]:
    """The older layout: one verification for everything, claims at the top level."""
    if not isinstance(claims, dict):
        raise SchemaViolation("claims is not an object")
    if "uuid" in claims and claims["uuid"] != str(sub):
        raise SchemaViolation("claims.uuid is not the token's sub")
    raw = verified_claims.get("verification")
    if not isinstance(raw, dict):
        raise SchemaViolation("verified_claims.verification is not an object")
    identity_verification = _legacy_verification(raw, sub)
    other_verification = {
        name: value
        for name, value in identity_verification.items()
        if name not in ("assurance_policy", "confidence_level")
    }
    failed = identity_verification["outcome"] == VerificationOutcome.VERIFICATION_FAILED
    entries: list[VerifiedAttribute] = []
    for scope, names in LEGACY_CLAIMS.items():
        present = {name: claims[name] for name in names if name in claims}
        # One outcome covers everything here, so a failure marks every scope failed.
        if not present and not (failed and scope == AttributeScope.IDENTITY):
            continue
        entry: dict[str, Any] = {
            "scope": scope,
            "verification": (
                identity_verification if scope == AttributeScope.IDENTITY else other_verification
            ),
        }
        if not failed:
            entry["claims"] = present
        entries.append(_entry(entry, len(entries)))
    return entries


def _legacy_verification(raw: dict[str, Any], sub: uuid.UUID) -> dict[str, Any]:
    """Map the older field spellings onto the current ``verificationType``."""
    verification = {
        name: raw[name] for name in ("trust_framework", "time", "verifier") if name in raw
    }
    outcome = raw.get("outcome")
    if not isinstance(outcome, str):
        raise SchemaViolation("verification.outcome is not a string")
    # "<sub> VERIFIED SUCCESSFULLY": the prefix, when present, must be this person.
    prefix, _, rest = outcome.partition(" ")
    if re.fullmatch(r"[0-9a-fA-F-]{36}", prefix):
        if prefix.lower() != str(sub):
            raise SchemaViolation("verification.outcome names a different person")
        outcome = rest
    verification["outcome"] = outcome.strip().replace(" ", "_").upper()
    assurance = _LEGACY_ASSURANCE.fullmatch(str(raw.get("assurance_level", "")))
    if assurance:
        verification["assurance_policy"] = "GPG_45"
        verification["confidence_level"] = assurance.group(1).lower()
    if isinstance(verification.get("time"), str):
        # The docs' example has minute precision ("2023-02-15T16:39Z").
        verification["time"] = _LEGACY_MINUTES.sub(r"\1:00\2", verification["time"])
    return verification


# The verified-claims schema, applied by jsonschema -----------------------------------------


class SchemaViolation(ValueError):
    """Raised when a value breaks the schema; the message names the path, never the value."""


SCHEMA_RESOURCE = "verified-claims.schema.json"
_DATE_TIME = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
_UUID = r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
#: The schema's formats, checked strictly: jsonschema's own checks are loose ("@" makes
#: an email) or need optional packages. RFC 5321 limits an address to 254 characters.
FORMATS: dict[str, Callable[[str], bool]] = {
    "date": lambda value: (
        bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
        and _parses(datetime.date.fromisoformat, value)
    ),
    "date-time": lambda value: (
        bool(re.fullmatch(_DATE_TIME, value)) and parse_date_time(value) is not None
    ),
    "uuid": lambda value: bool(re.fullmatch(_UUID, value)),
    "uri": lambda value: bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S+", value)),
    "email": lambda value: (
        len(value) <= 254 and bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value))
    ),
}


def conforms(value: str, fmt: str) -> bool:
    """Whether ``value`` is a valid ``fmt`` (one of ``FORMATS``)."""
    return FORMATS[fmt](value)


def _pattern(validator: Any, pattern: str, value: Any, schema: Any) -> Iterator[Any]:
    """JSON Schema's ``$`` ends the string; Python's also matches before a final newline,
    so "123\\n" would pass ``^[0-9]+$`` as a UPRN."""
    if isinstance(value, str) and not re.search(re.sub(r"(?<!\\)\$$", r"\\Z", pattern), value):
        yield jsonschema.ValidationError(f"does not match {pattern!r}")


@cache
def schema() -> dict[str, Any]:
    """ScotAccount's schema, shipped in the package."""
    text = (files("scotaccount_django._internal") / "schema" / SCHEMA_RESOURCE).read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator(definition: str) -> Any:
    checker = jsonschema.FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(partial(_if_string, check))
    validator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft7Validator, {"pattern": _pattern}
    )
    return validator({**schema(), "$ref": f"#/$defs/{definition}"}, format_checker=checker)


def _if_string(check: Callable[[str], bool], value: object) -> bool:
    return not isinstance(value, str) or check(value)


def validate(value: Any, definition: str) -> Any:
    """``value`` checked against ``$defs/<definition>``, cleaned; ``SchemaViolation`` if not."""
    error = best_match(_validator(definition).iter_errors(value))
    if error is not None:
        path = ".".join([definition, *map(str, error.absolute_path)])
        raise SchemaViolation(f"{path} breaks the schema's {error.validator} rule")
    return _declared(value, definition)


def _declared(value: Any, definition: str) -> Any:
    """Only the object properties the schema declares, following ``$ref`` (the address)."""
    properties: dict[str, Any] = schema()["$defs"][definition].get("properties", {})
    if not isinstance(value, dict):
        return value
    return {
        name: _declared(item, ref.removeprefix("#/$defs/"))
        if (ref := properties[name].get("$ref"))
        else item
        for name, item in value.items()
        if name in properties
    }


def parse_date_time(value: str) -> datetime.datetime | None:
    """An RFC 3339 date-time as an aware ``datetime``, or None."""
    normalised = value.upper().replace("Z", "+00:00")
    # Python < 3.11 accepts at most 6 fractional digits.
    normalised = re.sub(r"(\.\d{6})\d+", r"\1", normalised)
    try:
        parsed = datetime.datetime.fromisoformat(normalised)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _parses(parser: Any, value: str) -> bool:
    try:
        parser(value)
    except ValueError:
        return False
    return True
