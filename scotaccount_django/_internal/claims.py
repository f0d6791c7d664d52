"""The ``claimsToken``'s payload as unsaved ``VerifiedAttribute``s, validated against
ScotAccount's published schema (``schema/``, verbatim). The docs' older layout is rewritten."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema
from django.utils.dateparse import parse_datetime
from jsonschema.exceptions import best_match

from scotaccount_django._internal.jwtkit import verify_claims_token
from scotaccount_django.exceptions import InvalidClaimsToken
from scotaccount_django.models import AttributeScope, VerificationOutcome, VerifiedAttribute

SCHEMA_RESOURCE = "verified-claims.schema.json"
CLAIMS_DEFINITION = {
    AttributeScope.IDENTITY: "gpg45MediumClaimsType",
    AttributeScope.ADDRESS: "addressClaimsType",
    AttributeScope.EMAIL: "emailClaimsType",
}
_LEGACY_ASSURANCE = re.compile(r"GPG45-(Low|Medium|High|Very_High)", re.IGNORECASE)
_LEGACY_MINUTES = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})")
_DATE_TIME = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"

#: Strict formats: jsonschema's "email" is loose (RFC 5321 caps one at 254 characters) and its
#: "date-time" needs an optional package.
FORMAT_CHECKER = jsonschema.FormatChecker(formats=("date", "uuid"))
for _format, _check in {
    "date-time": lambda value: bool(
        re.fullmatch(_DATE_TIME, value) and parse_datetime(value.upper())
    ),
    "email": lambda value: (
        len(value) <= 254 and bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value))
    ),
}.items():
    # TypeError: not a string (the type rule says so too); ValueError: no such time.
    FORMAT_CHECKER.checks(_format, raises=(TypeError, ValueError))(_check)


def read_claims_token(token: object, *, sub: uuid.UUID) -> list[VerifiedAttribute]:
    """The entries of a ``claimsToken`` about ``sub``; ``InvalidClaimsToken`` otherwise."""
    return parse_payload(verify_claims_token(token, sub=sub), sub=sub)


def parse_payload(payload: dict[str, Any], *, sub: uuid.UUID) -> list[VerifiedAttribute]:
    """Both layouts -> validated entries, one per scope; ``InvalidClaimsToken`` otherwise."""
    verified_claims: Any = payload.get("verified_claims")
    if isinstance(verified_claims, dict):
        verified_claims = _from_legacy(payload, sub)
    validate(verified_claims, "properties/verified_claims")
    entries = [_entry(raw) for raw in verified_claims]
    if len({entry.scope for entry in entries}) != len(entries):
        raise InvalidClaimsToken("the claimsToken has two entries for the same scope")
    return entries


def _entry(raw: dict[str, Any]) -> VerifiedAttribute:
    evidence = raw["verification"]
    verified_at = parse_datetime(evidence["time"].upper())
    assert verified_at is not None  # the schema's date-time format held
    entry = VerifiedAttribute(
        scope=raw["scope"],
        outcome=evidence["outcome"],
        trust_framework=evidence["trust_framework"],
        assurance_policy=evidence.get("assurance_policy", ""),
        confidence_level=evidence.get("confidence_level", ""),
        validation_method=evidence.get("validation_method", ""),
        verified_at=verified_at,
        verifier_organization=evidence["verifier"]["organization"],
        txn=uuid.UUID(evidence["verifier"]["txn"]),
    )
    if entry.outcome != VerificationOutcome.VERIFICATION_FAILED:
        # A verified nothing (no claims) fails the scope's type too.
        claims = validate(raw.get("claims"), f"$defs/{CLAIMS_DEFINITION[raw['scope']]}")
        # Evidence too weak for this scope (L10): unverified personal data, not kept.
        entry.claims = claims if entry.evidence_suffices else {}
    return entry


def _from_legacy(payload: dict[str, Any], sub: uuid.UUID) -> list[dict[str, Any]]:
    """One verification for every scope, claims at the top level, older spellings."""
    raw = payload["verified_claims"].get("verification")
    claims = payload.get("claims", {})
    if not isinstance(claims, dict) or not isinstance(raw, dict):
        raise InvalidClaimsToken("the claimsToken's claims or verification is not an object")
    verification = {
        name: raw[name] for name in ("trust_framework", "time", "verifier") if name in raw
    }
    # "<sub> VERIFIED SUCCESSFULLY": the prefix, when present, must be this person.
    outcome = str(raw.get("outcome"))
    prefix, _, rest = outcome.partition(" ")
    if re.fullmatch(r"[0-9a-fA-F-]{36}", prefix):
        if prefix.lower() != str(sub):
            raise InvalidClaimsToken("the claimsToken's outcome names a different person")
        outcome = rest
    verification["outcome"] = outcome.strip().replace(" ", "_").upper()
    if isinstance(verification.get("time"), str):
        # The docs' example has minute precision ("2023-02-15T16:39Z").
        verification["time"] = _LEGACY_MINUTES.sub(r"\1:00\2", verification["time"])
    identity = dict(verification)
    if assurance := _LEGACY_ASSURANCE.fullmatch(str(raw.get("assurance_level", ""))):
        identity.update(assurance_policy="GPG_45", confidence_level=assurance[1].lower())
    failed = verification["outcome"] == VerificationOutcome.VERIFICATION_FAILED
    # Each scope whose claims are present gets them all: validating keeps only its own.
    return [
        {
            "scope": scope,
            "verification": identity if scope == AttributeScope.IDENTITY else verification,
            "claims": claims,
        }
        for scope, definition in CLAIMS_DEFINITION.items()
        # One outcome covers everything here, so a failure marks every scope failed.
        if any(name in claims for name in schema()["$defs"][definition]["required"])
        or (failed and scope == AttributeScope.IDENTITY)
    ]


@cache
def schema() -> dict[str, Any]:
    """ScotAccount's schema, with an entry's rules moved into ``items``: it puts them beside
    ``properties`` and ``required`` on the array, where they constrain nothing."""
    loaded: dict[str, Any] = json.loads(
        (files("scotaccount_django._internal") / "schema" / SCHEMA_RESOURCE).read_text()
    )
    verified_claims = loaded["properties"]["verified_claims"]
    items = verified_claims["items"]
    del items["claims"]
    properties = {name: items.pop(name) for name in ("scope", "verification")}
    items.update(type="object", properties=properties, required=verified_claims.pop("required"))
    return loaded


def _pattern(validator: Any, pattern: str, value: Any, schema: Any) -> Iterator[Any]:
    """JSON Schema's ``$`` ends the string; Python's also matches before a final newline,
    so "123\\n" would pass ``^[0-9]+$`` as a UPRN."""
    if isinstance(value, str) and not re.search(re.sub(r"(?<!\\)\$$", r"\\Z", pattern), value):
        yield jsonschema.ValidationError(f"does not match {pattern!r}")


@cache
def _validator(pointer: str) -> Any:
    validator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft7Validator, {"pattern": _pattern}
    )
    return validator({**schema(), "$ref": f"#/{pointer}"}, format_checker=FORMAT_CHECKER)


def validate(value: Any, pointer: str) -> Any:
    """``value`` checked against the schema at ``pointer`` (``$defs/emailClaimsType``) and
    cleaned; ``InvalidClaimsToken`` naming the path, never the value, if it breaks it."""
    error = best_match(_validator(pointer).iter_errors(value))
    if error is not None:
        path = pointer.rpartition("/")[2] + error.json_path[1:]
        raise InvalidClaimsToken(
            f"the claimsToken does not match the schema: {path} breaks its {error.validator} rule"
        )
    return _declared(value, pointer)


def _declared(value: Any, pointer: str) -> Any:
    """Only the object properties the schema declares, following ``$ref`` (the address)."""
    if not isinstance(value, dict):
        return value
    definition = schema()["$defs"][pointer.removeprefix("$defs/")]
    properties: dict[str, Any] = definition.get("properties", {})
    return {
        name: _declared(item, ref.removeprefix("#/"))
        if (ref := properties[name].get("$ref"))
        else item
        for name, item in value.items()
        if name in properties
    }
