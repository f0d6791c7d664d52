"""The ``claimsToken``: verified before anything in it is read, then parsed and validated.

ScotAccount's own sample client reads the claims without checking the
signature; here nothing is parsed until the token is proven to be:
- signed by a key in the attributes JWKS (not the sign-in JWKS when a separate
  one is configured, so a sign-in token cannot pass as a claims token), with an
  algorithm from our configuration (``alg: none`` and HS256 never get in);
- issued by the attributes issuer (mix-up between the two issuers);
- about the person who signed in (``sub``): a token for anyone else is dropped
  whole, since storing another person's identity against this account is the
  worst thing this module could do.

Two layouts exist: the current list of per-scope entries, which must carry
``iss``, ``sub`` and ``iat``, and an older single object printed in
ScotAccount's docs (reference lines 922, 2244), which carries none of the three.
The older one is bound to the person by ``claims.uuid`` (or ``sub``), and its
``iss`` is checked when present; see docs/security.md for its freshness. Both
are turned into the same entries and each entry is validated against the
schema's ``$defs`` before it is returned.

The schema (``schema/verified-claims.schema.json``) is ScotAccount's, copied
verbatim, and applied by a validator (at the end of this module) for exactly
the keywords it uses. Its ``verified_claims.items`` lists ``scope``/
``verification``/``claims`` outside ``properties``, so applying it literally
constrains nothing; each entry is validated against the ``$defs`` it names
instead. Any other keyword is refused when the schema is loaded, so a future
edit cannot silently stop validating. A value that passes comes back
*cleaned*: object properties the schema does not declare are dropped, so
nothing unexpected is ever stored.
"""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from scotaccount_django._internal.jwtkit import verify_and_decode
from scotaccount_django._internal.metadata import get_provider_metadata
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import ConfigurationError, InvalidClaimsToken
from scotaccount_django.models import (
    VERIFIED_OUTCOMES,
    AttributeScope,
    VerificationOutcome,
    counts_as_verified,
    meets_scope_minimum,
)

#: The ``$defs`` entry each scope's claims must match.
CLAIMS_DEFINITION = {
    AttributeScope.IDENTITY: "gpg45MediumClaimsType",
    AttributeScope.ADDRESS: "addressClaimsType",
    AttributeScope.EMAIL: "emailClaimsType",
}
#: Claims the current layout must carry (the schema's ``required``).
CURRENT_LAYOUT_CLAIMS = ("iss", "sub", "iat")
#: Legacy layout: which top-level claims belong to which scope.
LEGACY_CLAIMS = {
    AttributeScope.IDENTITY: ("given_name", "family_name", "birth_date"),
    AttributeScope.ADDRESS: ("address",),
    AttributeScope.EMAIL: ("email",),
}
_LEGACY_ASSURANCE = re.compile(r"GPG45-(Low|Medium|High|Very_High)", re.IGNORECASE)
_LEGACY_MINUTES = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})")


@dataclass(frozen=True)
class Verification:
    """The evidence ScotAccount gives for one scope's claims."""

    outcome: str
    trust_framework: str
    assurance_policy: str
    confidence_level: str
    validation_method: str
    verified_at: datetime.datetime
    organization: str
    txn: uuid.UUID

    def meets_minimum(self, scope: str) -> bool:
        return meets_scope_minimum(
            scope,
            confidence_level=self.confidence_level,
            validation_method=self.validation_method,
        )


@dataclass(frozen=True)
class VerifiedClaims:
    """One scope's entry: validated claims (empty when verification failed) and evidence."""

    scope: str
    verification: Verification
    claims: dict[str, Any] = field(repr=False)

    @property
    def is_verified(self) -> bool:
        """An accepted outcome whose evidence meets the scope's minimum (L10)."""
        return counts_as_verified(self.verification.outcome) and self.verification.meets_minimum(
            self.scope
        )


def read_claims_token(token: object, *, sub: uuid.UUID) -> list[VerifiedClaims]:
    """The entries of a ``claimsToken`` about ``sub``; ``InvalidClaimsToken`` otherwise."""
    return parse_payload(verify_claims_token(token, sub=sub), sub=sub)


def verify_claims_token(token: object, *, sub: uuid.UUID) -> dict[str, Any]:
    """Signature, issuer and subject checks; the payload is only returned if all pass."""
    issuer = conf.ATTRIBUTES_ISSUER
    if not issuer:
        raise ConfigurationError("SCOTACCOUNT_ATTRIBUTES_ISSUER is not set.")
    payload = verify_and_decode(
        token,
        jwks_url=conf.ATTRIBUTES_JWKS_URL or get_provider_metadata().jwks_uri,
        issuer=issuer,
        # Checked when present; the legacy layout has none, the current one must (below).
        issuer_required=False,
        audience=None,
        algorithms=conf.ID_TOKEN_ALGORITHMS,
        leeway=conf.CLOCK_LEEWAY,
        required_claims=[],
        error=InvalidClaimsToken,
    )
    if not is_legacy_layout(payload):
        missing = [name for name in CURRENT_LAYOUT_CLAIMS if name not in payload]
        if missing:
            raise InvalidClaimsToken(f"the claimsToken has no {', '.join(missing)}")
    check_bound_to(payload, sub)
    _check_age(payload.get("iat"))
    return payload


def is_legacy_layout(payload: dict[str, Any]) -> bool:
    """The docs' older layout: one ``verified_claims`` object, not a list."""
    return isinstance(payload.get("verified_claims"), dict)


def check_bound_to(payload: dict[str, Any], sub: uuid.UUID) -> None:
    """Every subject the token names (``sub``, legacy ``claims.uuid``) must be ``sub``.

    At least one must be present: a token naming nobody could be anyone's.
    """
    claims = payload.get("claims")
    named = [payload.get("sub")]
    if is_legacy_layout(payload) and isinstance(claims, dict):
        named.append(claims.get("uuid"))
    present = [value for value in named if value is not None]
    if not present:
        raise InvalidClaimsToken("the claimsToken names nobody (no sub, no claims.uuid)")
    for value in present:
        # Exact canonical form, as ScotAccount sends it: no case folding.
        if not isinstance(value, str) or value != str(sub):
            raise InvalidClaimsToken("the claimsToken is about a different person")


def _check_age(issued_at: object) -> None:
    """A claimsToken is fetched moments before use; an old one is a replay (L12).

    ScotAccount's tokens may carry no ``exp`` (PyJWT checks it when present), so
    ``iat`` bounds the age either way. The current layout must have ``iat``
    (above); only the docs' legacy example lacks it.
    """
    if issued_at is None:
        return
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        raise InvalidClaimsToken("iat is not a number")
    age = time.time() - issued_at
    if age > (conf.CLAIMS_TOKEN_MAX_AGE + conf.CLOCK_LEEWAY).total_seconds():
        raise InvalidClaimsToken(f"the claimsToken was issued {int(age)} s ago")


def parse_payload(payload: dict[str, Any], *, sub: uuid.UUID) -> list[VerifiedClaims]:
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


def _entry(raw: Any, index: int) -> VerifiedClaims:
    path = f"verified_claims[{index}]"
    if not isinstance(raw, dict):
        raise SchemaViolation(f"{path} is not an object")
    for name in ("scope", "verification"):
        if name not in raw:
            raise SchemaViolation(f"{path}.{name} is required")
    scope = validate(raw["scope"], "scopeType")
    verification = _verification(validate(raw["verification"], "verificationType"))
    claims: dict[str, Any] = {}
    if verification.outcome in VERIFIED_OUTCOMES:
        # Verified but without claims would be a verified nothing: refuse it.
        if "claims" not in raw:
            raise SchemaViolation(f"{path}.claims is required for a verified outcome")
        claims = validate(raw["claims"], CLAIMS_DEFINITION[scope])
    if not verification.meets_minimum(scope):
        claims = {}
    # Claims from a failed or too weak verification are unverified personal data: dropped.
    return VerifiedClaims(scope=scope, verification=verification, claims=claims)


def _verification(valid: dict[str, Any]) -> Verification:
    verified_at = parse_date_time(valid["time"])
    assert verified_at is not None  # the schema's date-time format already held
    return Verification(
        outcome=valid["outcome"],
        trust_framework=valid["trust_framework"],
        assurance_policy=valid.get("assurance_policy", ""),
        confidence_level=valid.get("confidence_level", ""),
        validation_method=valid.get("validation_method", ""),
        verified_at=verified_at,
        organization=valid["verifier"]["organization"],
        txn=uuid.UUID(valid["verifier"]["txn"]),
    )


def _legacy_entries(
    verified_claims: dict[str, Any], claims: Any, sub: uuid.UUID
) -> list[VerifiedClaims]:
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
    entries: list[VerifiedClaims] = []
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


# The verified-claims schema ----------------------------------------------------------------

SCHEMA_RESOURCE = "verified-claims.schema.json"

#: Keywords that carry no constraint.
ANNOTATIONS = frozenset({"description", "descriptions", "title", "$comment"})
#: Keywords this validator applies.
KEYWORDS = frozenset(
    {"type", "enum", "maxLength", "pattern", "format", "properties", "required", "$ref"}
)
FORMATS = frozenset({"date", "date-time", "uuid", "email", "uri"})

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: RFC 3986 absolute URI: a scheme, then no whitespace.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: RFC 5321's limit on a forward path; the schema itself sets none.
MAX_EMAIL_LENGTH = 254

Schema = dict[str, Any]


class SchemaViolation(ValueError):
    """Raised when a value breaks the schema; the message names the path, never the value."""


@cache
def definitions() -> dict[str, Schema]:
    """The schema's ``$defs``, loaded once and checked for keywords we do not apply."""
    text = (files("scotaccount_django._internal") / "schema" / SCHEMA_RESOURCE).read_text()
    defs: dict[str, Schema] = json.loads(text)["$defs"]
    for name, schema in defs.items():
        _check_keywords(schema, f"$defs/{name}")
    return defs


def _check_keywords(schema: Schema, where: str) -> None:
    unknown = set(schema) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise RuntimeError(f"{where} uses unsupported keywords {sorted(unknown)}")
    if schema.get("format") is not None and schema["format"] not in FORMATS:
        raise RuntimeError(f"{where} uses unsupported format {schema['format']!r}")
    for name, sub in schema.get("properties", {}).items():
        _check_keywords(sub, f"{where}/{name}")


def validate(value: Any, definition: str) -> Any:
    """``value`` checked against ``$defs/<definition>``, cleaned; ``SchemaViolation`` if not."""
    return _apply(value, definitions()[definition], definition)


def _apply(value: Any, schema: Schema, path: str) -> Any:
    ref = schema.get("$ref")
    if ref is not None:
        return _apply(value, definitions()[ref.removeprefix("#/$defs/")], path)
    _check_type(value, schema.get("type"), path)
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaViolation(f"{path} is not one of the allowed values")
    if isinstance(value, str):
        _check_string(value, schema, path)
    if isinstance(value, dict):
        return _check_object(value, schema, path)
    return value


def _check_type(value: Any, expected: str | None, path: str) -> None:
    matches = {
        None: True,
        "string": isinstance(value, str),
        "object": isinstance(value, dict),
        "integer": isinstance(value, int) and not isinstance(value, bool),
    }
    if not matches.get(expected, False):
        raise SchemaViolation(f"{path} is not of type {expected}")


def _check_string(value: str, schema: Schema, path: str) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise SchemaViolation(f"{path} is longer than {schema['maxLength']} characters")
    if "pattern" in schema and not re.search(_ecma_pattern(schema["pattern"]), value):
        raise SchemaViolation(f"{path} does not match its pattern")
    if "format" in schema and not conforms(value, schema["format"]):
        raise SchemaViolation(f"{path} is not a valid {schema['format']}")


def _ecma_pattern(pattern: str) -> str:
    # Python's ``$`` also matches before a trailing newline; JSON Schema's does not,
    # so "123\n" would pass ``^[0-9]+$`` as a UPRN without this.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def _check_object(value: dict[str, Any], schema: Schema, path: str) -> dict[str, Any]:
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaViolation(f"{path}.{name} is required")
    properties: dict[str, Schema] = schema.get("properties", {})
    return {
        name: _apply(item, properties[name], f"{path}.{name}")
        for name, item in value.items()
        if name in properties
    }


def conforms(value: str, fmt: str) -> bool:
    """Whether ``value`` is a valid ``fmt`` (one of ``FORMATS``)."""
    if fmt == "date":
        return _DATE.fullmatch(value) is not None and _parses(datetime.date.fromisoformat, value)
    if fmt == "date-time":
        return _DATE_TIME.fullmatch(value) is not None and parse_date_time(value) is not None
    if fmt == "uuid":
        return _UUID.fullmatch(value) is not None
    if fmt == "uri":
        return _URI.fullmatch(value) is not None
    if fmt == "email":
        return len(value) <= MAX_EMAIL_LENGTH and _EMAIL.fullmatch(value) is not None
    raise ValueError(f"unsupported format {fmt!r}")


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
