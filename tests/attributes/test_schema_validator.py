"""ScotAccount's verified-claims schema as we apply it (jsonschema, strict formats)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from scotaccount_django._internal import claims
from scotaccount_django._internal.claims import FORMAT_CHECKER, validate
from scotaccount_django.exceptions import InvalidClaimsToken

SCHEMA_PATH = Path(claims.__file__).parent / "schema" / claims.SCHEMA_RESOURCE


def full_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def reference_validator(definition: str) -> jsonschema.Draft7Validator:
    schema = {**full_schema(), "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


#: ScotAccount's published schema, committed with its source and licence (tests/data/README.md).
REFERENCE = (
    Path(__file__).resolve().parents[1] / "data" / "scotaccount-verified-claims.schema.json"
)


def test_the_bundled_schema_is_scotaccounts():
    assert json.loads(REFERENCE.read_text()) == full_schema()


def test_the_bundled_schema_defines_every_type_we_validate():
    assert set(claims.schema()["$defs"]) >= {
        "addressType",
        "verificationType",
        "gpg45MediumClaimsType",
        "addressClaimsType",
        "emailClaimsType",
        "scopeType",
    }


ADDRESS = {"address": {"uprn": "132021690", "postalCode": "G62 7AA", "streetName": "A ST"}}

CASES = [
    ("addressClaimsType", ADDRESS, True),
    ("addressClaimsType", {}, False),
    ("addressClaimsType", {"address": {"uprn": "12a"}}, False),
    ("addressClaimsType", {"address": {"uprn": "1" * 13}}, False),
    ("addressClaimsType", {"address": {"postalCode": "123456789"}}, False),
    ("addressClaimsType", {"address": {"addressLocality": "Ò" * 30}}, True),
    ("addressClaimsType", {"address": {"addressLocality": "Ò" * 31}}, False),
    ("addressClaimsType", {"address": []}, False),
    ("emailClaimsType", {"email": "a@example.com"}, True),
    ("gpg45MediumClaimsType", {"given_name": "A", "family_name": "B"}, False),
    ("gpg45MediumClaimsType", {"given_name": "A", "family_name": "B", "birth_date": 1}, False),
    ("scopeType", "scotaccount.email", True),
    ("scopeType", "gpg-45-medium", False),
    ("iatType", 1, True),
    ("iatType", True, False),
    ("iatType", "1", False),
    (
        "verificationType",
        {
            "outcome": "VERIFIED_WITH_WARNINGS",
            "trust_framework": "uk_tfida",
            "confidence_level": "very_high",
            "time": "2025-03-19T10:12:54.123456789+01:00",
            "verifier": {"organization": "DIS", "txn": "e766b0f2-1873-4199-8f62-e6af182a7f47"},
        },
        True,
    ),
    (
        "verificationType",
        {
            "outcome": "VERIFIED_SUCCESSFULLY",
            "trust_framework": "uk_tfida",
            "time": "2025-03-19T10:12:54Z",
            "verifier": {"organization": "D" * 61, "txn": "e766b0f2-1873-4199-8f62-e6af182a7f47"},
        },
        False,
    ),
    (
        "verificationType",
        {
            "outcome": "VERIFIED_SUCCESSFULLY",
            "trust_framework": "uk_tfida",
            "confidence_level": "medium-ish",
            "time": "2025-03-19T10:12:54Z",
            "verifier": {"organization": "DIS", "txn": "e766b0f2-1873-4199-8f62-e6af182a7f47"},
        },
        False,
    ),
]


@pytest.mark.parametrize(("definition", "value", "valid"), CASES)
def test_agrees_with_jsonschema(definition, value, valid):
    assert reference_validator(definition).is_valid(value) is valid
    if valid:
        validate(value, f"$defs/{definition}")
    else:
        with pytest.raises(InvalidClaimsToken):
            validate(value, f"$defs/{definition}")


def test_a_trailing_newline_does_not_pass_a_pattern():
    # Python's "$" matches before a final newline; JSON Schema's does not.
    with pytest.raises(InvalidClaimsToken, match="pattern"):
        validate({"address": {"uprn": "123\n"}}, "$defs/addressClaimsType")


def test_messages_name_the_path_never_the_value():
    with pytest.raises(InvalidClaimsToken) as caught:
        validate({"address": {"streetName": "SECRET STREET" * 10}}, "$defs/addressClaimsType")
    assert "addressClaimsType.address.streetName" in str(caught.value)
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    ("fmt", "value", "valid"),
    [
        ("date", "1976-08-24", True),
        ("date", "1976-02-30", False),
        ("date", "76-08-24", False),
        ("date", "1976-08-24T00:00:00Z", False),
        ("date-time", "2025-03-19T10:12:54Z", True),
        ("date-time", "2025-03-19t10:12:54z", True),
        ("date-time", "2025-03-19T10:12:54+01:00", True),
        ("date-time", "2025-03-19T10:12:54", False),
        ("date-time", "2025-03-19T10:12Z", False),
        ("date-time", "2025-03-19T25:12:54Z", False),
        ("uuid", "e766b0f2-1873-4199-8f62-e6af182a7f47", True),
        ("uuid", "e766b0f218734199 8f62e6af182a7f47", False),
        ("uuid", "{e766b0f2-1873-4199-8f62-e6af182a7f47}", False),
        ("email", "morag@example.com", True),
        ("email", "morag@localhost", False),
        ("email", "mo rag@example.com", False),
        ("email", "a@b@example.com", False),
        ("email", "a" * 250 + "@example.com", False),
    ],
)
def test_formats(fmt, value, valid):
    assert FORMAT_CHECKER.conforms(value, fmt) is valid


def test_validated_objects_keep_only_declared_properties():
    cleaned = validate({"email": "a@example.com", "extra": "x"}, "$defs/emailClaimsType")
    assert cleaned == {"email": "a@example.com"}
